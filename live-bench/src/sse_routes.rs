//! The SSE routes of `bench` and `sse_allocs`, shared so that the allocations counted by the
//! one are those of the very code the other times. Each binary only wires them to its routes:
//! `bench` with a fixed event count, `sse_allocs` with the count in the path.

use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use live_runtime::prelude::*;
use live_runtime::sse::Event as LiveEvent;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// Same capacity as live's default `Buffer::Chunks(10)`, so the baselines get no deeper queue.
pub const CHANNEL_CAPACITY: usize = 10;

/// The payload of the SSE-encoding rows: the common case, a small derived struct.
#[derive(Debug, Clone, Copy, Serialize)]
struct Tick {
    n: u64,
}

/// One measured route: its row name, its path, and the body it must send.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    pub name: &'static str,
    pub path: &'static str,
    pub wire: Wire,
}

/// The SSE-encoding routes, the same rows in both binaries.
pub const SSE_VARIANTS: [Variant; 6] = [
    Variant {
        name: "live sse.write(&Tick)",
        path: "/live-sse",
        wire: Wire::Data,
    },
    Variant {
        name: "live sse.write(&Tick), coalesce_bytes(0)",
        path: "/live-sse-nocoalesce",
        wire: Wire::Data,
    },
    Variant {
        name: "live, Tick into a scratch Vec, copied",
        path: "/live-scratch",
        wire: Wire::Data,
    },
    Variant {
        name: "axum Sse, json_data(Tick) + mpsc(10)",
        path: "/sse-json",
        wire: Wire::Data,
    },
    Variant {
        name: "live sse.write_with(&Tick, Event::id(n))",
        path: "/live-sse-id",
        wire: Wire::IdData,
    },
    Variant {
        name: "axum Sse, id(n).json_data(Tick) + mpsc(10)",
        path: "/sse-json-id",
        wire: Wire::IdData,
    },
];

/// `first` followed by `then`, in a const (`N` must be `A + B`, checked when it is built).
pub const fn concat<const A: usize, const B: usize, const N: usize>(
    first: [Variant; A],
    then: [Variant; B],
) -> [Variant; N] {
    assert!(A > 0 && A + B == N, "concat: N must be A + B");
    let mut all = [first[0]; N];
    let mut i = 0;
    while i < N {
        all[i] = if i < A { first[i] } else { then[i - A] };
        i += 1;
    }
    all
}

/// The body of a route: `events` events, `n` = 0, 1, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// `data: {"n":<n>}\n\n`
    Data,
    /// `id: <n>\ndata: {"n":<n>}\n\n`
    IdData,
}

pub fn event_bytes(n: u64) -> Bytes {
    Bytes::from(format!("data: {{\"n\":{n}}}\n\n"))
}

/// The body every route of `wire` must send, written out by hand.
pub fn expected_body(wire: Wire, events: u64) -> Vec<u8> {
    let mut body = Vec::new();
    for n in 0..events {
        if wire == Wire::IdData {
            body.extend_from_slice(format!("id: {n}\n").as_bytes());
        }
        body.extend_from_slice(&event_bytes(n));
    }
    body
}

/// Live's raw stream, the events encoded beforehand.
pub async fn live_events(
    request: LiveRequest,
    events: u64,
    config: &'static LiveConfig,
) -> Response {
    request
        .with_config(config)
        .spawn(move |mut live: Live| async move {
            live.set_content_type("text/event-stream")?;
            let mut stream = live.stream();
            for n in 0..events {
                stream.write(event_bytes(n)).await?;
            }
            Ok::<_, Error>(())
        })
        .await
}

/// Live's SSE writer: each `Tick` serialized into the writer's buffer and written as a chunk.
pub async fn live_sse(request: LiveRequest, events: u64, config: &'static LiveConfig) -> Response {
    request
        .with_config(config)
        .spawn(move |live: Live| async move {
            let mut sse = live.sse(SseOptions::new().keep_alive(None));
            for n in 0..events {
                sse.write(&Tick { n }).await?;
            }
            Ok::<_, Error>(())
        })
        .await
}

pub async fn live_sse_id(
    request: LiveRequest,
    events: u64,
    config: &'static LiveConfig,
) -> Response {
    request
        .with_config(config)
        .spawn(move |live: Live| async move {
            let mut sse = live.sse(SseOptions::new().keep_alive(None));
            for n in 0..events {
                sse.write_with(&Tick { n }, LiveEvent::id(n)).await?;
            }
            Ok::<_, Error>(())
        })
        .await
}

/// The SSE encoding the issue asks for, by hand: each event serialized into one reused
/// `Vec` (never shared, so its capacity is reused) and copied into an exact-size chunk, the
/// only allocation per event. Not an API: a reference for what live's `Sse` could cost.
pub async fn live_scratch(
    request: LiveRequest,
    events: u64,
    config: &'static LiveConfig,
) -> Response {
    request
        .with_config(config)
        .spawn(move |mut live: Live| async move {
            live.set_content_type("text/event-stream")?;
            let mut stream = live.stream();
            let mut scratch = Vec::with_capacity(64);
            for n in 0..events {
                scratch.clear();
                scratch.extend_from_slice(b"data: ");
                serde_json::to_writer(&mut scratch, &Tick { n }).map_err(Error::new)?;
                scratch.extend_from_slice(b"\n\n");
                stream.write(Bytes::copy_from_slice(&scratch)).await?;
            }
            Ok::<_, Error>(())
        })
        .await
}

/// axum's `Sse` fed by a producer task, the JSON encoded by `Event::json_data`. A failed
/// encoding would end the stream with an error, which is what `Sse` does with `Err` items.
pub async fn sse_json(events: u64) -> Response {
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    tokio::spawn(async move {
        for n in 0..events {
            if tx
                .send(Event::default().json_data(Tick { n }))
                .await
                .is_err()
            {
                return;
            }
        }
    });
    Sse::new(ReceiverStream::new(rx)).into_response()
}

pub async fn sse_json_id(events: u64) -> Response {
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    tokio::spawn(async move {
        for n in 0..events {
            let event = Event::default().id(n.to_string()).json_data(Tick { n });
            if tx.send(event).await.is_err() {
                return;
            }
        }
    });
    Sse::new(ReceiverStream::new(rx)).into_response()
}
