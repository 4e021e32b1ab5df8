//! What a topic of the in-process hub costs, by the heap: the whole process runs on a counting
//! global allocator (`stats_alloc`), and each figure is the net heap change of creating many
//! topics (or subscribers) divided by their number, next to what `Hub::usage` estimates.
//!
//! ```sh
//! cargo run --release -p live-bench --bin topic_memory      # a few seconds
//! ```

use std::alloc::System;

use live_runtime::broadcast::{Hub, HubConfig, Since, Subscription};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Topics (or subscribers) per measurement: enough that the maps' growth averages out.
const N: usize = 20_000;

/// The heap's net change since `region` began, in bytes (`stats_alloc` counts a realloc's
/// growth as allocated and its shrinking as deallocated).
fn net(region: &Region<'_, System>) -> isize {
    let change = region.change();
    change.bytes_allocated as isize - change.bytes_deallocated as isize
}

fn per(bytes: isize, n: usize) -> isize {
    bytes / n as isize
}

fn names() -> impl Iterator<Item = String> {
    (0..N).map(|n| format!("room{n:06}"))
}

/// A hub with one topic already, so its tables' first allocations are not counted.
async fn warm_hub(config: HubConfig) -> Hub {
    let hub = Hub::memory(config);
    hub.publish("warm", "x").await.expect("publish");
    hub
}

async fn subscribe_each(hub: &Hub, subscribers: &mut Vec<Subscription>) {
    for name in names() {
        subscribers.push(hub.subscribe(&name, Since::Now).await.expect("subscribe"));
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let payload = "x".repeat(100);
    println!("in-process hub, {N} topics per row; bytes of heap per topic (or subscriber)");
    println!("| what | heap B | Hub::usage B |");
    println!("|---|---:|---:|");

    let hub = warm_hub(HubConfig::default()).await;
    let (topics, estimate) = (hub.usage().topics, hub.usage().retained_bytes);
    let region = Region::new(GLOBAL);
    for name in names() {
        hub.publish(&name, payload.as_str()).await.expect("publish");
    }
    let usage = hub.usage();
    assert_eq!(usage.topics - topics, N);
    println!(
        "| a topic holding one 100-byte event | {} | {} |",
        per(net(&region), N),
        per((usage.retained_bytes - estimate) as isize, N)
    );
    drop(hub);

    // A value topic keeps its current value only, however many it was given.
    let hub = warm_hub(HubConfig::default()).await;
    let estimate = hub.usage().retained_bytes;
    let region = Region::new(GLOBAL);
    for name in names() {
        for percent in 0..10 {
            let value = format!("{{\"percent\":{percent},\"pad\":\"{payload}\"}}");
            hub.publish_value(&name, "progress", &value)
                .await
                .expect("publish");
        }
    }
    println!(
        "| a value topic given ten 120-byte values | {} | {} |",
        per(net(&region), N),
        per((hub.usage().retained_bytes - estimate) as isize, N)
    );
    drop(hub);

    for (what, config) in [
        ("a new topic and its one subscriber", HubConfig::default()),
        (
            "the same, `subscriber_queue(16)`",
            HubConfig::default().subscriber_queue(16),
        ),
    ] {
        let hub = warm_hub(config).await;
        let mut subscribers = Vec::with_capacity(N);
        let estimate = hub.usage().retained_bytes;
        let region = Region::new(GLOBAL);
        subscribe_each(&hub, &mut subscribers).await;
        let usage = hub.usage().retained_bytes - estimate;
        println!(
            "| {what} | {} | {} |",
            per(net(&region), N),
            per(usage as isize, N)
        );
        subscribers.clear();
        println!(
            "| {what}, after it left | {} | {} |",
            per(net(&region), N),
            per((hub.usage().retained_bytes - estimate) as isize, N)
        );
    }

    let hub = warm_hub(HubConfig::default()).await;
    let mut subscribers = Vec::with_capacity(N);
    subscribers.push(hub.subscribe("one", Since::Now).await.expect("subscribe"));
    let region = Region::new(GLOBAL);
    for _ in 1..N {
        subscribers.push(hub.subscribe("one", Since::Now).await.expect("subscribe"));
    }
    println!(
        "| one more subscriber of a topic | {} | n/a |",
        per(net(&region), N - 1)
    );
}
