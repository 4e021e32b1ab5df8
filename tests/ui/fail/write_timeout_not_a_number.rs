// Test: `write_timeout_ms = "5s"`: the error is at `"5s"`, expecting milliseconds or `none`.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller(write_timeout_ms = "5s")]
impl StocksController {
    pub async fn stream(&self, live: Live) -> live_runtime::Result {
        live.stream().write("hello").await?;
        Ok(())
    }
}

fn main() {}
