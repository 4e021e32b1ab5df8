//! Topics with a lifecycle: value topics (only the current value), closing with a final event,
//! topics that must exist, and closed topics forgotten after their age. One table of cases,
//! run against each engine that has them, at the hub and over HTTP as a browser sees them.

use crate::broadcast::{Case, Kind, engine, next, next_data};
use crate::redis_server::RedisServer;
use crate::support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Path;
use http::StatusCode;
use live_runtime::ErrorKind;
use live_runtime::broadcast::{Delivery, EventId, Hub, HubConfig, Since, Subscription};
use live_runtime::prelude::*;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The table: each row, a behaviour every engine with topic lifecycles must have.
const CASES: &[(&str, Case)] = &[
    (
        "value: a newcomer gets the current value, then changes",
        |k| Box::pin(value_newcomer(k)),
    ),
    (
        "value: a resume skips to the current value, never a gap",
        |k| Box::pin(value_resume(k)),
    ),
    (
        "value: a resume at the current value waits for a change",
        |k| Box::pin(value_resume_at_current(k)),
    ),
    (
        "kinds: set by the first publish; the other kind is refused",
        |k| Box::pin(kinds(k)),
    ),
    (
        "close: live subscribers get the final event, then the end",
        |k| Box::pin(close_live(k)),
    ),
    (
        "close: a log topic's late subscribers get what they missed, then the end",
        |k| Box::pin(close_log_late(k)),
    ),
    (
        "close: a value topic's final event is its current value",
        |k| Box::pin(close_value_late(k)),
    ),
    (
        "close: a subscriber behind at the close catches up, then ends",
        |k| Box::pin(close_behind(k)),
    ),
    (
        "finished: after the final event, at once; not while owed",
        |k| Box::pin(finished(k)),
    ),
    ("closed: publishing or closing again is TopicClosed", |k| {
        Box::pin(closed_refuses(k))
    }),
    (
        "subscribe_existing: unknown is NotFound, one with subscribers is found",
        |k| Box::pin(existing(k)),
    ),
    ("closed topics are forgotten after closed_topic_age", |k| {
        Box::pin(forgotten(k))
    }),
    (
        "HTTP: forward ends the response after the final event",
        |k| Box::pin(http_forward_ends(k)),
    ),
    (
        "HTTP: follow answers 404, the stream, the final event at once, then 204",
        |k| Box::pin(http_follow(k)),
    ),
    ("HTTP: a publish to a closed topic answers 409", |k| {
        Box::pin(http_closed_is_409(k))
    }),
];

/// Every delivery until the subscription ends (a gap is `"gap"`); fails if it does not end.
async fn to_end(subscription: &mut Subscription) -> Vec<String> {
    let mut seen = Vec::new();
    while let Some(delivery) = support::within(subscription.next()).await {
        seen.push(match delivery {
            Delivery::Event(event) => event.data().to_owned(),
            Delivery::Gap(_) => "gap".to_owned(),
        });
    }
    seen
}

async fn value_newcomer(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    let hub = &e.hub;
    hub.publish_value("v", "progress", "10").await.unwrap();
    hub.publish_value("v", "progress", "20").await.unwrap();
    let mut now = hub.subscribe("v", Since::Now).await.unwrap();
    let mut beginning = hub.subscribe("v", Since::Beginning).await.unwrap();
    hub.publish_value("v", "progress", "30").await.unwrap();
    for subscription in [&mut now, &mut beginning] {
        let Delivery::Event(current) = next(subscription).await else {
            panic!("the current value, not a gap")
        };
        assert_eq!((current.event(), current.data()), (Some("progress"), "20"));
        assert_eq!(next_data(subscription).await, "30");
    }
}

async fn value_resume(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    let hub = &e.hub;
    let first = hub.publish_value("v", "progress", "1").await.unwrap();
    hub.publish_value("v", "progress", "2").await.unwrap();
    hub.publish_value("v", "progress", "3").await.unwrap();
    let of_a_log = hub.publish("log", "x").await.unwrap();
    let unknown: EventId = "0badf00d-99-0".parse().unwrap();
    for since in [first, of_a_log, unknown] {
        let mut resumed = hub.subscribe("v", Since::After(since)).await.unwrap();
        assert_eq!(next_data(&mut resumed).await, "3", "after {since}");
        let changed = hub.publish_value("v", "progress", "3").await.unwrap();
        assert_eq!(next_data(&mut resumed).await, "3");
        assert_eq!(resumed.last_id(), Some(changed));
    }
}

