//! The live side of `bench_fanout`: a controller whose action subscribes to the
//! topic and forwards every delivery as an SSE event, the two hubs it is measured with, and
//! the publisher's call. Every use of the broadcast API is here.

use axum::Router;
pub use live_runtime::broadcast::Hub;
use live_runtime::broadcast::{HubConfig, Since};
use live_runtime::prelude::*;

use super::{BoxResult, KEEP_ALIVE, Msg, TOPIC};

pub struct FanoutController {
    hub: Hub,
}

#[live_controller]
impl FanoutController {
    /// `GET /fanout/events`: every message published from now on, until the client leaves.
    pub async fn events(&self, live: Live) -> live_runtime::Result {
        let sub = self.hub.subscribe(TOPIC, Since::Now).await?;
        live.sse(SseOptions::new().keep_alive(Some(KEEP_ALIVE)))
            .forward(sub)
            .await
    }
}

pub fn router(hub: Hub) -> Router {
    FanoutController { hub }.into_router()
}

/// The in-process engine.
pub fn memory_hub() -> Hub {
    Hub::memory(HubConfig::default())
}

/// The Redis engine, one node at `url` (live-runtime's `redis` feature).
pub fn redis_hub(url: &str) -> BoxResult<Hub> {
    Hub::redis(url, HubConfig::default()).map_err(|e| e.to_string().into())
}

/// One message to every subscriber: `{"seq":n,"ts_us":t}`, serialized by the hub.
pub async fn publish(hub: &Hub, msg: &Msg) -> BoxResult<()> {
    // `live_runtime::Error` is not a `std::error::Error`: kept as its message.
    hub.publish(TOPIC, msg).await.map_err(|e| e.to_string())?;
    Ok(())
}

/// Subscriptions alive in this process.
pub fn subscribers() -> usize {
    live_runtime::stats().subscribers
}
