//! The page an error answers with before commit, in the format the request asks for, as Rails'
//! error pages are: HTML for browsers and for clients that take anything, JSON for JSON
//! clients, plain text otherwise; or the application's own renderer
//! ([`LiveConfig::error_renderer`](crate::LiveConfig::error_renderer)). The same reading of
//! `Accept` decides whether a request is HTML for Rails' `/500.html` snippet after a late error
//! (a request without `Accept` is, as in Rails; `*/*` is not).
//!
//! Only an error without a response of its own gets a page: one built with
//! [`Error::with_response`](crate::Error::with_response) answers with that response.

use std::fmt;
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderValue};
use http::{HeaderMap, StatusCode};

/// The format of an error page, from the request's `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorFormat {
    /// `text/html; charset=utf-8`: no `Accept`, or one whose first known type is HTML or
    /// `*/*` (what browsers and `curl` send).
    Html,
    /// `application/json`: `{"status":500,"error":"Internal Server Error"}`, for an `Accept`
    /// whose first known type is `application/json` or any `+json` type.
    Json,
    /// `text/plain; charset=utf-8`: the status's reason phrase, for anything else (an
    /// `EventSource`'s `text/event-stream`, say).
    Text,
}

impl ErrorFormat {
    /// The format for a request with these headers: the first media range of `Accept` that
    /// names one, in the order written.
    pub fn of(headers: &HeaderMap) -> Self {
        Self::of_accept(headers.get(header::ACCEPT))
    }

    pub(crate) fn of_accept(accept: Option<&HeaderValue>) -> Self {
        match Asked::of(accept) {
            Asked::Html | Asked::Anything => ErrorFormat::Html,
            Asked::Json => ErrorFormat::Json,
            Asked::Other => ErrorFormat::Text,
        }
    }
}

/// Whether a request is an HTML one, as Rails decides where it writes its `/500.html` snippet
/// after a late error: no `Accept`, or one whose first known type is HTML; not `*/*`.
pub(crate) fn is_html_request(accept: Option<&HeaderValue>) -> bool {
    Asked::of(accept) == Asked::Html
}

/// What a request's `Accept` asks for first, the one reading of it behind both the error
/// page's format and [`is_html_request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    Html,
    Json,
    /// `*/*` before any type of the others.
    Anything,
    Other,
}

impl Asked {
    /// A request without `Accept`, or with an empty or unreadable one, is HTML, as in Rails.
    fn of(accept: Option<&HeaderValue>) -> Self {
        let Some(accept) = accept.and_then(|v| v.to_str().ok()) else {
            return Asked::Html;
        };
        if accept.trim().is_empty() {
            return Asked::Html;
        }
        for range in accept.split(',') {
            let media = range.split(';').next().unwrap_or("").trim();
            if media.eq_ignore_ascii_case("text/html")
                || media.eq_ignore_ascii_case("application/xhtml+xml")
            {
                return Asked::Html;
            }
            if media == "*/*" {
                return Asked::Anything;
            }
            if media.eq_ignore_ascii_case("application/json")
                || media.to_ascii_lowercase().ends_with("+json")
            {
                return Asked::Json;
            }
        }
        Asked::Other
    }
}

/// What an error page shows: the status, in a format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorPage {
    /// The status the error answers with.
    pub status: StatusCode,
    /// The format the request asks for.
    pub format: ErrorFormat,
}

impl ErrorPage {
    /// The page live sends without a renderer of the application's: the status and its
    /// reason, never the error's own text.
    pub fn default_response(&self) -> Response {
        let status = self.status;
        let reason = status.canonical_reason().unwrap_or("Error");
        let (content_type, body) = match self.format {
            ErrorFormat::Html => (
                "text/html; charset=utf-8",
                format!(
                    "<!DOCTYPE html>\n<html><head><title>{code} {reason}</title></head>\
                     <body><h1>{reason}</h1></body></html>\n",
                    code = status.as_u16()
                ),
            ),
            ErrorFormat::Json => (
                "application/json",
                serde_json::json!({ "status": status.as_u16(), "error": reason }).to_string(),
            ),
            ErrorFormat::Text => ("text/plain; charset=utf-8", reason.to_owned()),
        };
        (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
    }
}

/// An application's error renderer, as [`LiveConfig`](crate::LiveConfig) keeps it.
#[derive(Clone)]
pub(crate) struct Renderer(Arc<dyn Fn(&ErrorPage) -> Response + Send + Sync>);

impl Renderer {
    pub(crate) fn new(render: impl Fn(&ErrorPage) -> Response + Send + Sync + 'static) -> Self {
        Renderer(Arc::new(render))
    }
}

impl fmt::Debug for Renderer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Renderer(..)")
    }
}

/// Marks the response of an error that has none of its own, so the page can be rendered once
/// the request's format is known (an ordinary action's error becomes a response without it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unrendered;

/// `response` as is, or, if it is an error's default page, the page for `accept`.
pub(crate) fn render(
    response: Response,
    accept: Option<&HeaderValue>,
    renderer: Option<&Renderer>,
) -> Response {
    if response.extensions().get::<Unrendered>().is_none() {
        return response;
    }
    let page = ErrorPage {
        status: response.status(),
        format: ErrorFormat::of_accept(accept),
    };
    match renderer {
        Some(renderer) => (renderer.0)(&page),
        None => page.default_response(),
    }
}

/// An error's page before the request's format is known: plain text, marked for [`render`].
pub(crate) fn unrendered(status: StatusCode) -> Response {
    let mut response = ErrorPage {
        status,
        format: ErrorFormat::Text,
    }
    .default_response();
    response.extensions_mut().insert(Unrendered);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(accept: &str) -> ErrorFormat {
        ErrorFormat::of_accept(Some(&HeaderValue::from_str(accept).unwrap()))
    }

    #[test]
    fn format_from_accept() {
        assert_eq!(ErrorFormat::of_accept(None), ErrorFormat::Html);
        assert_eq!(format(""), ErrorFormat::Html);
        assert_eq!(format("*/*"), ErrorFormat::Html);
        assert_eq!(
            format("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            ErrorFormat::Html
        );
        assert_eq!(format("application/json"), ErrorFormat::Json);
        assert_eq!(format("application/problem+json, */*"), ErrorFormat::Json);
        assert_eq!(format("application/json, text/html"), ErrorFormat::Json);
        assert_eq!(format("text/event-stream"), ErrorFormat::Text);
        assert_eq!(format("text/plain"), ErrorFormat::Text);
    }

    /// Rails writes its snippet for the HTML format only: its default without an `Accept`,
    /// not `*/*` (which `curl` sends), though both get an HTML error page.
    #[test]
    fn html_requests() {
        let html = |accept: &str| is_html_request(Some(&HeaderValue::from_str(accept).unwrap()));
        assert!(is_html_request(None));
        assert!(html(""));
        assert!(html("text/html"));
        assert!(html("text/html,application/xhtml+xml,*/*;q=0.8"));
        assert!(!html("*/*"));
        assert!(!html("application/json, text/html"));
        assert!(!html("text/event-stream"));
    }

    #[test]
    fn only_unrendered_responses_are_rendered() {
        let json = HeaderValue::from_static("application/json");
        let page = render(unrendered(StatusCode::NOT_FOUND), Some(&json), None);
        assert_eq!(page.status(), StatusCode::NOT_FOUND);
        assert_eq!(page.headers()[header::CONTENT_TYPE], "application/json");
        let own = (StatusCode::IM_A_TEAPOT, "mine").into_response();
        let kept = render(own, Some(&json), None);
        assert_eq!(
            kept.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
    }
}
