//! Live streams over HTTP/2 (h2c, prior knowledge: the axum features enable it): a stream
//! arrives as it is written, a client that resets its stream is a disconnect, and a shutdown
//! ends open streams cleanly, as over HTTP/1.1.

use crate::support;

use std::sync::Arc;

use live_runtime::prelude::*;
use support::{Server, h2_client, next_chunk, text, within};
use tokio::sync::{Notify, mpsc};

pub struct H2Controller {
    release: Arc<Notify>,
    report: mpsc::UnboundedSender<ErrorKind>,
}

#[live_controller]
impl H2Controller {
    /// A chunk, then another once the test has seen the first.
    pub async fn halves(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.write("first").await?;
        self.release.notified().await;
        stream.write("second").await?;
        Ok(())
    }

    /// A chunk, then waits for its client to leave; reports how a write fails then.
    pub async fn until_gone(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.write("hello").await?;
        stream.disconnected().await;
        let error = stream.write("late").await.unwrap_err();
        self.report.send(error.kind()).unwrap();
        Ok(())
    }
}

async fn server() -> (Server, Arc<Notify>, mpsc::UnboundedReceiver<ErrorKind>) {
    let release = Arc::new(Notify::new());
    let (report, seen) = mpsc::unbounded_channel();
    let controller = H2Controller {
        release: release.clone(),
        report,
    };
    (Server::start(controller.into_router()).await, release, seen)
}

async fn get(url: String) -> reqwest::Response {
    let response = within(h2_client().get(url).send()).await.unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    response
}

/// The first chunk arrives while the action still runs: the test holds the second back
/// until it has the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_streams_incrementally() {
    let (server, release, _) = server().await;
    let mut response = get(server.url("/h2/halves")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(next_chunk(&mut response).await.unwrap(), "first");
    release.notify_one();
    assert_eq!(next_chunk(&mut response).await.unwrap(), "second");
    assert_eq!(next_chunk(&mut response).await, None);
}

/// A client that drops its response resets the HTTP/2 stream: the action's `disconnected()`
/// resolves and its writes fail with `ClientDisconnected`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_disconnect_is_noticed() {
    let (server, _, mut seen) = server().await;
    let mut response = get(server.url("/h2/until_gone")).await;
    assert_eq!(next_chunk(&mut response).await.unwrap(), "hello");
    drop(response);
    assert_eq!(
        within(seen.recv()).await,
        Some(ErrorKind::ClientDisconnected)
    );
}

/// A graceful shutdown ends an open SSE stream over HTTP/2: the client gets what was written,
/// then a clean end, and the server stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_shutdown_ends_streams() {
    let app = super::shutdown::app();
    let (base, trigger, server) =
        super::shutdown::serve_gracefully(app.router, &app.shutdown).await;
    let mut feed = get(format!("{base}/shutdown/feed")).await;
    let received = super::shutdown::read_until_third_event(&mut feed).await;
    trigger.send(()).unwrap();
    // `text` fails on a stream reset with an error: this end is clean.
    let rest = text(feed).await;
    assert_eq!(received + &rest, super::shutdown::feed_events());
    within(server)
        .await
        .unwrap()
        .expect("the graceful shutdown completed");
    within(app.shutdown.finished()).await;
}
