// Test: `/stocks/{id}` (from `show`) and `/stocks/{symbol}`: axum cannot tell them apart; the
// error is at the second path.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn show(&self) -> &'static str {
        "by id"
    }

    #[get("/{symbol}")]
    pub async fn by_symbol(&self) -> &'static str {
        "by symbol"
    }
}

fn main() {}
