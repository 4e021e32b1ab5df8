// Test: `coalesce_bytes = "64k"`: the error is at `"64k"` and shows a number of bytes.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller(coalesce_bytes = "64k")]
impl StocksController {
    pub async fn stream(&self, live: Live) -> live_runtime::Result {
        live.stream().write("hello").await?;
        Ok(())
    }
}

fn main() {}
