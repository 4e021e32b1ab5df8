//! The broadcast semantics, one table run against each engine (in-process, and Redis with a
//! redis-server of the test's own), then what only Redis can do wrong: restarts, outages, a
//! wiped history.

use crate::redis_server;
use crate::support;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use live_runtime::ErrorKind;
use live_runtime::broadcast::{Delivery, EventId, Hub, HubConfig, Since, Subscription};
use redis_server::RedisServer;
use serde_json::json;

/// A hub of the engine under test, and what keeps its engine alive.
pub(crate) struct Engine {
    pub(crate) hub: Hub,
    _redis: Option<RedisServer>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    Memory,
    Redis,
}

pub(crate) fn engine(kind: Kind, config: HubConfig) -> Engine {
    match kind {
        Kind::Memory => Engine {
            hub: Hub::memory(config),
            _redis: None,
        },
        Kind::Redis => {
            let redis = RedisServer::start();
            Engine {
                hub: Hub::redis(&redis.url(), config).unwrap(),
                _redis: Some(redis),
            }
        }
    }
}

/// Every delivery within 10 s, or the test fails (never hangs).
pub(crate) async fn next(subscription: &mut Subscription) -> Delivery {
    tokio::time::timeout(Duration::from_secs(10), subscription.next())
        .await
        .expect("no delivery within 10 s")
        .expect("the subscription ended")
}

/// The payload of the next delivery, which must be an event.
pub(crate) async fn next_data(subscription: &mut Subscription) -> String {
    match next(subscription).await {
        Delivery::Event(event) => event.data().to_owned(),
        Delivery::Gap(gap) => panic!("expected an event, got {gap:?}"),
    }
}

/// Nothing more is ready: a marker published now is the next delivery.
async fn assert_nothing_before_marker(hub: &Hub, topic: &str, subscription: &mut Subscription) {
    hub.publish(topic, "marker").await.unwrap();
    assert_eq!(next_data(subscription).await, "marker");
}

async fn publish_n(hub: &Hub, topic: &str, range: std::ops::Range<u32>) -> Vec<EventId> {
    let mut ids = Vec::new();
    for n in range {
        ids.push(hub.publish(topic, &n.to_string()).await.unwrap());
    }
    ids
}

pub(crate) type Case = fn(Kind) -> Pin<Box<dyn Future<Output = ()>>>;

/// The table: each row, a behaviour both engines must have.
const SEMANTICS: &[(&str, Case)] = &[
    ("ids are ordered and parse back", |k| {
        Box::pin(ids_are_ordered(k))
    }),
    ("now: only new events, in order", |k| {
        Box::pin(now_only_new(k))
    }),
    ("after an id: the rest, then live", |k| {
        Box::pin(replay_then_live(k))
    }),
    ("beginning: all retained", |k| Box::pin(beginning(k))),
    ("publish racing subscribe: exactly once", |k| {
        Box::pin(seam_race(k))
    }),
    ("history bounded by count: gap, then the rest", |k| {
        Box::pin(bounded_by_count(k))
    }),
    ("history bounded by age: gap, then the rest", |k| {
        Box::pin(bounded_by_age(k))
    }),
    ("id from another history: gap, then all", |k| {
        Box::pin(other_history(k))
    }),
    ("slow subscriber catches up from history", |k| {
        Box::pin(slow_catches_up(k))
    }),
    ("too slow subscriber: gap, never unbounded", |k| {
        Box::pin(too_slow_gets_gap(k))
    }),
    ("topics are separate, subscribers each get all", |k| {
        Box::pin(topics_and_many_subscribers(k))
    }),
    ("bad input is an Err", |k| Box::pin(bad_input(k))),
    ("subscribers counted per topic, gone when dropped", |k| {
        Box::pin(subscribers_per_topic(k))
    }),
    ("SSE bytes: named events, ids, safe data", |k| {
        Box::pin(sse_bytes(k))
    }),
];

async fn ids_are_ordered(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    let ids = publish_n(&e.hub, "t", 0..20).await;
    for pair in ids.windows(2) {
        assert!(pair[1].is_after(&pair[0]), "{pair:?}");
    }
    for id in &ids {
        assert_eq!(id.to_string().parse::<EventId>().unwrap(), *id);
    }
}

async fn now_only_new(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    publish_n(&e.hub, "t", 0..3).await;
    let mut s = e.hub.subscribe("t", Since::Now).await.unwrap();
    let ids = publish_n(&e.hub, "t", 3..6).await;
    for (n, id) in (3..6).zip(ids) {
        let Delivery::Event(event) = next(&mut s).await else {
            panic!("gap")
        };
        assert_eq!((event.data(), event.id()), (n.to_string().as_str(), id));
    }
}