async fn value_resume_at_current(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    let hub = &e.hub;
    let current = hub.publish_value("v", "progress", "1").await.unwrap();
    let mut resumed = hub.subscribe("v", Since::After(current)).await.unwrap();
    assert!(!resumed.is_finished());
    hub.publish_value("v", "progress", "2").await.unwrap();
    assert_eq!(next_data(&mut resumed).await, "2");
}

async fn kinds(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    let hub = &e.hub;
    hub.publish("log", "a").await.unwrap();
    let refused = hub.publish_value("log", "progress", "b").await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::InvalidTopic);
    assert_eq!(
        refused.to_string(),
        "invalid broadcast topic: topic \"log\" is a log topic: publish to it with `publish` or `publish_event`"
    );
    hub.publish_value("value", "progress", "a").await.unwrap();
    for refused in [
        hub.publish("value", "b").await,
        hub.publish_event("value", "progress", "b").await,
    ] {
        assert_eq!(refused.unwrap_err().kind(), ErrorKind::InvalidTopic);
    }
    // A topic made by a subscriber has no kind until its first publish.
    let mut early = hub.subscribe("fresh", Since::Now).await.unwrap();
    hub.publish_value("fresh", "progress", "1").await.unwrap();
    assert_eq!(next_data(&mut early).await, "1");
}

async fn close_live(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    let hub = &e.hub;
    // A log topic, and a value topic whose subscribers came first.
    let mut log = hub.subscribe("log", Since::Now).await.unwrap();
    let mut value = hub.subscribe("value", Since::Now).await.unwrap();
    hub.publish_event("log", "progress", "1").await.unwrap();
    hub.publish_value("value", "progress", "1").await.unwrap();
    for (topic, subscription) in [("log", &mut log), ("value", &mut value)] {
        let done = hub.close_with(topic, "done", "ok").await.unwrap();
        assert_eq!(next_data(subscription).await, "1");
        let Delivery::Event(last) = next(subscription).await else {
            panic!("the final event")
        };
        assert_eq!((last.id(), last.event()), (done, Some("done")));
        assert!(
            support::within(subscription.next()).await.is_none(),
            "{topic}: the end"
        );
        assert!(subscription.is_finished());
    }
}

async fn close_log_late(kind: Kind) {
    let e = engine(kind, HubConfig::default().history_events(3));
    let hub = &e.hub;
    let ids = [
        hub.publish("log", "1").await.unwrap(),
        hub.publish("log", "2").await.unwrap(),
        hub.publish("log", "3").await.unwrap(),
    ];
    hub.close_with("log", "done", "end").await.unwrap();
    let foreign: EventId = "0badf00d-2-0".parse().unwrap();
    // The final event took the place of the oldest, which a resume after it did not miss.
    for (since, owed) in [
        (Since::After(ids[1]), &["3", "end"][..]),
        (Since::After(ids[0]), &["2", "3", "end"]),
        (Since::After(foreign), &["gap", "2", "3", "end"]),
        (Since::Beginning, &["2", "3", "end"]),
        (Since::Now, &["end"]),
    ] {
        let mut late = hub.subscribe("log", since).await.unwrap();
        assert_eq!(to_end(&mut late).await, owed, "{since:?}");
    }
}

async fn close_value_late(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    let hub = &e.hub;
    let first = hub.publish_value("v", "progress", "1").await.unwrap();
    hub.publish_value("v", "progress", "2").await.unwrap();
    hub.close_with("v", "done", "ok").await.unwrap();
    for since in [Since::After(first), Since::Now, Since::Beginning] {
        let mut late = hub.subscribe("v", since).await.unwrap();
        assert_eq!(to_end(&mut late).await, ["ok"], "{since:?}");
    }
}

async fn close_behind(kind: Kind) {
    let e = engine(kind, HubConfig::default().subscriber_queue(1));
    let hub = &e.hub;
    let mut behind = hub.subscribe("log", Since::Now).await.unwrap();
    for n in 1..=3 {
        hub.publish("log", &n.to_string()).await.unwrap();
    }
    hub.close_with("log", "done", "end").await.unwrap();
    assert_eq!(to_end(&mut behind).await, ["1", "2", "3", "end"]);
}

