// Test: `buffer = 0`: the error is at `0`; a buffer holds at least one chunk.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller(buffer = 0)]
impl StocksController {
    pub async fn stream(&self, live: Live) -> live_runtime::Result {
        live.stream().write("hello").await?;
        Ok(())
    }
}

fn main() {}
