// Test: `buffer = infinite`: the error is at `infinite`, expecting a number or `unbounded`.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller(buffer = infinite)]
impl StocksController {
    pub async fn stream(&self, live: Live) -> live_runtime::Result {
        live.stream().write("hello").await?;
        Ok(())
    }
}

fn main() {}