async fn replay_then_live(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    let ids = publish_n(&e.hub, "t", 0..5).await;
    let mut s = e.hub.subscribe("t", Since::After(ids[1])).await.unwrap();
    for n in 2..5 {
        assert_eq!(next_data(&mut s).await, n.to_string());
    }
    publish_n(&e.hub, "t", 5..7).await;
    assert_eq!(next_data(&mut s).await, "5");
    assert_eq!(next_data(&mut s).await, "6");
    // Resuming after the newest id: nothing to replay, live from there.
    let mut s = e.hub.subscribe("t", Since::After(ids[4])).await.unwrap();
    assert_eq!(next_data(&mut s).await, "5");
}

async fn beginning(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    publish_n(&e.hub, "t", 0..3).await;
    let mut s = e.hub.subscribe("t", Since::Beginning).await.unwrap();
    for n in 0..3 {
        assert_eq!(next_data(&mut s).await, n.to_string());
    }
    assert_nothing_before_marker(&e.hub, "t", &mut s).await;
}

async fn seam_race(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    for round in 0..10 {
        let topic = format!("race{round}");
        let first = e.hub.publish(&topic, "0").await.unwrap();
        let hub = e.hub.clone();
        let publisher = tokio::spawn({
            let topic = topic.clone();
            async move { publish_n(&hub, &topic, 1..200).await }
        });
        // Subscribes while the publisher runs: every event after `first` exactly once.
        tokio::task::yield_now().await;
        let mut s = e.hub.subscribe(&topic, Since::After(first)).await.unwrap();
        publisher.await.unwrap();
        for n in 1..200 {
            assert_eq!(next_data(&mut s).await, n.to_string(), "round {round}");
        }
        assert_nothing_before_marker(&e.hub, &topic, &mut s).await;
    }
}

async fn bounded_by_count(kind: Kind) {
    let e = engine(kind, HubConfig::default().history_events(3));
    let ids = publish_n(&e.hub, "t", 0..6).await;
    // 0..3 were trimmed: after 0 the client missed 1 and 2.
    let mut s = e.hub.subscribe("t", Since::After(ids[0])).await.unwrap();
    let Delivery::Gap(gap) = next(&mut s).await else {
        panic!("expected a gap")
    };
    assert_eq!(gap.after(), Some(ids[0]));
    for n in 3..6 {
        assert_eq!(next_data(&mut s).await, n.to_string());
    }
    // After 2, nothing missed (3, 4, 5 are retained): no gap.
    let mut s = e.hub.subscribe("t", Since::After(ids[2])).await.unwrap();
    assert_eq!(next_data(&mut s).await, "3");
    let mut s = e.hub.subscribe("t", Since::Beginning).await.unwrap();
    assert_eq!(next_data(&mut s).await, "3");
}

async fn bounded_by_age(kind: Kind) {
    let age = Duration::from_millis(400);
    let e = engine(kind, HubConfig::default().history_age(age));
    let ids = publish_n(&e.hub, "t", 0..2).await;
    // The in-process engine ages on tokio's clock, paused in its table: no real wait. Redis
    // ages on its own clock, so the Redis row really waits.
    tokio::time::sleep(age + Duration::from_millis(200)).await;
    publish_n(&e.hub, "t", 2..3).await;
    let mut s = e.hub.subscribe("t", Since::After(ids[0])).await.unwrap();
    assert!(matches!(next(&mut s).await, Delivery::Gap(_)));
    assert_eq!(next_data(&mut s).await, "2");
}

async fn other_history(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    let ids = publish_n(&e.hub, "t", 0..3).await;
    let foreign: EventId = "00000000-1-0".parse().unwrap();
    let foreign = if foreign.to_string()[..8] == ids[0].to_string()[..8] {
        "00000001-1-0".parse().unwrap()
    } else {
        foreign
    };
    let mut s = e.hub.subscribe("t", Since::After(foreign)).await.unwrap();
    assert!(matches!(next(&mut s).await, Delivery::Gap(_)));
    for n in 0..3 {
        assert_eq!(next_data(&mut s).await, n.to_string());
    }
    // An id of this history but past its end (a backup restored, say) is no better.
    let epoch = &ids[0].to_string()[..8];
    let future: EventId = format!("{epoch}-99999999999999-0").parse().unwrap();
    let mut s = e.hub.subscribe("t", Since::After(future)).await.unwrap();
    assert!(matches!(next(&mut s).await, Delivery::Gap(_)));
}

async fn slow_catches_up(kind: Kind) {
    let e = engine(
        kind,
        HubConfig::default().subscriber_queue(4).history_events(100),
    );
    let mut s = e.hub.subscribe("t", Since::Now).await.unwrap();
    // The publisher never waits for the subscriber that reads nothing.
    tokio::time::timeout(Duration::from_secs(10), publish_n(&e.hub, "t", 0..50))
        .await
        .expect("publish waited on a subscriber");
    for n in 0..50 {
        assert_eq!(next_data(&mut s).await, n.to_string());
    }
    assert_nothing_before_marker(&e.hub, "t", &mut s).await;
}

