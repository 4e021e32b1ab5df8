//! What a hostile or broken client can send, over real loopback HTTP, one test per row of
//! RELIABILITY.md's bad-input table: each gets a clear 4xx, or its connection closed, never a
//! panic or a hang, and leaves no live action or body behind (the app's [`Shutdown`] tracks
//! every one it served until its body is gone).
//!
//! The server is the examples' (`examples/common`): axum's stack plus the timer that makes
//! hyper's header read timeout work, here shortened to [`HEADER_READ_TIMEOUT`].

#[path = "../../examples/common/server.rs"]
mod common;

use crate::support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::Path;
use live_runtime::prelude::*;
use serde::{Deserialize, Serialize};
use support::{eventually, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The test server's header read timeout: a slowloris head is cut off after this.
const HEADER_READ_TIMEOUT: Duration = Duration::from_millis(500);

#[derive(Debug, Serialize, Deserialize)]
pub struct Item {
    pub name: String,
}

pub struct BadInputController;

#[live_controller(path = "/bad")]
impl BadInputController {
    /// `GET /bad/feed`: one SSE event, numbered after `Last-Event-ID`.
    pub async fn feed(&self, last: LastEventId<u64>, live: Live) -> live_runtime::Result {
        let mut sse = live.sse(SseOptions::new().keep_alive(None));
        sse.write_with("resumed", Event::id(last.next())).await?;
        Ok(())
    }

    /// `GET /bad/lines`: three lines, streamed.
    pub async fn lines(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        for n in 0..3 {
            stream.writeln(format!("line {n}")).await?;
        }
        Ok(())
    }

    /// `GET /bad/items/{name}`: the name, percent-decoded.
    #[get("/items/{name}")]
    pub async fn item(&self, Path(name): Path<String>, live: Live) -> live_runtime::Result {
        live.text(name)
    }

    /// `POST /bad/items`: a JSON body, echoed.
    #[post("/items")]
    pub async fn create(&self, live: Live, Json(item): Json<Item>) -> live_runtime::Result {
        live.json(&item)
    }
}

/// The app on a loopback port, and the shutdown that tracks its live actions.
struct App {
    addr: SocketAddr,
    shutdown: Shutdown,
}

impl App {
    async fn start() -> App {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let router = BadInputController.into_router().layer(shutdown.layer());
        tokio::spawn(common::serve_on(
            listener,
            router,
            common::Limits {
                header_read: HEADER_READ_TIMEOUT,
                ..common::Limits::default()
            },
            std::future::pending(),
        ));
        App { addr, shutdown }
    }

    /// Sends `request` as is and reads until the server closes the connection.
    async fn exchange(&self, request: &[u8]) -> String {
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        stream.write_all(request).await.unwrap();
        read_to_close(&mut stream).await
    }

    /// Every live action served has ended and its body is gone.
    async fn assert_nothing_left(&self) {
        eventually("every live action and body ended", || {
            self.shutdown.live_actions() == 0
        })
        .await;
    }
}

/// What the server sent until it closed the connection; a reset (the server closed with
/// unread request bytes, as it does on a request it refuses midway) ends it too.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0; 8192];
    within(async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => break,
                Err(error) => panic!("read failed: {error}"),
            }
        }
    })
    .await;
    String::from_utf8_lossy(&out).into_owned()
}

/// A GET request for `path` with `headers`, closing the connection after the response.
fn get(path: &str, headers: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n").into_bytes()
}

fn status_line(response: &str) -> &str {
    response.lines().next().unwrap_or("")
}

#[tokio::test]
async fn malformed_last_event_id_is_400_naming_the_header() {
    let app = App::start().await;
    let response = app
        .exchange(&get("/bad/feed", "Last-Event-ID: abc\r\n"))
        .await;
    assert_eq!(status_line(&response), "HTTP/1.1 400 Bad Request");
    assert!(
        response.ends_with("invalid Last-Event-ID header: \"abc\": invalid digit found in string"),
        "{response}"
    );
    // A valid one resumes.
    let response = app
        .exchange(&get("/bad/feed", "Last-Event-ID: 41\r\n"))
        .await;
    assert!(response.contains("id: 42\ndata: resumed\n\n"), "{response}");
    app.assert_nothing_left().await;
}

#[tokio::test]
async fn huge_last_event_id_is_400_quoting_64_bytes() {
    let app = App::start().await;
    let huge = "9".repeat(64 * 1024);
    let response = app
        .exchange(&get("/bad/feed", &format!("Last-Event-ID: {huge}\r\n")))
        .await;
    assert_eq!(status_line(&response), "HTTP/1.1 400 Bad Request");
    let body = response.split("\r\n\r\n").nth(1).unwrap();
    assert_eq!(
        body,
        format!(
            "invalid Last-Event-ID header: \"{}\"...: number too large to fit in target type",
            &huge[..64]
        )
    );
    app.assert_nothing_left().await;
}

#[tokio::test]
async fn request_head_over_hypers_limit_is_431_or_closed() {
    let app = App::start().await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let request = get(
        "/bad/feed",
        &format!("Last-Event-ID: {}\r\n", "9".repeat(1 << 20)),
    );
    // The server may refuse before the client is done writing: the write may fail then.
    let (mut read, mut write) = stream.split();
    let (_, response) = tokio::join!(write.write_all(&request), async {
        let mut out = Vec::new();
        let _ = within(read.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).into_owned()
    });
    assert!(
        response.is_empty()
            || status_line(&response) == "HTTP/1.1 431 Request Header Fields Too Large",
        "{response}"
    );
    app.assert_nothing_left().await;
}

