// Test: two `Live` arguments: the error is at the second; there is one response.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn stream(&self, live: Live, _again: Live) -> live_runtime::Result {
        live.stream().write("hello").await?;
        Ok(())
    }
}

fn main() {}
