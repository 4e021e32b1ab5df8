// Test: `method` given twice in `#[route]`: the error is at the second `method`.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    #[route(method = "GET", method = "HEAD", path = "/prices")]
    pub async fn prices(&self) -> &'static str {
        "prices"
    }
}

fn main() {}
