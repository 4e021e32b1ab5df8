//! Client disconnects and backpressure over real sockets: blocked writers released, ignored
//! disconnects, idle disconnects noticed, write timeouts. Each test names the Rails reference
//! it reproduces (`docs/rails-parity.md`, the B and D rows).

use crate::support;

use std::future::Future;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use live_runtime::prelude::*;
use support::{Server, next_chunk, read_until, within};
use tokio::io::AsyncReadExt;
use tokio::sync::{Notify, mpsc};

/// What the action reports to the test.
#[derive(Debug, PartialEq)]
enum Seen {
    WriteFailed(ErrorKind),
    OnError(ErrorKind),
    Disconnected,
    Connected(bool),
    Waiting,
    Cancelled,
    Done,
    NoticedAfter(Duration),
}

type Report = mpsc::UnboundedSender<Seen>;

async fn serve<F, Fut>(
    config: &'static LiveConfig,
    action: F,
) -> (Server, mpsc::UnboundedReceiver<Seen>)
where
    F: Fn(Live, Report) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = live_runtime::Result> + Send + 'static,
{
    let (report, seen) = mpsc::unbounded_channel();
    let handler = move |request: LiveRequest| {
        let action = action.clone();
        let report = report.clone();
        async move {
            request
                .with_config(config)
                .spawn(move |live| action(live, report))
                .await
        }
    };
    let server = Server::start(Router::new().route("/t", get(handler))).await;
    (server, seen)
}

async fn next(seen: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    within(seen.recv())
        .await
        .expect("the action ended without reporting")
}

/// Writes 64 KiB chunks as fast as the client takes them, until a write fails; reports how.
async fn fill_until_error(stream: &mut LiveStream, report: &Report) -> Error {
    let chunk = bytes::Bytes::from(vec![b'x'; 64 * 1024]);
    loop {
        if let Err(error) = stream.write(chunk.clone()).await {
            report.send(Seen::WriteFailed(error.kind())).unwrap();
            return error;
        }
    }
}

static RAILS_BUFFER: LazyLock<LiveConfig> = LazyLock::new(|| {
    LiveConfig::new()
        .buffer(Buffer::Chunks(10))
        .write_timeout(None)
});

/// Rails `test_abort_with_full_buffer` (docs/rails-parity.md, B-01, D-01): a writer blocked on a
/// full buffer is released when the client goes away, with `ClientDisconnected`, and `on_error`
/// runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_with_full_buffer() {
    let (server, mut seen) = serve(&RAILS_BUFFER, |live, report: Report| async move {
        let mut stream = live.stream();
        let on_error_report = report.clone();
        stream.on_error(move |error, _tail| {
            on_error_report.send(Seen::OnError(error.kind())).unwrap();
            Ok(())
        });
        Err(fill_until_error(&mut stream, &report).await)
    })
    .await;
    // Read the head and a little of the body, then stop reading: the socket buffers and the
    // 10-chunk queue fill up and the writer blocks. Then hang up.
    let mut socket = support::raw(server.addr, "GET /t HTTP/1.1\r\nHost: t\r\n\r\n").await;
    read_until(&mut socket, "xxxx").await;
    drop(socket);
    assert_eq!(
        next(&mut seen).await,
        Seen::WriteFailed(ErrorKind::ClientDisconnected)
    );
    assert_eq!(
        next(&mut seen).await,
        Seen::OnError(ErrorKind::ClientDisconnected)
    );
}

/// Rails `test_ignore_client_disconnect` (docs/rails-parity.md, D-04): with ignore-disconnect, 15
/// writes after the client left are dropped, never block, and the action completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignore_client_disconnect() {
    static CONFIG: LazyLock<LiveConfig> = LazyLock::new(LiveConfig::new);
    let (server, mut seen) = serve(&CONFIG, |live, report: Report| async move {
        let mut stream = live.stream();
        stream.set_ignore_disconnect(true);
        stream.write("first").await?;
        stream.disconnected().await;
        report.send(Seen::Disconnected).unwrap();
        for _ in 0..15 {
            stream.write("dropped").await?;
        }
        report.send(Seen::Connected(stream.is_connected())).unwrap();
        report.send(Seen::Done).unwrap();
        Ok(())
    })
    .await;
    let mut response = server.get("/t").await;
    assert_eq!(next_chunk(&mut response).await.unwrap(), "first");
    drop(response);
    assert_eq!(next(&mut seen).await, Seen::Disconnected);
    assert_eq!(next(&mut seen).await, Seen::Connected(false));
    assert_eq!(next(&mut seen).await, Seen::Done);
}

