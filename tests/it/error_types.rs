//! Live actions with the error types applications use, over real HTTP: `anyhow::Result`,
//! `eyre::Result`, an error type of the app's own and a boxed error as return types, `?` on
//! `anyhow` inside `live_runtime::Result`, and `live_runtime::Error` through all of them
//! keeping its status and its kind.

use crate::support;

use std::fmt;

use anyhow::Context as _;
use axum::extract::Query;
use axum::response::IntoResponse;
use live_runtime::BoxError;
use live_runtime::error_page::{ErrorFormat, ErrorPage};
use live_runtime::prelude::*;
use serde::Deserialize;
use support::{Server, cut_text, logs, text};

/// The app's own error type.
#[derive(Debug)]
pub struct StockMissing;

impl fmt::Display for StockMissing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no such stock")
    }
}

impl std::error::Error for StockMissing {}

/// `?late=true`: fail after the first row instead of before it.
#[derive(Deserialize)]
pub struct When {
    #[serde(default)]
    late: bool,
}

pub struct ReportsController;

#[live_controller]
impl ReportsController {
    /// `anyhow` with context, and `?` on the stream's own errors.
    pub async fn anyhow(&self, Query(when): Query<When>, live: Live) -> anyhow::Result<()> {
        let mut stream = live.stream();
        if when.late {
            stream.write("row 1\n").await?;
        }
        Err(std::io::Error::other("disk on fire anyhow-51c2")).context("reading row 2")
    }

    /// `eyre`, the same way.
    pub async fn eyre(&self, Query(when): Query<When>, live: Live) -> eyre::Result<()> {
        let mut stream = live.stream();
        if when.late {
            stream.write("row 1\n").await?;
        }
        Err(eyre::eyre!("row 2 failed"))
    }

    /// An error type of the app's own.
    pub async fn custom(&self, live: Live) -> Result<(), StockMissing> {
        let _stream = live.stream();
        Err(StockMissing)
    }

    /// A `live_runtime::Error` that answers 404, boxed on the way out.
    pub async fn boxed(&self, live: Live) -> Result<(), BoxError> {
        let _stream = live.stream();
        Err(Error::status(StatusCode::NOT_FOUND).into())
    }

    /// The same inside `anyhow`, with context around it.
    pub async fn wrapped(&self, live: Live) -> anyhow::Result<()> {
        let _stream = live.stream();
        Err(Error::status(StatusCode::NOT_FOUND)).context("looking the stock up")
    }

    /// `?` on `anyhow::Error` where the action returns `live_runtime::Result`.
    pub async fn mixed(&self, live: Live) -> live_runtime::Result {
        let _stream = live.stream();
        let lookup: anyhow::Result<()> = Err(anyhow::anyhow!("lookup failed mixed-7d10"));
        lookup?;
        Ok(())
    }
}

#[tokio::test]
async fn actions_return_the_error_types_apps_use() {
    logs();
    let server = Server::start(ReportsController.into_router()).await;
    for path in [
        "/reports/anyhow",
        "/reports/eyre",
        "/reports/custom",
        "/reports/mixed",
    ] {
        let response = server.get(path).await;
        assert_eq!(
            response.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{path}"
        );
        let page = support::html_error_page(StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(text(response).await, page, "{path}");
    }
    // A `live_runtime::Error` keeps its status through a box and through `anyhow`.
    for path in ["/reports/boxed", "/reports/wrapped"] {
        assert_eq!(
            server.get(path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // After commit: the response is cut, as for `live_runtime::Error`.
    for path in ["/reports/anyhow?late=true", "/reports/eyre?late=true"] {
        let response = server.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(cut_text(response).await, "row 1\n", "{path}");
    }

    // Logged with the whole chain, on one line.
    let lines = logs().lines_with("anyhow-51c2");
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains("reading row 2: disk on fire anyhow-51c2")),
        "{lines:#?}"
    );
    assert_eq!(logs().lines_with("lookup failed mixed-7d10").len(), 1);
}

/// The app's own error pages, for one controller.
fn branded(page: &ErrorPage) -> axum::response::Response {
    match page.format {
        ErrorFormat::Html => (
            page.status,
            axum::response::Html(format!("<h1>Sorry ({})</h1>", page.status.as_u16())),
        )
            .into_response(),
        _ => page.default_response(),
    }
}

pub struct PagesController;

#[live_controller(error_renderer = branded)]
impl PagesController {
    /// A live action that fails before commit.
    pub async fn live(&self, live: Live) -> live_runtime::Result {
        let _stream = live.stream();
        Err(Error::status(StatusCode::NOT_FOUND))
    }

    /// An ordinary action that fails.
    pub async fn ordinary(&self) -> live_runtime::Result<String> {
        Err(Error::msg("no page ordinary-0b7e"))
    }
}

/// Rails picks an error page's format from the request: HTML by default and for `*/*`, JSON for
/// a JSON request, and plain text otherwise (an `EventSource`); for live and ordinary actions
/// alike, and through the application's own renderer when it has one.
#[tokio::test]
async fn error_pages_follow_the_request_format() {
    let plain = Server::start(ReportsController.into_router()).await;
    let branded = Server::start(PagesController.into_router()).await;
    let get = |server: &Server, path: &str, accept: Option<&'static str>| {
        let mut request = support::client().get(server.url(path));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        } else {
            // reqwest adds `Accept: */*` unless told otherwise.
            request = request.header("accept", "");
        }
        support::within(request.send())
    };
    let cases = [
        (None, "text/html; charset=utf-8", "<!DOCTYPE html>"),
        (
            Some("*/*"),
            "text/html; charset=utf-8",
            "<title>500 Internal",
        ),
        (
            Some("application/json"),
            "application/json",
            r#"{"error":"Internal Server Error","status":500}"#,
        ),
        (
            Some("text/event-stream"),
            "text/plain; charset=utf-8",
            "Internal Server Error",
        ),
    ];
    for (accept, content_type, body) in cases {
        let response = get(&plain, "/reports/custom", accept).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers()["content-type"],
            content_type,
            "{accept:?}"
        );
        let text = text(response).await;
        assert!(text.contains(body), "{accept:?}: {text}");
    }

    // The controller's renderer, for both kinds of action, with each error's own status.
    let response = get(&branded, "/pages/live", None).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(text(response).await, "<h1>Sorry (404)</h1>");
    let response = get(&branded, "/pages/ordinary", Some("text/html"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(text(response).await, "<h1>Sorry (500)</h1>");
    let response = get(&branded, "/pages/ordinary", Some("application/json")).await;
    assert_eq!(
        text(response.unwrap()).await,
        r#"{"error":"Internal Server Error","status":500}"#
    );
}