async fn too_slow_gets_gap(kind: Kind) {
    let e = engine(
        kind,
        HubConfig::default().subscriber_queue(4).history_events(10),
    );
    let mut s = e.hub.subscribe("t", Since::Now).await.unwrap();
    publish_n(&e.hub, "t", 0..50).await;
    // Whatever it had in its queue may come first; then the gap, then the 10 retained.
    let mut seen = Vec::new();
    while let Delivery::Event(event) = next(&mut s).await {
        seen.push(event.data().parse::<u32>().unwrap());
    }
    assert!(seen.len() <= 4, "{seen:?}");
    for n in 40..50 {
        assert_eq!(next_data(&mut s).await, n.to_string());
    }
    assert_nothing_before_marker(&e.hub, "t", &mut s).await;
}

async fn topics_and_many_subscribers(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    let mut subscribers = Vec::new();
    for _ in 0..20 {
        subscribers.push(e.hub.subscribe("a", Since::Now).await.unwrap());
    }
    let mut other = e.hub.subscribe("b", Since::Now).await.unwrap();
    publish_n(&e.hub, "a", 0..5).await;
    e.hub.publish("b", "only b").await.unwrap();
    for s in &mut subscribers {
        for n in 0..5 {
            assert_eq!(next_data(s).await, n.to_string());
        }
    }
    assert_eq!(next_data(&mut other).await, "only b");
}

async fn bad_input(kind: Kind) {
    let e = engine(kind, HubConfig::default().max_payload_bytes(100));
    let kind_of = |r: live_runtime::Result<EventId>| r.unwrap_err().kind();
    assert_eq!(
        kind_of(e.hub.publish("t", "x".repeat(101).as_str()).await),
        ErrorKind::PayloadTooLarge
    );
    assert_eq!(
        kind_of(e.hub.publish("", "x").await),
        ErrorKind::InvalidTopic
    );
    assert_eq!(
        kind_of(e.hub.publish(&"t".repeat(1025), "x").await),
        ErrorKind::InvalidTopic
    );
    assert_eq!(
        kind_of(e.hub.publish_event("t", "a\nid: 1", "x").await),
        ErrorKind::InvalidEvent
    );
    assert_eq!(
        e.hub.subscribe("", Since::Now).await.unwrap_err().kind(),
        ErrorKind::InvalidTopic
    );
    // Nothing was published by the failures.
    let mut s = e.hub.subscribe("t", Since::Beginning).await.unwrap();
    assert_nothing_before_marker(&e.hub, "t", &mut s).await;
}

async fn sse_bytes(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    let id = e
        .hub
        .publish_event("t", "message", &json!({"text": "a\nb"}))
        .await
        .unwrap();
    let plain = e.hub.publish("t", "line 1\r\nline 2").await.unwrap();
    let mut s = e.hub.subscribe("t", Since::Beginning).await.unwrap();
    let Delivery::Event(named) = next(&mut s).await else {
        panic!("gap")
    };
    assert_eq!(
        named.sse_bytes(),
        format!("event: message\nid: {id}\ndata: {{\"text\":\"a\\nb\"}}\n\n")
    );
    assert_eq!(named.json::<serde_json::Value>().unwrap()["text"], "a\nb");
    assert_eq!(named.event(), Some("message"));
    let Delivery::Event(plain_event) = next(&mut s).await else {
        panic!("gap")
    };
    assert_eq!(
        plain_event.sse_bytes(),
        format!("id: {plain}\ndata: line 1\ndata: line 2\n\n")
    );
    assert_eq!(plain_event.event(), None);
}

async fn subscribers_per_topic(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    assert_eq!(e.hub.subscribers("t"), 0);
    let first = e.hub.subscribe("t", Since::Now).await.unwrap();
    let second = e.hub.subscribe("t", Since::Now).await.unwrap();
    let _other_topic = e.hub.subscribe("u", Since::Now).await.unwrap();
    assert_eq!(e.hub.subscribers("t"), 2);
    drop(first);
    assert_eq!(e.hub.subscribers("t"), 1);
    drop(second);
    assert_eq!(e.hub.subscribers("t"), 0);
}

async fn run_table(kind: Kind) {
    for (name, case) in SEMANTICS {
        eprintln!("{kind:?}: {name}");
        case(kind).await;
    }
}

