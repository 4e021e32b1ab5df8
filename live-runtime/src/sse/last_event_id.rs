//! The `Last-Event-ID` request header, typed.

use std::fmt;
use std::str::FromStr;

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, request::Parts};

/// The `Last-Event-ID` header a reconnecting `EventSource` sends: the `id` of the last event it
/// received. An axum extractor.
///
/// - Missing (a first connection) or empty: `LastEventId(None)`.
/// - Present and parsed by `T::from_str`: `LastEventId(Some(value))`.
/// - Present but malformed (not UTF-8, or `T::from_str` fails): the request is rejected with
///   `400 Bad Request` and a plain-text body naming the header. A browser only sends back ids
///   the server sent, so a malformed one is a client bug or a forged request; better a clear
///   400 than a stream that silently starts over. The body quotes at most the first 64 bytes
///   of the value, escaped: a hostile header is not echoed back whole.
///
/// `LastEventId<String>` accepts every id the [`Sse`](super::Sse) writer sends, non-ASCII ones
/// included: a browser sends the id back as UTF-8, and the writer refuses the ids that a header
/// could not carry back intact (control characters, leading or trailing spaces; see
/// [`Event::with_id`](super::Event::with_id)).
///
/// ```
/// use live_runtime::sse::LastEventId;
/// let first = LastEventId::<u64>(None);
/// assert_eq!(first.next(), 0);
/// assert_eq!(LastEventId(Some(41_u64)).next(), 42);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LastEventId<T = String>(pub Option<T>);

/// The most bytes of a malformed `Last-Event-ID` that its `400` response quotes.
const QUOTED_BYTES: usize = 64;

impl<T> LastEventId<T> {
    /// The last event's id, if the client sent one.
    pub fn get(&self) -> Option<&T> {
        self.0.as_ref()
    }

    /// The id, by value.
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

impl LastEventId<u64> {
    /// The index to resume at: one past the last id received, or 0 on a first connection.
    pub fn next(&self) -> u64 {
        self.0.map_or(0, |last| last.saturating_add(1))
    }
}

impl<S, T> FromRequestParts<S> for LastEventId<T>
where
    S: Send + Sync,
    T: FromStr + Send,
    T::Err: fmt::Display,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        let Some(value) = parts.headers.get("last-event-id") else {
            return Ok(LastEventId(None));
        };
        let reject = |why: String| {
            (
                StatusCode::BAD_REQUEST,
                format!("invalid Last-Event-ID header: {why}"),
            )
                .into_response()
        };
        // Not `HeaderValue::to_str`, which takes visible ASCII only: ids are UTF-8.
        let text = std::str::from_utf8(value.as_bytes()).map_err(|_| reject("not UTF-8".into()))?;
        if text.is_empty() {
            return Ok(LastEventId(None));
        }
        text.parse().map(|id| LastEventId(Some(id))).map_err(|e| {
            // Cut at a char boundary: the text is UTF-8, not only ASCII.
            let mut end = text.len().min(QUOTED_BYTES);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            let quoted = &text[..end];
            let cut = if quoted.len() < text.len() { "..." } else { "" };
            reject(format!("{quoted:?}{cut}: {e}"))
        })
    }
}
