// Test: an argument before the last that is not an extractor of the request head (a plain
// struct): the error is at its type and says every argument but the last reads the head.
use axum::extract::Query;
use live_runtime::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Page {
    pub n: u32,
}

pub struct Settings;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn index(&self, _settings: Settings, Query(page): Query<Page>) -> String {
        page.n.to_string()
    }
}

fn main() {}
