// Test: `#[route(method = "FETCH", ...)]`: the error is at `"FETCH"` and lists the methods.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    #[route(method = "FETCH", path = "/prices")]
    pub async fn prices(&self) -> &'static str {
        "prices"
    }
}

fn main() {}
