//! The error type of live actions and of the stream they write to.

use std::error::Error as StdError;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};

use crate::error_page;

/// A boxed error, as any `std::error::Error` is carried inside [`Error`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The result of a live action and of every stream operation. `T` defaults to `()`, so an
/// action's signature reads `-> live_runtime::Result`.
pub type Result<T = (), E = Error> = std::result::Result<T, E>;

/// What went wrong, as far as the runtime can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A write after the action's own [`close`](crate::LiveStream::close) (Rails' `IOError:
    /// closed stream`). Always a bug in the action.
    Closed,
    /// The client went away: its connection closed, or it was gone before the response was
    /// committed (Rails' `ClientDisconnected`). A normal end of a stream, logged at `debug`.
    ClientDisconnected,
    /// The client stopped reading: the buffer stayed full for longer than the configured write
    /// timeout, so the connection was aborted (like Puma's 10 s write timeout under Rails).
    WriteTimeout,
    /// The server is shutting down ([`Shutdown`](crate::Shutdown)): the stream ended after
    /// what was queued. A normal end, logged at `debug`. Before commit it answers `503`, but
    /// an SSE stream is committed empty instead, since an `EventSource` reconnects after a
    /// clean end and gives up for good on an error status.
    ShuttingDown,
    /// A header name or value that HTTP does not allow.
    InvalidHeader,
    /// A download wrote more bytes than its declared length, or ended with fewer; the
    /// connection is aborted so the client sees an incomplete download.
    LengthMismatch,
    /// An SSE event that cannot be sent safely: a line break or NUL in its `event` or `id`
    /// (which would inject fields), or a payload that does not serialize.
    InvalidEvent,
    /// The action panicked; the panic was caught and took the error path.
    Panic,
    /// A broadcast [`Hub`](crate::broadcast::Hub) could not reach its engine (Redis down, or
    /// not answering in time: then a publish may have been stored before the reply was lost).
    /// Answers `503` before commit, except on an SSE response, which is committed empty and
    /// ended so that an `EventSource` retries. The hub keeps reconnecting in the background,
    /// so a later call may succeed.
    Unavailable,
    /// A broadcast payload over the hub's
    /// [`max_payload_bytes`](crate::broadcast::HubConfig::max_payload_bytes): nothing was
    /// published; answers `413` before commit.
    PayloadTooLarge,
    /// A broadcast topic that is empty or longer than 1,024 bytes, or a publish of the other
    /// kind to a topic (a log topic's `publish` to a value topic, or the reverse: a topic's
    /// first publish sets its kind); answers `400` before commit.
    InvalidTopic,
    /// A broadcast [`Hub`](crate::broadcast::Hub) holds its
    /// [`max_topics`](crate::broadcast::HubConfig::max_topics) and the call would have created
    /// another: nothing was published or subscribed. The topics held keep working, and room
    /// comes back as their events age out and their subscribers leave. Answers `503` before
    /// commit.
    TooManyTopics,
    /// A broadcast topic that does not exist, for
    /// [`Hub::subscribe_existing`](crate::broadcast::Hub::subscribe_existing): never published
    /// to, or forgotten (a closed topic past its
    /// [`closed_topic_age`](crate::broadcast::HubConfig::closed_topic_age)). Answers `404`
    /// before commit.
    NotFound,
    /// A publish to a broadcast topic that was closed
    /// ([`Hub::close_with`](crate::broadcast::Hub::close_with)): nothing was published.
    /// Answers `409 Conflict` before commit.
    TopicClosed,
    /// An error returned by the action itself.
    Action,
}

/// The error of a live action and of the stream it writes to.
///
/// It is a `std::error::Error + Send + Sync + 'static`, so it goes into `anyhow::Error`,
/// `eyre::Report` or a `Box<dyn Error + Send + Sync>` with `?`, and a live action may return
/// any of those (or `Result<(), YourError>`) instead of [`Result`]: an error of this type inside
/// one keeps its kind and response. Before the response is committed an error answers with a
/// generic `500` (its text is logged, never sent), unless it was built with [`Error::status`]
/// or carries a response ([`Error::with_response`]).
///
/// Into this type, `?` converts the common errors of a web action (I/O, JSON, HTTP, UTF-8,
/// number parsing, a joined task, a boxed error), `anyhow::Error` and `eyre::Report` (cargo
/// features `anyhow` and `eyre`); any other error goes through [`Error::new`]:
/// `.map_err(Error::new)?`. A blanket conversion from every error type is impossible for a
/// type that is itself an error (it would convert into itself twice).
///
/// One pointer wide, so a `Result` of the write path stays small.
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    message: Option<Box<str>>,
    source: Option<BoxError>,
    status: StatusCode,
    /// Behind a mutex only so the error is `Sync`, as error types are expected to be (a body
    /// is `Send` only); it is taken once, when the error answers.
    response: Mutex<Option<Response>>,
    /// Made by [`Error::new`] around an error that carries one of this type deeper down,
    /// whose kind it took: its words are still the wrapped error's (see `is_transparent`).
    adopted: bool,
}

