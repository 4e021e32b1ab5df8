//! Server-Sent Events: Rails' `ActionController::Live::SSE`, byte for byte where Rails is
//! right, and safe where it is not.
//!
//! ```
//! use std::time::Duration;
//! use live_runtime::prelude::*;
//! use live_runtime::sse::{Event, LastEventId, SseOptions};
//! use serde_json::json;
//!
//! pub struct PricesController;
//!
//! #[live_controller]
//! impl PricesController {
//!     /// `GET /prices/feed`
//!     pub async fn feed(&self, last: LastEventId<u64>, live: Live) -> live_runtime::Result {
//!         let mut sse = live.sse(SseOptions::new().retry(Duration::from_millis(300)).event("prices"));
//!         for n in last.next()..last.next() + 3 {
//!             sse.write_with(json!({ "n": n }), Event::id(n)).await?;
//!         }
//!         Ok(())
//!     }
//! }
//! ```
//!
//! # Wire format
//!
//! Each event is `retry:`, `event:`, `id:` (each only if set, in that order), the payload as
//! `data:` lines, and a blank line, exactly as Rails writes it. A string payload is sent as
//! is, anything else `Serialize` as one line of JSON. Unlike Rails:
//!
//! - The writer's `retry` goes out once, with the first event (see [Retry](#retry)), not
//!   with every event.
//! - `\r\n` and a lone `\r` in a payload start a new `data:` line, like `\n` (a lone `\r`
//!   breaks the framing in Rails). A client joins the lines with `\n`, so a payload comes
//!   back with its line breaks as `\n`.
//! - A newline, carriage return or NUL in `event` or `id` is an
//!   [`ErrorKind::InvalidEvent`](crate::ErrorKind::InvalidEvent) error and nothing is sent
//!   (Rails sends it, and the client sees injected fields). So is an `id` that a browser
//!   could not send back intact as `Last-Event-ID` (another control character, a space at
//!   either end); any other id, non-ASCII included, comes back whole to [`LastEventId`].
//! - Each event goes out as one chunk: writers never interleave inside an event.
//! - Comments (`: text`) and keep-alives are built in.
//!
//! # Keep-alive
//!
//! A live SSE stream sends a comment (`:\n\n`) after 15 seconds without an event, so proxies
//! that cut idle connections (nginx after 60 s, many load balancers sooner) leave it open. It
//! also bounds how long a vanished client goes unnoticed when nothing else is written: the
//! keep-alive's write fails and the stream learns of the disconnect. Configure it with
//! [`SseOptions::keep_alive`].
//!
//! # Retry
//!
//! [`SseOptions::retry`] sets the delay an `EventSource` waits before it reconnects. One rule
//! for every way an event reaches an [`Sse`]: the `retry:` line goes out once per stream, as
//! the first line of the first event sent, whether [`write`](Sse::write),
//! [`write_with`](Sse::write_with), [`write_delivery`](Sse::write_delivery),
//! [`forward`](Sse::forward) or [`retry_later`](Sse::retry_later) sends it. A browser keeps
//! the delay for the rest of its connections, so repeating it on every event (as Rails does)
//! would only cost bytes; and it never goes out as a block of its own, which some clients
//! dispatch as an empty message. An event's own [`Event::retry`] goes out with that event;
//! one that [leaves the writer's out](Event::no_retry) passes it on to the next event. Bytes
//! written to [`Sse::stream`] directly are the caller's own, and carry no `retry`.
//!
//! # Reconnection
//!
//! A browser's `EventSource` reconnects after the `retry` delay when the stream ends or breaks,
//! sending the last `id` it saw as `Last-Event-ID`; [`LastEventId`] reads it, so an action can
//! resume after it. To make the browser stop for good, answer `204 No Content`
//! ([`Live::stop_reconnecting`](crate::Live::stop_reconnecting)).
//!
//! # Proxies
//!
//! [`Live::sse`](crate::Live::sse) sends `X-Accel-Buffering: no`, which tells nginx not to
//! buffer the response, and `Cache-Control: no-cache, no-transform`, which tells proxies not
//! to compress or rewrite it. nginx talks HTTP/1.0 to its upstream unless told
//! `proxy_http_version 1.1;`; live streams HTTP/1.0 to the end anyway (close-delimited), but
//! then every event costs a new upstream connection, so set it. tower-http's `CompressionLayer`
//! leaves `text/event-stream` alone by default; for other compression layers and for raw live
//! streams, see [`compression`](crate::compression).
//!
//! # Latency of bursts
//!
//! hyper leaves Nagle's algorithm on, so when several events go out faster than the client
//! acknowledges them, the last small one may wait for its delayed ACK (up to 40 ms on Linux).
//! An event a second never waits. Where every millisecond of a burst counts, set `TCP_NODELAY`
//! on accepted sockets with axum's `ListenerExt::tap_io(|s| s.set_nodelay(true))`; it costs
//! throughput, as each frame then becomes a TCP segment of its own.

