//! One `retry` rule for every way an event reaches an `Sse`, over HTTP: the writer's `retry`
//! goes out once, as the first line of the first event, never as a block of its own.

use crate::support;

use std::time::Duration;

use futures_util::StreamExt;
use live_runtime::broadcast::{EventId, Hub, HubConfig, Since};
use live_runtime::prelude::*;

const TOPIC: &str = "feed";

/// Every path, each with the writer's `retry: 300`.
pub struct RetryController {
    hub: Hub,
}

fn sse(live: Live) -> Sse {
    live.sse(SseOptions::new().retry(Duration::from_millis(300)))
}

#[live_controller]
impl RetryController {
    /// `write`, twice.
    pub async fn write(&self, live: Live) -> live_runtime::Result {
        let mut sse = sse(live);
        sse.write("a").await?;
        sse.write("b").await?;
        Ok(())
    }

    /// A first event that leaves the writer's `retry` out passes it on to the next.
    pub async fn no_retry_first(&self, live: Live) -> live_runtime::Result {
        let mut sse = sse(live);
        sse.write_with("a", Event::new().no_retry()).await?;
        sse.write("b").await?;
        Ok(())
    }

    /// A first event with a `retry` of its own goes out with it, in place of the writer's.
    pub async fn own_retry_first(&self, live: Live) -> live_runtime::Result {
        let mut sse = sse(live);
        sse.write_with("a", Event::new().retry(Duration::from_millis(1500)))
            .await?;
        sse.write("b").await?;
        Ok(())
    }

    /// The topic's two events, in a loop of the action's own.
    pub async fn write_delivery(&self, live: Live) -> live_runtime::Result {
        let mut sse = sse(live);
        let mut feed = self.hub.subscribe(TOPIC, Since::Beginning).await?;
        for _ in 0..2 {
            let delivery = feed.next().await.expect("an event");
            sse.write_delivery(&delivery).await?;
        }
        Ok(())
    }

    /// The topic's two events, forwarded.
    pub async fn forward(&self, live: Live) -> live_runtime::Result {
        let feed = self.hub.subscribe(TOPIC, Since::Beginning).await?;
        sse(live).forward(feed.take(2)).await
    }

    /// Bytes written to the stream underneath are the action's own: no `retry` in them. The
    /// writer's goes with its own first event.
    pub async fn raw(&self, live: Live) -> live_runtime::Result {
        let mut sse = sse(live);
        let mut feed = self.hub.subscribe(TOPIC, Since::Beginning).await?;
        let delivery = feed.next().await.expect("an event");
        sse.stream().write(delivery.sse_bytes()).await?;
        sse.write("b").await?;
        Ok(())
    }
}

/// The `retry` on the first event only, on every path; no block without data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_goes_once_with_the_first_event_on_every_path() {
    use live_runtime::routing::Controller;
    let hub = Hub::memory(HubConfig::default());
    let first: EventId = hub.publish(TOPIC, "x").await.unwrap();
    let second: EventId = hub.publish(TOPIC, "y").await.unwrap();
    let topic = format!("id: {first}\ndata: x\n\nid: {second}\ndata: y\n\n");
    let server = support::Server::start(RetryController { hub }.into_router()).await;
    for (path, expected) in [
        ("write", "retry: 300\ndata: a\n\ndata: b\n\n".to_owned()),
        (
            "no_retry_first",
            "data: a\n\nretry: 300\ndata: b\n\n".into(),
        ),
        (
            "own_retry_first",
            "retry: 1500\ndata: a\n\ndata: b\n\n".into(),
        ),
        ("write_delivery", format!("retry: 300\n{topic}")),
        ("forward", format!("retry: 300\n{topic}")),
        (
            "raw",
            format!("id: {first}\ndata: x\n\nretry: 300\ndata: b\n\n"),
        ),
    ] {
        let body = support::text(server.get(&format!("/retry/{path}")).await).await;
        assert_eq!(body, expected, "{path}");
        let blocks = body.strip_suffix("\n\n").unwrap().split("\n\n");
        for block in blocks {
            assert!(
                block.contains("\ndata: ") || block.starts_with("data: "),
                "{path}: {block:?}"
            );
        }
    }
}
