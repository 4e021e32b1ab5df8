// Test: `cancel_on_disconnect = 1` and `cancel_on_disconnect` given twice: one error at `1`
// (the setting is bare, `= true` or `= false`), one at the second `cancel_on_disconnect`.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller(cancel_on_disconnect = 1)]
impl StocksController {
    pub async fn stream(&self, live: Live) -> live_runtime::Result {
        live.stream().write("hello").await?;
        Ok(())
    }
}

pub struct PricesController;

#[live_controller(cancel_on_disconnect, cancel_on_disconnect = false)]
impl PricesController {
    pub async fn stream(&self, live: Live) -> live_runtime::Result {
        live.stream().write("hello").await?;
        Ok(())
    }
}

fn main() {}
