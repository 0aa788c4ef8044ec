//! Cloudflare entry: the consumer of the `switchyard-outbound` queue. A job whose host
//! operations failed is left for the queue to redeliver; every other job is acknowledged
//! once its outcome (retry or notification) is itself on the queue.

use futures_util::future::join_all;
use switchyard_core::broker::DeliveryJob;
use switchyard_host_cloudflare::CfHost;
use worker::{event, Context, Env, MessageBatch, MessageExt, Request, Response, Result, ScheduleContext, ScheduledEvent};

#[event(queue)]
async fn consume(batch: MessageBatch<serde_json::Value>, env: Env, _ctx: Context) -> Result<()> {
    let host = match CfHost::from_env(&env) {
        Ok(h) => h,
        Err(e) => {
            worker::console_error!("deliver settings: {e}");
            batch.retry_all();
            return Ok(());
        }
    };
    let messages = batch.messages()?;
    let runs = messages.iter().map(|m| {
        let host = &host;
        async move {
            let Some(job) = serde_json::to_vec(m.body()).ok().and_then(|b| DeliveryJob::from_json(&b)) else {
                worker::console_error!("deliver: unreadable job dropped");
                m.ack();
                return;
            };
            match super::deliver(host, &job).await {
                Ok(_) => m.ack(),
                Err(e) => {
                    worker::console_error!("deliver {}: {e}", job.message_id);
                    m.retry();
                }
            }
        }
    });
    join_all(runs).await;
    Ok(())
}

/// `POST /sweep` (reached only through the gateway's service binding): re-sends jobs the
/// broker lost. The gateway calls it at most every few seconds while the hub has traffic.
#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    if req.path() != "/sweep" || req.method() != worker::Method::Post {
        return Response::error("Not Found", 404);
    }
    let host = CfHost::from_env(&env).map_err(|e| worker::Error::RustError(e.0))?;
    match switchyard_core::broker::sweep(&host).await {
        Ok(n) => Response::from_json(&serde_json::json!({ "resent": n })),
        Err(e) => {
            worker::console_error!("sweep: {e}");
            Response::error("sweep failed", 500)
        }
    }
}

/// The same sweep on a schedule (deployments set a cron trigger; `wrangler dev` does not fire
/// them, which is why the gateway also asks for sweeps).
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    match CfHost::from_env(&env) {
        Ok(host) => {
            if let Err(e) = switchyard_core::broker::sweep(&host).await {
                worker::console_error!("scheduled sweep: {e}");
            }
        }
        Err(e) => worker::console_error!("scheduled sweep settings: {e}"),
    }
}
