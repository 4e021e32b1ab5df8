// Test: `#[route(path = ...)]` without a method: the error is at the attribute and shows the
// usage.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    #[route(path = "/prices")]
    pub async fn prices(&self) -> &'static str {
        "prices"
    }
}

fn main() {}
