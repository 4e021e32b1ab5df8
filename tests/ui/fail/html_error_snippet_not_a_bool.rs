// Test: `html_error_snippet = "yes"`: the error is at `"yes"`; the setting is bare, `= true` or `= false`.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller(html_error_snippet = "yes")]
impl StocksController {
    pub async fn stream(&self, live: Live) -> live_runtime::Result {
        live.stream().write("hello").await?;
        Ok(())
    }
}

fn main() {}
