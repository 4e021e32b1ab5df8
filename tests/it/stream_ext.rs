//! A `Subscription` is a `Stream`: `StreamExt` combinators apply, and `Sse::forward` sends
//! what they make, over HTTP as a browser sees it.

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::ready;
use live_runtime::broadcast::{Delivery, EventId, Hub, HubConfig, Since};
use live_runtime::prelude::*;

const JOB: &str = "job";

/// Whether a delivery is the job's last event.
fn is_done(delivery: &Delivery) -> bool {
    matches!(delivery, Delivery::Event(event) if event.event() == Some("done"))
}

/// Forwards a job's topic shaped by combinators. Each action subscribes before it commits,
/// so a client that has the headers is a subscriber.
pub struct JobController {
    hub: Hub,
    /// The ids the audited action forwarded.
    audit: Arc<Mutex<Vec<EventId>>>,
}

#[live_controller]
impl JobController {
    /// Up to the `done` event, which goes out too; then the response ends.
    pub async fn until_done(&self, live: Live) -> live_runtime::Result {
        use futures_util::StreamExt;
        let job = self.hub.subscribe(JOB, Since::Beginning).await?;
        let mut done = false;
        let until_done = job.take_while(move |delivery| {
            let more = !done;
            done = is_done(delivery);
            ready(more)
        });
        live.sse(SseOptions::new()).forward(until_done).await
    }

    /// Only `progress` events (and gaps, which are never dropped), each recorded as it goes.
    pub async fn audited(&self, live: Live) -> live_runtime::Result {
        use futures_util::StreamExt;
        let job = self.hub.subscribe(JOB, Since::Beginning).await?;
        let audit = self.audit.clone();
        let progress = job
            .filter(|delivery| {
                ready(match delivery {
                    Delivery::Event(event) => event.event() == Some("progress"),
                    Delivery::Gap(_) => true,
                })
            })
            .map(move |delivery| {
                if let Delivery::Event(event) = &delivery {
                    audit.lock().unwrap().push(event.id());
                }
                delivery
            });
        live.sse(SseOptions::new()).forward(progress).await
    }

    /// Ends after 20 s without an event.
    pub async fn until_quiet(&self, live: Live) -> live_runtime::Result {
        use tokio_stream::StreamExt;
        let job = self.hub.subscribe(JOB, Since::Now).await?;
        let until_quiet = job.timeout(Duration::from_secs(20)).map_while(Result::ok);
        live.sse(SseOptions::new()).forward(until_quiet).await
    }
}

fn app(hub: &Hub) -> (axum::Router, Arc<Mutex<Vec<EventId>>>) {
    use live_runtime::routing::Controller;
    let audit = Arc::new(Mutex::new(Vec::new()));
    let controller = JobController {
        hub: hub.clone(),
        audit: audit.clone(),
    };
    (controller.into_router(), audit)
}

/// `take_while` ends the response cleanly after the `done` event, replayed or live; nothing
/// published after it is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn take_while_ends_the_stream_after_done() {
    let hub = Hub::memory(HubConfig::default());
    let server = support::Server::start(app(&hub).0).await;
    let half = hub.publish_event(JOB, "progress", "50").await.unwrap();
    let response = server.get("/job/until_done").await;
    let done = hub.publish_event(JOB, "done", "ok").await.unwrap();
    hub.publish_event(JOB, "progress", "after").await.unwrap();
    assert_eq!(
        support::text(response).await,
        format!("event: progress\nid: {half}\ndata: 50\n\nevent: done\nid: {done}\ndata: ok\n\n")
    );
    // After the end: the replayed `done`, then the end at once.
    let response = server.get("/job/until_done").await;
    assert!(support::text(response).await.ends_with("data: ok\n\n"));
}

/// `filter` and `map` shape what `forward` sends, each delivery encoded as published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_sends_a_filtered_mapped_stream() {
    let hub = Hub::memory(HubConfig::default());
    let (app, audit) = app(&hub);
    let server = support::Server::start(app).await;
    let mut response = server.get("/job/audited").await;
    let first = hub.publish_event(JOB, "progress", "10").await.unwrap();
    hub.publish_event(JOB, "log", "noise").await.unwrap();
    let second = hub.publish_event(JOB, "progress", "20").await.unwrap();
    let mut body = String::new();
    while !body.contains("data: 20\n\n") {
        let chunk = support::next_chunk(&mut response).await.expect("more");
        body.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert_eq!(
        body,
        format!(
            "event: progress\nid: {first}\ndata: 10\n\nevent: progress\nid: {second}\ndata: 20\n\n"
        )
    );
    assert_eq!(*audit.lock().unwrap(), [first, second]);
}

/// A timeout (`tokio_stream::StreamExt::timeout`) ends a stream that went quiet: 20 s after
/// the last event, with a keep-alive in between (paused time: no real waiting).
#[tokio::test(start_paused = true)]
async fn timeout_ends_a_quiet_stream() {
    let hub = Hub::memory(HubConfig::default());
    let server = support::Server::start(app(&hub).0).await;
    let mut response = server.get("/job/until_quiet").await;
    let id = hub.publish(JOB, "only").await.unwrap();
    let published = tokio::time::Instant::now();
    let mut chunks = Vec::new();
    while let Some(chunk) = support::within_for(Duration::from_secs(600), response.chunk())
        .await
        .unwrap()
    {
        chunks.push(String::from_utf8(chunk.to_vec()).unwrap());
    }
    assert_eq!(
        chunks,
        [format!("id: {id}\ndata: only\n\n"), ":\n\n".into()]
    );
    assert_eq!(published.elapsed().as_secs(), 20);
}