async fn finished(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    let hub = &e.hub;
    let done = hub.close_with("job", "done", "x").await.unwrap();
    let mut after = hub.subscribe("job", Since::After(done)).await.unwrap();
    assert!(after.is_finished());
    assert!(support::within(after.next()).await.is_none());
    let mut owed = hub.subscribe("job", Since::Now).await.unwrap();
    assert!(!owed.is_finished());
    assert_eq!(next_data(&mut owed).await, "x");
    assert!(owed.is_finished());
}

async fn closed_refuses(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    let hub = &e.hub;
    hub.close_with("job", "done", "x").await.unwrap();
    for refused in [
        hub.publish("job", "y").await,
        hub.publish_event("job", "progress", "y").await,
        hub.publish_value("job", "progress", "y").await,
        hub.close_with("job", "done", "y").await,
    ] {
        let error = refused.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::TopicClosed);
        assert_eq!(error.status_code(), StatusCode::CONFLICT);
    }
}

async fn existing(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    let hub = &e.hub;
    let unknown = hub.subscribe_existing("job", Since::Now).await.unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::NotFound);
    assert_eq!(unknown.status_code(), StatusCode::NOT_FOUND);
    // No event yet, but a subscriber: the topic exists.
    let waiting = hub.subscribe("job", Since::Now).await.unwrap();
    let found = hub.subscribe_existing("job", Since::Now).await.unwrap();
    drop((waiting, found));
    let gone = hub.subscribe_existing("job", Since::Now).await.unwrap_err();
    assert_eq!(gone.kind(), ErrorKind::NotFound);
    hub.publish_value("job", "progress", "0").await.unwrap();
    let mut found = hub.subscribe_existing("job", Since::Now).await.unwrap();
    assert_eq!(next_data(&mut found).await, "0");
    let invalid = hub.subscribe_existing("", Since::Now).await.unwrap_err();
    assert_eq!(invalid.kind(), ErrorKind::InvalidTopic);
}

async fn forgotten(kind: Kind) {
    // The in-process hub forgets on tokio's clock, paused here; Redis expires keys on its own
    // clock, so there a short age, waited for in steps.
    let ms = match kind {
        Kind::Memory => [60_000, 10_000, 59_000, 2_000, 62_000],
        // Forgotten by a generous bound: a loaded machine is slow to look.
        Kind::Redis => [1_000, 100, 300, 50, 3_000],
    };
    let [age, history_age, kept_for, step, gone_by] = ms.map(Duration::from_millis);
    // Events age out sooner, but a closed topic keeps its final event as long as itself.
    let config = HubConfig::default()
        .closed_topic_age(age)
        .history_age(history_age);
    let e = engine(kind, config);
    let hub = &e.hub;
    let start_usage = hub.usage();
    let mut lingering = hub.subscribe("job", Since::Now).await.unwrap();
    hub.close_with("job", "done", "x").await.unwrap();
    let closed_at = tokio::time::Instant::now();
    assert_eq!(to_end(&mut lingering).await, ["x"]);

    let paused = matches!(kind, Kind::Memory);
    if paused {
        tokio::time::pause();
    }
    tokio::time::sleep(kept_for).await;
    let mut kept = hub.subscribe_existing("job", Since::Now).await.unwrap();
    assert_eq!(to_end(&mut kept).await, ["x"]);
    drop(kept);
    support::within(async {
        while hub.subscribe_existing("job", Since::Now).await.is_ok() {
            tokio::time::sleep(step).await;
        }
    })
    .await;
    assert!(closed_at.elapsed() < gone_by, "forgotten in time");
    assert_eq!(hub.usage(), start_usage, "nothing of the topic is held");

    // The name is free: a new topic, which the old topic's last subscriber leaves alone.
    let again = hub.publish("job", "again").await.unwrap();
    let mut new = hub.subscribe_existing("job", Since::Now).await.unwrap();
    drop(lingering);
    assert_eq!(hub.subscribers("job"), 1);
    let next_one = hub.publish("job", "next").await.unwrap();
    assert_eq!(next_data(&mut new).await, "next");
    assert!(next_one.is_after(&again));
    if paused {
        tokio::time::resume();
    }
}

/// A job's topic, named in the path, as an action serves it.
pub struct LifecycleController {
    hub: Hub,
}

