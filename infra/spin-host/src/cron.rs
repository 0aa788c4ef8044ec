//! The cron trigger, as the `spin-trigger-cron` plugin runs it: for each `[[trigger.cron]]`,
//! each time its schedule fires, a fresh instance of the component and a call of its
//! `handle-cron-event` export with the time in seconds. Runs may overlap (a slow run does not
//! delay the next), and a failed run is logged and does not stop the schedule. The WIT is the
//! one the hub's deliver component exports (`shared/host-spin/wit/cron.wit`).

use crate::app::App;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

wasmtime::component::bindgen!({
    world: "spin-cron",
    path: "../../shared/host-spin/wit/cron.wit",
    exports: { default: async },
});

/// Starts one task per schedule; they run until the process ends.
pub fn start(app: &Arc<App>) {
    for (index, c) in app.components.iter().enumerate() {
        for schedule in &c.cron {
            let (app, schedule) = (app.clone(), schedule.clone());
            tokio::spawn(async move {
                for next in schedule.upcoming(chrono::Utc) {
                    let wait = (next - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
                    tokio::time::sleep(wait).await;
                    let app = app.clone();
                    tokio::spawn(async move {
                        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
                        if let Err(e) = app.cron_event(index, timestamp).await {
                            eprintln!("spin-host: cron run of component {}: {e:#}", app.components[index].id);
                        }
                    });
                }
            });
        }
    }
}
