//! The jobs example over real loopback HTTP: starting jobs, following their progress to
//! `done` and the end, late subscribers, `404` and `204`, refusals, stopped jobs, and finished
//! jobs kept across a restart with Redis (a redis-server of its own).
//!
//! No test sleeps: jobs run for a second at most (long enough for a stream to open before
//! they end), or until the test stops them; every read fails after 10 s instead of hanging.

use crate::apps::jobs as app;
use crate::redis_server;
use crate::support;

use app::{JobsController, Stopper};
use live_runtime::broadcast::{Hub, HubConfig};
use live_runtime::prelude::*;
use live_runtime::sse::parse::{EventParser, Item, ParsedEvent};
use redis_server::RedisServer;
use serde_json::{Value, json};
use support::{Server, client, within};

/// The example's controller on an ephemeral loopback port, and what stops its jobs.
async fn node(hub: Hub) -> (Server, Stopper) {
    let controller = JobsController::new(hub);
    let stopper = controller.stopper();
    (Server::start(controller.into_router()).await, stopper)
}

async fn memory_node() -> (Server, Stopper) {
    node(Hub::memory(HubConfig::default())).await
}

/// `POST /jobs` with this content type and body: the status and the JSON answer.
async fn post(server: &Server, content_type: &str, body: &str) -> (StatusCode, Value) {
    let request = client()
        .post(server.url("/jobs"))
        .header("content-type", content_type)
        .body(body.to_owned());
    let response = within(request.send()).await.expect("request failed");
    let status = response.status();
    let body = support::text(response).await;
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    (status, json)
}

