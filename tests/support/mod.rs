//! Helpers shared by the integration tests: a server on an ephemeral loopback port, a client
//! that reads incrementally, raw TCP for misbehaving clients, and a log capture.
#![allow(dead_code)] // each test binary uses its own subset

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long any single wait in a test may take before the test fails instead of hanging.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A server on `127.0.0.1:<ephemeral>` serving `app` until the test ends.
pub struct Server {
    pub addr: SocketAddr,
}

impl Server {
    pub async fn start(app: Router) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Server { addr }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        within(client().get(self.url(path)).send())
            .await
            .expect("request failed")
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// A client that speaks HTTP/2 without TLS from the first byte (h2c, prior knowledge).
pub fn h2_client() -> reqwest::Client {
    reqwest::Client::builder()
        .http2_prior_knowledge()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// Awaits `future`, failing the test if it takes longer than [`PATIENCE`].
pub async fn within<F: Future>(future: F) -> F::Output {
    within_for(PATIENCE, future).await
}

/// Awaits `future`, failing the test after `limit`. Under `tokio::time::pause` the limit is
/// virtual: a test that would hang fails at once, when the runtime runs out of work.
pub async fn within_for<F: Future>(limit: Duration, future: F) -> F::Output {
    tokio::time::timeout(limit, future)
        .await
        .expect("timed out: the server never answered")
}

/// The next body chunk, `None` at the end.
pub async fn next_chunk(response: &mut reqwest::Response) -> Option<Bytes> {
    within(response.chunk()).await.expect("body failed")
}

/// The whole body as text.
pub async fn text(response: reqwest::Response) -> String {
    within(response.text()).await.expect("body failed")
}

/// The body of a response that the server cut (an action that failed after commit): what
/// arrived before the cut. Fails the test if the body ended as complete.
pub async fn cut_text(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    loop {
        match within(response.chunk()).await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => panic!(
                "the body ended as complete after {:?}",
                String::from_utf8_lossy(&body)
            ),
            Err(_) => return String::from_utf8(body).expect("UTF-8 body"),
        }
    }
}

/// The HTML page of an error before commit, as a client that accepts anything gets it
/// (reqwest sends `Accept: */*`): the status and its reason, nothing of the error itself.
pub fn html_error_page(status: http::StatusCode) -> String {
    let reason = status.canonical_reason().unwrap();
    format!(
        "<!DOCTYPE html>\n<html><head><title>{} {reason}</title></head><body><h1>{reason}</h1></body></html>\n",
        status.as_u16()
    )
}

/// Opens a raw connection and sends `request` as is.
pub async fn raw(addr: SocketAddr, request: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// Reads until the server closes the connection.
pub async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    within(stream.read_to_end(&mut out)).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads until `needle` has arrived; returns everything read.
pub async fn read_until(stream: &mut TcpStream, needle: &str) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    within(async {
        while !String::from_utf8_lossy(&out).contains(needle) {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(
                n > 0,
                "closed before {needle:?}: {}",
                String::from_utf8_lossy(&out)
            );
            out.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    String::from_utf8_lossy(&out).into_owned()
}

/// Waits until `condition` holds, checking every few milliseconds; fails after [`PATIENCE`].
/// For state with no event to wait on, such as the process-wide counters.
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Everything logged through `tracing` by this test binary, captured once per process.
pub fn logs() -> &'static Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs(Arc::new(Mutex::new(Vec::new())));
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        logs
    })
}

#[derive(Clone)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// The captured lines that contain `marker`.
    pub fn lines_with(&self, marker: &str) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter(|line| line.contains(marker))
            .map(str::to_owned)
            .collect()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