impl Error {
    fn of(kind: ErrorKind) -> Self {
        Error(Box::new(Inner {
            kind,
            message: None,
            source: None,
            status: StatusCode::INTERNAL_SERVER_ERROR,
            response: Mutex::new(None),
            adopted: false,
        }))
    }

    pub(crate) fn closed() -> Self {
        Self::of(ErrorKind::Closed)
    }

    pub(crate) fn client_disconnected() -> Self {
        Self::of(ErrorKind::ClientDisconnected)
    }

    pub(crate) fn write_timeout() -> Self {
        Self::of(ErrorKind::WriteTimeout)
    }

    pub(crate) fn shutting_down() -> Self {
        Self::of(ErrorKind::ShuttingDown).with_status(StatusCode::SERVICE_UNAVAILABLE)
    }

    pub(crate) fn invalid_header(source: impl Into<BoxError>) -> Self {
        Self::of(ErrorKind::InvalidHeader).with_source(source)
    }

    pub(crate) fn length_mismatch(expected: u64, written: u64) -> Self {
        let mut error = Self::of(ErrorKind::LengthMismatch);
        error.0.message = Some(format!("declared {expected} bytes, wrote {written}").into());
        error
    }

    pub(crate) fn invalid_event(source: impl Into<BoxError>) -> Self {
        Self::of(ErrorKind::InvalidEvent).with_source(source)
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))] // only Redis can be unreachable
    pub(crate) fn unavailable(source: impl Into<BoxError>) -> Self {
        Self::of(ErrorKind::Unavailable)
            .with_status(StatusCode::SERVICE_UNAVAILABLE)
            .with_source(source)
    }

    pub(crate) fn payload_too_large(size: usize, limit: usize) -> Self {
        let mut error =
            Self::of(ErrorKind::PayloadTooLarge).with_status(StatusCode::PAYLOAD_TOO_LARGE);
        error.0.message = Some(format!("{size} bytes, the limit is {limit}").into());
        error
    }

    pub(crate) fn invalid_topic(message: impl fmt::Display) -> Self {
        let mut error = Self::of(ErrorKind::InvalidTopic).with_status(StatusCode::BAD_REQUEST);
        error.0.message = Some(message.to_string().into());
        error
    }

    pub(crate) fn too_many_topics(limit: usize) -> Self {
        let mut error =
            Self::of(ErrorKind::TooManyTopics).with_status(StatusCode::SERVICE_UNAVAILABLE);
        error.0.message = Some(format!("the hub holds its limit of {limit} topics").into());
        error
    }

    pub(crate) fn not_found(topic: &str) -> Self {
        let mut error = Self::of(ErrorKind::NotFound).with_status(StatusCode::NOT_FOUND);
        error.0.message = Some(format!("no topic {topic:?}").into());
        error
    }

    pub(crate) fn topic_closed(topic: &str) -> Self {
        let mut error = Self::of(ErrorKind::TopicClosed).with_status(StatusCode::CONFLICT);
        error.0.message = Some(format!("topic {topic:?} was closed").into());
        error
    }

    pub(crate) fn panic(payload: &(dyn std::any::Any + Send)) -> Self {
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".to_owned());
        let mut error = Self::of(ErrorKind::Panic);
        error.0.message = Some(text.into());
        error
    }

    /// Wraps any error; the response, if it comes before commit, is a generic `500`. An error
    /// of this type, boxed or inside an `anyhow::Error`/`eyre::Report`, comes back as it was
    /// (kind, status and response), so nothing is lost on the way through another error type.
    pub fn new(error: impl Into<BoxError>) -> Self {
        let error = match error.into().downcast::<Error>() {
            Ok(error) => return *error,
            Err(other) => other,
        };
        // Wrapped deeper (an `anyhow` context around a disconnect, say): keep what it says.
        let inner = chain(&*error)
            .find_map(|cause| cause.downcast_ref::<Error>())
            .map(|inner| (inner.kind(), inner.status_code(), inner.take_response()));
        let mut wrapped = Self::of(ErrorKind::Action).with_source(error);
        if let Some((kind, status, response)) = inner {
            wrapped.0.adopted = true;
            wrapped.0.kind = kind;
            wrapped.0.status = status;
            *wrapped
                .0
                .response
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner) = response;
        }
        wrapped
    }

    /// An error with a message only; the response, if it comes before commit, is a generic `500`.
    pub fn msg(message: impl fmt::Display) -> Self {
        let mut error = Self::of(ErrorKind::Action);
        error.0.message = Some(message.to_string().into());
        error
    }

    /// An error that answers with `status` (and its canonical reason as a plain-text body) if it
    /// happens before commit. `Error::status(StatusCode::BAD_REQUEST)` is Rails'
    /// `ActionController::BadRequest`.
    pub fn status(status: StatusCode) -> Self {
        Self::of(ErrorKind::Action).with_status(status)
    }

    /// Sets the status this error answers with before commit.
    #[must_use]
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.0.status = status;
        self
    }

    /// Attaches the cause, kept for logs and for [`source`](StdError::source); never sent.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.0.source = Some(source.into());
        self
    }

    /// Sets the whole response this error answers with before commit.
    #[must_use]
    pub fn with_response(mut self, response: impl IntoResponse) -> Self {
        let response = response.into_response();
        self.0.status = response.status();
        *self
            .0
            .response
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner) = Some(response);
        self
    }

    fn take_response(&self) -> Option<Response> {
        self.0
            .response
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// Whether the connection is going away: the client left
    /// ([`ClientDisconnected`](ErrorKind::ClientDisconnected)), stopped reading
    /// ([`WriteTimeout`](ErrorKind::WriteTimeout)), or the server is shutting down
    /// ([`ShuttingDown`](ErrorKind::ShuttingDown)). The usual way a stream ends, not a failure:
    /// logged at `debug`.
    pub fn is_disconnect(&self) -> bool {
        matches!(
            self.0.kind,
            ErrorKind::ClientDisconnected | ErrorKind::WriteTimeout | ErrorKind::ShuttingDown
        )
    }

    /// The status this error answers with if it happens before commit.
    pub fn status_code(&self) -> StatusCode {
        self.0.status
    }

    /// Downcasts the wrapped error.
    pub fn downcast_ref<E: StdError + 'static>(&self) -> Option<&E> {
        self.0.source.as_deref()?.downcast_ref()
    }

    /// Only wraps another error: then this error is that error, for display and causes. So is
    /// one that took its kind from deeper down: its kind's words are the inner error's, which
    /// the chain shows in its place.
    fn is_transparent(&self) -> bool {
        (self.0.kind == ErrorKind::Action || self.0.adopted)
            && self.0.message.is_none()
            && self.0.source.is_some()
    }

    /// The error and its causes on one line, `outer: cause: root`, as logs show it.
    pub(crate) fn chain(&self) -> impl fmt::Display + '_ {
        Chain(self)
    }
}