#[live_controller]
impl LifecycleController {
    /// `GET /lifecycle/{topic}/forward`: the topic forwarded as it is, created if unknown.
    #[get("/{topic}/forward")]
    pub async fn forward(
        &self,
        Path(topic): Path<String>,
        last: LastEventId<EventId>,
        live: Live,
    ) -> live_runtime::Result {
        let subscription = self.hub.subscribe(&topic, last).await?;
        live.sse(SseOptions::new()).forward(subscription).await
    }

    /// `GET /lifecycle/{topic}/follow`: `404`, `204` or the stream.
    #[get("/{topic}/follow")]
    pub async fn follow(
        &self,
        Path(topic): Path<String>,
        last: LastEventId<EventId>,
        live: Live,
    ) -> live_runtime::Result {
        let subscription = self.hub.subscribe_existing(&topic, last).await;
        live.follow(SseOptions::new(), subscription).await
    }

    /// `GET /lifecycle/{topic}/watch`: as `follow`, for a topic created on demand.
    #[get("/{topic}/watch")]
    pub async fn watch(
        &self,
        Path(topic): Path<String>,
        last: LastEventId<EventId>,
        live: Live,
    ) -> live_runtime::Result {
        let subscription = self.hub.subscribe(&topic, last).await;
        live.follow(SseOptions::new(), subscription).await
    }

    /// `POST /lifecycle/{topic}/progress`: publishes the body as the current value.
    #[post("/{topic}/progress")]
    pub async fn progress(
        &self,
        Path(topic): Path<String>,
        body: String,
    ) -> live_runtime::Result<String> {
        Ok(self
            .hub
            .publish_value(&topic, "progress", &body)
            .await?
            .to_string())
    }
}

async fn server(hub: &Hub) -> support::Server {
    use live_runtime::routing::Controller;
    support::Server::start(LifecycleController { hub: hub.clone() }.into_router()).await
}

/// The SSE bytes of an event of this table.
fn sse(event: &str, id: EventId, data: &str) -> String {
    format!("event: {event}\nid: {id}\ndata: {data}\n\n")
}

async fn get(server: &support::Server, path: &str, last: Option<EventId>) -> reqwest::Response {
    let mut request = support::client().get(server.url(path));
    if let Some(last) = last {
        request = request.header("last-event-id", last.to_string());
    }
    support::within(request.send()).await.unwrap()
}

async fn http_forward_ends(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    let hub = &e.hub;
    let server = server(hub).await;
    let first = hub.publish_value("job", "progress", "10").await.unwrap();
    // Subscribed before the headers come: the current value, then the changes.
    let response = server.get("/lifecycle/job/forward").await;
    let second = hub.publish_value("job", "progress", "20").await.unwrap();
    let done = hub.close_with("job", "done", "ok").await.unwrap();
    assert_eq!(
        support::text(response).await,
        sse("progress", first, "10") + &sse("progress", second, "20") + &sse("done", done, "ok")
    );
    // After the close: the final event at once, then the end.
    let response = server.get("/lifecycle/job/forward").await;
    assert_eq!(support::text(response).await, sse("done", done, "ok"));
}

async fn http_follow(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    let hub = &e.hub;
    let server = server(hub).await;
    let unknown = get(&server, "/lifecycle/job/follow", None).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    let first = hub.publish_value("job", "progress", "10").await.unwrap();
    let response = get(&server, "/lifecycle/job/follow", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let done = hub.close_with("job", "done", "ok").await.unwrap();
    assert_eq!(
        support::text(response).await,
        sse("progress", first, "10") + &sse("done", done, "ok")
    );
    // A page that opens or resumes after the end: the final event at once, then the end.
    for last in [None, Some(first)] {
        let response = get(&server, "/lifecycle/job/follow", last).await;
        assert_eq!(support::text(response).await, sse("done", done, "ok"));
    }
    // Its `EventSource` reconnecting after the final event: told to stop for good.
    let reconnect = get(&server, "/lifecycle/job/follow", Some(done)).await;
    assert_eq!(reconnect.status(), StatusCode::NO_CONTENT);
}

async fn http_closed_is_409(kind: Kind) {
    let e = engine(kind, HubConfig::default());
    let hub = &e.hub;
    let server = server(hub).await;
    let post = |body: &'static str| {
        let request = support::client()
            .post(server.url("/lifecycle/job/progress"))
            .body(body);
        async move { support::within(request.send()).await.unwrap() }
    };
    let published = post("50").await;
    assert_eq!(published.status(), StatusCode::OK);
    hub.close_with("job", "done", "ok").await.unwrap();
    assert_eq!(post("60").await.status(), StatusCode::CONFLICT);
}