/// Under paused time: ageing and timeouts cost no real time.
#[tokio::test(start_paused = true)]
async fn semantics_in_process() {
    run_table(Kind::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn semantics_redis() {
    run_table(Kind::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_are_counted() {
    let hub = Hub::memory(HubConfig::default());
    let before = live_runtime::stats();
    let s = hub.subscribe("counted", Since::Now).await.unwrap();
    let mut s2 = hub.subscribe("counted", Since::Now).await.unwrap();
    hub.publish("counted", "x").await.unwrap();
    next(&mut s2).await;
    let after = live_runtime::stats();
    // Other tests of this binary run at the same time: only lower bounds hold.
    assert!(after.subscribers >= 2);
    assert!(after.published > before.published);
    assert!(after.delivered > before.delivered);
    drop((s, s2));
}

/// Two nodes on one Redis: each publishes, both see everything, in the same order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_two_nodes_share_topics() {
    let redis = RedisServer::start();
    let node1 = Hub::redis(&redis.url(), HubConfig::default()).unwrap();
    let node2 = Hub::redis(&redis.url(), HubConfig::default()).unwrap();
    let mut on1 = node1.subscribe("room", Since::Now).await.unwrap();
    let mut on2 = node2.subscribe("room", Since::Now).await.unwrap();
    let a = node1.publish("room", "from 1").await.unwrap();
    node2.publish("room", "from 2").await.unwrap();
    for s in [&mut on1, &mut on2] {
        assert_eq!(next_data(s).await, "from 1");
        assert_eq!(next_data(s).await, "from 2");
    }
    // A client that saw `a` on node 1 resumes on node 2.
    let mut resumed = node2.subscribe("room", Since::After(a)).await.unwrap();
    assert_eq!(next_data(&mut resumed).await, "from 2");
}

/// Apps that share one Redis under different prefixes share nothing: each has its own keys,
/// so a topic of one is not a topic of the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_prefixes_keep_hubs_apart() {
    let redis = RedisServer::start();
    let app = Hub::redis(&redis.url(), HubConfig::default().redis_prefix("app")).unwrap();
    let other = Hub::redis(&redis.url(), HubConfig::default().redis_prefix("other")).unwrap();
    assert!(
        format!("{app:?}").starts_with(r#"Hub { engine: "redis","#),
        "{app:?}"
    );
    app.publish("t", "for app only").await.unwrap();
    let mut s = other.subscribe("t", Since::Beginning).await.unwrap();
    assert_nothing_before_marker(&other, "t", &mut s).await;
    assert!(redis.command("EXISTS app:topic:t").starts_with(":1"));
    assert!(redis.command("EXISTS live:topic:t").starts_with(":0"));
}

/// Redis is killed (SIGKILL) and restarted on the same port and directory while a publisher
/// publishes every 50 ms and a client streams: publishes during the outage fail, delivery
/// resumes by itself, and neither the streaming client nor one resuming from the first id
/// misses or repeats an event that Redis accepted.
async fn survives_restart(outage: Duration) {
    let mut redis = RedisServer::start();
    let publisher_hub = Hub::redis(&redis.url(), HubConfig::default()).unwrap();
    let node = Hub::redis(&redis.url(), HubConfig::default()).unwrap();
    let first = publisher_hub.publish("feed", "start").await.unwrap();
    let mut live = node.subscribe("feed", Since::After(first)).await.unwrap();
    let reconnects = live_runtime::stats().redis_reconnects;

    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let publisher = tokio::spawn(async move {
        let (mut accepted, mut refused) = (Vec::new(), Vec::new());
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        for n in 0_u32.. {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopped.changed() => break,
            }
            let started = std::time::Instant::now();
            match publisher_hub.publish("feed", &n.to_string()).await {
                Ok(_) => accepted.push(n),
                Err(error) => {
                    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error}");
                    refused.push(n);
                }
            }
            assert!(started.elapsed() < Duration::from_secs(5), "publish hung");
        }
        (accepted, refused)
    });
    // Some events before the outage.
    let mut received: Vec<u32> = Vec::new();
    while received.len() < 5 {
        received.push(next_data(&mut live).await.parse().unwrap());
    }
    redis.kill();
    tokio::time::sleep(outage).await;
    redis.restart();
    // Delivery resumes: wait for 10 events published after the restart.
    let resumed_at = received.len();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while received.len() < resumed_at + 10 {
        let delivery = tokio::time::timeout_at(deadline, live.next())
            .await
            .expect("delivery did not resume after the restart");
        match delivery.unwrap() {
            Delivery::Event(event) => received.push(event.data().parse().unwrap()),
            Delivery::Gap(gap) => panic!("unexpected gap {gap:?}"),
        }
    }
    stop.send(true).unwrap();
    let (accepted, refused) = publisher.await.unwrap();
    assert!(!refused.is_empty(), "no publish failed during the outage");
    assert!(live_runtime::stats().redis_reconnects > reconnects);
    // Drain up to the last accepted event.
    let last = *accepted.last().unwrap();
    while *received.last().unwrap() < last {
        received.push(next_data(&mut live).await.parse().unwrap());
    }
    // Every accepted event exactly once, in order. A publish that failed because Redis died
    // mid-call may have been stored (only its reply was lost): such an event may appear too,
    // once, in its place; nothing else may.
    let check = |what: &str, got: &[u32]| {
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "{what}: out of order or twice: {got:?}"
        );
        let missing: Vec<_> = accepted.iter().filter(|n| !got.contains(n)).collect();
        assert!(missing.is_empty(), "{what}: missed {missing:?}");
        let foreign: Vec<_> = got
            .iter()
            .filter(|n| !accepted.contains(n) && !refused.contains(n))
            .collect();
        assert!(foreign.is_empty(), "{what}: never published {foreign:?}");
    };
    check("the streaming client", &received);
    let mut resumed = node.subscribe("feed", Since::After(first)).await.unwrap();
    let mut replayed: Vec<u32> = Vec::new();
    while replayed.last() != Some(&last) {
        replayed.push(next_data(&mut resumed).await.parse().unwrap());
    }
    check("a client resuming from the first id", &replayed);
    assert_eq!(replayed, received, "both saw the same history");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart_short_outage() {
    survives_restart(Duration::from_millis(500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart_15s_outage() {
    survives_restart(Duration::from_secs(15)).await;
}

/// A Redis that lost its data: subscribers get a gap, then the new history; a client
/// resuming with an old id gets a gap too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_wiped_history_is_a_gap() {
    let redis = RedisServer::start();
    let hub = Hub::redis(&redis.url(), HubConfig::default()).unwrap();
    let old = hub.publish("t", "old").await.unwrap();
    let mut s = hub.subscribe("t", Since::After(old)).await.unwrap();
    assert!(redis.command("FLUSHALL").starts_with("+OK"));
    let new = hub.publish("t", "new").await.unwrap();
    assert_ne!(new.to_string()[..8], old.to_string()[..8], "a new epoch");
    assert!(matches!(next(&mut s).await, Delivery::Gap(_)));
    assert_eq!(next_data(&mut s).await, "new");
    let mut resumed = hub.subscribe("t", Since::After(old)).await.unwrap();
    assert!(matches!(next(&mut resumed).await, Delivery::Gap(_)));
    assert_eq!(next_data(&mut resumed).await, "new");
}

/// Nothing listening: every call fails within 5 s, as `Unavailable`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_unreachable_fails_fast() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hub = Hub::redis(&format!("redis://127.0.0.1:{port}"), HubConfig::default()).unwrap();
    for _ in 0..3 {
        let result = tokio::time::timeout(Duration::from_secs(5), hub.publish("t", "x"))
            .await
            .expect("publish hung");
        assert_eq!(result.unwrap_err().kind(), ErrorKind::Unavailable);
        let result = tokio::time::timeout(Duration::from_secs(5), hub.subscribe("t", Since::Now))
            .await
            .expect("subscribe hung");
        assert_eq!(result.unwrap_err().kind(), ErrorKind::Unavailable);
    }
    assert!(Hub::redis("not a url", HubConfig::default()).is_err());
}

/// The SSE bridge as a browser meets it, over HTTP: a controller that forwards a topic.
pub struct FeedController {
    hub: Hub,
}

#[live_runtime::live_controller]
impl FeedController {
    /// `GET /feed/events`: the topic `feed`, resumed after `Last-Event-ID`.
    pub async fn events(
        &self,
        last: live_runtime::sse::LastEventId<EventId>,
        live: live_runtime::Live,
    ) -> live_runtime::Result {
        // Subscribed before the commit: a client that has the headers is a subscriber.
        let feed = self.hub.subscribe("feed", last).await;
        let sse = live.sse(live_runtime::sse::SseOptions::new().retry(Duration::from_millis(250)));
        forward_or_retry(sse, feed).await
    }
}

impl FeedController {
    fn unreachable() -> FeedController {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        FeedController {
            hub: Hub::redis(&format!("redis://127.0.0.1:{port}"), HubConfig::default()).unwrap(),
        }
    }
}

/// Deferred commit (Rails' way), then `?` on a subscription Redis cannot give.
pub struct DeferredController {
    hub: Hub,
}

#[live_runtime::live_controller]
impl DeferredController {
    /// `GET /deferred/events`
    pub async fn events(&self, live: live_runtime::Live) -> live_runtime::Result {
        let sse = live.sse(live_runtime::sse::SseOptions::new().commit_on_first_write());
        let feed = self.hub.subscribe("feed", Since::Now).await?;
        sse.forward(feed).await
    }
}

/// Any topic, named in the path, from its beginning, without a `retry`.
pub struct TopicsController {
    hub: Hub,
}

#[live_runtime::live_controller]
impl TopicsController {
    /// `GET /topics/{name}`
    pub async fn show(
        &self,
        axum::extract::Path(name): axum::extract::Path<String>,
        live: live_runtime::Live,
    ) -> live_runtime::Result {
        let topic = self.hub.subscribe(&name, Since::Beginning).await;
        forward_or_retry(live.sse(live_runtime::sse::SseOptions::new()), topic).await
    }
}

/// A snapshot written first, with a buffer of one chunk, then the topic.
pub struct SnapshotController {
    hub: Hub,
}

#[live_runtime::live_controller(buffer = 1)]
impl SnapshotController {
    /// `GET /snapshot/events`
    pub async fn events(&self, live: live_runtime::Live) -> live_runtime::Result {
        let feed = self.hub.subscribe("feed", Since::Now).await;
        let mut sse =
            live.sse(live_runtime::sse::SseOptions::new().retry(Duration::from_millis(250)));
        for n in 0..3 {
            sse.write(format!("snapshot {n}")).await?;
        }
        forward_or_retry(sse, feed).await
    }
}

/// What an action does with what `subscribe` returned: forward it, or end the stream for the
/// client to retry.
async fn forward_or_retry(
    sse: live_runtime::sse::Sse,
    subscribed: live_runtime::Result<Subscription>,
) -> live_runtime::Result {
    match subscribed {
        Ok(subscription) => sse.forward(subscription).await,
        Err(error) => sse.retry_later(error),
    }
}

/// Reads the body until it holds `needle`; returns everything read.
async fn read_until(response: &mut reqwest::Response, needle: &str) -> String {
    let mut body = String::new();
    while !body.contains(needle) {
        let chunk = support::next_chunk(response)
            .await
            .unwrap_or_else(|| panic!("the stream ended before {needle:?}: {body:?}"));
        body.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    body
}

async fn get_events(server: &support::Server, last: Option<&str>) -> reqwest::Response {
    let mut request = support::client().get(server.url("/feed/events"));
    if let Some(last) = last {
        request = request.header("last-event-id", last);
    }
    support::within(request.send()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_bridge_over_http() {
    use live_runtime::routing::Controller;
    let hub = Hub::memory(HubConfig::default().history_events(3));
    let server = support::Server::start(FeedController { hub: hub.clone() }.into_router()).await;

    // Headers before any event: an EventSource opens at once. The retry goes with the
    // first event.
    let mut first = get_events(&server, None).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["content-type"], "text/event-stream");

    let a = hub
        .publish_event("feed", "message", &json!({"n": 1}))
        .await
        .unwrap();
    let body = read_until(&mut first, "\n\n").await;
    assert_eq!(
        body,
        format!("retry: 250\nevent: message\nid: {a}\ndata: {{\"n\":1}}\n\n")
    );

    // Resume after `a`, on a new connection: only what followed it.
    drop(first);
    let b = hub.publish("feed", "two").await.unwrap();
    let mut resumed = get_events(&server, Some(&a.to_string())).await;
    let body = read_until(&mut resumed, "data: two\n\n").await;
    assert_eq!(body, format!("retry: 250\nid: {b}\ndata: two\n\n"));

    // An id the history no longer reaches: `event: reset` first, then what is retained.
    let ids = publish_n(&hub, "feed", 0..4).await;
    let mut late = get_events(&server, Some(&a.to_string())).await;
    let body = read_until(&mut late, "data: 3\n\n").await;
    assert_eq!(
        body,
        format!(
            "retry: 250\nevent: reset\ndata: {{\"after\":\"{a}\"}}\n\nid: {}\ndata: 1\n\nid: {}\ndata: 2\n\nid: {}\ndata: 3\n\n",
            ids[1], ids[2], ids[3]
        )
    );

    // A malformed Last-Event-ID is the extractor's 400.
    let bad = get_events(&server, Some("not-an-id")).await;
    assert_eq!(bad.status(), 400);
}

/// Without a `retry` the stream opens with nothing before the first event. A topic the hub
/// refuses is the action's error, after the commit `sse` made: the stream is cut, not ended
/// cleanly as for `Unavailable`, which alone means "retry later".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_bridge_without_retry_and_with_a_bad_topic() {
    use live_runtime::routing::Controller;
    let hub = Hub::memory(HubConfig::default());
    let id = hub.publish("prices", "42").await.unwrap();
    let server = support::Server::start(TopicsController { hub }.into_router()).await;
    let mut response = server.get("/topics/prices").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        read_until(&mut response, "\n\n").await,
        format!("id: {id}\ndata: 42\n\n")
    );
    let too_long = "t".repeat(1025);
    let response = server.get(&format!("/topics/{too_long}")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(support::cut_text(response).await, "");
}

/// What the action wrote before `forward` goes first, and `forward` never waits on the full
/// buffer: the topic follows. The `retry` went with the first event, and only with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_bridge_after_a_snapshot_in_a_full_buffer() {
    use live_runtime::routing::Controller;
    let hub = Hub::memory(HubConfig::default());
    let server =
        support::Server::start(SnapshotController { hub: hub.clone() }.into_router()).await;
    let mut response = server.get("/snapshot/events").await;
    let opening = read_until(&mut response, "snapshot 2\n\n").await;
    assert_eq!(
        opening,
        "retry: 250\ndata: snapshot 0\n\ndata: snapshot 1\n\ndata: snapshot 2\n\n"
    );
    let id = hub.publish("feed", "live").await.unwrap();
    assert_eq!(
        read_until(&mut response, "\n\n").await,
        format!("id: {id}\ndata: live\n\n")
    );
}

/// `forward` commits at once even when the writer defers its commit to the first write: the
/// client has its headers before any event is published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_bridge_commits_a_deferred_stream_at_once() {
    use live_runtime::routing::Controller;
    let hub = Hub::memory(HubConfig::default());
    let server =
        support::Server::start(DeferredController { hub: hub.clone() }.into_router()).await;
    let mut response = server.get("/deferred/events").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let id = hub.publish("feed", "first").await.unwrap();
    assert_eq!(
        read_until(&mut response, "\n\n").await,
        format!("id: {id}\ndata: first\n\n")
    );
}

/// A forwarded stream holds its subscription, not a task: the action ends at once; the
/// subscription goes when the client leaves, and at shutdown the stream ends cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_bridge_ends_with_client_and_shutdown() {
    use live_runtime::routing::Controller;
    let hub = Hub::memory(HubConfig::default());
    let shutdown = live_runtime::Shutdown::new();
    let app = FeedController { hub: hub.clone() }
        .into_router()
        .layer(shutdown.layer());
    let server = support::Server::start(app).await;

    let mut gone = get_events(&server, None).await;
    assert_eq!(hub.subscribers("feed"), 1);
    let id = hub.publish("feed", "still streaming").await.unwrap();
    read_until(&mut gone, &id.to_string()).await;
    // The stream is tracked by the shutdown while it is open, though its action has ended.
    assert_eq!(shutdown.live_actions(), 1);
    drop(gone);
    support::eventually("the subscription of a client that left is dropped", || {
        hub.subscribers("feed") == 0 && shutdown.live_actions() == 0
    })
    .await;

    let mut open = get_events(&server, None).await;
    let id = hub.publish("feed", "before").await.unwrap();
    read_until(&mut open, &id.to_string()).await;
    shutdown.begin();
    // The body ends without an error (a clean end, not a reset connection).
    support::within(open.text()).await.unwrap();
    support::within(shutdown.finished()).await;
    assert_eq!(hub.subscribers("feed"), 0);
}

