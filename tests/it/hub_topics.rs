//! The in-process hub's topics: ids that tell nothing about other topics, memory that goes
//! back to where it was once topics are unused (measured by the hub's own counters), and the
//! cap on how many it holds (which a Redis node applies to the topics it follows).

use crate::broadcast::{Kind, engine};
use crate::support;

use std::time::Duration;

use live_runtime::ErrorKind;
use live_runtime::broadcast::{Delivery, EventId, Hub, HubConfig, HubUsage, Since, Subscription};

/// The next delivery's payload; a gap is `"gap"`.
async fn next(subscription: &mut Subscription) -> String {
    let delivery = tokio::time::timeout(Duration::from_secs(10), subscription.next()).await;
    match delivery.expect("no delivery within 10 s") {
        Some(Delivery::Event(event)) => event.data().to_owned(),
        Some(Delivery::Gap(_)) => "gap".to_owned(),
        None => panic!("the subscription ended"),
    }
}

/// An id as its history (the epoch) and its position there.
fn parts(id: EventId) -> (String, String) {
    let text = id.to_string();
    let (epoch, position) = text.split_at(8);
    (epoch.to_owned(), position.to_owned())
}

#[tokio::test(start_paused = true)]
async fn ids_count_their_own_topic_only() {
    let hub = Hub::memory(HubConfig::default());
    let b1 = hub.publish("b", "b1").await.unwrap();
    let mut a = Vec::new();
    for n in 0..5 {
        a.push(hub.publish("a", &format!("a{n}")).await.unwrap());
    }
    let b2 = hub.publish("b", "b2").await.unwrap();
    // B's ids count B's events, whatever A got in between, and their histories differ.
    assert_eq!(parts(b1).1, "-1-0");
    assert_eq!(parts(b2).1, "-2-0");
    assert_eq!(parts(a[0]).1, "-1-0");
    assert_ne!(parts(a[0]).0, parts(b1).0);
    assert!(!b2.is_after(&a[0]));
    // An id of A given to B is of another history: a gap, then all of B, never B's events
    // after A's position (the same as b1's here).
    for foreign in [a[0], a[4]] {
        let mut s = hub.subscribe("b", Since::After(foreign)).await.unwrap();
        assert_eq!(next(&mut s).await, "gap");
        assert_eq!(next(&mut s).await, "b1");
        assert_eq!(next(&mut s).await, "b2");
    }
    // A subscriber of B from now on starts after B's own last position.
    let mut s = hub.subscribe("b", Since::Now).await.unwrap();
    hub.publish("a", "a5").await.unwrap();
    let b3 = hub.publish("b", "b3").await.unwrap();
    assert_eq!(next(&mut s).await, "b3");
    assert_eq!(parts(b3).1, "-3-0");
}

/// 100,000 topics made by subscribers that leave, then 100,000 by publishes; idle past the
/// history's age, the hub holds what it held before it started.
#[tokio::test(start_paused = true)]
async fn unused_topics_are_freed_without_a_publish() {
    const TOPICS: usize = 100_000;
    let config = HubConfig::default();
    let hub = Hub::memory(config.clone());
    let start = hub.usage();
    assert_eq!(start, HubUsage::default());

    // No event, no subscriber: the topic goes with its last subscriber.
    for n in 0..TOPICS {
        let visit = hub
            .subscribe(&format!("visit {n}"), Since::Now)
            .await
            .unwrap();
        assert_eq!(hub.usage().topics, 1);
        drop(visit);
    }
    assert_eq!(hub.usage(), start);

    let payload = "x".repeat(100);
    for n in 0..TOPICS {
        hub.publish(&format!("room {n}"), payload.as_str())
            .await
            .unwrap();
    }
    let held = hub.usage();
    assert_eq!(held.topics, TOPICS);
    let per_topic = held.retained_bytes / TOPICS;
    assert!(
        (100..600).contains(&per_topic),
        "{per_topic} bytes per topic of one 100-byte event"
    );
    // One room keeps a subscriber through the idle time: it stays, without its aged event.
    let stays = hub.subscribe("room 0", Since::Beginning).await.unwrap();
    let queue = hub.usage().retained_bytes - held.retained_bytes;

    // Idle: nothing published or subscribed while the events age out.
    tokio::time::sleep(config.history_age + Duration::from_secs(1)).await;
    let idle = hub.usage();
    assert_eq!(idle.topics, 1);
    // Its bookkeeping and its subscriber's queue, no event.
    assert!(idle.retained_bytes < queue + 200, "{idle:?}, queue {queue}");
    drop(stays);
    assert_eq!(hub.usage(), start);
}