async fn run_table(kind: Kind) {
    for (name, case) in CASES {
        eprintln!("{kind:?}: {name}");
        case(kind).await;
    }
}

/// On one thread: the case of forgotten topics pauses the clock.
#[tokio::test]
async fn lifecycle_in_process() {
    run_table(Kind::Memory).await;
}

/// The same table on Redis, each case on a Redis server of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_redis() {
    run_table(Kind::Redis).await;
}

/// A TCP proxy to Redis whose connections can be cut and let through again: one node's
/// connection down while Redis and the other nodes go on.
struct CuttableProxy {
    port: u16,
    up: watch::Sender<bool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl CuttableProxy {
    async fn start(redis_port: u16) -> CuttableProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, is_up) = watch::channel(true);
        let connections = Arc::new(Mutex::new(Vec::new()));
        let kept = connections.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                // Refused while cut: the node sees Redis unreachable.
                if !*is_up.borrow() {
                    continue;
                }
                kept.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut redis) = TcpStream::connect(("127.0.0.1", redis_port)).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut redis).await;
                    }
                }));
            }
        });
        CuttableProxy {
            port,
            up,
            connections,
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Drops every connection, and has dropped them when it returns.
    async fn cut(&self) {
        self.up.send_replace(false);
        let connections = std::mem::take(&mut *self.connections.lock().unwrap());
        for connection in connections {
            connection.abort();
            let _ = connection.await;
        }
    }

    fn restore(&self) {
        self.up.send_replace(true);
    }
}

/// A close published on one node ends the subscriptions on every node: on one connected at
/// the time, and on one whose Redis connection was down then, once it reconnects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_reaches_every_node_even_one_disconnected_at_the_time() {
    let redis = RedisServer::start();
    let proxy = CuttableProxy::start(redis.port()).await;
    let publisher = Hub::redis(&redis.url(), HubConfig::default()).unwrap();
    let connected = Hub::redis(&redis.url(), HubConfig::default()).unwrap();
    let cut_off = Hub::redis(&proxy.url(), HubConfig::default()).unwrap();
    publisher
        .publish_value("job", "progress", "0")
        .await
        .unwrap();
    let mut on_connected = connected.subscribe("job", Since::Now).await.unwrap();
    let mut on_cut_off = cut_off.subscribe("job", Since::Now).await.unwrap();
    publisher
        .publish_value("job", "progress", "1")
        .await
        .unwrap();
    for subscription in [&mut on_connected, &mut on_cut_off] {
        assert_eq!(next_data(subscription).await, "0");
        assert_eq!(next_data(subscription).await, "1");
    }

    proxy.cut().await;
    let done = publisher.close_with("job", "done", "ok").await.unwrap();
    assert_eq!(to_end(&mut on_connected).await, ["ok"]);
    // Polled once: nothing reached the node that is cut off.
    let early = tokio::time::timeout(Duration::ZERO, on_cut_off.next()).await;
    assert!(early.is_err(), "{early:?}");
    proxy.restore();
    assert_eq!(to_end(&mut on_cut_off).await, ["ok"]);
    assert!(on_cut_off.is_finished());
    // Every node knows the topic is closed: a resume after the final event is finished, a
    // publish is refused.
    let resumed = cut_off
        .subscribe_existing("job", Since::After(done))
        .await
        .unwrap();
    assert!(resumed.is_finished());
    let refused = cut_off.publish_value("job", "progress", "2").await;
    assert_eq!(refused.unwrap_err().kind(), ErrorKind::TopicClosed);
}

/// `Live::follow` with Redis down: a stream the `EventSource` retries, not an error status.
#[tokio::test]
async fn follow_retries_later_when_the_engine_is_down() {
    let hub = Hub::redis("redis://127.0.0.1:1", HubConfig::default()).unwrap();
    let server = server(&hub).await;
    let response = get(&server, "/lifecycle/job/watch", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        support::text(response).await,
        "event: unavailable\ndata: {}\n\n"
    );
}
