// Test: an unknown argument in `#[route]`: the error is at `pth` and shows the usage.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    #[route(method = "GET", pth = "/prices")]
    pub async fn prices(&self) -> &'static str {
        "prices"
    }
}

fn main() {}
