// Test: a route path not starting with `/`: the error is at the path string.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    #[get("prices")]
    pub async fn prices(&self) -> &'static str {
        "prices"
    }
}

fn main() {}
