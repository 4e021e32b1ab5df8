//! The chat example on two nodes sharing one Redis, under the faults of a deployment: Redis
//! SIGKILLed and restarted from its append-only file twice, and one node killed half-way with
//! its clients moving to the other. Subscribers reconnect as an `EventSource` does (with
//! `Last-Event-ID`, a moment after a stream ends) while two publishers post. Nothing Redis accepted
//! is lost, so every subscriber must get every accepted message exactly once, all subscribers
//! of a room in one order, and never an `event: reset`: a reset here is a false gap, which
//! makes a page throw its state away for nothing.

use crate::apps::chat as app;
use crate::redis_server::RedisServer;
use crate::support::client;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::{ChatController, Message};
use live_runtime::broadcast::{EventId, Hub, HubConfig};
use live_runtime::prelude::*;
use live_runtime::sse::parse::{EventParser, Item};
use serde_json::json;
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep, timeout};

const ROOMS: [&str; 3] = ["red", "green", "blue"];
const SUBSCRIBERS: usize = 200;
/// Each of the two publishers posts this often, to the rooms in turn: 50 posts/s in all.
const POST_EVERY: Duration = Duration::from_millis(40);
/// How long Redis stays dead each time.
const OUTAGE: Duration = Duration::from_secs(1);
/// The phases between the faults: events flow for this long before each.
const PHASE: Duration = Duration::from_secs(3);
/// How long a client waits before it reconnects (the chat's `retry` is 1 s; a test has less
/// time than a person).
const RECONNECT: Duration = Duration::from_millis(250);
/// The whole run, faults and draining included, must end within this (it takes about 15 s).
const DEADLINE: Duration = Duration::from_secs(90);
/// The text of each room's last message, posted once the faults are over.
const END: &str = "end";

/// A chat node with a runtime of its own, so that killing it drops every task it runs where
/// it stands (connections, its hub's reader), as a SIGKILL would.
struct Node {
    runtime: Option<Runtime>,
    addr: SocketAddr,
}

