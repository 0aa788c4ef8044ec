//! Cloudflare entry: the consumer of the `switchyard-outbound` queue. A job whose host
//! operations failed is left for the queue to redeliver; every other job is acknowledged
//! once its outcome (retry or notification) is itself on the queue.

use futures_util::future::join_all;
use switchyard_core::broker::DeliveryJob;
use switchyard_host_cloudflare::CfHost;
use worker::{event, Context, Env, MessageBatch, MessageExt, Result};

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