/// Rails `test_abort_terminates_a_reader_blocked_on_the_buffer`
/// (docs/rails-parity.md, L-18, D-07, D-03): the client disconnects while the action is idle; the
/// action notices without writing, and learns it within 2 s (a generous bound: the measured
/// figure is in BENCHMARKS.md; this test prints it too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_disconnect_is_noticed_without_a_write() {
    static CONFIG: LazyLock<LiveConfig> = LazyLock::new(LiveConfig::new);
    let (noticed_at, mut noticed) = mpsc::unbounded_channel();
    let (server, mut seen) = serve(&CONFIG, move |live, report: Report| {
        let noticed_at = noticed_at.clone();
        async move {
            let mut stream = live.stream();
            stream.write("hello").await?;
            // Idle: no write until the client is gone.
            stream.disconnected().await;
            noticed_at.send(Instant::now()).unwrap();
            report.send(Seen::Connected(stream.is_connected())).unwrap();
            let after = stream.write("late").await;
            report
                .send(Seen::WriteFailed(after.unwrap_err().kind()))
                .unwrap();
            Ok(())
        }
    })
    .await;
    let mut socket = support::raw(server.addr, "GET /t HTTP/1.1\r\nHost: t\r\n\r\n").await;
    read_until(&mut socket, "hello").await;
    let closed_at = Instant::now();
    drop(socket);
    let at = within(noticed.recv()).await.unwrap();
    let latency = at.duration_since(closed_at);
    eprintln!("idle disconnect noticed {latency:?} after the client closed");
    assert!(
        latency < Duration::from_secs(2),
        "noticed after {latency:?}"
    );
    assert_eq!(next(&mut seen).await, Seen::Connected(false));
    assert_eq!(
        next(&mut seen).await,
        Seen::WriteFailed(ErrorKind::ClientDisconnected)
    );
}

/// Rails `test_close_then_abort_still_terminates_the_reader`: after the action's own close,
/// the client receives the whole body, and the action still learns when the connection ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_then_client_leaves() {
    static CONFIG: LazyLock<LiveConfig> = LazyLock::new(LiveConfig::new);
    let (server, mut seen) = serve(&CONFIG, |live, report: Report| async move {
        let mut stream = live.stream();
        stream.write("hello").await?;
        stream.close();
        stream.disconnected().await;
        report.send(Seen::Disconnected).unwrap();
        report
            .send(Seen::WriteFailed(
                stream.write("x").await.unwrap_err().kind(),
            ))
            .unwrap();
        Ok(())
    })
    .await;
    let response = server.get("/t").await;
    assert_eq!(support::text(response).await, "hello");
    assert_eq!(next(&mut seen).await, Seen::Disconnected);
    // After its own close, a write is `Closed`, whatever the connection does
    // (docs/rails-parity.md, D-05).
    assert_eq!(next(&mut seen).await, Seen::WriteFailed(ErrorKind::Closed));
}

