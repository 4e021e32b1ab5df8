//! Background jobs with a live progress bar: `POST /jobs` starts a job, which publishes its
//! progress to a value topic of the [`Hub`] (only the current value is kept) and closes the
//! topic with its result. `GET /jobs/{id}` serves a page whose progress bar follows the job
//! through an `EventSource` on `GET /jobs/{id}/progress`, then shows the result.
//!
//! ```sh
//! cargo run --example jobs                 # in-process hub; PORT overrides 3000
//! open http://127.0.0.1:3000/jobs
//! curl -X POST http://127.0.0.1:3000/jobs -H 'content-type: application/json' \
//!      -d '{"steps": 10, "step_ms": 500}'
//!
//! # Finished jobs kept across restarts, and shared by every node, through Redis 7:
//! REDIS_URL=redis://127.0.0.1:6379 cargo run --example jobs
//! ```
//!
//! # The HTTP interface
//!
//! - `GET /jobs`: a form that starts a job and opens its page.
//! - `POST /jobs`, with no body or a JSON body `{"steps": n, "step_ms": m}` (each optional:
//!   [`DEFAULT_STEPS`] steps of [`DEFAULT_STEP_MS`] ms): `201 Created` with `{"id": "<job
//!   id>"}` and a `Location` of the job's page. The job's first value (`{"percent": 0}`) is
//!   published before the answer, so its stream exists as soon as the client knows its id.
//!   Errors, each with `{"error": "..."}`: `415` for a body not declared JSON, `400` for one
//!   that is not a JSON object of these fields, `422` for `steps` outside 1 to [`MAX_STEPS`]
//!   or `step_ms` over [`MAX_STEP_MS`], `503` when Redis is unreachable.
//! - `GET /jobs/{id}/progress`: Server-Sent Events, `retry: 1000` first: the current
//!   `event: progress` (`{"percent": p}`) at once, then each change (intermediate values
//!   are not replayed: a value topic keeps only the current one), then `event: done` with
//!   `{"result": "..."}` (or `{"error": "..."}`, see below), and the stream ends. Once the
//!   job is done, a new stream gets `done` at once and ends; a reconnection with the
//!   `Last-Event-ID` of `done` is a `204` (an `EventSource` then stops reconnecting). An
//!   unknown id is a `404`, before any stream.
//! - `GET /jobs/{id}`: the job's page, or a `404` page for an unknown id.
//!
//! # When the server stops
//!
//! On Ctrl-C the server ends its open streams, then stops each running job and closes its
//! topic with `done` carrying `{"error": "the server stopped before the job finished"}`:
//! with Redis, a page that reconnects to the restarted server shows that error at once (and
//! finished jobs show their result); with the in-process hub every job is gone after a
//! restart, so a page's reconnection gets a `404` and the page says the job was lost. (With
//! Redis down at that moment, each job retries its close for a few seconds first.) No page
//! waits forever, except after a crash (the process killed before it could close its jobs): a
//! real app keeps its jobs in a queue that outlives a process, which is not what this shows.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

#[path = "common/mod.rs"]
mod common;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use live_runtime::broadcast::{EventId, Hub, HubConfig, Since};
use live_runtime::prelude::*;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// The steps of a job when the request does not say.
pub const DEFAULT_STEPS: u32 = 20;
/// The time a step takes when the request does not say, in milliseconds.
pub const DEFAULT_STEP_MS: u64 = 150;
/// The most steps a job may have.
pub const MAX_STEPS: u32 = 1_000;
/// The longest step, in milliseconds.
pub const MAX_STEP_MS: u64 = 10_000;
/// How long a browser waits before it reconnects a stream that ended or broke.
pub const RETRY: Duration = Duration::from_secs(1);
/// How many times a job tries to publish its end (a second apart) while Redis is down: a
/// topic left open would keep its pages waiting. A stop waits for these too.
const CLOSE_ATTEMPTS: u32 = 5;

/// What a job is asked to do: `steps` steps of `step_ms` milliseconds each.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewJob {
    pub steps: u32,
    pub step_ms: u64,
}

impl Default for NewJob {
    fn default() -> Self {
        NewJob {
            steps: DEFAULT_STEPS,
            step_ms: DEFAULT_STEP_MS,
        }
    }
}

/// What each `progress` event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub percent: u32,
}

/// What the `done` event carries: the job's result, or why it has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Done {
    Result(String),
    Error(String),
}

/// The hub topic of job `id`.
fn job_topic(id: &str) -> String {
    format!("jobs:{id}")
}

/// The hub topic of a job id from a path, or a `404` for what cannot be one (16 hex digits).
fn topic(id: &str) -> live_runtime::Result<String> {
    if id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(job_topic(id))
    } else {
        Err(Error::status(StatusCode::NOT_FOUND))
    }
}