pub(crate) mod encode;
mod last_event_id;
pub mod parse;

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderValue};
use serde::Serialize;

pub use encode::{Event, event_bytes};
use encode::{JsonEscape, comment};
pub use last_event_id::LastEventId;

use crate::error::Result;
use crate::response::Live;
use crate::stream::LiveStream;

/// The media type of a Server-Sent Events response.
pub(crate) const MEDIA_TYPE: &str = crate::head::EVENT_STREAM;

/// The default keep-alive interval: 15 seconds of silence.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Settings of an [`Sse`] writer: the fields every event gets (Rails' `SSE.new(stream,
/// retry:, event:)`), keep-alive, and JSON escaping.
#[derive(Debug, Clone)]
pub struct SseOptions {
    fields: Event,
    /// Commit when the writer is made (the default), or at the first write.
    commit_at_once: bool,
    keep_alive: Option<(Duration, Bytes)>,
    escape: JsonEscape,
}

impl Default for SseOptions {
    fn default() -> Self {
        SseOptions {
            fields: Event::new(),
            commit_at_once: true,
            keep_alive: Some((DEFAULT_KEEP_ALIVE, Bytes::from_static(b":\n\n"))),
            escape: JsonEscape::Plain,
        }
    }
}

impl SseOptions {
    /// No fields; keep-alive every 15 s; plain JSON.
    pub fn new() -> Self {
        Self::default()
    }

    /// `retry`: the client's reconnection delay, in whole milliseconds. It goes out once,
    /// with the first event the writer sends, however it sends it (see
    /// [Retry](self#retry)).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use live_runtime::prelude::*;
    /// # async fn f(live: Live) -> live_runtime::Result {
    /// let mut sse = live.sse(SseOptions::new().retry(Duration::from_secs(2)));
    /// sse.write("first").await?; // retry: 2000\ndata: first\n\n
    /// sse.write("second").await?; // data: second\n\n
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn retry(mut self, retry: Duration) -> Self {
        self.fields = self.fields.retry(retry);
        self
    }

    /// `event` on every event.
    #[must_use]
    pub fn event(mut self, event: impl Into<String>) -> Self {
        self.fields = self.fields.event(event);
        self
    }

    /// `id` on every event (Rails allows it; rarely what you want).
    #[must_use]
    pub fn id(mut self, id: impl std::fmt::Display) -> Self {
        self.fields = self.fields.with_id(id);
        self
    }

    /// A keep-alive comment after `interval` without an event; `None` turns it off.
    #[must_use]
    pub fn keep_alive(mut self, interval: Option<Duration>) -> Self {
        self.keep_alive = interval.map(|interval| (interval, self.keep_alive_bytes()));
        self
    }

    /// The keep-alive comment's text (default: none, `:\n\n`).
    #[must_use]
    pub fn keep_alive_text(mut self, text: &str) -> Self {
        let mut buf = BytesMut::new();
        comment(&mut buf, text);
        let interval = self
            .keep_alive
            .as_ref()
            .map_or(DEFAULT_KEEP_ALIVE, |(d, _)| *d);
        self.keep_alive = Some((interval, buf.freeze()));
        self
    }

    /// Keeps the response uncommitted until the first event (Rails' behaviour), instead of
    /// committing when [`Live::sse`] makes the writer: an error before the first event then
    /// still answers with its own status. The cost: until then the client has no response
    /// head (no `open` in an `EventSource`, a proxy's timeout) and no keep-alive runs.
    #[must_use]
    pub fn commit_on_first_write(mut self) -> Self {
        self.commit_at_once = false;
        self
    }

    /// Escape `<`, `>`, `&`, U+2028 and U+2029 in JSON strings as `\uXXXX`, as Rails does by
    /// default (`escape_html_entities_in_json`), for byte parity with a Rails app.
    #[must_use]
    pub fn escape_html_in_json(mut self, on: bool) -> Self {
        self.escape = if on {
            JsonEscape::Html
        } else {
            JsonEscape::Plain
        };
        self
    }

    fn keep_alive_bytes(&self) -> Bytes {
        self.keep_alive
            .as_ref()
            .map_or_else(|| Bytes::from_static(b":\n\n"), |(_, bytes)| bytes.clone())
    }
}