/// docs/rails-parity.md, B-02 (Puma's write timeout): a client that stays connected but stops
/// reading ends the stream with `WriteTimeout` once the buffer stayed full past the timeout, and
/// its connection is aborted instead of finished as if complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_timeout_aborts_a_stalled_client() {
    static CONFIG: LazyLock<LiveConfig> = LazyLock::new(|| {
        LiveConfig::new()
            .buffer(Buffer::Chunks(2))
            .write_timeout(Some(Duration::from_millis(200)))
    });
    let (server, mut seen) = serve(&CONFIG, |live, report: Report| async move {
        let mut stream = live.stream();
        let error = fill_until_error(&mut stream, &report).await;
        // A write to the aborted stream says why it was aborted.
        let again = stream.write("again").await.unwrap_err();
        report.send(Seen::WriteFailed(again.kind())).unwrap();
        Err(error)
    })
    .await;
    let mut socket = support::raw(server.addr, "GET /t HTTP/1.1\r\nHost: t\r\n\r\n").await;
    read_until(&mut socket, "xxxx").await;
    // Stop reading; the writer fills everything and times out.
    for _ in 0..2 {
        assert_eq!(
            next(&mut seen).await,
            Seen::WriteFailed(ErrorKind::WriteTimeout)
        );
    }
    // The server aborts the connection: reading on finds an end without the final chunk.
    let mut rest = Vec::new();
    // Either way the connection ends: a close (an end of file) or a reset.
    if let Err(error) = within(socket.read_to_end(&mut rest)).await {
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}");
    }
    assert!(
        !rest.ends_with(b"0\r\n\r\n"),
        "the stream must not look complete"
    );
}

/// A write to a client that left before the response was committed fails too: the handler
/// was dropped with its body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_gone_before_commit() {
    static CONFIG: LazyLock<LiveConfig> = LazyLock::new(LiveConfig::new);
    let (started_tx, mut started) = mpsc::unbounded_channel::<()>();
    let (server, mut seen) = serve(&CONFIG, move |live, report: Report| {
        let started_tx = started_tx.clone();
        async move {
            let mut stream = live.stream();
            started_tx.send(()).unwrap();
            stream.disconnected().await;
            report
                .send(Seen::WriteFailed(
                    stream.write("x").await.unwrap_err().kind(),
                ))
                .unwrap();
            Ok(())
        }
    })
    .await;
    let socket = support::raw(server.addr, "GET /t HTTP/1.1\r\nHost: t\r\n\r\n").await;
    within(started.recv()).await.unwrap();
    drop(socket);
    assert_eq!(
        next(&mut seen).await,
        Seen::WriteFailed(ErrorKind::ClientDisconnected)
    );
}

static CANCEL_ON_DISCONNECT: LazyLock<LiveConfig> =
    LazyLock::new(|| LiveConfig::new().cancel_on_disconnect(true));

/// Reports `Cancelled` if the action is dropped before it says it is done.
struct CancelProbe(Option<Report>);

impl CancelProbe {
    fn done(mut self) {
        self.0.take().unwrap().send(Seen::Done).unwrap();
    }
}

impl Drop for CancelProbe {
    fn drop(&mut self) {
        if let Some(report) = self.0.take() {
            report.send(Seen::Cancelled).unwrap();
        }
    }
}

/// `cancel_on_disconnect`: an action that waits on something else than its stream (here,
/// forever) is dropped when its client leaves, without checking `disconnected()`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_on_disconnect_drops_a_waiting_action() {
    let (server, mut seen) = serve(&CANCEL_ON_DISCONNECT, |live, report: Report| async move {
        let probe = CancelProbe(Some(report.clone()));
        let mut stream = live.stream();
        stream.write("first").await?;
        report.send(Seen::Waiting).unwrap();
        std::future::pending::<()>().await;
        probe.done();
        Ok(())
    })
    .await;
    let mut response = server.get("/t").await;
    assert_eq!(next_chunk(&mut response).await.unwrap(), "first");
    assert_eq!(next(&mut seen).await, Seen::Waiting);
    drop(response);
    assert_eq!(next(&mut seen).await, Seen::Cancelled);
}

