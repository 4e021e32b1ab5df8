// Test: `Json` (reads the body) before `Path`: the error is at `Json<Stock>` and says a body
// extractor must be the last argument.
use axum::Json;
use axum::extract::Path;
use live_runtime::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Stock {
    pub price: u32,
}

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn update(&self, Json(stock): Json<Stock>, Path(id): Path<u32>) -> String {
        format!("{id}: {}", stock.price)
    }
}

fn main() {}
