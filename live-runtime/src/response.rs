//! The response before commit: status, headers and cookies the action may still change, the
//! defaults applied at commit, conditional GET, and the non-streaming helpers.

use std::sync::{Arc, LazyLock};

use axum::body::Body;
use axum::response::IntoResponse;
use cookie::Cookie;
use http::StatusCode;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::head::Head;
use crate::stream::LiveStream;
use crate::stream_state::StreamState;

/// What the action needs to know of its request.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestInfo {
    pub(crate) if_none_match: Option<HeaderValue>,
    pub(crate) accepts_html: bool,
}

/// The handle a live action gets: the response before commit.
///
/// Set the status, headers and cookies here, then either take the [`stream`](Live::stream)
/// to write the body as you go, or answer at once with [`html`](Live::html),
/// [`text`](Live::text), [`json`](Live::json), [`head`](Live::head) or
/// [`respond`](Live::respond). Taking the stream consumes this handle, so a header cannot be
/// set once the response may be on the wire: that is a compile error, not a lost header (Rails
/// raises or silently drops it).
///
/// If the action returns without doing either, the response is committed at its end with an
/// empty body, as in Rails.
pub struct Live {
    /// `None` until the action changes the head, and once a consuming method took it: most
    /// streams send the default head, and a `Live` is moved into every action's future (more
    /// than once), where an inline head would be copied each time.
    head: Option<Box<Head>>,
    request: RequestInfo,
    state: Arc<StreamState>,
}

impl Live {
    pub(crate) fn new(request: RequestInfo, state: Arc<StreamState>) -> Self {
        Live {
            head: None,
            request,
            state,
        }
    }

    fn head_mut(&mut self) -> &mut Head {
        self.head.get_or_insert_default()
    }

    /// The head as it will be sent: what was set, or the default.
    fn take_head(&mut self) -> Head {
        self.head.take().map_or_else(Head::default, |head| *head)
    }

    /// The status sent at commit; `200 OK` unless set.
    pub fn status(&self) -> StatusCode {
        self.head
            .as_ref()
            .map_or(StatusCode::OK, |head| head.status)
    }

    /// Sets the status sent at commit.
    pub fn set_status(&mut self, status: StatusCode) -> &mut Self {
        self.head_mut().status = status;
        self
    }

    /// The response headers so far.
    pub fn headers(&self) -> &HeaderMap {
        static NONE: LazyLock<HeaderMap> = LazyLock::new(HeaderMap::new);
        self.head.as_ref().map_or(&NONE, |head| &head.headers)
    }

