//! How soon a topic's close reaches every subscriber on every node with Redis: two hubs on
//! one `redis-server` (two nodes), subscribers spread over both, then `close_with` on the
//! first; the figure is the time until the last subscriber has the final event and its end.
//!
//! ```sh
//! cargo run --release -p live-bench --bin close_latency     # a few seconds
//! ```

use std::time::{Duration, Instant};

use live_bench::BoxResult;
use live_bench::redis_server::RedisServer;
use live_bench::rounds::{median, range};
use live_runtime::broadcast::{Delivery, Hub, HubConfig, Since};
use tokio::task::JoinSet;

/// Subscribers per node, and the closes measured.
const SUBSCRIBERS: usize = 5_000;
const ROUNDS: usize = 7;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> BoxResult<()> {
    let redis = RedisServer::start()?;
    let nodes = [
        Hub::redis(&redis.url(), HubConfig::default())?,
        Hub::redis(&redis.url(), HubConfig::default())?,
    ];
    println!("close_with on node 1, {SUBSCRIBERS} subscribers on each of 2 nodes, {ROUNDS} rounds");
    let (mut first, mut last) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let topic = format!("job-{round}");
        nodes[0].publish_value(&topic, "progress", "0").await?;
        let mut ends = JoinSet::new();
        for node in &nodes {
            for _ in 0..SUBSCRIBERS {
                let mut subscription = node.subscribe_existing(&topic, Since::Now).await?;
                // Each reports when it has the final event and then its end.
                ends.spawn(async move {
                    let mut last = None;
                    while let Some(delivery) = subscription.next().await {
                        if let Delivery::Event(event) = delivery {
                            last = Some(event.event() == Some("done"));
                        }
                    }
                    (Instant::now(), last == Some(true))
                });
            }
        }
        let closed = Instant::now();
        nodes[0].close_with(&topic, "done", "42").await?;
        let mut arrivals = Vec::with_capacity(2 * SUBSCRIBERS);
        while let Some(ended) = ends.join_next().await {
            let (at, got_final) = ended?;
            if !got_final {
                return Err("a subscription ended without the final event".into());
            }
            arrivals.push(at.duration_since(closed));
        }
        arrivals.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        first.push(ms(arrivals[0]));
        last.push(ms(arrivals[arrivals.len() - 1]));
        println!(
            "  round {round}: first end {:.2} ms, last end {:.2} ms",
            first[round], last[round]
        );
    }
    let (low, high) = range(&last);
    println!(
        "every subscriber on both nodes had the final event and its end within {:.1} ms \
         (median; range {low:.1}-{high:.1}); the first after {:.2} ms",
        median(last.clone()),
        median(first)
    );
    Ok(())
}
