//! Running a live action: spawned with the request's task-locals and tracing span, answered
//! as soon as it commits, closed however it ends.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::response::Response;
use bytes::Bytes;
use futures_util::future::{self, FutureExt};
use http::{HeaderValue, StatusCode, header, request};
use tracing::Instrument;

use crate::body::LiveBody;
use crate::config::LiveConfig;
use crate::error::{BoxError, Error, ErrorKind, Result};
use crate::error_page;
use crate::head::Committed;
use crate::locals::Context;
use crate::response::{Live, RequestInfo};
use crate::shutdown::Shutdown;
use crate::stats::{ActionName, ActionStats, Counted, Outcome};
use crate::stream_state::{Polling, StreamState};

/// Rails' `ActionView::Base.streaming_completion_on_exception`, sent on opt-in
/// (docs/rails-parity.md, E-02).
const HTML_ERROR_SNIPPET: &str = r#""><script>window.location = "/500.html"</script></html>"#;

/// What a live action may return: `()`, or `Result<(), E>` for any error type that converts
/// into a boxed error: [`Error`] (so `live_runtime::Result`), `anyhow::Error`, `eyre::Report`,
/// `Box<dyn std::error::Error + Send + Sync>` or any `std::error::Error + Send + Sync`. An
/// [`Error`] inside any of them keeps its kind and response (see [`Error::new`]).
#[diagnostic::on_unimplemented(
    message = "a live action must return `()` or a `Result<(), E>`, not `{Self}`",
    label = "not a live action's return type",
    note = "`E` is any error that converts into `Box<dyn std::error::Error + Send + Sync>`: `live_runtime::Error`, `anyhow::Error`, `eyre::Report`, or your own error type"
)]
pub trait ActionOutput: Send {
    /// The outcome as the runtime's result.
    fn into_result(self) -> Result;
}

impl ActionOutput for () {
    fn into_result(self) -> Result {
        Ok(())
    }
}

impl<E: Into<BoxError> + Send> ActionOutput for std::result::Result<(), E> {
    fn into_result(self) -> Result {
        self.map_err(Error::new)
    }
}

/// The request side of a live action: an axum extractor that captures what the action needs
/// of the request, then [`spawn`](Self::spawn)s it.
///
/// `#[live_controller]` generates this wiring; by hand it reads:
///
/// ```
/// use axum::{Router, routing::get, response::Response};
/// use live_runtime::prelude::*;
///
/// async fn ticks(request: LiveRequest) -> Response {
///     request
///         .spawn(|live: Live| async move {
///             let mut stream = live.stream();
///             for n in 0..3 {
///                 stream.writeln(format!("tick {n}")).await?;
///             }
///             Ok::<_, live_runtime::Error>(())
///         })
///         .await
/// }
///
/// let app: Router = Router::new().route("/ticks", get(ticks));
/// ```
#[derive(Debug)]
pub struct LiveRequest {
    info: RequestInfo,
    /// For the format of an error page.
    accept: Option<HeaderValue>,
    config: &'static LiveConfig,
    /// The app's shutdown, when its router has the layer.
    shutdown: Option<Shutdown>,
    /// The labels of its metrics and the fields of its log span.
    name: ActionName,
}

impl<S: Send + Sync> FromRequestParts<S> for LiveRequest {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut request::Parts,
        _state: &S,
    ) -> std::result::Result<Self, Infallible> {
        Ok(LiveRequest::from_parts(parts))
    }
}

/// A copy of a request header's value that does not share its bytes. hyper's header values are
/// views into the connection's read buffer, and a clone kept by the action would keep that
/// buffer (8 KB) from being reused for the connection's next read, for as long as the action
/// runs.
fn detached(value: &HeaderValue) -> HeaderValue {
    let mut copy = HeaderValue::from_bytes(value.as_bytes()).unwrap_or_else(|_| value.clone());
    copy.set_sensitive(value.is_sensitive());
    copy
}

impl LiveRequest {
    /// What the action needs of the request head; nothing here can fail or wait.
    pub(crate) fn from_parts(parts: &request::Parts) -> Self {
        let accepts_html = error_page::is_html_request(parts.headers.get(header::ACCEPT));
        LiveRequest {
            info: RequestInfo {
                if_none_match: parts.headers.get(header::IF_NONE_MATCH).map(detached),
                accepts_html,
            },
            accept: parts.headers.get(header::ACCEPT).map(detached),
            config: LiveConfig::global(),
            shutdown: parts.extensions.get::<Shutdown>().cloned(),
            name: ActionName::default(),
        }
    }

    /// Names the action, for its metrics' `controller` and `action` labels and its log
    /// lines' span (`live_action{controller=.. action=..}`): `#[live_controller]` passes the
    /// controller's type name and the method's name. Unnamed, both are empty. Both must be
    /// fixed names, never built from the request: each pair is a series of every metric.
    #[must_use]
    pub fn named(mut self, controller: &'static str, action: &'static str) -> Self {
        self.name = ActionName { controller, action };
        self
    }