/// A new job id: 64 bits from std's randomly keyed hasher, so ids do not repeat after a
/// restart (when Redis still holds the earlier jobs) and do not count the jobs. Not a secret:
/// ids that grant access need a cryptographic random generator.
fn new_id() -> String {
    format!("{:016x}", RandomState::new().hash_one(0u8))
}

/// `{"error": message}` with `status`.
fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

/// The job a `POST` asks for (an empty body: the defaults), or why it is refused.
fn check(headers: &HeaderMap, body: &[u8]) -> Result<NewJob, (StatusCode, String)> {
    if body.is_empty() {
        return Ok(NewJob::default());
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        let why = "expected Content-Type: application/json".into();
        return Err((StatusCode::UNSUPPORTED_MEDIA_TYPE, why));
    }
    // An object only: serde would also read the struct from an array of its fields.
    let object = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body);
    let job: NewJob = object
        .and_then(|o| serde_json::from_value(o.into()))
        .map_err(|e| {
            let why = format!(r#"expected {{"steps": number, "step_ms": number}}: {e}"#);
            (StatusCode::BAD_REQUEST, why)
        })?;
    if !(1..=MAX_STEPS).contains(&job.steps) || job.step_ms > MAX_STEP_MS {
        let why = format!("steps is 1 to {MAX_STEPS}, step_ms 0 to {MAX_STEP_MS}");
        return Err((StatusCode::UNPROCESSABLE_ENTITY, why));
    }
    Ok(job)
}

/// `/jobs`: starting jobs, their pages and their progress streams.
pub struct JobsController {
    hub: Hub,
    /// Set to stop the running jobs; each job holds a receiver until its topic is closed.
    stop: Arc<watch::Sender<bool>>,
}

/// Stops the running jobs of a [`JobsController`] (see [`JobsController::stopper`]).
#[derive(Clone)]
pub struct Stopper(Arc<watch::Sender<bool>>);

impl Stopper {
    /// Stops every running job, and returns once each has closed its topic.
    pub async fn stop_jobs(&self) {
        self.0.send_replace(true);
        self.0.closed().await;
    }
}

impl JobsController {
    pub fn new(hub: Hub) -> Self {
        JobsController {
            hub,
            stop: Arc::new(watch::Sender::new(false)),
        }
    }

    /// What stops this controller's jobs, to call once the server has stopped.
    pub fn stopper(&self) -> Stopper {
        Stopper(self.stop.clone())
    }
}

#[live_controller]
impl JobsController {
    /// `GET /jobs`: the form that starts a job.
    pub async fn index(&self, live: Live) -> live_runtime::Result {
        live.html(INDEX)
    }

    /// `POST /jobs`: starts a job, answers `201` and its id.
    pub async fn create(&self, headers: HeaderMap, body: Bytes) -> Response {
        let job = match check(&headers, &body) {
            Ok(job) => job,
            Err((status, why)) => return error(status, &why),
        };
        let id = new_id();
        let topic = job_topic(&id);
        // Before the answer: the topic exists once the client can ask for it.
        let start = Progress { percent: 0 };
        if let Err(failure) = self.hub.publish_value(&topic, "progress", &start).await {
            tracing::warn!(error = %failure, "jobs: could not start a job");
            return error(failure.status_code(), "could not start the job; try again");
        }
        tokio::spawn(run(self.hub.clone(), topic, job, self.stop.subscribe()));
        let location = [(header::LOCATION, format!("/jobs/{id}"))];
        let body = axum::Json(serde_json::json!({ "id": id }));
        (StatusCode::CREATED, location, body).into_response()
    }

    /// `GET /jobs/{id}`: the job's page.
    pub async fn show(&self, Path(id): Path<String>, live: Live) -> live_runtime::Result {
        // A 404 page for an unknown job (the subscription is dropped at once).
        self.hub
            .subscribe_existing(&topic(&id)?, Since::Now)
            .await?;
        // The id is 16 hex digits (`topic` checked): safe in the HTML and the script as is.
        live.html(PAGE.replace("{id}", &id))
    }

    /// `GET /jobs/{id}/progress`: the job's current progress, its changes, then `done`.
    #[get("/{id}/progress")]
    pub async fn progress(
        &self,
        Path(id): Path<String>,
        last: LastEventId<EventId>,
        live: Live,
    ) -> live_runtime::Result {
        let since = Since::after_or(last.into_inner(), Since::Beginning);
        let progress = self.hub.subscribe_existing(&topic(&id)?, since).await;
        // Before anything is committed: an unknown job is a `404`, a reconnection after `done`
        // a `204` (the `EventSource` stops), Redis down a stream the browser retries; else
        // the progress, until `done` closes the topic.
        live.follow(SseOptions::new().retry(RETRY), progress).await
    }
}

