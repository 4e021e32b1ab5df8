//! Settings of live actions: globally, per controller, resolved per request.
//!
//! A controller's [`LiveConfig`] overrides the global one field by field; excluded task-locals
//! add up (Rails' `live_streaming_excluded_keys`, global and per controller).

use std::sync::OnceLock;
use std::time::Duration;

use axum::response::Response;

use crate::error_page::{ErrorPage, Renderer};
use crate::locals::{LocalKey, LocalKeyId};

/// How many chunks a stream may queue before [`write`](crate::LiveStream::write) waits for the
/// client (Rails' `Live::Buffer.queue_size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buffer {
    /// At most this many chunks (at least one); Rails' default is 10.
    Chunks(usize),
    /// Never wait: a stalled client makes the queue grow without limit. For tests and
    /// trusted, fast clients only.
    Unbounded,
}

impl Buffer {
    pub(crate) fn capacity(self) -> usize {
        match self {
            Buffer::Chunks(n) => n.max(1),
            Buffer::Unbounded => usize::MAX,
        }
    }
}

/// Settings of live actions. Every field left unset falls back to the global config (see
/// [`LiveConfig::install_global`]), then to the defaults listed on each setter.
///
/// ```
/// use std::time::Duration;
/// use live_runtime::config::{Buffer, LiveConfig};
///
/// live_runtime::task_local! { static TENANT: String; }
///
/// let config = LiveConfig::new()
///     .buffer(Buffer::Chunks(32))
///     .write_timeout(Some(Duration::from_secs(30)))
///     .exclude_local(&TENANT);
/// ```
#[derive(Debug, Clone, Default)]
pub struct LiveConfig {
    buffer: Option<Buffer>,
    write_timeout: Option<Option<Duration>>,
    coalesce_bytes: Option<usize>,
    html_error_snippet: Option<bool>,
    clean_end_on_error: Option<bool>,
    cancel_on_disconnect: Option<bool>,
    error_renderer: Option<Renderer>,
    excluded: Vec<LocalKeyId>,
}

static GLOBAL: OnceLock<LiveConfig> = OnceLock::new();
static DEFAULT: LiveConfig = LiveConfig::new();

impl LiveConfig {
    /// A config with nothing set.
    pub const fn new() -> Self {
        LiveConfig {
            buffer: None,
            write_timeout: None,
            coalesce_bytes: None,
            html_error_snippet: None,
            clean_end_on_error: None,
            cancel_on_disconnect: None,
            error_renderer: None,
            excluded: Vec::new(),
        }
    }

    /// The per-stream buffer. Default: `Buffer::Chunks(10)`, as Rails.
    #[must_use]
    pub fn buffer(mut self, buffer: Buffer) -> Self {
        self.buffer = Some(buffer);
        self
    }

