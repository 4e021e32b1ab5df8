//! The response head before commit (status, headers, cookies, a declared length), with the
//! defaults a streamed response gets at commit; and what the commit hands the handler.
//! A leaf: the body state, the `Live` handle and the SSE writer all build on it.

use axum::body::Body;
use axum::response::Response;
use cookie::Cookie;
use http::header::{self, HeaderMap, HeaderValue};
use http::{StatusCode, response::Parts};

use crate::compression::LiveStreamed;

/// The media type of Server-Sent Events.
pub(crate) const EVENT_STREAM: &str = "text/event-stream";

/// What the handler receives from the action: a head to stream a body under, or a whole
/// response.
pub(crate) enum Committed {
    Stream(Parts),
    Full(Response),
}

/// Status, headers and cookies of a response not yet committed.
#[derive(Debug, Default)]
pub(crate) struct Head {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) cookies: Vec<Cookie<'static>>,
    /// A declared body length (a download's), sent as `Content-Length`.
    pub(crate) length: Option<u64>,
}

impl Head {
    /// Whether this is the head of a Server-Sent Events stream.
    pub(crate) fn is_event_stream(&self) -> bool {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with(EVENT_STREAM))
    }

    pub(crate) fn write_cookies(&mut self) {
        for cookie in self.cookies.drain(..) {
            // `Cookie`'s Display is its Set-Cookie form; names and values were checked on set.
            if let Ok(value) = HeaderValue::try_from(cookie.to_string()) {
                self.headers.append(header::SET_COOKIE, value);
            }
        }
    }

    /// The head of a streamed response, with Rails' commit-time defaults
    /// (docs/rails-parity.md, L-08, L-09).
    pub(crate) fn into_stream_parts(mut self) -> Parts {
        no_cache_unless_set(&mut self.headers);
        let headers = &mut self.headers;
        // A stream's length is unknown unless declared (and then checked); a length set as a
        // plain header would truncate or hang it (docs/rails-parity.md, L-08).
        headers.remove(header::CONTENT_LENGTH);
        if let Some(length) = self.length {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        }
        if no_body(self.status) {
            headers.remove(header::CONTENT_TYPE);
        } else {
            if !headers.contains_key(header::CONTENT_TYPE) {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                );
            }
        }
        self.write_cookies();
        let (mut parts, ()) = Response::new(()).into_parts();
        parts.status = self.status;
        parts.headers = self.headers;
        // So a compression layer can leave the stream alone (see `crate::compression`).
        parts.extensions.insert(LiveStreamed);
        parts
    }

    /// A whole response: this head's status, headers and cookies around `body`, under the
    /// content type the body's kind gives unless one was set.
    pub(crate) fn into_full(mut self, content_type: Option<&'static str>, body: Body) -> Response {
        if let Some(content_type) = content_type {
            self.headers
                .entry(header::CONTENT_TYPE)
                .or_insert(HeaderValue::from_static(content_type));
        }
        no_cache_unless_set(&mut self.headers);
        self.write_cookies();
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }
}

/// Rails' default for every response of a live controller, streamed or rendered: a client
/// revalidates before reusing it (docs/rails-parity.md, L-08).
pub(crate) fn no_cache_unless_set(headers: &mut HeaderMap) {
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
}

fn no_body(status: StatusCode) -> bool {
    status.is_informational()
        || matches!(
            status,
            StatusCode::NO_CONTENT | StatusCode::RESET_CONTENT | StatusCode::NOT_MODIFIED
        )
}
