// Test: `#[get(prices)]`, a path that is not a string: the error is at `prices`.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    #[get(prices)]
    pub async fn prices(&self) -> &'static str {
        "prices"
    }
}

fn main() {}