    /// Runs the action under `config` (a controller's) on top of the global config.
    #[must_use]
    pub fn with_config(mut self, config: &'static LiveConfig) -> Self {
        self.config = config;
        self
    }

    /// Starts `action` when first polled, and answers as soon as it commits.
    ///
    /// The action runs in a clone of the request's inheritable task-locals (minus the excluded
    /// ones) and in the request's tracing span. Its first poll happens in the request's task;
    /// unless it is done by then (it answered, or handed its stream a source), it goes on in a
    /// task of its own, spawned on the runtime that polls this future. The response's status
    /// and headers are returned when the action first writes, closes, answers, or ends; the
    /// body then streams what it writes while it keeps running, as in Rails. When the action
    /// ends, by return, error or panic, the stream ends with it.
    ///
    /// An error or panic before commit becomes the error's response (a generic 500 unless the
    /// error chose one) and is logged, as in Rails. After commit, the stream's
    /// [`on_error`](crate::LiveStream::on_error) runs and may write a last few bytes, the error
    /// is logged with its chain of causes, and the response is cut after those bytes, so the
    /// client sees an incomplete response rather than one that looks whole; with
    /// [`LiveConfig::clean_end_on_error`] it ends cleanly instead, as in Rails. A client
    /// disconnect, a write timeout or a server shutdown is no failure of the action: it is
    /// logged at `debug` only, and a shutdown ends the response cleanly.
    ///
    /// # Panics
    /// When polled outside a tokio runtime, as [`tokio::spawn`] does.
    pub fn spawn<F, Fut>(self, action: F) -> impl Future<Output = Response> + Send + 'static
    where
        F: FnOnce(Live) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: ActionOutput,
    {
        // Not an `async fn`: that would keep the request and the closure for as long as it
        // waits for the commit, in every request's handler future, which axum allocates and
        // writes whole. Flattened, the two stages share their place.
        future::lazy(move |cx| self.start(action, cx)).flatten()
    }

    /// Starts the action; the future that answers once it commits.
    fn start<F, Fut>(
        self,
        action: F,
        cx: &mut TaskContext<'_>,
    ) -> impl Future<Output = Response> + Send + use<F, Fut>
    where
        F: FnOnce(Live) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: ActionOutput,
    {
        let settings = self.config.resolve();
        let html_snippet = settings.html_error_snippet && self.info.accepts_html;
        let started = std::time::Instant::now();
        let (state, committed) = StreamState::new(settings, ActionStats::start(self.name));
        // Created before the spawn: if the client leaves before commit, axum drops this
        // handler, the body with it, and the action sees the disconnect.
        let body = LiveBody::new(state.clone());
        let live = Live::new(self.info, state.clone());
        if let Some(shutdown) = &self.shutdown {
            shutdown.register(&state);
        }
        let task = ActionTask {
            stage: Stage::Start { action, live },
            guard: CloseGuard {
                state: state.clone(),
                outcome: Outcome::ClientGone,
            },
            _alive: state.stats.running(),
            html_snippet,
        };
        let context = Context::inherit(|key| self.config.excludes(key));
        let ActionName { controller, action } = self.name;
        // Within the request's span: every line the action logs names it.
        let span = tracing::error_span!("live_action", controller, action);
        let mut action = Box::pin(context.scope(task).instrument(span));
        // Polled once here, in the request's own task: an action that is done in its first
        // poll (one that answers at once, or hands a subscription to its stream) needs no task,
        // and what its request allocated is freed before the next request allocates. The task
        // polls it again at once, so what it waits on wakes the task, not this request.
        if action.as_mut().poll(cx).is_pending() {
            let action = tokio::spawn(action);
            if state.settings.cancel_on_disconnect {
                state.cancel_on_disconnect(action.abort_handle());
            }
        }
        let stats = state.stats.clone();
        drop(state);
        let (accept, config) = (self.accept, self.config);
        async move {
            let committed = committed.await;
            if committed.is_ok() {
                stats.committed(started.elapsed());
            }
            let response = match committed {
                Ok(Committed::Stream(parts)) => {
                    return Response::from_parts(parts, Body::new(body));
                }
                Ok(Committed::Full(response)) => response,
                // The action task was cancelled before it answered: the runtime is shutting down.
                Err(_) => error_page::unrendered(StatusCode::SERVICE_UNAVAILABLE),
            };
            error_page::render(response, accept.as_ref(), config.renderer())
        }
    }
}

pin_project_lite::pin_project! {
    /// An action's task: makes the action's future on the first poll (inside the task-locals
    /// and span the task runs in), polls it, catches its panic, and finishes the response.
    /// Written by hand so that the closure and the action's future share their place: every
    /// request's task is allocated and written whole, and an `async` block would hold both.
    struct ActionTask<F, Fut> {
        // Fields drop in this order: the action, then the guard that ends its stream.
        #[pin]
        stage: Stage<F, Fut>,
        // Dropped with the task before the action ended: cancelled with its client
        // (`cancel_on_disconnect`) or with the runtime.
        guard: CloseGuard,
        _alive: Counted,
        html_snippet: bool,
    }
}