/// An error followed by its causes.
struct Chain<'a>(&'a (dyn StdError + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut errors = chain(self.0);
        if let Some(first) = errors.next() {
            write!(f, "{first}")?;
        }
        errors.try_for_each(|cause| write!(f, ": {cause}"))
    }
}

/// `error`, then each of its causes.
fn chain<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |&error| error.source())
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        let source = self.0.source.as_deref()?;
        if self.is_transparent() {
            source.source()
        } else {
            Some(source)
        }
    }
}

impl From<BoxError> for Error {
    fn from(error: BoxError) -> Self {
        Error::new(error)
    }
}

/// `?` on the errors a web action commonly meets.
macro_rules! from_errors {
    ($($error:ty),* $(,)?) => {$(
        impl From<$error> for Error {
            fn from(error: $error) -> Self {
                Error::new(error)
            }
        }
    )*};
}

from_errors!(
    std::io::Error,
    fmt::Error,
    std::str::Utf8Error,
    std::string::FromUtf8Error,
    std::num::ParseIntError,
    std::num::ParseFloatError,
    serde_json::Error,
    http::Error,
    header::InvalidHeaderValue,
    header::InvalidHeaderName,
    header::ToStrError,
    axum::Error,
    tokio::task::JoinError,
    tokio::time::error::Elapsed,
);

#[cfg(feature = "anyhow")]
impl From<anyhow::Error> for Error {
    fn from(error: anyhow::Error) -> Self {
        Error::new(error)
    }
}