#[tokio::test]
async fn header_flood_is_431() {
    let app = App::start().await;
    let flood: String = (0..500).map(|n| format!("X-Flood-{n}: 1\r\n")).collect();
    let response = app.exchange(&get("/bad/lines", &flood)).await;
    assert_eq!(
        status_line(&response),
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    app.assert_nothing_left().await;
}

#[tokio::test]
async fn invalid_percent_encoding_in_path() {
    let app = App::start().await;
    // Not a percent-escape: kept as written, as the URL spec does.
    let response = app.exchange(&get("/bad/items/%zz", "")).await;
    assert_eq!(status_line(&response), "HTTP/1.1 200 OK");
    assert!(response.ends_with("\r\n\r\n%zz"), "{response}");
    // An escape of bytes that are not UTF-8: refused by the `Path<String>` extractor.
    let response = app.exchange(&get("/bad/items/%C3%28", "")).await;
    assert_eq!(status_line(&response), "HTTP/1.1 400 Bad Request");
    // A byte a URI cannot hold: refused by hyper.
    let response = app
        .exchange(b"GET /bad/items/a\x01b HTTP/1.1\r\n\r\n")
        .await;
    assert_eq!(status_line(&response), "HTTP/1.1 400 Bad Request");
    app.assert_nothing_left().await;
}

/// A POST of `body` with `content_type` to `/bad/items`.
fn post(content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /bad/items HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test]
async fn invalid_json_is_400() {
    let app = App::start().await;
    let response = app.exchange(&post("application/json", "{\"name\":")).await;
    assert_eq!(status_line(&response), "HTTP/1.1 400 Bad Request");
    // Valid JSON of the wrong shape.
    let response = app.exchange(&post("application/json", "{\"n\":1}")).await;
    assert_eq!(status_line(&response), "HTTP/1.1 422 Unprocessable Entity");
    let response = app
        .exchange(&post("application/json", "{\"name\":\"ok\"}"))
        .await;
    assert!(response.ends_with("{\"name\":\"ok\"}"), "{response}");
    app.assert_nothing_left().await;
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let app = App::start().await;
    let response = app.exchange(&post("text/plain", "{\"name\":\"x\"}")).await;
    assert_eq!(
        status_line(&response),
        "HTTP/1.1 415 Unsupported Media Type"
    );
    app.assert_nothing_left().await;
}

#[tokio::test]
async fn http_1_0_streams_to_the_end_then_closes() {
    let app = App::start().await;
    let response = app.exchange(b"GET /bad/lines HTTP/1.0\r\n\r\n").await;
    assert_eq!(status_line(&response), "HTTP/1.0 200 OK");
    assert!(!response.contains("chunked"), "{response}");
    assert!(
        response.ends_with("\r\n\r\nline 0\nline 1\nline 2\n"),
        "{response}"
    );
    app.assert_nothing_left().await;
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let app = App::start().await;
    let response = app
        .exchange(b"GET /bad/lines HTTP/1.1\r\nHost: x\r\n\r\nGET /bad/items/second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await;
    let first = response.find("line 2\n").expect("the first response");
    let second = response
        .find("\r\n\r\nsecond")
        .expect("the second response");
    assert!(first < second, "{response}");
    assert_eq!(response.matches("HTTP/1.1 200 OK").count(), 2);
    app.assert_nothing_left().await;
}

#[tokio::test]
async fn a_body_on_get_is_skipped_not_read_as_a_request() {
    let app = App::start().await;
    // The body looks like a request of its own: it must not be taken for one.
    let smuggled = "GET /bad/items/smuggled HTTP/1.1\r\n\r\n";
    let request = format!(
        "GET /bad/items/first HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{smuggled}\
         GET /bad/items/second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        smuggled.len()
    );
    let response = app.exchange(request.as_bytes()).await;
    assert_eq!(response.matches("HTTP/1.1 200 OK").count(), 2, "{response}");
    assert!(response.contains("\r\n\r\nfirst"), "{response}");
    assert!(response.ends_with("\r\n\r\nsecond"), "{response}");
    assert!(!response.contains("smuggled"), "{response}");
    app.assert_nothing_left().await;
}

#[tokio::test]
async fn garbage_request_line_is_400() {
    let app = App::start().await;
    let response = app.exchange(b"HELLO THERE\r\n\r\n").await;
    assert_eq!(status_line(&response), "HTTP/1.1 400 Bad Request");
    app.assert_nothing_left().await;
}

#[tokio::test]
async fn slowloris_head_is_cut_off_after_the_header_read_timeout() {
    let app = App::start().await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let started = Instant::now();
    stream
        .write_all(b"GET /bad/lines HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let (mut read, mut write) = stream.into_split();
    // One more header byte every 50 ms, never the blank line: the timeout counts from the
    // head's first byte, so the drip does not extend it.
    let drip = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        loop {
            tick.tick().await;
            if write.write_all(b"X").await.is_err() {
                return;
            }
        }
    });
    let mut out = Vec::new();
    let closed = within(read.read_to_end(&mut out)).await;
    let elapsed = started.elapsed();
    drip.abort();
    assert!(
        closed.is_ok() || closed.is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset)
    );
    // hyper closes without a response (no request to answer yet).
    let response = String::from_utf8_lossy(&out);
    assert!(
        response.is_empty() || response.starts_with("HTTP/1.1 408"),
        "{response}"
    );
    assert!(
        elapsed >= HEADER_READ_TIMEOUT && elapsed < HEADER_READ_TIMEOUT * 4,
        "closed after {elapsed:?}"
    );
    app.assert_nothing_left().await;
}
