// Test: action arguments are axum extractors: `Path` (one value, a tuple, a struct), `Query`,
// `HeaderMap`, `Method`, `Uri`, and a body extractor last (`Json`, `String`, `Bytes`); with or
// without `Live`, which may stand anywhere among them.
use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, Method, Uri};
use live_runtime::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Page {
    pub page: Option<u32>,
}

#[derive(Deserialize)]
pub struct Pair {
    pub id: u32,
    pub day: String,
}

#[derive(Deserialize)]
pub struct NewStock {
    pub name: String,
}

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn index(&self, Query(page): Query<Page>, headers: HeaderMap) -> String {
        format!("{:?} {}", page.page, headers.len())
    }

    pub async fn show(&self, Path(id): Path<u32>) -> String {
        id.to_string()
    }

    #[get("/{id}/days/{day}")]
    pub async fn day(&self, Path((id, day)): Path<(u32, String)>) -> String {
        format!("{id} {day}")
    }

    #[get("/{id}/at/{day}")]
    pub async fn at(&self, Path(pair): Path<Pair>, method: Method, uri: Uri) -> String {
        format!("{} {} {method} {uri}", pair.id, pair.day)
    }

    pub async fn create(&self, headers: HeaderMap, Json(stock): Json<NewStock>) -> String {
        format!("{} {}", stock.name, headers.len())
    }

    pub async fn update(&self, Path(id): Path<u32>, body: String) -> String {
        format!("{id} {body}")
    }

    #[post("/upload")]
    pub async fn upload(&self, Query(params): Query<HashMap<String, String>>, body: Bytes) -> String {
        format!("{} {}", params.len(), body.len())
    }

    #[get("/{id}/stream")]
    pub async fn stream(&self, Path(id): Path<u32>, live: Live, headers: HeaderMap) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.writeln(format!("{id} {}", headers.len())).await?;
        Ok(())
    }

    #[post("/{id}/stream")]
    pub async fn push(&self, live: Live, Path(id): Path<u32>, Json(stock): Json<NewStock>) -> live_runtime::Result {
        live.stream().writeln(format!("{id} {}", stock.name)).await?;
        Ok(())
    }
}

fn main() {
    let table: Vec<(&str, &str, &str)> = <StocksController as Controller>::ROUTES
        .iter()
        .map(|r| (r.method, r.path, r.action))
        .collect();
    assert_eq!(
        table,
        [
            ("GET", "/stocks", "index"),
            ("GET", "/stocks/{id}", "show"),
            ("GET", "/stocks/{id}/days/{day}", "day"),
            ("GET", "/stocks/{id}/at/{day}", "at"),
            ("POST", "/stocks", "create"),
            ("PATCH", "/stocks/{id}", "update"),
            ("PUT", "/stocks/{id}", "update"),
            ("POST", "/stocks/upload", "upload"),
            ("GET", "/stocks/{id}/stream", "stream"),
            ("POST", "/stocks/{id}/stream", "push"),
        ]
    );
    let _router: axum::Router = StocksController.into_router();
}