/// `cancel_on_disconnect` after a write timeout: an action that ignores the failed write and
/// waits on something else is dropped once hyper gives up the aborted body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_on_disconnect_after_a_write_timeout() {
    static CONFIG: LazyLock<LiveConfig> = LazyLock::new(|| {
        LiveConfig::new()
            .buffer(Buffer::Chunks(2))
            .write_timeout(Some(Duration::from_millis(200)))
            .cancel_on_disconnect(true)
    });
    let (server, mut seen) = serve(&CONFIG, |live, report: Report| async move {
        let _probe = CancelProbe(Some(report.clone()));
        let mut stream = live.stream();
        fill_until_error(&mut stream, &report).await;
        report.send(Seen::Waiting).unwrap();
        std::future::pending::<()>().await;
        Ok(())
    })
    .await;
    let mut socket = support::raw(server.addr, "GET /t HTTP/1.1\r\nHost: t\r\n\r\n").await;
    read_until(&mut socket, "xxxx").await;
    assert_eq!(
        next(&mut seen).await,
        Seen::WriteFailed(ErrorKind::WriteTimeout)
    );
    assert_eq!(next(&mut seen).await, Seen::Waiting);
    // Reading on lets hyper reach the aborted body, which it then drops.
    let mut rest = Vec::new();
    if let Err(error) = within(socket.read_to_end(&mut rest)).await {
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}");
    }
    assert_eq!(next(&mut seen).await, Seen::Cancelled);
}

/// Keep-alive comments notice a client gone behind a proxy that keeps the connection to the
/// server open: nothing tells the server until the next keep-alive, which the proxy cannot
/// deliver, so it closes the connection, and the idle action sees `disconnected()` then
/// (paused time: the 15 s take no real time).
#[tokio::test(start_paused = true)]
async fn keep_alive_notices_a_client_gone_behind_a_proxy() {
    static CONFIG: LazyLock<LiveConfig> = LazyLock::new(LiveConfig::new);
    let (server, mut seen) = serve(&CONFIG, |live, report: Report| async move {
        let mut sse = live.sse(SseOptions::new());
        sse.write("hello").await?;
        let idle = tokio::time::Instant::now();
        sse.stream().disconnected().await;
        report.send(Seen::NoticedAfter(idle.elapsed())).unwrap();
        Ok(())
    })
    .await;
    let mut proxy = server.get("/t").await;
    assert_eq!(next_chunk(&mut proxy).await.unwrap(), "data: hello\n\n");
    // The client is gone; the proxy learns it when it forwards the keep-alive, and hangs up.
    // A longer bound than PATIENCE's (virtual here) 10 s: the keep-alive comes after 15 s.
    let keep_alive = support::within_for(Duration::from_secs(60), proxy.chunk()).await;
    assert_eq!(keep_alive.unwrap().unwrap(), ":\n\n");
    drop(proxy);
    let Seen::NoticedAfter(after) = next(&mut seen).await else {
        panic!("not noticed")
    };
    assert_eq!(after.as_secs(), 15, "{after:?}");
}

/// `cancel_on_disconnect` before commit: the client leaves while the action has not answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_on_disconnect_before_commit() {
    let (server, mut seen) = serve(&CANCEL_ON_DISCONNECT, |_live, report: Report| async move {
        let _probe = CancelProbe(Some(report.clone()));
        report.send(Seen::Waiting).unwrap();
        std::future::pending::<()>().await;
        Ok(())
    })
    .await;
    let socket = support::raw(server.addr, "GET /t HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(next(&mut seen).await, Seen::Waiting);
    drop(socket);
    assert_eq!(next(&mut seen).await, Seen::Cancelled);
}

/// `cancel_on_disconnect` spares an action that closed its stream itself: the response is
/// complete, so the body's end is no disconnect, and the work after the close finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_on_disconnect_spares_work_after_close() {
    static RELEASE: Notify = Notify::const_new();
    let (server, mut seen) = serve(&CANCEL_ON_DISCONNECT, |live, report: Report| async move {
        let probe = CancelProbe(Some(report));
        let mut stream = live.stream();
        stream.write("all of it").await?;
        stream.close();
        RELEASE.notified().await;
        probe.done();
        Ok(())
    })
    .await;
    // The whole body, terminator included: hyper has finished with (and dropped) the body.
    assert_eq!(support::text(server.get("/t").await).await, "all of it");
    RELEASE.notify_one();
    assert_eq!(next(&mut seen).await, Seen::Done);
}
