//! Server shutdown with open live streams, over real sockets: axum's graceful shutdown
//! completes because `Shutdown` ends every stream, clients get what was queued and a clean
//! end, actions see the shutdown, and actions that had not answered yet answer as documented.
//! (Rails has no equivalent: Puma's shutdown cuts or waits on open streams.)

use crate::support;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use live_runtime::prelude::*;
use live_runtime::test_client::TestClient;
use support::{client, next_chunk, text, within};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

/// What the actions report to the test.
#[derive(Debug, PartialEq)]
enum Seen {
    Waiting,
    WriteFailed(ErrorKind),
    /// The action was dropped before its end (cancelled).
    Dropped,
}

/// Reports `Dropped` if the action is dropped while it holds this.
struct DropProbe(mpsc::UnboundedSender<Seen>);

impl Drop for DropProbe {
    fn drop(&mut self) {
        let _ = self.0.send(Seen::Dropped);
    }
}

pub struct ShutdownController {
    report: mpsc::UnboundedSender<Seen>,
    /// Released by the test; the `late_*` actions answer only then.
    latch: Arc<Notify>,
}

#[live_controller]
impl ShutdownController {
    /// Three events at once, then waits for the end and checks that writes now fail.
    pub async fn feed(&self, live: Live) -> live_runtime::Result {
        let mut sse = live.sse(SseOptions::new().retry(Duration::from_millis(100)));
        for n in 0..3 {
            sse.write_with(format!("event {n}"), Event::id(n)).await?;
        }
        sse.stream().disconnected().await;
        let error = sse.write("after the end").await.unwrap_err();
        let _ = self.report.send(Seen::WriteFailed(error.kind()));
        Err(error)
    }

    /// Writes once, then ignores the stream and the shutdown until the test releases it.
    pub async fn stubborn(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.write("one\n").await?;
        self.latch.notified().await;
        Ok(())
    }

    /// A plain stream whose first write comes when the test says.
    pub async fn late_text(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        self.wait().await;
        stream.write("too late").await?;
        Ok(())
    }

    /// An SSE stream whose first event comes when the test says.
    pub async fn late_sse(&self, live: Live) -> live_runtime::Result {
        let mut sse = live.sse(SseOptions::new());
        self.wait().await;
        sse.write("too late").await?;
        Ok(())
    }

    /// Writes at once.
    pub async fn now_text(&self, live: Live) -> live_runtime::Result {
        live.stream().write("hello").await?;
        Ok(())
    }

    /// Writes, closes, and waits after the client has had everything; then writes again.
    pub async fn ended(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.write("all").await?;
        stream.close();
        stream.disconnected().await;
        self.wait().await;
        let error = stream.write("after").await.unwrap_err();
        let _ = self.report.send(Seen::WriteFailed(error.kind()));
        Ok(())
    }

    /// Writes once, then panics when the test says.
    pub async fn panics(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.write("one").await?;
        self.wait().await;
        panic!("the action panics at shutdown");
    }

    async fn wait(&self) {
        let released = self.latch.notified();
        let _ = self.report.send(Seen::Waiting);
        released.await;
    }
}

pub(super) struct App {
    pub(super) shutdown: Shutdown,
    seen: mpsc::UnboundedReceiver<Seen>,
    pub(super) latch: Arc<Notify>,
    pub(super) router: axum::Router,
}

pub(super) fn app() -> App {
    let (report, seen) = mpsc::unbounded_channel();
    let latch = Arc::new(Notify::new());
    let shutdown = Shutdown::new();
    let controller = ShutdownController {
        report,
        latch: latch.clone(),
    };
    let router = controller.into_router().layer(shutdown.layer());
    App {
        shutdown,
        seen,
        latch,
        router,
    }
}

/// Serves `router` with axum's graceful shutdown, begun by the returned sender.
pub(super) async fn serve_gracefully(
    router: axum::Router,
    shutdown: &Shutdown,
) -> (String, oneshot::Sender<()>, JoinHandle<std::io::Result<()>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (trigger, triggered) = oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown.begin_after(triggered))
            .into_future(),
    );
    (base, trigger, server)
}

