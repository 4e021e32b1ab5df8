// Test: a path with a trailing `/`: an empty last segment, reported at the path string.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller(path = "/stocks/")]
impl StocksController {
    pub async fn index(&self) -> &'static str {
        "stocks"
    }
}

fn main() {}