pin_project_lite::pin_project! {
    /// Where an action's task is: the closure and its `Live`, then the action's future.
    #[project = StageProj]
    #[project_replace = StageTaken]
    enum Stage<F, Fut> {
        Start { action: F, live: Live },
        Running { #[pin] future: Fut },
        Done,
    }
}

impl<F, Fut> Future for ActionTask<F, Fut>
where
    F: FnOnce(Live) -> Fut,
    Fut: Future,
    Fut::Output: ActionOutput,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let mut this = self.project();
        let state = &this.guard.state;
        let result = 'polled: {
            if matches!(this.stage.as_mut().project(), StageProj::Start { .. })
                && let StageTaken::Start { action, live } =
                    this.stage.as_mut().project_replace(Stage::Done)
            {
                // A closure that panics before it returns the action's future fails the
                // action, as a panic inside the future does.
                match std::panic::catch_unwind(AssertUnwindSafe(|| action(live))) {
                    Ok(future) => this.stage.set(Stage::Running { future }),
                    Err(panic) => break 'polled Err(Error::panic(&*panic)),
                }
            }
            let StageProj::Running { future } = this.stage.as_mut().project() else {
                return Poll::Ready(());
            };
            let polled = std::panic::catch_unwind(AssertUnwindSafe(|| {
                let _polling = Polling::enter(state);
                future.poll(cx)
            }));
            match polled {
                Ok(Poll::Pending) => {
                    if state.take_dropped() {
                        // The action dropped its stream and goes on without it: end it now.
                        state.close();
                    }
                    return Poll::Pending;
                }
                Ok(Poll::Ready(output)) => output.into_result(),
                Err(panic) => Err(Error::panic(&*panic)),
            }
        };
        this.guard.outcome = Outcome::of(&result);
        finish(state, result, *this.html_snippet);
        Poll::Ready(())
    }
}

/// Ends the stream if the action task is dropped before it could (runtime shutdown, abort),
/// and counts the action's end with its outcome, however it ends.
struct CloseGuard {
    state: Arc<StreamState>,
    outcome: Outcome,
}

impl Drop for CloseGuard {
    fn drop(&mut self) {
        self.state.abandon();
        self.state.stats.ended(self.outcome);
    }
}

/// The end of an action: the error path if it failed, then close (which commits if needed).
fn finish(state: &StreamState, result: Result, html_snippet: bool) {
    let unavailable = result
        .as_ref()
        .err()
        .filter(|error| error.kind() == ErrorKind::Unavailable);
    if let Some(error) = unavailable
        && state.commit_pending_event_stream()
    {
        // A 503 would make an `EventSource` give up for good; a clean end makes it retry.
        let error = error.chain();
        tracing::warn!(%error, "live: unavailable before the first event; the SSE stream ends for the client to retry");
        state.close();
        return;
    }
    if let Err(error) = result {
        let Err(error) = state.commit_full_or(error, log_before_commit) else {
            return;
        };
        let on_error = state.take_on_error();
        let mut tail = Vec::new();
        if html_snippet && !error.is_disconnect() {
            tail.push(Bytes::from_static(HTML_ERROR_SNIPPET.as_bytes()));
        }
        if let Some(on_error) = on_error {
            match std::panic::catch_unwind(AssertUnwindSafe(|| on_error(&error, &mut tail))) {
                Ok(Ok(())) => {}
                Ok(Err(callback_error)) => {
                    let error = callback_error.chain();
                    tracing::error!(%error, "live: on_error callback failed");
                }
                Err(panic) => {
                    let callback_error = Error::panic(&*panic);
                    let error = callback_error.chain();
                    tracing::error!(%error, "live: on_error callback panicked");
                }
            }
        }
        log_after_commit(&error);
        state.write_tail(tail);
        if !error.is_disconnect() && !state.settings.clean_end_on_error {
            state.fail();
            return;
        }
    }
    state.close();
}

fn log_before_commit(error: Error) -> Response {
    error.log_unanswered();
    error.response()
}

fn log_after_commit(error: &Error) {
    let disconnect = error.is_disconnect();
    // One line, with the error's chain: no Debug dump, no backtrace.
    let error = error.chain();
    if disconnect {
        tracing::debug!(%error, "live: connection going away, stream ended");
    } else {
        tracing::error!(%error, "live: action failed after commit, stream ended");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_header_values_do_not_share_the_read_buffer() {
        // hyper's header values are slices of the connection's read buffer, as this one is.
        let buffer = Bytes::from_static(b"GET / HTTP/1.1\r\naccept: text/html\r\n\r\n");
        let mut value = HeaderValue::from_maybe_shared(buffer.slice(24..33)).unwrap();
        value.set_sensitive(true);
        let kept = detached(&value);
        assert_eq!(kept, "text/html");
        assert!(kept.is_sensitive());
        assert_ne!(kept.as_bytes().as_ptr(), value.as_bytes().as_ptr());
    }
}
