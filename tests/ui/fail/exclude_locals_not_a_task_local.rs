// Test: `exclude_locals(TENANT)` where `TENANT` is a plain static, not declared with
// `live_runtime::task_local!`: the error is at `TENANT`.
use live_runtime::prelude::*;

static TENANT: &str = "acme";

pub struct StocksController;

#[live_controller(exclude_locals(TENANT))]
impl StocksController {
    pub async fn stream(&self, live: Live) -> live_runtime::Result {
        live.stream().write(TENANT).await?;
        Ok(())
    }
}

fn main() {}
