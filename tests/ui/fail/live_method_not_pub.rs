// Test: a method that takes `Live` but is not `pub` is no action and no route reaches it: a
// forgotten `pub`, reported at its name. A helper that an action calls may take a `Live`.

use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    async fn prices(&self, live: Live) -> live_runtime::Result {
        live.text("forgot pub")
    }

    pub async fn show(&self, live: Live) -> live_runtime::Result {
        self.render(live).await
    }

    async fn render(&self, live: Live) -> live_runtime::Result {
        live.text("a helper")
    }
}

fn main() {
    let _ = StocksController.into_router();
}
