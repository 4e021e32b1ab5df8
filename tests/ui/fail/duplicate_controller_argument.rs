// Test: `path` given twice: the error is at the second `path`.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller(path = "/stocks", path = "/shares")]
impl StocksController {
    pub async fn index(&self) -> &'static str {
        "stocks"
    }
}

fn main() {}
