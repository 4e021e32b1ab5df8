//! The server child of the cross-process mode: `bench serve <variant> <events>`. It serves
//! `GET /stream`, one SSE stream of `events` events `event: tick\nid: <i>\ndata: {"i":<i>}\n\n`
//! written as fast as possible by the variant, prints `port <n>` once it listens, and exits
//! when its stdin closes.

use std::convert::Infallible;

use axum::Router;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use live_runtime::prelude::*;
use live_runtime::sse::Event as LiveEvent;
use serde::Serialize;

use super::{CHANNEL_CAPACITY, VARIANTS};
use crate::{DEFAULT, NO_COALESCE, event_stream_body, produce, serve_child};
use live_bench::BoxResult;

/// The payload: `{"i":<i>}`.
#[derive(Debug, Clone, Copy, Serialize)]
struct Tick {
    i: u64,
}

pub fn serve(args: &[String]) -> BoxResult<()> {
    let [variant, events] = args else {
        return Err("usage: bench serve <variant> <events>".into());
    };
    let events: u64 = events.parse()?;
    let route = match variant.as_str() {
        "live" => get(move |request: LiveRequest| live(request, events, &DEFAULT, true)),
        "live-nocoalesce" => {
            get(move |request: LiveRequest| live(request, events, &NO_COALESCE, true))
        }
        "live-nokeepalive" => {
            get(move |request: LiveRequest| live(request, events, &DEFAULT, false))
        }
        "axum-sse" => get(move || axum_sse_json(events)),
        "axum-sse-data" => get(move || axum_sse_data(events)),
        "axum-body" => get(move || axum_body(events)),
        other => {
            let known: Vec<&str> = VARIANTS.iter().map(|v| v.arg).collect();
            return Err(format!("unknown variant {other:?}: one of {known:?}").into());
        }
    };
    serve_child(Router::new().route("/stream", route))
}

/// live's SSE writer with an `event` on every event and an `id` per event.
async fn live(
    request: LiveRequest,
    events: u64,
    config: &'static LiveConfig,
    keep_alive: bool,
) -> Response {
    request
        .with_config(config)
        .spawn(move |live: Live| async move {
            let mut options = SseOptions::new().event("tick");
            if !keep_alive {
                options = options.keep_alive(None);
            }
            let mut sse = live.sse(options);
            for i in 0..events {
                sse.write_with(&Tick { i }, LiveEvent::id(i)).await?;
            }
            Ok::<_, Error>(())
        })
        .await
}

/// The idiomatic axum endpoint: a producer task feeds a bounded channel of `Event`s, each
/// encoded by `json_data`.
async fn axum_sse_json(events: u64) -> Response {
    let rx = produce(CHANNEL_CAPACITY, events, |i| {
        Event::default()
            .event("tick")
            .id(i.to_string())
            .json_data(Tick { i })
    });
    Sse::new(rx).into_response()
}

/// Baseline A of the in-process mode: the data formatted by hand.
async fn axum_sse_data(events: u64) -> Response {
    let rx = produce(CHANNEL_CAPACITY, events, |i| {
        Ok::<_, Infallible>(
            Event::default()
                .event("tick")
                .id(i.to_string())
                .data(format!("{{\"i\":{i}}}")),
        )
    });
    Sse::new(rx).into_response()
}

/// Baseline B of the in-process mode: pre-encoded events as the body's chunks.
async fn axum_body(events: u64) -> Response {
    event_stream_body(produce(CHANNEL_CAPACITY, events, |i| {
        Ok(Bytes::from(format!(
            "event: tick\nid: {i}\ndata: {{\"i\":{i}}}\n\n"
        )))
    }))
}