impl Node {
    fn start(redis_url: &str) -> Node {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let hub = Hub::redis(redis_url, HubConfig::default()).unwrap();
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, ChatController { hub }.into_router())
                .await
                .unwrap();
        });
        Node {
            runtime: Some(runtime),
            addr,
        }
    }

    fn kill(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // Not a drop: that would wait for the runtime's blocking threads.
            runtime.shutdown_background();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The load balancer: the nodes still up; client `n` goes to the `n`th, modulo.
#[derive(Clone)]
struct Balancer(Arc<Mutex<Vec<SocketAddr>>>);

impl Balancer {
    fn pick(&self, n: usize) -> SocketAddr {
        let nodes = self.0.lock().unwrap();
        nodes[n % nodes.len()]
    }

    fn remove(&self, addr: SocketAddr) {
        self.0.lock().unwrap().retain(|node| *node != addr);
    }
}

/// What one subscriber got, in order.
#[derive(Default)]
struct Seen {
    /// The streams it opened (`200`), counting the first.
    streams: usize,
    texts: Vec<String>,
    ids: Vec<EventId>,
    /// Each `event: reset`: its data, and the last id the subscriber had.
    resets: Vec<String>,
}

/// One page's `EventSource` on `room`: reads every stream to its end, reconnects after
/// [`RECONNECT`] with the last id it saw, to whichever node is up, until the room's [`END`].
/// Says on `connected` when its first stream is open.
async fn subscriber(n: usize, room: &str, nodes: Balancer, connected: mpsc::Sender<()>) -> Seen {
    let http = client();
    let mut seen = Seen::default();
    let mut last: Option<String> = None;
    let mut first = Some(connected);
    loop {
        let url = format!("http://{}/rooms/{room}/messages", nodes.pick(n));
        let mut request = http.get(url);
        if let Some(last) = &last {
            request = request.header("last-event-id", last);
        }
        if let Ok(mut response) = request.send().await {
            assert_eq!(response.status(), StatusCode::OK, "subscriber {n}");
            seen.streams += 1;
            if let Some(connected) = first.take() {
                connected.send(()).await.unwrap();
            }
            let mut parser = EventParser::new();
            while let Ok(Some(chunk)) = response.chunk().await {
                for item in parser.push(&chunk) {
                    let Item::Event(event) = item else { continue };
                    match event.event.as_str() {
                        "message" => {
                            let message: Message = event.json().unwrap();
                            let id = event.id.clone().expect("a message has an id");
                            seen.ids.push(id.parse().unwrap());
                            last = Some(id);
                            if message.text == END {
                                return seen;
                            }
                            seen.texts.push(message.text);
                        }
                        "reset" => seen
                            .resets
                            .push(format!("{} (the page had {last:?})", event.data)),
                        "unavailable" => {}
                        other => panic!("subscriber {n}: unexpected event {other}"),
                    }
                }
            }
        }
        sleep(RECONNECT).await;
    }
}

/// What the publishers posted to each room: taken (`201`), and of unknown outcome (a `503` or
/// a broken connection: Redis may have stored it before it died).
#[derive(Default)]
struct Posted {
    taken: HashMap<&'static str, Vec<String>>,
    unknown: HashMap<&'static str, HashSet<String>>,
}

/// Posts to the rooms in turn, every [`POST_EVERY`], until `stop`.
async fn publisher(p: usize, nodes: Balancer, mut stop: watch::Receiver<bool>) -> Posted {
    let http = client();
    let mut posted = Posted::default();
    let mut tick = tokio::time::interval(POST_EVERY);
    for i in 0.. {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        let room = ROOMS[i % ROOMS.len()];
        let text = format!("p{p}-{i}");
        let request = post(&http, nodes.pick(p), room, &text);
        match timeout(Duration::from_secs(10), request).await {
            Ok(Ok(response)) if response.status() == StatusCode::CREATED => {
                posted.taken.entry(room).or_default().push(text);
            }
            Ok(Ok(response)) => {
                assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
                posted.unknown.entry(room).or_default().insert(text);
            }
            Ok(Err(_)) => {
                posted.unknown.entry(room).or_default().insert(text);
            }
            Err(_) => panic!("publisher {p}: a post hung"),
        }
    }
    posted
}

/// `POST /rooms/{room}/messages` of `text` to `node`.
async fn post(
    http: &reqwest::Client,
    node: SocketAddr,
    room: &str,
    text: &str,
) -> reqwest::Result<reqwest::Response> {
    http.post(format!("http://{node}/rooms/{room}/messages"))
        .header("content-type", "application/json")
        .body(json!({ "author": "test", "text": text }).to_string())
        .send()
        .await
}

/// Posts `text` to `room` until it is taken (Redis may still be coming back).
async fn post_until_taken(node: SocketAddr, room: &str, text: &str) {
    let http = client();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let response = post(&http, node, room, text).await.unwrap();
        if response.status() == StatusCode::CREATED {
            return;
        }
        assert!(Instant::now() < deadline, "{room}: never took {text:?}");
        sleep(Duration::from_millis(100)).await;
    }
}

