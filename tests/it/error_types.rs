//! Live actions with the error types applications use, over real HTTP: `anyhow::Result`,
//! `eyre::Result`, an error type of the app's own and a boxed error as return types, `?` on
//! `anyhow` inside `live_runtime::Result`, and `live_runtime::Error` through all of them
//! keeping its status and its kind.

use crate::support;

use std::fmt;

use anyhow::Context as _;
use axum::extract::Query;
use live_runtime::BoxError;
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
        assert_eq!(text(response).await, "Internal Server Error", "{path}");
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