/// Starts a job of `steps` steps of `step_ms` ms: its id.
async fn start(server: &Server, steps: u32, step_ms: u64) -> String {
    let body = json!({ "steps": steps, "step_ms": step_ms }).to_string();
    let (status, answer) = post(server, "application/json", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer["id"].as_str().expect("a string id").to_owned()
}

/// `GET /jobs/{id}/progress`, with `Last-Event-ID` if given.
async fn get_progress(server: &Server, id: &str, last: Option<&str>) -> reqwest::Response {
    let mut request = client().get(server.url(&format!("/jobs/{id}/progress")));
    if let Some(last) = last {
        request = request.header("last-event-id", last);
    }
    within(request.send()).await.expect("request failed")
}

/// An open progress stream, read as it comes.
struct Progress {
    response: reqwest::Response,
    parser: EventParser,
    events: Vec<ParsedEvent>,
}

impl Progress {
    /// Opens the stream: `200`, SSE, `retry: 1000` first.
    async fn open(server: &Server, id: &str, last: Option<&str>) -> Progress {
        let response = get_progress(server, id, last).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let mut progress = Progress {
            response,
            parser: EventParser::new(),
            events: Vec::new(),
        };
        progress.first().await;
        assert_eq!(progress.events[0].retry, Some(1000));
        progress
    }

    /// Reads one more chunk; `false` at the end of the stream.
    async fn read(&mut self) -> bool {
        let Some(chunk) = support::next_chunk(&mut self.response).await else {
            return false;
        };
        let events = self
            .parser
            .push(&chunk)
            .into_iter()
            .filter_map(|item| match item {
                Item::Event(event) => Some(event),
                _ => None,
            });
        self.events.extend(events);
        true
    }

    /// The first event, once it has come.
    async fn first(&mut self) -> &ParsedEvent {
        while self.events.is_empty() {
            assert!(self.read().await, "the stream ended without an event");
        }
        &self.events[0]
    }

    /// Every event of the stream, once it has ended.
    async fn end(mut self) -> Vec<ParsedEvent> {
        while self.read().await {}
        self.events
    }
}

/// The events of a whole stream: its `progress` percents, then its `done` event last (the
/// one `done`: nothing comes after it).
fn split(events: &[ParsedEvent]) -> (Vec<u64>, &ParsedEvent) {
    let (done, progress) = events.split_last().expect("at least the done event");
    assert_eq!(done.event, "done", "the last event: {events:?}");
    let percents = progress
        .iter()
        .map(|event| {
            assert_eq!(event.event, "progress", "{events:?}");
            assert!(event.id.is_some(), "{event:?}");
            let value: Value = serde_json::from_str(&event.data).unwrap();
            value["percent"].as_u64().expect("a percent")
        })
        .collect();
    (percents, done)
}

fn data(event: &ParsedEvent) -> Value {
    serde_json::from_str(&event.data).expect("JSON data")
}

/// A job's stream gives its current progress, each change in order up to 100, then `done`
/// with the result, and ends.
#[tokio::test]
async fn progress_runs_to_done_then_ends() {
    let (server, _stopper) = memory_node().await;
    let id = start(&server, 5, 200).await;
    let events = Progress::open(&server, &id, None).await.end().await;
    let (percents, done) = split(&events);
    assert!(!percents.is_empty(), "{events:?}");
    assert!(percents.is_sorted(), "{percents:?}");
    assert_eq!(percents.last(), Some(&100));
    assert!(
        percents
            .iter()
            .all(|p| [0, 20, 40, 60, 80, 100].contains(p))
    );
    assert_eq!(data(done), json!({ "result": "finished 5 steps" }));
}

/// Once a job is done, a new stream gets `done` at once, with the same id, and ends: no
/// progress replayed. Resuming after a progress event does the same; after `done`, `204`.
#[tokio::test]
async fn after_the_end_done_at_once_then_204() {
    let (server, _stopper) = memory_node().await;
    let id = start(&server, 3, 1).await;
    let first = Progress::open(&server, &id, None).await.end().await;
    let (_, done) = split(&first);
    let done_id = done.id.as_deref().expect("done has an id");
    let progress_id = first[0].id.as_deref();
    for last in [None, progress_id] {
        let late = Progress::open(&server, &id, last).await.end().await;
        assert_eq!(late.len(), 1, "after {last:?}: {late:?}");
        assert_eq!(late[0].event, "done");
        assert_eq!(late[0].id.as_deref(), Some(done_id));
        assert_eq!(late[0].data, done.data);
    }
    let after_done = get_progress(&server, &id, Some(done_id)).await;
    assert_eq!(after_done.status(), StatusCode::NO_CONTENT);
}

/// A stopped job (the server shutting down) ends its streams with `done` carrying an error,
/// and so does every later stream of it.
#[tokio::test]
async fn a_stopped_job_is_done_with_an_error() {
    let (server, stopper) = memory_node().await;
    let id = start(&server, 100, 10_000).await;
    let mut stream = Progress::open(&server, &id, None).await;
    // The topic exists from the 201 on, with its first value.
    assert_eq!(data(stream.first().await), json!({ "percent": 0 }));
    within(stopper.stop_jobs()).await;
    let expected = json!({ "error": "the server stopped before the job finished" });
    let events = stream.end().await;
    let (percents, done) = split(&events);
    assert_eq!(percents, [0]);
    assert_eq!(data(done), expected);
    let late = Progress::open(&server, &id, None).await.end().await;
    assert_eq!(late.len(), 1, "{late:?}");
    assert_eq!(data(&late[0]), expected);
}

/// An unknown or malformed job id is a `404` before any stream, and a `404` page; a job's
/// page has the progress bar, and the index the form.
#[tokio::test]
async fn unknown_jobs_are_404_and_pages_are_served() {
    let (server, _stopper) = memory_node().await;
    let id = start(&server, 1, 1).await;
    for unknown in ["0123456789abcdef", "nope", &"f".repeat(2000)] {
        let response = get_progress(&server, unknown, None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{unknown}");
        assert_ne!(response.headers()["content-type"], "text/event-stream");
        let page = server.get(&format!("/jobs/{unknown}")).await;
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{unknown}");
    }
    let page = server.get(&format!("/jobs/{id}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = support::text(page).await;
    assert!(page.contains("<progress"), "{page}");
    assert!(page.contains(&format!("/jobs/{id}/progress")), "{page}");
    let index = support::text(server.get("/jobs").await).await;
    assert!(index.contains("<form"), "{index}");
}

/// Bad bodies are refused with a 4xx JSON error, and start nothing; no body starts a job of
/// the default size.
#[tokio::test]
async fn bad_posts_are_refused() {
    let hub = Hub::memory(HubConfig::default());
    let (server, _stopper) = node(hub.clone()).await;
    let json = "application/json";
    let cases = [
        ("malformed JSON", json, r#"{"steps": "#, 400),
        ("an array", json, "[]", 400),
        ("a string", json, r#""steps""#, 400),
        ("a negative step count", json, r#"{"steps": -1}"#, 400),
        ("a fractional step count", json, r#"{"steps": 1.5}"#, 400),
        ("a field of another name", json, r#"{"stpes": 3}"#, 400),
        ("no steps", json, r#"{"steps": 0}"#, 422),
        ("too many steps", json, r#"{"steps": 1001}"#, 422),
        ("too long a step", json, r#"{"step_ms": 10001}"#, 422),
        ("not JSON", "text/plain", r#"{"steps": 3}"#, 415),
    ];
    for (case, content_type, body, status) in cases {
        let (got, answer) = post(&server, content_type, body).await;
        assert_eq!(got.as_u16(), status, "{case}: {answer}");
        assert!(
            answer["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{case}: {answer}"
        );
    }
    assert_eq!(hub.usage().topics, 0, "a refused job was started");
    let response = within(client().post(server.url("/jobs")).send())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let answer: Value = serde_json::from_str(&support::text(response).await).unwrap();
    assert_eq!(
        location,
        format!("/jobs/{}", answer["id"].as_str().unwrap())
    );
    assert_eq!(hub.usage().topics, 1);
}

/// With Redis, a restarted server still knows its finished jobs: their `done` at once, the
/// result, or the error of a job the shutdown stopped.
#[tokio::test]
async fn with_redis_jobs_outlive_their_server() {
    let redis = RedisServer::start();
    let hub = || Hub::redis(&redis.url(), HubConfig::default()).unwrap();
    let (before, stopper) = node(hub()).await;
    let finished = start(&before, 2, 1).await;
    Progress::open(&before, &finished, None).await.end().await;
    let running = start(&before, 100, 10_000).await;
    within(stopper.stop_jobs()).await;

    let (after, _stopper) = node(hub()).await;
    for (id, expected) in [
        (&finished, json!({ "result": "finished 2 steps" })),
        (
            &running,
            json!({ "error": "the server stopped before the job finished" }),
        ),
    ] {
        let events = Progress::open(&after, id, None).await.end().await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(data(&events[0]), expected);
        let page = after.get(&format!("/jobs/{id}")).await;
        assert_eq!(page.status(), StatusCode::OK);
    }
}