/// SIGKILL, then a restart from the same append-only file after [`OUTAGE`].
async fn kill_redis(redis: &mut RedisServer) {
    redis.kill();
    sleep(OUTAGE).await;
    // Waits for the server to say it is ready.
    tokio::task::block_in_place(|| redis.restart());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_and_node_kills_lose_nothing_and_cry_no_wolf() {
    let started = Instant::now();
    let mut redis = RedisServer::start();
    let mut one = Node::start(&redis.url());
    let two = Node::start(&redis.url());
    let nodes = Balancer(Arc::new(Mutex::new(vec![one.addr, two.addr])));

    let (connected, mut connections) = mpsc::channel(SUBSCRIBERS);
    let subscribers: Vec<_> = (0..SUBSCRIBERS)
        .map(|n| {
            let room = ROOMS[n % ROOMS.len()];
            let subscriber = subscriber(n, room, nodes.clone(), connected.clone());
            (room, tokio::spawn(subscriber))
        })
        .collect();
    for _ in 0..SUBSCRIBERS {
        connections.recv().await.unwrap();
    }
    let (stop, stopped) = watch::channel(false);
    let publishers: Vec<_> = (0..2)
        .map(|p| tokio::spawn(publisher(p, nodes.clone(), stopped.clone())))
        .collect();

    sleep(PHASE).await;
    kill_redis(&mut redis).await;
    sleep(PHASE).await;
    nodes.remove(one.addr);
    one.kill();
    sleep(PHASE).await;
    kill_redis(&mut redis).await;
    sleep(PHASE).await;
    stop.send(true).unwrap();

    let mut posted = Posted::default();
    for publisher in publishers {
        let mut one = publisher.await.unwrap();
        for (room, texts) in one.taken.drain() {
            posted.taken.entry(room).or_default().extend(texts);
        }
        for (room, texts) in one.unknown.drain() {
            posted.unknown.entry(room).or_default().extend(texts);
        }
    }
    for room in ROOMS {
        post_until_taken(two.addr, room, END).await;
    }
    let mut rooms: HashMap<&str, Vec<(usize, Seen)>> = HashMap::new();
    for (n, (room, subscriber)) in subscribers.into_iter().enumerate() {
        let left = DEADLINE.saturating_sub(started.elapsed());
        let seen = timeout(left, subscriber)
            .await
            .unwrap_or_else(|_| panic!("subscriber {n} of {room} never got the end"))
            .unwrap();
        rooms.entry(room).or_default().push((n, seen));
    }

    let reset: Vec<String> = rooms
        .values()
        .flatten()
        .filter(|(_, seen)| !seen.resets.is_empty())
        .map(|(n, seen)| format!("{n}: {:?}", seen.resets))
        .collect();
    assert!(
        reset.is_empty(),
        "{} subscribers got a reset though nothing was lost: {reset:#?}",
        reset.len()
    );
    for (room, seen) in &rooms {
        let taken = &posted.taken[room];
        let unknown = posted.unknown.get(room).cloned().unwrap_or_default();
        let (_, first) = &seen[0];
        for (n, seen) in seen {
            let texts: HashSet<&String> = seen.texts.iter().collect();
            assert_eq!(texts.len(), seen.texts.len(), "{n}: a message twice");
            let missing: Vec<_> = taken.iter().filter(|t| !texts.contains(t)).collect();
            assert!(missing.is_empty(), "{n} in {room}: missed {missing:?}");
            let foreign: Vec<_> = texts
                .iter()
                .filter(|t| !taken.contains(t) && !unknown.contains(**t))
                .collect();
            assert!(
                foreign.is_empty(),
                "{n} in {room}: never posted {foreign:?}"
            );
            assert_eq!(seen.ids, first.ids, "{n} in {room}: another order");
        }
        assert!(
            first.ids.windows(2).all(|w| w[1].is_after(&w[0])),
            "{room}: ids out of order"
        );
    }
    let taken: usize = posted.taken.values().map(Vec::len).sum();
    let unknown: usize = posted.unknown.values().map(HashSet::len).sum();
    let reconnections = rooms
        .values()
        .flatten()
        .map(|(_, seen)| seen.streams)
        .sum::<usize>()
        - SUBSCRIBERS;
    eprintln!(
        "{taken} posts taken, {unknown} of unknown outcome, {reconnections} reconnections, {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(taken > 200, "too few messages to mean anything");
    assert!(unknown > 0, "no post failed: Redis was never down");
    assert!(
        reconnections >= SUBSCRIBERS / 2,
        "the subscribers of the killed node did not move"
    );
}