/// The next chunk, in virtual time.
async fn chunk(response: &mut reqwest::Response) -> bytes::Bytes {
    support::within_for(Duration::from_secs(600), response.chunk())
        .await
        .unwrap()
        .unwrap()
}

/// A forwarded stream keeps alive like any SSE stream: a comment after 15 s of silence,
/// counted again from each event (paused time: the test takes no real time).
#[tokio::test(start_paused = true)]
async fn sse_bridge_keeps_alive() {
    use live_runtime::routing::Controller;
    let hub = Hub::memory(HubConfig::default());
    let server = support::Server::start(FeedController { hub: hub.clone() }.into_router()).await;
    let started = tokio::time::Instant::now();
    let mut response = get_events(&server, None).await;
    assert_eq!(chunk(&mut response).await, ":\n\n");
    assert_eq!(started.elapsed().as_secs(), 15);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let id = hub.publish("feed", "at 20 s").await.unwrap();
    assert_eq!(
        chunk(&mut response).await,
        format!("retry: 250\nid: {id}\ndata: at 20 s\n\n")
    );
    assert_eq!(chunk(&mut response).await, ":\n\n");
    assert_eq!(started.elapsed().as_secs(), 35);
}

// Found by review: each failed before its fix.

/// A topic forgotten (its history aged out) and published to again must not hide what the
/// client missed with it.
#[tokio::test(start_paused = true)]
async fn memory_recreated_topic_is_a_gap() {
    let hub = Hub::memory(HubConfig::default().history_age(Duration::from_millis(50)));
    let a = hub.publish("t", "a").await.unwrap();
    hub.publish("t", "b").await.unwrap(); // the client never saw `b`
    // Ageing, on tokio's paused clock: the hub forgets "t" without anything published.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(hub.usage().topics, 0);
    hub.publish("t", "c").await.unwrap(); // "t" again
    let mut s = hub.subscribe("t", Since::After(a)).await.unwrap();
    assert!(matches!(next(&mut s).await, Delivery::Gap(_)));
    assert_eq!(next_data(&mut s).await, "c");
}