/// A topic's queue (kilobytes at the default 256 slots) is there only while it has
/// subscribers; the topic stays for its event.
#[tokio::test(start_paused = true)]
async fn a_topic_holds_its_queue_only_while_it_has_subscribers() {
    let hub = Hub::memory(HubConfig::default());
    hub.publish("t", "event").await.unwrap();
    let alone = hub.usage();
    let first = hub.subscribe("t", Since::Now).await.unwrap();
    let queued = hub.usage().retained_bytes - alone.retained_bytes;
    assert!((5_000..20_000).contains(&queued), "{queued} bytes of queue");
    let second = hub.subscribe("t", Since::Now).await.unwrap();
    assert_eq!(hub.usage().retained_bytes - alone.retained_bytes, queued);
    drop((first, second));
    assert_eq!(hub.usage(), alone);
}

#[tokio::test(start_paused = true)]
async fn past_max_topics_new_topics_are_refused_and_held_ones_work() {
    let age = Duration::from_secs(60);
    let hub = Hub::memory(HubConfig::default().max_topics(2).history_age(age));
    hub.publish("a", "a1").await.unwrap();
    let mut b = hub.subscribe("b", Since::Now).await.unwrap();

    let refused = hub.publish("c", "c1").await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::TooManyTopics);
    assert_eq!(refused.status_code(), 503);
    let refused = hub.subscribe("c", Since::Now).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::TooManyTopics);
    assert_eq!(hub.usage().topics, 2);

    // The topics held keep working.
    hub.publish("b", "b1").await.unwrap();
    assert_eq!(next(&mut b).await, "b1");
    hub.publish("a", "a2").await.unwrap();
    let mut a = hub.subscribe("a", Since::Beginning).await.unwrap();
    assert_eq!(next(&mut a).await, "a1");
    assert_eq!(next(&mut a).await, "a2");

    // Room comes back as topics go: "a" once unused, "b" once its event aged out too.
    drop(a);
    drop(b);
    hub.subscribe("c", Since::Now).await.unwrap_err();
    tokio::time::sleep(age + Duration::from_secs(1)).await;
    hub.publish("c", "c1").await.unwrap();
    hub.publish("d", "d1").await.unwrap();
}

/// Subscribes before committing, so a refusal is the action's answer.
pub struct RoomsController {
    hub: Hub,
}

#[live_runtime::live_controller]
impl RoomsController {
    /// `GET /rooms/{name}`
    pub async fn show(
        &self,
        axum::extract::Path(name): axum::extract::Path<String>,
        live: live_runtime::Live,
    ) -> live_runtime::Result {
        let room = self.hub.subscribe(&name, Since::Now).await?;
        live.sse(live_runtime::sse::SseOptions::new())
            .forward(room)
            .await
    }
}

/// Past the cap, a new topic is a `503` before commit and a held one still streams: on the
/// in-process engine, and on a Redis node, which bounds the topics it follows.
async fn past_max_topics_an_action_answers_503(kind: Kind) {
    use live_runtime::routing::Controller;
    let engine = engine(kind, HubConfig::default().max_topics(1));
    let hub = engine.hub.clone();
    let server = support::Server::start(RoomsController { hub: hub.clone() }.into_router()).await;
    let held = server.get("/rooms/a").await;
    assert_eq!(held.status(), 200);
    let refused = server.get("/rooms/b").await;
    assert_eq!(refused.status(), 503);
    // The topic held still takes subscribers.
    let again = server.get("/rooms/a").await;
    assert_eq!(again.status(), 200);
    assert_eq!(hub.subscribers("a"), 2);
    drop((held, again));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_max_topics_an_action_answers_503_before_commit() {
    past_max_topics_an_action_answers_503(Kind::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_max_topics_a_redis_node_answers_503_before_commit() {
    past_max_topics_an_action_answers_503(Kind::Redis).await;
}
