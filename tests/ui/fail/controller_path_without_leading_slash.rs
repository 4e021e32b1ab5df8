// Test: a controller `path` not starting with `/`: the error is at the path string.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller(path = "api/stocks")]
impl StocksController {
    pub async fn index(&self) -> &'static str {
        "stocks"
    }
}

fn main() {}