#[cfg(feature = "eyre")]
impl From<eyre::Report> for Error {
    fn from(error: eyre::Report) -> Self {
        Error::new(error)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let this = &*self.0;
        // A wrapper says what it wraps says; its causes are `source()`'s (see `chain`).
        if let Some(source) = this.source.as_ref().filter(|_| self.is_transparent()) {
            return write!(f, "{source}");
        }
        let what = match this.kind {
            ErrorKind::Closed => "write to a closed stream",
            ErrorKind::ClientDisconnected => "client disconnected",
            ErrorKind::WriteTimeout => "client stopped reading: write timed out",
            ErrorKind::ShuttingDown => "server shutting down",
            ErrorKind::InvalidHeader => "invalid header",
            ErrorKind::InvalidEvent => "invalid SSE event",
            ErrorKind::LengthMismatch => "download length mismatch",
            ErrorKind::Panic => "action panicked",
            ErrorKind::Unavailable => "broadcast engine unavailable",
            ErrorKind::PayloadTooLarge => "broadcast payload too large",
            ErrorKind::InvalidTopic => "invalid broadcast topic",
            ErrorKind::TooManyTopics => "too many broadcast topics",
            ErrorKind::NotFound => "no such broadcast topic",
            ErrorKind::TopicClosed => "broadcast topic closed",
            ErrorKind::Action => "",
        };
        f.write_str(what)?;
        if let Some(message) = &this.message {
            let sep = if what.is_empty() { "" } else { ": " };
            write!(f, "{sep}{message}")?;
        }
        // Only this error's own words: its causes are `source()`'s.
        if what.is_empty() && this.message.is_none() {
            write!(f, "{}", this.status)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let this = &*self.0;
        f.debug_struct("Error")
            .field("kind", &this.kind)
            .field("status", &this.status)
            .field("message", &this.message)
            .field("source", &this.source)
            .field("response", &this.response.lock().is_ok_and(|r| r.is_some()))
            .finish_non_exhaustive()
    }
}

/// The response of an error that happens before commit: the one attached, or the status with
/// its canonical reason. The error's own text is never sent; it is logged, as the error of a
/// live action is: a server error at `error`, a client error at `info`, a disconnect at
/// `debug`. So `?` in an ordinary action (`-> live_runtime::Result<String>`) is not silent.
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.log_unanswered();
        self.response()
    }
}

impl Error {
    /// Logs an error that answers the request (nothing was committed before it).
    pub(crate) fn log_unanswered(&self) {
        let status = self.status_code();
        let error = self.chain();
        if self.is_disconnect() {
            tracing::debug!(%error, "live: connection going away before commit");
        } else if status.is_server_error() {
            tracing::error!(%error, %status, "live: action failed before commit");
        } else {
            tracing::info!(%error, %status, "live: action answered with an error");
        }
    }

