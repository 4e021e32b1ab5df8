//! No leak after 200 connect/kill cycles (docs/rails-parity.md: D-07, pain points 1 and 8): every
//! action task, every live body and every server connection is freed once its client is gone. A
//! test binary of its own, so the process-wide counters see only these requests.

mod support;

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use live_runtime::prelude::*;
use support::{eventually, read_until, within};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

static OPEN_CONNECTIONS: AtomicUsize = AtomicUsize::new(0);

/// A listener whose connections count themselves while the server holds them.
struct CountingListener(TcpListener);

struct CountedConnection(TcpStream);

impl axum::serve::Listener for CountingListener {
    type Io = CountedConnection;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            if let Ok((stream, addr)) = self.0.accept().await {
                OPEN_CONNECTIONS.fetch_add(1, Ordering::SeqCst);
                return (CountedConnection(stream), addr);
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

impl Drop for CountedConnection {
    fn drop(&mut self) {
        OPEN_CONNECTIONS.fetch_sub(1, Ordering::SeqCst);
    }
}

impl AsyncRead for CountedConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountedConnection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// Writes a chunk every 10 ms until the client is gone.
async fn writer(request: LiveRequest) -> axum::response::Response {
    async fn tick_until_gone(mut stream: LiveStream) -> live_runtime::Result {
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        loop {
            tick.tick().await;
            stream.write("data: tick\n\n").await?;
        }
    }
    request
        .spawn(|live: Live| tick_until_gone(live.stream()))
        .await
}

/// Writes once, then idles until the client is gone.
async fn idler(request: LiveRequest) -> axum::response::Response {
    request
        .spawn(|live: Live| async move {
            let mut stream = live.stream();
            stream.write("data: hello\n\n").await?;
            stream.disconnected().await;
            Ok::<_, Error>(())
        })
        .await
}

/// Each silent action says when it runs; the cycles are sequential, so each signal is the
/// action of the cycle that waits on it (a process-wide counter may have been raised by a
/// test running beside).
static SILENT_STARTED: Notify = Notify::const_new();
/// Silent actions that saw their client leave before they committed.
static KILLED_BEFORE_COMMIT: AtomicUsize = AtomicUsize::new(0);

/// Never commits: waits for the client to leave before writing anything.
async fn silent(request: LiveRequest) -> axum::response::Response {
    request
        .spawn(|live: Live| async move {
            let stream = live.stream();
            SILENT_STARTED.notify_one();
            stream.disconnected().await;
            if !stream.is_committed() {
                KILLED_BEFORE_COMMIT.fetch_add(1, Ordering::SeqCst);
            }
            Ok::<_, Error>(())
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_leak_after_200_connect_kill_cycles() {
    let app = Router::new()
        .route("/writer", get(writer))
        .route("/idler", get(idler))
        .route("/silent", get(silent));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(CountingListener(listener), app).await.unwrap() });

    let mut silent_cycles = 0;
    for cycle in 0..200 {
        let path = ["/writer", "/idler", "/silent"][cycle % 3];
        let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n");
        let mut socket = support::raw(addr, &request).await;
        if path == "/silent" {
            // Wait until this cycle's action runs, so the kill lands before its commit.
            within(SILENT_STARTED.notified()).await;
            silent_cycles += 1;
        } else {
            read_until(&mut socket, "data: ").await;
        }
        drop(socket);
    }

    eventually("every action, body and connection freed", || {
        let stats = live_runtime::stats();
        stats.live_actions == 0
            && stats.open_streams == 0
            && OPEN_CONNECTIONS.load(Ordering::SeqCst) == 0
    })
    .await;
    assert_eq!(KILLED_BEFORE_COMMIT.load(Ordering::SeqCst), silent_cycles);
}

/// The same, where the process-wide counters rise while clients are connected: the test
/// above could not pass by counting nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_count_what_is_open() {
    // It may run beside the test above; both only ever leave the counters at zero.
    let app = Router::new().route("/idler", get(idler));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut sockets = Vec::new();
    for _ in 0..5 {
        let mut socket = support::raw(addr, "GET /idler HTTP/1.1\r\nHost: t\r\n\r\n").await;
        read_until(&mut socket, "data: hello").await;
        sockets.push(socket);
    }
    let stats = live_runtime::stats();
    assert!(
        stats.live_actions >= 5 && stats.open_streams >= 5,
        "{stats:?}"
    );
    drop(sockets);
}
