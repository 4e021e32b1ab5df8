// Test: two extractors that read the body (`String` and `Json`): the error is at the first,
// which is not last, and says there can be only one.
use axum::Json;
use live_runtime::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Stock {
    pub price: u32,
}

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn create(&self, raw: String, Json(stock): Json<Stock>) -> String {
        format!("{raw}: {}", stock.price)
    }
}

fn main() {}