/// What `/shutdown/feed` has sent once its third event (`id: 2`) arrived.
pub(crate) async fn read_until_third_event(feed: &mut reqwest::Response) -> String {
    let mut received = String::new();
    while !received.contains("id: 2\n") {
        let chunk = next_chunk(feed).await.expect("three events");
        received.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    received
}

/// The whole body of `/shutdown/feed`: its three events (the first with the `retry`), ended
/// cleanly by the shutdown.
pub(crate) fn feed_events() -> String {
    let events: String = (0..3)
        .map(|n| format!("id: {n}\ndata: event {n}\n\n"))
        .collect();
    format!("retry: 100\n{events}")
}

async fn next_seen(seen: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    within(seen.recv()).await.expect("the controller is alive")
}

/// The graceful shutdown completes with two streams open, one of them an action that ignores
/// everything; each client gets what was written, then a clean end (no connection error).
#[tokio::test]
async fn graceful_shutdown_ends_open_streams() {
    let App {
        shutdown,
        mut seen,
        latch,
        router,
    } = app();
    let (base, trigger, server) = serve_gracefully(router, &shutdown).await;
    let http = client();

    let mut feed = within(http.get(format!("{base}/shutdown/feed")).send())
        .await
        .unwrap();
    let received = read_until_third_event(&mut feed).await;
    let mut stubborn = within(http.get(format!("{base}/shutdown/stubborn")).send())
        .await
        .unwrap();
    assert_eq!(next_chunk(&mut stubborn).await.unwrap(), "one\n");
    assert_eq!(shutdown.live_actions(), 2);

    trigger.send(()).unwrap();

    // Clean ends: `text` fails on a body cut off with an error.
    let rest = text(feed).await;
    assert_eq!(received + &rest, feed_events());
    assert_eq!(text(stubborn).await, "");
    within(server)
        .await
        .unwrap()
        .expect("the graceful shutdown completed");

    assert_eq!(
        next_seen(&mut seen).await,
        Seen::WriteFailed(ErrorKind::ShuttingDown)
    );
    assert!(shutdown.is_begun());
    // The server stopped without waiting for the stubborn action, which runs on (documented)
    // until it ends by itself: once the feed's task is over, it is the only one tracked.
    support::eventually("the feed is no longer tracked", || {
        shutdown.live_actions() == 1
    })
    .await;
    latch.notify_one();
    within(shutdown.finished()).await;
    assert_eq!(shutdown.live_actions(), 0);
}

/// An action that had not answered when the shutdown began: a plain stream answers 503, an
/// SSE stream a clean empty 200, which an `EventSource` follows with a reconnect.
#[tokio::test]
async fn actions_not_committed_at_shutdown() {
    let App {
        shutdown,
        mut seen,
        latch,
        router,
    } = app();
    let server = support::Server::start(router).await;
    let plain = tokio::spawn(client().get(server.url("/shutdown/late_text")).send());
    let sse = tokio::spawn(client().get(server.url("/shutdown/late_sse")).send());
    assert_eq!(next_seen(&mut seen).await, Seen::Waiting);
    assert_eq!(next_seen(&mut seen).await, Seen::Waiting);

    shutdown.begin();
    latch.notify_waiters();

    let plain = within(plain).await.unwrap().unwrap();
    assert_eq!(plain.status(), StatusCode::SERVICE_UNAVAILABLE);
    let sse = within(sse).await.unwrap().unwrap();
    assert_eq!(sse.status(), StatusCode::OK);
    assert_eq!(sse.headers()["content-type"], "text/event-stream");
    assert_eq!(text(sse).await, "");
    within(shutdown.finished()).await;
}

/// Actions that start after the shutdown began end at once, the same way.
#[tokio::test]
async fn actions_started_after_the_shutdown_began() {
    let App {
        shutdown, router, ..
    } = app();
    shutdown.begin();
    let client = TestClient::new(router);

    let plain = client.get("/shutdown/now_text").send().await.unwrap();
    assert_eq!(plain.status(), StatusCode::SERVICE_UNAVAILABLE);

    let mut feed = client.get("/shutdown/feed").send().await.unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    assert_eq!(feed.text().await.unwrap(), "");
    within(shutdown.finished()).await;
    assert_eq!(shutdown.live_actions(), 0);
}

/// Without the layer, nothing changes: the stream is not tracked and runs to its end.
#[tokio::test]
async fn routes_without_the_layer_are_untouched() {
    let (report, _seen) = mpsc::unbounded_channel();
    let shutdown = Shutdown::new();
    let router = ShutdownController {
        report,
        latch: Arc::new(Notify::new()),
    }
    .into_router();
    shutdown.begin();
    let mut response = TestClient::new(router)
        .get("/shutdown/now_text")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "hello");
}

