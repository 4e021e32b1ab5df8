//! The app under test: a controller whose actions count what they saw, served on a loopback
//! port by the examples' `serve_on`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use live_runtime::prelude::*;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::{FLOOD_CHUNK, wait_for};
use crate::server::{Limits, serve_on};

/// What the actions saw, per app (the tests run several apps in one process).
#[derive(Default)]
pub struct Seen {
    /// `first` actions that saw their client leave.
    pub first_gone: AtomicUsize,
    /// `flood` actions ended by the write timeout.
    pub flood_timeouts: AtomicUsize,
    /// `sse`/`raw` actions that queued their `queued` event.
    pub queued: AtomicUsize,
    /// `sse`/`raw` actions whose `disconnected()` resolved (the shutdown).
    pub disconnected: AtomicUsize,
    /// Set to `true`: every `sse`/`raw` action writes its `queued` event.
    pub queue: watch::Sender<bool>,
}

pub struct ReliabilityController {
    pub seen: Arc<Seen>,
}

#[live_controller(path = "/rel", write_timeout_ms = 1000)]
impl ReliabilityController {
    /// One SSE event, then waits for the client to leave.
    pub async fn first(&self, live: Live) -> live_runtime::Result {
        let mut sse = live.sse(SseOptions::new().keep_alive(None));
        sse.write("hello").await?;
        sse.stream().disconnected().await;
        self.seen.first_gone.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// 4 KiB chunks as fast as the client takes them, forever.
    pub async fn flood(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        loop {
            if let Err(error) = stream.write(vec![b'x'; FLOOD_CHUNK]).await {
                if error.kind() == ErrorKind::WriteTimeout {
                    self.seen.flood_timeouts.fetch_add(1, Ordering::Relaxed);
                }
                return Err(error);
            }
        }
    }

    /// Panics before it answers: a 500.
    pub async fn panic_before(&self, live: Live) -> live_runtime::Result {
        drop(live);
        panic!("reliability: panic before commit");
    }

    /// Panics after its first chunk went out: the stream is cut.
    pub async fn panic_after(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.write("first\n").await?;
        panic!("reliability: panic after commit");
    }

    /// An SSE stream with keep-alives: `first`, then `queued` when told, then waits.
    pub async fn sse(&self, live: Live) -> live_runtime::Result {
        let mut sse = live.sse(SseOptions::new().keep_alive(Some(Duration::from_secs(1))));
        sse.write("first").await?;
        if self.told_to_queue(sse.stream()).await {
            sse.write("queued").await?;
            self.seen.queued.fetch_add(1, Ordering::Relaxed);
        }
        self.until_disconnected(sse.stream()).await
    }

    /// The same as a raw stream.
    pub async fn raw(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.writeln("first").await?;
        if self.told_to_queue(&stream).await {
            stream.writeln("queued").await?;
            self.seen.queued.fetch_add(1, Ordering::Relaxed);
        }
        self.until_disconnected(&stream).await
    }
}

impl ReliabilityController {
    /// Whether the scenario said to queue before the stream ended.
    async fn told_to_queue(&self, stream: &LiveStream) -> bool {
        let mut queue = self.seen.queue.subscribe();
        tokio::select! {
            told = queue.wait_for(|queue| *queue) => told.is_ok(),
            () = stream.disconnected() => false,
        }
    }

    async fn until_disconnected(&self, stream: &LiveStream) -> live_runtime::Result {
        stream.disconnected().await;
        self.seen.disconnected.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// The app on a loopback port, served by the examples' `serve_on` until `stop` fires.
pub struct App {
    pub addr: SocketAddr,
    pub shutdown: Shutdown,
    pub seen: Arc<Seen>,
    pub(super) stop: Option<oneshot::Sender<()>>,
    pub(super) served: JoinHandle<()>,
}

impl App {
    /// Served within `limits` (see [`limits`](super::limits)).
    pub async fn start(limits: Limits) -> App {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let seen = Arc::new(Seen::default());
        let router = ReliabilityController { seen: seen.clone() }
            .into_router()
            .layer(shutdown.layer());
        let (stop, stopped) = oneshot::channel::<()>();
        let signal = shutdown.begin_after(async move {
            let _ = stopped.await;
        });
        let served = tokio::spawn(serve_on(listener, router, limits, signal));
        App {
            addr,
            shutdown,
            seen,
            stop: Some(stop),
            served,
        }
    }

    /// Waits until every live action of the app has ended and hyper let go of its body.
    pub async fn nothing_left(&self) {
        wait_for("every live action and body gone", || {
            self.shutdown.live_actions() == 0
        })
        .await;
    }
}
