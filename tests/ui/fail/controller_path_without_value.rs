// Test: `path` without a value: the error is at `path` and shows `path = "/api/stocks"`.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller(path)]
impl StocksController {
    pub async fn stream(&self, live: Live) -> live_runtime::Result {
        live.stream().write("hello").await?;
        Ok(())
    }
}

fn main() {}