/// Redis forgot the topic altogether (its stream and meta hash gone, as when a quiet topic's
/// keys expire): a resume from before is a gap, not a silent skip.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_forgotten_topic_is_a_gap() {
    let redis = RedisServer::start();
    let hub = Hub::redis(&redis.url(), HubConfig::default()).unwrap();
    let a = hub.publish("t", "a").await.unwrap();
    hub.publish("t", "b").await.unwrap();
    // What the keys' expiry does, without waiting for Redis's clock.
    assert!(
        redis
            .command("DEL live:topic:t live:meta:t")
            .starts_with(":2")
    );
    hub.publish("t", "c").await.unwrap();
    let mut s = hub.subscribe("t", Since::After(a)).await.unwrap();
    assert!(matches!(next(&mut s).await, Delivery::Gap(_)));
    assert_eq!(next_data(&mut s).await, "c");
}

/// An id of this history but past its end, and the largest id there is: a gap, then the
/// retained history, as the in-process engine does; never an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_ids_past_the_end_are_a_gap_then_the_history() {
    let redis = RedisServer::start();
    let hub = Hub::redis(&redis.url(), HubConfig::default()).unwrap();
    let first = hub.publish("t", "0").await.unwrap();
    let epoch = &first.to_string()[..8];
    for far in [
        format!("{epoch}-99999999999999-0"),
        format!("{epoch}-18446744073709551615-18446744073709551615"),
        format!("{epoch}-5-18446744073709551615"),
    ] {
        let far: EventId = far.parse().unwrap();
        let mut s = hub.subscribe("t", Since::After(far)).await.unwrap();
        assert!(matches!(next(&mut s).await, Delivery::Gap(_)), "{far}");
        assert_eq!(next_data(&mut s).await, "0", "{far}");
    }
}