/// Runs a job: publishes its progress after each step, then closes its topic with `done`,
/// with an error if `stop` was set first.
async fn run(hub: Hub, topic: String, job: NewJob, mut stop: watch::Receiver<bool>) {
    let steps = async {
        for step in 1..=job.steps {
            tokio::time::sleep(Duration::from_millis(job.step_ms)).await;
            let progress = Progress {
                percent: step * 100 / job.steps,
            };
            // A value lost to a Redis outage is superseded by the next one: go on.
            if let Err(error) = hub.publish_value(&topic, "progress", &progress).await {
                tracing::warn!(topic, %error, "jobs: could not publish progress");
            }
        }
        Done::Result(format!("finished {} steps", job.steps))
    };
    let done = tokio::select! {
        done = steps => done,
        _ = stop.wait_for(|stop| *stop) => {
            Done::Error("the server stopped before the job finished".into())
        }
    };
    for _ in 0..CLOSE_ATTEMPTS {
        match hub.close_with(&topic, "done", &done).await {
            Ok(_) => return,
            Err(error) => tracing::warn!(topic, %error, "jobs: could not close a job"),
        }
        tokio::time::sleep(RETRY).await;
    }
}

const INDEX: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>live · jobs</title>
<style>
  body { font: 16px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 34rem; color: #1d2430; }
  label { display: block; margin: .5rem 0; }
  input { font: inherit; width: 6rem; }
  button { font: inherit; padding: .45rem 1rem; border: 0; border-radius: .375rem; background: #2563eb; color: #fff; }
  #error { color: #b91c1c; }
</style>
</head>
<body>
<h1>Start a job</h1>
<form id="start">
  <label>Steps <input id="steps" type="number" min="1" max="1000" value="20"></label>
  <label>Milliseconds per step <input id="step_ms" type="number" min="0" max="10000" value="150"></label>
  <button type="submit">Start</button>
</form>
<p id="error"></p>
<script>
  document.getElementById('start').addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {
      steps: Number(document.getElementById('steps').value),
      step_ms: Number(document.getElementById('step_ms').value),
    };
    const response = await fetch('/jobs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (response.status === 201) location.href = '/jobs/' + answer.id;
    else document.getElementById('error').textContent = answer.error || ('error ' + response.status);
  });
</script>
</body>
</html>
"#;

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>live · job {id}</title>
<style>
  body { font: 16px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 34rem; color: #1d2430; }
  progress { width: 100%; height: 1.5rem; }
  #state { display: inline-block; padding: .1rem .6rem; border-radius: 1rem; font-size: .85rem; background: #fef3c7; color: #92400e; }
  #state.done { background: #d1fae5; color: #065f46; }
  #state.failed, #state.lost { background: #fee2e2; color: #991b1b; }
</style>
</head>
<body>
<h1>Job {id}</h1>
<p><span id="state">connecting</span> <span id="percent">0%</span></p>
<progress id="bar" max="100" value="0"></progress>
<p id="result"></p>
<p><a href="/jobs">Start another job</a></p>
<script>
  // Every percent received, in order: the browser test reads it.
  window.percents = [];
  const state = document.getElementById('state');
  const bar = document.getElementById('bar');
  const percent = document.getElementById('percent');
  const result = document.getElementById('result');
  function setState(name) { state.textContent = name; state.className = name; }

  const source = new EventSource('/jobs/{id}/progress');
  source.onopen = () => setState('running');
  source.addEventListener('progress', (event) => {
    const { percent: p } = JSON.parse(event.data);
    window.percents.push(p);
    bar.value = p;
    percent.textContent = p + '%';
  });
  // The last event: no reconnection after it. Text goes in with textContent, never as HTML.
  source.addEventListener('done', (event) => {
    source.close();
    const done = JSON.parse(event.data);
    if ('result' in done) {
      bar.value = 100;
      percent.textContent = '100%';
      result.textContent = done.result;
      setState('done');
    } else {
      result.textContent = done.error;
      setState('failed');
    }
  });
  // Closed by the browser without `done`: the job is unknown to the server (a `404`, as
  // after a restart of a server without Redis). Otherwise it reconnects by itself.
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) {
      result.textContent = 'This job is gone: the server no longer knows it.';
      setState('lost');
    } else {
      setState('reconnecting');
    }
  };
</script>
</body>
</html>
"#;

#[allow(dead_code)] // the tests include this file for the controller alone
#[tokio::main]
async fn main() -> std::io::Result<()> {
    let hub = match std::env::var("REDIS_URL") {
        Ok(url) => Hub::redis(&url, HubConfig::default()).map_err(|e| {
            std::io::Error::other(format!("REDIS_URL={url} is not a Redis URL: {e}"))
        })?,
        Err(_) => Hub::memory(HubConfig::default()),
    };
    let routes = RouteTable::new().controller::<JobsController>();
    let controller = JobsController::new(hub);
    let stopper = controller.stopper();
    common::serve("jobs", "/jobs", controller.into_router(), routes).await?;
    // The streams have ended: close the running jobs' topics, so no page waits for them.
    stopper.stop_jobs().await;
    Ok(())
}
