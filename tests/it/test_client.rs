//! The in-process test client: commit before the body ends, incremental reads, timeouts that
//! fail instead of hanging (per request, on send and on reads), disconnects, backpressure,
//! failing bodies, SSE comments and event streams, requests of every method with query, JSON
//! and raw bodies, all under paused time where time matters.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::Query;
use live_runtime::prelude::*;
use live_runtime::test_client::TestClient;
use serde::Deserialize;
use tokio::sync::{Notify, mpsc};

/// Actions that exercise the client.
pub struct ProbeController {
    written: Arc<AtomicUsize>,
    release: Arc<Notify>,
    seen: mpsc::UnboundedSender<ErrorKind>,
}

/// `?name=`
#[derive(Deserialize)]
pub struct Name {
    name: String,
}

#[live_controller(buffer = 2, write_timeout_ms = none)]
impl ProbeController {
    /// Writes, then waits for the test before ending.
    pub async fn held(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.write("first").await?;
        self.release.notified().await;
        stream.write("last").await?;
        Ok(())
    }

    /// Never ends, never writes after the first chunk.
    pub async fn forever(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.write("only").await?;
        std::future::pending::<()>().await;
        Ok(())
    }

    /// Writes until the client leaves; reports how the write failed.
    pub async fn endless(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        loop {
            if let Err(error) = stream.write("tick\n").await {
                self.seen.send(error.kind()).unwrap();
                return Err(error);
            }
            self.written.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ten writes as fast as the buffer (two chunks) allows.
    pub async fn burst(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        for n in 0..10 {
            stream.write(format!("{n};")).await?;
            self.written.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }

    /// Never commits: holds its response without writing.
    pub async fn silent(&self, live: Live) -> live_runtime::Result {
        let _held = live;
        std::future::pending::<()>().await;
        Ok(())
    }

    /// A download that writes past its declared length: its body fails.
    pub async fn too_long(&self, live: Live) -> live_runtime::Result {
        let download = live_runtime::send_stream::Download::new("one.bin").length(1);
        live.send_stream(download, |mut stream| async move {
            stream.write("too long").await?;
            Ok(())
        })
        .await
    }

    /// An event, a comment, an event, then the end.
    pub async fn commented(&self, live: Live) -> live_runtime::Result {
        let mut sse = live.sse(SseOptions::new());
        sse.write("before").await?;
        sse.comment("a remark").await?;
        sse.write("after").await?;
        Ok(())
    }

    /// The method and the raw body, whichever of these methods the request used.
    #[put("/verb")]
    #[patch("/verb")]
    #[delete("/verb")]
    pub async fn verb(&self, method: http::Method, body: String) -> String {
        format!("{method} {body:?}")
    }

    /// A JSON document.
    pub async fn document(&self) -> Json<serde_json::Value> {
        Json(serde_json::json!({ "name": "live", "n": 3 }))
    }

    /// Echoes a query parameter and a JSON body.
    #[post("/echo")]
    pub async fn echo(&self, Query(q): Query<Name>, Json(body): Json<serde_json::Value>) -> String {
        format!("{} {}", q.name, body)
    }
}

fn client() -> (
    TestClient,
    Arc<AtomicUsize>,
    Arc<Notify>,
    mpsc::UnboundedReceiver<ErrorKind>,
) {
    let written = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(Notify::new());
    let (seen, seen_rx) = mpsc::unbounded_channel();
    let controller = ProbeController {
        written: written.clone(),
        release: release.clone(),
        seen,
    };
    (
        TestClient::new(controller.into_router()),
        written,
        release,
        seen_rx,
    )
}

/// Status and headers come back at commit, while the action still runs.
#[tokio::test(start_paused = true)]
async fn response_returns_at_commit() {
    let (client, _, release, _) = client();
    let mut response = client.get("/probe/held").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.next_chunk().await.unwrap().unwrap(), "first");
    release.notify_one();
    assert_eq!(response.text().await.unwrap(), "last");
}

/// A stream that never ends fails the read with a clear message instead of hanging; under
/// paused time the 5 s pass at once.
#[tokio::test(start_paused = true)]
async fn a_stream_that_never_ends_times_out_clearly() {
    let (client, ..) = client();
    let mut response = client.get("/probe/forever").send().await.unwrap();
    let error = response.text().await.unwrap_err().to_string();
    assert_eq!(
        error,
        "GET /probe/forever: no data within 5s; the stream is still open"
    );
}

/// Dropping the response mid-stream is a client disconnect for the action.
#[tokio::test(start_paused = true)]
async fn disconnect_mid_stream() {
    let (client, _, _, mut seen) = client();
    let mut response = client.get("/probe/endless").send().await.unwrap();
    assert_eq!(response.next_chunk().await.unwrap().unwrap(), "tick\n");
    response.disconnect();
    assert_eq!(seen.recv().await, Some(ErrorKind::ClientDisconnected));
}

/// A client that does not read holds the writer at the buffer's bound; reading releases it,
/// and the queued chunks arrive together.
#[tokio::test(start_paused = true)]
async fn slow_reader_exercises_backpressure() {
    let (client, written, ..) = client();
    let mut response = client.get("/probe/burst").send().await.unwrap();
    // Paused time only advances when every task is idle: the writer is then blocked.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(written.load(Ordering::SeqCst), 2);
    assert_eq!(response.next_chunk().await.unwrap().unwrap(), "0;1;");
    assert_eq!(response.text().await.unwrap(), "2;3;4;5;6;7;8;9;");
    assert_eq!(written.load(Ordering::SeqCst), 10);
}

#[tokio::test]
async fn query_and_json_body() {
    let (client, ..) = client();
    let mut response = client
        .post("/probe/echo")
        .query(&[("name", "a b&c")])
        .json(&serde_json::json!({ "x": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "a b&c {\"x\":1}");
    let bad = client
        .get("/probe/echo")
        .header("bad header", "x")
        .send()
        .await;
    assert_eq!(
        bad.unwrap_err().to_string(),
        "invalid header bad header: \"x\""
    );
}

#[tokio::test]
async fn json_bodies_parse_or_say_why() {
    let (client, ..) = client();
    let mut response = client.get("/probe/document").send().await.unwrap();
    let value: serde_json::Value = response.json().await.unwrap();
    assert_eq!(value["n"], 3);
    let mut response = client.get("/probe/document").send().await.unwrap();
    let error = response.json::<Vec<u32>>().await.unwrap_err().to_string();
    assert!(
        error.contains("/probe/document") && error.contains("not the JSON expected"),
        "{error}"
    );
}

/// `put`, `patch` and `delete` send their method; `body` sends raw bytes.
#[tokio::test]
async fn other_methods_and_raw_bodies() {
    let (client, ..) = client();
    for (request, expected) in [
        (
            client.put("/probe/verb").body("put body"),
            "PUT \"put body\"",
        ),
        (
            client
                .patch("/probe/verb")
                .body(bytes::Bytes::from_static(b"patch")),
            "PATCH \"patch\"",
        ),
        (client.delete("/probe/verb"), "DELETE \"\""),
    ] {
        let mut response = request.send().await.unwrap();
        assert_eq!(response.text().await.unwrap(), expected);
    }
}

/// A request's own timeout bounds each read, and the message says so.
#[tokio::test(start_paused = true)]
async fn timeout_is_per_request() {
    let (client, ..) = client();
    let started = tokio::time::Instant::now();
    let mut response = client
        .get("/probe/forever")
        .timeout(Duration::from_millis(250))
        .send()
        .await
        .unwrap();
    let error = response.text().await.unwrap_err().to_string();
    assert_eq!(
        error,
        "GET /probe/forever: no data within 250ms; the stream is still open"
    );
    assert_eq!(started.elapsed(), Duration::from_millis(250));
}

/// An action that never commits fails `send` with a message that says what it waited for.
#[tokio::test(start_paused = true)]
async fn send_times_out_when_nothing_commits() {
    let (client, ..) = client();
    let error = client.get("/probe/silent").send().await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "GET /probe/silent: no response within 5s (the action never wrote, closed or returned)"
    );
}

/// A body that fails (a download past its declared length) is an error naming the request,
/// and the body is over after it.
#[tokio::test]
async fn a_failing_body_is_an_error() {
    let (client, ..) = client();
    let mut response = client.get("/probe/too_long").send().await.unwrap();
    let error = response.bytes().await.unwrap_err().to_string();
    assert!(
        error.starts_with("GET /probe/too_long: the body failed: "),
        "{error}"
    );
    assert_eq!(response.next_chunk().await.unwrap(), None);
}

/// `next_comment` skips events to the next comment, and is `None` at the end.
#[tokio::test]
async fn next_comment_skips_events() {
    let (client, ..) = client();
    let mut response = client.get("/probe/commented").send().await.unwrap();
    assert_eq!(
        response.next_comment().await.unwrap().as_deref(),
        Some("a remark")
    );
    assert_eq!(response.next_event().await.unwrap().unwrap().data, "after");
    assert_eq!(response.next_comment().await.unwrap(), None);
}

/// `event_stream` yields the events to the end of the body, and ends after an error instead
/// of yielding the same timeout forever.
#[tokio::test(start_paused = true)]
async fn event_stream_ends_at_the_end_and_after_an_error() {
    use futures_util::StreamExt;
    let (client, ..) = client();
    let response = client.get("/probe/commented").send().await.unwrap();
    let data: Vec<String> = response
        .event_stream()
        .map(|event| event.unwrap().data)
        .collect()
        .await;
    assert_eq!(data, ["before", "after"]);

    let response = client.get("/probe/forever").send().await.unwrap();
    // Each timeout takes 5 (virtual) seconds: a stream that never ends fails this bound.
    let items = tokio::time::timeout(
        Duration::from_secs(60),
        response.event_stream().collect::<Vec<_>>(),
    )
    .await
    .expect("the event stream never ended");
    assert_eq!(items.len(), 1);
    assert!(
        items[0]
            .as_ref()
            .is_err_and(|error| error.to_string().contains("no data within 5s"))
    );
}