/// Entries trimmed before this node's reader got to them (its connection was cut while
/// another node published more than the history holds): the subscriber gets a gap, then
/// what is retained, never a silent jump.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_node_that_missed_trimmed_entries_gives_a_gap() {
    let redis = RedisServer::start();
    let config = HubConfig::default().history_events(3);
    let node = Hub::redis(&redis.url(), config.clone()).unwrap();
    let other = Hub::redis(&redis.url(), config).unwrap();
    let mut s = node.subscribe("t", Since::Now).await.unwrap();
    other.publish("t", "0").await.unwrap();
    assert_eq!(next_data(&mut s).await, "0");
    // Cut the node's reader (the client blocked in XREAD); it comes back after its backoff.
    let clients = redis.command("CLIENT LIST");
    let reader = clients
        .lines()
        .find(|line| line.contains("cmd=xread"))
        .and_then(|line| line.split(' ').find_map(|f| f.strip_prefix("id=")))
        .expect("the node's reader is blocked in XREAD")
        .to_owned();
    assert!(
        redis
            .command(&format!("CLIENT KILL ID {reader}"))
            .contains(":1")
    );
    publish_n(&other, "t", 1..10).await;
    assert!(matches!(next(&mut s).await, Delivery::Gap(_)));
    for n in 7..10 {
        assert_eq!(next_data(&mut s).await, n.to_string());
    }
}