/// Shutting down a stream that already ended (closed by its action, the body gone) changes
/// nothing: its action's write still says `Closed`, and the shutdown finishes when it ends.
#[tokio::test]
async fn shutting_down_a_stream_that_already_ended() {
    let App {
        shutdown,
        mut seen,
        latch,
        router,
    } = app();
    let server = support::Server::start(router).await;
    assert_eq!(text(server.get("/shutdown/ended").await).await, "all");
    assert_eq!(next_seen(&mut seen).await, Seen::Waiting);
    shutdown.begin();
    assert_eq!(shutdown.live_actions(), 1);
    latch.notify_one();
    assert_eq!(
        next_seen(&mut seen).await,
        Seen::WriteFailed(ErrorKind::Closed)
    );
    within(shutdown.finished()).await;
}

/// `finished()` waits for an action that panics after the shutdown began.
#[tokio::test]
async fn finished_after_a_panic() {
    let App {
        shutdown,
        mut seen,
        latch,
        router,
    } = app();
    let server = support::Server::start(router).await;
    let mut response = server.get("/shutdown/panics").await;
    assert_eq!(next_chunk(&mut response).await.unwrap(), "one");
    assert_eq!(next_seen(&mut seen).await, Seen::Waiting);
    shutdown.begin();
    assert_eq!(text(response).await, "");
    assert_eq!(shutdown.live_actions(), 1);
    latch.notify_one();
    within(shutdown.finished()).await;
    assert_eq!(shutdown.live_actions(), 0);
}

pub struct CancelledController {
    report: mpsc::UnboundedSender<Seen>,
}

#[live_controller(cancel_on_disconnect = true)]
impl CancelledController {
    /// Writes once, then waits on nothing the shutdown ends.
    pub async fn ignores(&self, live: Live) -> live_runtime::Result {
        let _probe = DropProbe(self.report.clone());
        let mut stream = live.stream();
        stream.write("one").await?;
        let _ = self.report.send(Seen::Waiting);
        std::future::pending::<()>().await;
        Ok(())
    }
}

/// With `cancel_on_disconnect`, the end of a stream at shutdown cancels its action, which
/// waits on something else; `finished()` then resolves without the action's help.
#[tokio::test]
async fn shutdown_cancels_with_cancel_on_disconnect() {
    let (report, mut seen) = mpsc::unbounded_channel();
    let shutdown = Shutdown::new();
    let router = CancelledController { report }
        .into_router()
        .layer(shutdown.layer());
    let server = support::Server::start(router).await;
    let mut response = server.get("/cancelled/ignores").await;
    assert_eq!(next_chunk(&mut response).await.unwrap(), "one");
    assert_eq!(next_seen(&mut seen).await, Seen::Waiting);
    shutdown.begin();
    assert_eq!(text(response).await, "");
    assert_eq!(next_seen(&mut seen).await, Seen::Dropped);
    within(shutdown.finished()).await;
}

/// Polls `future` in the context of another runtime, so what it spawns runs there.
struct InRuntime<F>(tokio::runtime::Handle, std::pin::Pin<Box<F>>);

impl<F: Future> Future for InRuntime<F> {
    type Output = F::Output;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let this = &mut *self;
        let _entered = this.0.enter();
        this.1.as_mut().poll(cx)
    }
}

/// An action task that dies before it answers (its runtime shut down) is answered `503`.
#[tokio::test]
async fn action_task_gone_before_commit_is_a_503() {
    let actions = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let (started, mut running) = mpsc::unbounded_channel();
    let handle = actions.handle().clone();
    let handler = move |request: LiveRequest| {
        let started = started.clone();
        let action = request.spawn(move |live: Live| async move {
            let _uncommitted = live;
            started.send(()).unwrap();
            std::future::pending::<()>().await;
        });
        InRuntime(handle.clone(), Box::pin(action))
    };
    let server =
        support::Server::start(axum::Router::new().route("/t", axum::routing::get(handler))).await;
    let response = tokio::spawn(client().get(server.url("/t")).send());
    within(running.recv()).await.unwrap();
    actions.shutdown_background();
    let response = within(response).await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}
