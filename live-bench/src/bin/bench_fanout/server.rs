//! The server child of `bench_fanout`: `bench_fanout serve <variant> <port>
//! [<redis url>]`. It serves
//!
//! - `GET /fanout/events`: one subscriber, an SSE stream of every message published from now;
//! - `GET /subscribers`: how many subscribers this process holds right now;
//! - `GET /heap`: the bytes it holds on the heap (`--features count-heap`), or `n/a`;
//! - `POST /start?rate=<Hz>&seconds=<s>`: runs the publisher, `rate × seconds` messages
//!   `{"seq":n,"ts_us":t}` at a fixed rate, and answers when it is done.
//!
//! It prints `port <n>` once it listens, and exits when its stdin closes.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use serde::Deserialize;
use tokio::net::TcpSocket;

use live_bench::child::child_runtime;
use tokio::sync::broadcast;
use tokio_stream::Stream;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::BroadcastStream;

use super::live;
use super::{BoxResult, KEEP_ALIVE, Msg, now_us};

/// The server's runtime: tokio's default for 2 cores, as in `bench`.
const SERVER_WORKERS: usize = 2;

/// The baseline's channel: enough for 10 s of lag at 100 Hz; a subscriber further behind
/// loses messages (the client counts them as missing).
const BROADCAST_CAPACITY: usize = 1024;

/// What the baseline broadcasts: the message's seq and its JSON, encoded once by the
/// publisher and shared by every subscriber.
type Published = (u64, Arc<str>);

/// Where a message goes.
#[derive(Clone)]
pub enum Publisher {
    /// Hand-written axum: a `tokio::sync::broadcast` channel.
    Baseline(broadcast::Sender<Published>),
    /// live's broadcast hub, in-process or Redis.
    Live(live::Hub),
}

impl Publisher {
    async fn publish(&self, msg: &Msg) -> BoxResult<()> {
        match self {
            Publisher::Baseline(tx) => {
                let json: Arc<str> = serde_json::to_string(msg)?.into();
                // `Err` only when no one listens: the message is dropped, as the hub does.
                let _ = tx.send((msg.seq, json));
            }
            Publisher::Live(hub) => live::publish(hub, msg).await?,
        }
        Ok(())
    }

    fn subscribers(&self) -> usize {
        match self {
            Publisher::Baseline(tx) => tx.receiver_count(),
            Publisher::Live(_) => live::subscribers(),
        }
    }
}

pub fn serve(variant: &str, port: u16, redis_url: Option<&str>) -> BoxResult<()> {
    let rt = child_runtime(SERVER_WORKERS)?;
    rt.block_on(async {
        let (publisher, events) = match variant {
            "baseline" => {
                let (tx, _) = broadcast::channel(BROADCAST_CAPACITY);
                let events = Router::new()
                    .route("/fanout/events", get(baseline_events))
                    .with_state(tx.clone());
                (Publisher::Baseline(tx), events)
            }
            "live" => {
                let hub = live::memory_hub();
                (Publisher::Live(hub.clone()), live::router(hub))
            }
            "redis" => {
                let url = redis_url.ok_or("serve redis needs a redis url")?;
                let hub = live::redis_hub(url)?;
                (Publisher::Live(hub.clone()), live::router(hub))
            }
            other => return Err(format!("unknown variant {other:?}").into()),
        };
        let app = Router::new()
            .route("/subscribers", get(subscribers))
            .route("/heap", get(heap))
            .route("/start", post(start))
            .with_state(publisher)
            .merge(events);
        // `TcpListener::bind` listens with a backlog of 128; a burst of connections overflows
        // it and each dropped SYN costs its client a one-second retransmit.
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
        let listener = socket.listen(1024)?;
        println!("port {}", listener.local_addr()?.port());
        axum::serve(listener, app).await?;
        Ok(())
    })
}

/// The idiomatic hand-written subscriber: `Sse` over the broadcast receiver, each message
/// mapped to an event with its seq as `id`. A lagging receiver skips what it lost.
async fn baseline_events(
    State(tx): State<broadcast::Sender<Published>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = BroadcastStream::new(tx.subscribe()).filter_map(|item| {
        let (seq, json) = item.ok()?;
        Some(Ok(Event::default().id(seq.to_string()).data(&*json)))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

/// The bytes this process holds on the heap, or `n/a` without `--features count-heap`.
async fn heap() -> String {
    super::heap_bytes().map_or_else(|| "n/a".to_owned(), |bytes| bytes.to_string())
}

async fn subscribers(State(publisher): State<Publisher>) -> String {
    publisher.subscribers().to_string()
}

#[derive(Debug, Deserialize)]
struct Start {
    rate: f64,
    seconds: f64,
}

/// The publisher: message `seq` is due at `start + seq / rate`; it sleeps until then (or
/// publishes at once when behind) and stamps the message with the time it publishes it.
/// Answers `<messages> <elapsed µs> <most µs behind schedule>`.
async fn start(State(publisher): State<Publisher>, Query(start): Query<Start>) -> String {
    let messages = (start.rate * start.seconds).round() as u64;
    let period = Duration::from_secs_f64(1.0 / start.rate);
    let begin = Instant::now();
    let mut late = Duration::ZERO;
    for seq in 0..messages {
        let due = begin + period.mul_f64(seq as f64);
        tokio::time::sleep_until(due.into()).await;
        late = late.max(due.elapsed());
        let msg = Msg {
            seq,
            ts_us: now_us(),
        };
        if let Err(error) = publisher.publish(&msg).await {
            return format!("error {error}");
        }
    }
    format!(
        "{messages} {} {}",
        begin.elapsed().as_micros(),
        late.as_micros()
    )
}