/// Two first subscribers of a topic on one node, racing another node's publishes: neither
/// misses an event (the later one to set where the node reads from must not skip what lies
/// between the two reads).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_racing_first_subscribers_miss_nothing() {
    let redis = RedisServer::start();
    for round in 0..10 {
        let node = Hub::redis(&redis.url(), HubConfig::default()).unwrap();
        let other = Hub::redis(&redis.url(), HubConfig::default()).unwrap();
        let topic = format!("race{round}");
        let first = other.publish(&topic, "0").await.unwrap();
        let publisher = tokio::spawn({
            let topic = topic.clone();
            async move { publish_n(&other, &topic, 1..50).await }
        });
        let (a, b) = tokio::join!(
            node.subscribe(&topic, Since::After(first)),
            node.subscribe(&topic, Since::After(first))
        );
        publisher.await.unwrap();
        for mut s in [a.unwrap(), b.unwrap()] {
            for n in 1..50 {
                assert_eq!(next_data(&mut s).await, n.to_string(), "round {round}");
            }
        }
    }
}

/// Redis unreachable before an SSE response's first event: an empty stream that ends, so an
/// `EventSource` retries, never a 503 that would stop it for good: whether `retry_later` is
/// given the subscription's error, or the action returns the error with `?` before it
/// committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_unavailable_ends_the_stream_for_a_retry() {
    use live_runtime::routing::Controller;
    let server = support::Server::start(FeedController::unreachable().into_router()).await;
    let response = get_events(&server, None).await;
    assert_eq!(response.status(), 200);
    let body = support::within(response.text()).await.unwrap();
    assert_eq!(body, "retry: 250\nevent: unavailable\ndata: {}\n\n");

    let hub = FeedController::unreachable().hub;
    let server = support::Server::start(DeferredController { hub }.into_router()).await;
    let response = server.get("/deferred/events").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(support::within(response.text()).await.unwrap(), "");
}