    /// The response, without logging: the one attached, or the status's error page, rendered
    /// in the request's format where the request is known (see [`crate::error_page`]).
    pub(crate) fn response(self) -> Response {
        self.take_response()
            .unwrap_or_else(|| error_page::unrendered(self.0.status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_chains_kind_message_and_sources() {
        let io = std::io::Error::other("disk on fire");
        assert_eq!(Error::from(io).to_string(), "disk on fire");
        assert_eq!(Error::msg("boom").to_string(), "boom");
        assert_eq!(Error::closed().to_string(), "write to a closed stream");
        assert_eq!(
            Error::status(StatusCode::BAD_REQUEST).to_string(),
            "400 Bad Request"
        );
        let panic = Error::panic(&"oops");
        assert_eq!(panic.to_string(), "action panicked: oops");
    }

    #[test]
    fn response_never_leaks_the_error_text() {
        let response = Error::msg("secret table name").into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let response = Error::status(StatusCode::BAD_REQUEST).into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn an_error_like_any_other() {
        fn is_error<E: StdError + Send + Sync + 'static>() {}
        is_error::<Error>();
        let error = Error::invalid_header(std::io::Error::other("bad byte"));
        assert_eq!(error.to_string(), "invalid header");
        assert_eq!(StdError::source(&error).unwrap().to_string(), "bad byte");
        assert_eq!(error.chain().to_string(), "invalid header: bad byte");
        // Wrappers only (`io::Error` is one too): no cause is shown twice.
        let inner = std::io::Error::other("disk on fire");
        let outer = std::io::Error::other(Error::new(inner));
        let error = Error::new(outer);
        assert_eq!(error.chain().to_string(), "disk on fire");
        let wrapped = Error::new(std::io::Error::other("alone"));
        assert!(StdError::source(&wrapped).is_none());
        assert_eq!(wrapped.chain().to_string(), "alone");
    }

    #[test]
    fn comes_back_whole_through_other_error_types() {
        let original = Error::msg("no such stock").with_response((StatusCode::NOT_FOUND, "gone"));
        let boxed: BoxError = original.into();
        let back = Error::new(boxed);
        assert_eq!(back.status_code(), StatusCode::NOT_FOUND);
        assert!(back.take_response().is_some(), "the response survives");

        let through_anyhow = anyhow_like(Error::client_disconnected());
        assert_eq!(through_anyhow.kind(), ErrorKind::ClientDisconnected);
        assert!(through_anyhow.is_disconnect());
        // The log line says each thing once: the context, then the error it is about.
        assert_eq!(
            through_anyhow.chain().to_string(),
            "while streaming: client disconnected"
        );
    }

    #[test]
    fn question_mark_on_a_boxed_error_keeps_it_for_downcasting() {
        fn parse(text: &str) -> Result<u32> {
            let boxed: BoxError = Box::new(text.parse::<u32>().unwrap_err());
            Err(boxed)?
        }
        let error = parse("x").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Action);
        assert_eq!(error.to_string(), "invalid digit found in string");
        assert!(error.downcast_ref::<std::num::ParseIntError>().is_some());
        assert!(error.downcast_ref::<std::io::Error>().is_none());
        assert!(
            Error::msg("no source")
                .downcast_ref::<std::io::Error>()
                .is_none()
        );
    }

    #[cfg(feature = "eyre")]
    #[test]
    fn question_mark_on_an_eyre_report() {
        fn load() -> Result {
            Err(eyre::eyre!("row 2 failed"))?
        }
        let error = load().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Action);
        assert_eq!(error.to_string(), "row 2 failed");
        let report = eyre::Report::new(Error::client_disconnected()).wrap_err("while streaming");
        assert!(Error::from(report).is_disconnect());
    }

    #[test]
    fn broadcast_errors_say_what_failed() {
        let unavailable = Error::unavailable(std::io::Error::other("connection refused"));
        assert_eq!(
            unavailable.chain().to_string(),
            "broadcast engine unavailable: connection refused"
        );
        assert_eq!(unavailable.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let too_large = Error::payload_too_large(70_000, 65_536);
        assert_eq!(
            too_large.to_string(),
            "broadcast payload too large: 70000 bytes, the limit is 65536"
        );
        assert_eq!(too_large.status_code(), StatusCode::PAYLOAD_TOO_LARGE);
        let topic = Error::invalid_topic("a topic is 1 to 1024 bytes, not 0");
        assert_eq!(
            topic.to_string(),
            "invalid broadcast topic: a topic is 1 to 1024 bytes, not 0"
        );
        assert_eq!(topic.status_code(), StatusCode::BAD_REQUEST);
        let full = Error::too_many_topics(10);
        assert_eq!(
            full.to_string(),
            "too many broadcast topics: the hub holds its limit of 10 topics"
        );
        assert_eq!(full.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let unknown = Error::not_found("job-7");
        assert_eq!(
            unknown.to_string(),
            "no such broadcast topic: no topic \"job-7\""
        );
        assert_eq!(unknown.status_code(), StatusCode::NOT_FOUND);
        let closed = Error::topic_closed("job-7");
        assert_eq!(
            closed.to_string(),
            "broadcast topic closed: topic \"job-7\" was closed"
        );
        assert_eq!(closed.status_code(), StatusCode::CONFLICT);
    }

    #[test]
    fn debug_shows_the_parts_and_whether_a_response_is_attached() {
        let error = Error::msg("no such stock").with_response(StatusCode::NOT_FOUND);
        assert_eq!(
            format!("{error:?}"),
            r#"Error { kind: Action, status: 404, message: Some("no such stock"), source: None, response: true, .. }"#
        );
        error.take_response();
        assert!(format!("{error:?}").contains("response: false"));
    }

    /// What `anyhow` does with an error given context: a wrapper whose cause is the error.
    fn anyhow_like(error: Error) -> Error {
        #[derive(Debug)]
        struct Context(Error);
        impl fmt::Display for Context {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("while streaming")
            }
        }
        impl StdError for Context {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        Error::new(Context(error))
    }

    #[test]
    fn one_pointer_wide() {
        assert_eq!(size_of::<Error>(), size_of::<usize>());
    }

    #[test]
    fn disconnect_kinds() {
        assert!(Error::client_disconnected().is_disconnect());
        assert!(Error::write_timeout().is_disconnect());
        assert!(!Error::closed().is_disconnect());
    }
}
