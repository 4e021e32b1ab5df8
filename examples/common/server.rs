//! The examples' server: `axum::serve`'s stack (hyper-util) plus what it leaves out, a header
//! read timeout and a write stall timeout, so that a slow or stalled client cannot hold a
//! connection forever.

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Sleep;

/// How long a client may take to send its request head before its connection is closed:
/// hyper's own default, which `axum::serve` leaves off by giving hyper no timer (a client
/// sending its head a byte at a time could then hold a connection forever).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a connection's socket may accept no bytes at all while the server has some to
/// send before the connection is closed. A live action's write timeout ends the action, but
/// hyper lets go of its body (the buffered chunks, the socket) only when it next polls it, and
/// hyper polls no body while its own write buffer waits on the socket: without this, a client
/// that never reads again holds its connection forever (RELIABILITY.md, stalled clients).
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The server's limits (see each constant).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read: Duration,
    /// `None`: a stalled connection is held for as long as its client lives.
    pub write_stall: Option<Duration>,
    /// hyper's `max_buf_size` (a connection's read and write buffers); `None`, hyper's
    /// default (about 400 KiB), which a client that stops reading can fill (RELIABILITY.md).
    pub max_buf_size: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read: HEADER_READ_TIMEOUT,
            write_stall: Some(WRITE_STALL_TIMEOUT),
            max_buf_size: None,
        }
    }
}

/// Serves `router` on `listener` as `axum::serve(..).with_graceful_shutdown(signal)` does
/// (HTTP/1.1 and HTTP/2, a task per connection, open connections finished after `signal`),
/// plus the timeouts `axum::serve` leaves out: a request head that takes longer than
/// `limits.header_read`, or a socket that takes no bytes for `limits.write_stall`, gets its
/// connection closed.
pub async fn serve_on(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    signal: impl Future<Output = ()>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    if let Some(size) = limits.max_buf_size {
        builder.http1().max_buf_size(size);
    }
    let graceful = GracefulShutdown::new();
    let mut signal = pin!(signal);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors, most likely: as axum::serve, give open
                    // connections time to end instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let service = TowerToHyperService::new(router.clone());
        let stream = StallTimeout::new(stream, limits.write_stall);
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        tokio::spawn(graceful.watch(connection));
    }
    drop(listener);
    graceful.shutdown().await;
}

/// A socket whose writes fail with `TimedOut` once it has accepted no bytes for the timeout
/// while some were waiting: hyper then closes the connection and drops its body.
struct StallTimeout {
    stream: TcpStream,
    timeout: Option<Duration>,
    /// Armed at the first write that could not proceed, disarmed by any that does.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl StallTimeout {
    fn new(stream: TcpStream, timeout: Option<Duration>) -> Self {
        StallTimeout {
            stream,
            timeout,
            stalled: None,
        }
    }

    /// Passes `poll` through, timing how long it stays pending.
    fn watch<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        let Some(timeout) = self.timeout else {
            return poll;
        };
        if poll.is_ready() {
            self.stalled = None;
            return poll;
        }
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(stalled.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client took no bytes within the write stall timeout",
        )))
    }
}

impl AsyncRead for StallTimeout {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for StallTimeout {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
