// Test: `exclude_locals()` with no task-local: the error is at `exclude_locals`.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller(exclude_locals())]
impl StocksController {
    pub async fn stream(&self, live: Live) -> live_runtime::Result {
        live.stream().write("hello").await?;
        Ok(())
    }
}

fn main() {}