    /// How long a `write` may wait for room in a full buffer before the stream is aborted with
    /// [`ErrorKind::WriteTimeout`](crate::ErrorKind::WriteTimeout); `None` waits forever.
    /// Default: 10 seconds, Puma's socket write timeout.
    #[must_use]
    pub fn write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.write_timeout = Some(timeout);
        self
    }

    /// The most bytes of queued chunks sent together in one body frame when the writer is ahead
    /// of the client (SSE events included). Default: 64 KiB. `0` turns coalescing off: one
    /// frame per write.
    #[must_use]
    pub fn coalesce_bytes(mut self, bytes: usize) -> Self {
        self.coalesce_bytes = Some(bytes);
        self
    }

    /// After an error once the response is committed, write Rails'
    /// `"><script>window.location = "/500.html"</script></html>` to clients that accept HTML,
    /// before the response is cut (or ends, with
    /// [`clean_end_on_error`](Self::clean_end_on_error)). Default: off.
    #[must_use]
    pub fn html_error_snippet(mut self, on: bool) -> Self {
        self.html_error_snippet = Some(on);
        self
    }

    /// After an error once the response is committed (and the `on_error` tail), end the
    /// response as complete, as Rails does. Default: off: the response is cut instead
    /// (HTTP/1.1: no final chunk and the connection closed; HTTP/2: the stream reset), so that
    /// every client (`curl` exits non-zero, a browser's download fails), proxy and tower layer
    /// sees the failure instead of a truncated body that looks whole: the body fails with
    /// "live action failed after commit" (`TraceLayer` reports it to `on_failure` under a
    /// classifier that waits for the end of the body; its default HTTP classifier judges by
    /// status alone). What the `on_error` tail wrote is flushed first when the connection can
    /// take it. A disconnect or a server shutdown always ends cleanly.
    #[must_use]
    pub fn clean_end_on_error(mut self, on: bool) -> Self {
        self.clean_end_on_error = Some(on);
        self
    }

    /// Cancel the action when its client goes away before the stream ended: the action's
    /// future is dropped at its next `.await`, as axum does with an ordinary handler, so an
    /// action that waits on something else (a channel, a query) stops without checking
    /// [`disconnected`](crate::LiveStream::disconnected). A server [`Shutdown`](crate::Shutdown)
    /// and a write timeout count as the client going away; an action that closed its stream
    /// itself and works on is never cancelled. Default: off, as in Rails, where the action
    /// runs on until it writes.
    #[must_use]
    pub fn cancel_on_disconnect(mut self, on: bool) -> Self {
        self.cancel_on_disconnect = Some(on);
        self
    }

    /// The application's own error pages: called for an error that answers before commit
    /// and has no response of its own ([`Error::with_response`](crate::Error::with_response)
    /// gives one), with its status and the format the request asks for. Default: live's
    /// pages ([`ErrorPage::default_response`]).
    ///
    /// ```
    /// use axum::response::{Html, IntoResponse};
    /// use live_runtime::error_page::{ErrorFormat, ErrorPage};
    /// use live_runtime::LiveConfig;
    ///
    /// let config = LiveConfig::new().error_renderer(|page: &ErrorPage| match page.format {
    ///     ErrorFormat::Html => (page.status, Html("<h1>Sorry!</h1>")).into_response(),
    ///     _ => page.default_response(),
    /// });
    /// ```
    #[must_use]
    pub fn error_renderer(
        mut self,
        render: impl Fn(&ErrorPage) -> Response + Send + Sync + 'static,
    ) -> Self {
        self.error_renderer = Some(Renderer::new(render));
        self
    }

    /// Do not copy this task-local into actions (Rails' `live_streaming_excluded_keys`).
    #[must_use]
    pub fn exclude_local<T: 'static>(mut self, key: &'static LocalKey<T>) -> Self {
        self.excluded.push(key.id());
        self
    }

    /// Makes this the global config, under every controller's. Returns the config back if a
    /// global config was installed already (it is read by requests in flight, so it is set once).
    pub fn install_global(self) -> Result<(), LiveConfig> {
        GLOBAL.set(self)
    }

    /// The global config: the installed one, or an empty one.
    pub fn global() -> &'static LiveConfig {
        GLOBAL.get().unwrap_or(&DEFAULT)
    }

    pub(crate) fn resolve(&self) -> Resolved {
        let global = Self::global();
        Resolved {
            capacity: self
                .buffer
                .or(global.buffer)
                .unwrap_or(Buffer::Chunks(10))
                .capacity(),
            write_timeout: self
                .write_timeout
                .or(global.write_timeout)
                .unwrap_or(Some(Duration::from_secs(10))),
            coalesce_bytes: self
                .coalesce_bytes
                .or(global.coalesce_bytes)
                .unwrap_or(64 * 1024),
            html_error_snippet: self
                .html_error_snippet
                .or(global.html_error_snippet)
                .unwrap_or(false),
            clean_end_on_error: self
                .clean_end_on_error
                .or(global.clean_end_on_error)
                .unwrap_or(false),
            cancel_on_disconnect: self
                .cancel_on_disconnect
                .or(global.cancel_on_disconnect)
                .unwrap_or(false),
        }
    }

    /// The error renderer set here, or globally.
    pub(crate) fn renderer(&'static self) -> Option<&'static Renderer> {
        self.error_renderer
            .as_ref()
            .or(Self::global().error_renderer.as_ref())
    }

    /// Whether a local is excluded here or globally.
    pub(crate) fn excludes(&self, key: LocalKeyId) -> bool {
        self.excluded.contains(&key) || Self::global().excluded.contains(&key)
    }
}

/// The settings one request runs with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resolved {
    pub(crate) capacity: usize,
    pub(crate) write_timeout: Option<Duration>,
    pub(crate) coalesce_bytes: usize,
    pub(crate) html_error_snippet: bool,
    pub(crate) clean_end_on_error: bool,
    pub(crate) cancel_on_disconnect: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_rails_and_puma() {
        let resolved = LiveConfig::new().resolve();
        assert_eq!(resolved.capacity, 10);
        assert_eq!(resolved.write_timeout, Some(Duration::from_secs(10)));
        assert!(!resolved.html_error_snippet);
    }

    #[test]
    fn controller_overrides_field_by_field() {
        let resolved = LiveConfig::new()
            .buffer(Buffer::Unbounded)
            .write_timeout(None)
            .resolve();
        assert_eq!(resolved.capacity, usize::MAX);
        assert_eq!(resolved.write_timeout, None);
        assert_eq!(resolved.coalesce_bytes, 64 * 1024);
        assert_eq!(
            LiveConfig::new()
                .buffer(Buffer::Chunks(0))
                .resolve()
                .capacity,
            1
        );
    }
}