    /// The response headers, to change as you like before commit.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.head_mut().headers
    }

    /// Sets a header, replacing any of the same name. `Err` with
    /// [`ErrorKind::InvalidHeader`](crate::ErrorKind::InvalidHeader) if the name or value is
    /// not valid HTTP (a newline in a value, say): nothing is set then.
    pub fn set_header<K, V>(&mut self, name: K, value: V) -> Result<&mut Self>
    where
        K: TryInto<HeaderName>,
        K::Error: Into<http::Error>,
        V: TryInto<HeaderValue>,
        V::Error: Into<http::Error>,
    {
        let name = name
            .try_into()
            .map_err(|e| Error::invalid_header(e.into()))?;
        let value = value
            .try_into()
            .map_err(|e| Error::invalid_header(e.into()))?;
        self.head_mut().headers.insert(name, value);
        Ok(self)
    }

    /// Sets `Content-Type`. Without it a stream is sent as `text/html; charset=utf-8`, as in Rails.
    pub fn set_content_type(&mut self, content_type: &str) -> Result<&mut Self> {
        self.set_header(header::CONTENT_TYPE, content_type)
    }

    /// Sets a cookie, sent once in `Set-Cookie` at commit (Rails 6.1 sends it twice). A
    /// cookie of the same name and path replaces the earlier one. `Err` if the cookie cannot be
    /// a header value.
    ///
    /// ```
    /// # fn f(live: &mut live_runtime::Live) -> live_runtime::Result {
    /// use live_runtime::Cookie;
    /// live.set_cookie(Cookie::build(("hello", "world")).path("/").http_only(true))?;
    /// # Ok(()) }
    /// ```
    pub fn set_cookie(&mut self, cookie: impl Into<Cookie<'static>>) -> Result<&mut Self> {
        let cookie = cookie.into();
        HeaderValue::try_from(cookie.to_string()).map_err(Error::invalid_header)?;
        let cookies = &mut self.head_mut().cookies;
        cookies.retain(|c| c.name() != cookie.name() || c.path() != cookie.path());
        cookies.push(cookie);
        Ok(self)
    }

    /// Conditional GET (Rails' `stale?(etag:)`): sets `ETag: W/"<etag>"` and tells
    /// whether the client's copy is stale. If the request's `If-None-Match` matches (weakly,
    /// or `*`), the status becomes `304 Not Modified` and this returns `false`: return without
    /// writing and the client gets an empty 304.
    ///
    /// `Err` with [`ErrorKind::InvalidHeader`](crate::ErrorKind::InvalidHeader) if `etag` has a
    /// character an entity tag cannot hold (`"`, a control character, a space).
    pub fn stale(&mut self, etag: &str) -> Result<bool> {
        if !etag
            .bytes()
            .all(|b| b == b'!' || (b'#'..=b'~').contains(&b) || b >= 0x80)
        {
            return Err(Error::invalid_header(format!(
                "invalid entity tag {etag:?}"
            )));
        }
        let value =
            HeaderValue::try_from(format!("W/\"{etag}\"")).map_err(Error::invalid_header)?;
        self.head_mut().headers.insert(header::ETAG, value);
        let fresh = self
            .request
            .if_none_match
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .is_some_and(|list| if_none_match_matches(list, etag));
        if fresh {
            self.head_mut().status = StatusCode::NOT_MODIFIED;
        }
        Ok(!fresh)
    }

    /// Takes the stream, to write the body as it is produced. Nothing is sent until the first
    /// write, a close, or the end of the action.
    pub fn stream(mut self) -> LiveStream {
        if let Some(head) = self.head.take() {
            self.state.park_head(head);
        }
        LiveStream::new(self.state.clone())
    }

    /// Answers at once with an HTML page: Rails' `render html:`. Unlike Rails, which streams
    /// it, an ordinary response with `Content-Length`; `Cache-Control` is `no-cache` unless
    /// set, as in Rails.
    pub fn html(self, body: impl Into<Body>) -> Result {
        self.full(Some("text/html; charset=utf-8"), body.into())
    }

    /// Answers at once with plain text: Rails' `render plain:`.
    pub fn text(self, body: impl Into<Body>) -> Result {
        self.full(Some("text/plain; charset=utf-8"), body.into())
    }

    /// Answers at once with `value` as JSON: Rails' `render json:`. `Err` if it does not
    /// serialize (a map with non-string keys, say); the error then becomes a 500.
    pub fn json(self, value: &impl Serialize) -> Result {
        let body = serde_json::to_vec(value)?;
        self.full(Some("application/json"), body.into())
    }

    /// Answers at once with `status` and no body: Rails' `head`.
    pub fn head(mut self, status: StatusCode) -> Result {
        self.head_mut().status = status;
        self.full(None, Body::empty())
    }

    /// Answers at once with any axum response; the headers and cookies set on this handle are
    /// added where the response has none of its own.
    pub fn respond(mut self, response: impl IntoResponse) -> Result {
        let mut response = response.into_response();
        let mut head = self.take_head();
        head.write_cookies();
        let headers = response.headers_mut();
        for name in head.headers.keys() {
            if !headers.contains_key(name) {
                for value in head.headers.get_all(name) {
                    headers.append(name.clone(), value.clone());
                }
            }
        }
        crate::head::no_cache_unless_set(headers);
        self.state.commit_full(response)
    }

    fn full(mut self, content_type: Option<&'static str>, body: Body) -> Result {
        let head = self.take_head();
        self.state.commit_full(head.into_full(content_type, body))
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        // Dropped without streaming or answering: park the head for the commit at the end.
        if let Some(head) = self.head.take() {
            self.state.park_head(head);
        }
    }
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("head", &self.head)
            .finish_non_exhaustive()
    }
}

/// RFC 9110 13.1.2: `*`, or any listed entity tag equal to ours under weak comparison.
fn if_none_match_matches(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|tag| {
        tag == "*"
            || tag
                .strip_prefix("W/")
                .unwrap_or(tag)
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                == Some(etag)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_defaults_follow_rails() {
        let parts = Head::default().into_stream_parts();
        assert_eq!(parts.headers[header::CACHE_CONTROL], "no-cache");
        assert_eq!(
            parts.headers[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert!(!parts.headers.contains_key(header::CONTENT_LENGTH));

        let mut head = Head::default();
        head.headers
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("public"));
        head.headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from_static("999"));
        head.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        let parts = head.into_stream_parts();
        assert_eq!(parts.headers[header::CACHE_CONTROL], "public");
        assert_eq!(parts.headers[header::CONTENT_TYPE], "text/event-stream");
        assert!(!parts.headers.contains_key(header::CONTENT_LENGTH));
    }

    #[test]
    fn not_modified_has_no_content_type() {
        let head = Head {
            status: StatusCode::NOT_MODIFIED,
            ..Head::default()
        };
        let parts = head.into_stream_parts();
        assert!(!parts.headers.contains_key(header::CONTENT_TYPE));
    }

    #[test]
    fn if_none_match_weak_comparison() {
        assert!(if_none_match_matches("W/\"123\"", "123"));
        assert!(if_none_match_matches("\"abc\", W/\"123\"", "123"));
        assert!(if_none_match_matches("*", "123"));
        assert!(!if_none_match_matches("\"1234\"", "123"));
        assert!(!if_none_match_matches("123", "123"));
    }
}