/// Writes Server-Sent Events to a live stream (Rails' `SSE`).
///
/// Get one with [`Live::sse`](crate::Live::sse), which also sets the SSE headers, or wrap a
/// stream with [`Sse::new`] (headers are then yours to set, as in Rails). Each event is
/// encoded into a buffer the writer keeps and written as one chunk, copied into the stream's
/// own buffer; both keep their storage, so a steady stream of events allocates nothing per
/// event.
#[derive(Debug)]
pub struct Sse {
    stream: LiveStream,
    options: SseOptions,
    buf: BytesMut,
}

impl Sse {
    /// Wraps `stream`: Rails' `SSE.new(response.stream, retry:, event:)`.
    pub fn new(stream: LiveStream, options: SseOptions) -> Self {
        stream.set_keep_alive(options.keep_alive.clone());
        Sse {
            stream,
            options,
            buf: BytesMut::new(),
        }
    }

    /// Writes an event with the writer's fields. A string payload is sent as is; anything
    /// else `Serialize` as JSON. Returns the bytes written.
    ///
    /// # Errors
    /// Those of [`LiveStream::write`], and [`ErrorKind::InvalidEvent`](crate::ErrorKind::InvalidEvent)
    /// for an `event` or `id` with a line break or NUL, or a payload that does not serialize
    /// (nothing is sent then).
    pub async fn write<T: Serialize>(&mut self, payload: T) -> Result<usize> {
        self.write_with(payload, Event::new()).await
    }

    /// Writes an event with this call's fields over the writer's (see [`Event`]).
    pub async fn write_with<T: Serialize>(&mut self, payload: T, event: Event) -> Result<usize> {
        encode::encode(
            &mut self.buf,
            &payload,
            &event,
            &self.options.fields,
            self.options.escape,
        )?;
        // This event carried a `retry` (the writer's, or its own in place of it).
        if event.retry != encode::Field::Unset {
            self.take_retry();
        }
        self.write_buffered().await
    }

    /// Writes a comment (`: text`), which clients ignore. A multi-line text becomes several
    /// comment lines.
    pub async fn comment(&mut self, text: &str) -> Result<usize> {
        comment(&mut self.buf, text);
        self.write_buffered().await
    }

    /// Writes the encoded event as one chunk, copied into the stream's shared buffer: this
    /// buffer keeps its storage for the next event, and the shared one reuses its own once
    /// the body has sent it, so an event costs no allocation.
    async fn write_buffered(&mut self) -> Result<usize> {
        let written = self.stream.write_copied(&self.buf).await;
        self.buf.clear();
        written
    }

    /// Closes the stream (Rails' `SSE#close`).
    pub fn close(&mut self) {
        self.stream.close();
    }

    /// The stream underneath: for [`disconnected`](LiveStream::disconnected),
    /// [`on_error`](LiveStream::on_error) and the like.
    pub fn stream(&mut self) -> &mut LiveStream {
        &mut self.stream
    }

    /// The writer's `retry` in milliseconds, if set and not sent yet; from now on it counts
    /// as sent (see [Retry](self#retry)).
    pub(crate) fn take_retry(&mut self) -> Option<u64> {
        match std::mem::take(&mut self.options.fields.retry) {
            encode::Field::Set(ms) => Some(ms),
            _ => None,
        }
    }

    /// The stream underneath, leaving the writer.
    pub fn into_stream(self) -> LiveStream {
        self.stream
    }
}

impl Live {
    /// Sets the SSE headers (`Content-Type: text/event-stream`, `Cache-Control: no-cache,
    /// no-transform`, `X-Accel-Buffering: no`; each unless already set), takes the stream as
    /// an [`Sse`] writer and commits: the client gets the response head (an `EventSource` its
    /// `open`) and the keep-alive runs from now, even if the first event is long in coming.
    /// [`SseOptions::commit_on_first_write`] waits for the first write instead, as Rails does.
    pub fn sse(mut self, options: SseOptions) -> Sse {
        let headers = self.headers_mut();
        for (name, value) in [
            (header::CONTENT_TYPE, MEDIA_TYPE),
            (header::CACHE_CONTROL, "no-cache, no-transform"),
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ] {
            headers
                .entry(name)
                .or_insert(HeaderValue::from_static(value));
        }
        let commit = options.commit_at_once;
        let sse = Sse::new(self.stream(), options);
        if commit {
            sse.stream.commit();
        }
        sse
    }

    /// Answers `204 No Content`: an `EventSource` that gets it stops reconnecting for good.
    pub fn stop_reconnecting(self) -> Result {
        self.head(http::StatusCode::NO_CONTENT)
    }
}
