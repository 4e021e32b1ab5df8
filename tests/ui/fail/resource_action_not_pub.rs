// Test: an `async fn` taking `&self` named as a Rails resource action but not `pub` is routed by
// its name, so it is a forgotten `pub`, reported at its name with the same message as a route
// attribute on such a method. The same name on a helper an action calls is fine.

use axum::extract::Path;
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    async fn index(&self) -> &'static str {
        "forgot pub"
    }

    pub async fn prices(&self, Path(id): Path<u32>) -> String {
        self.show(id).await
    }

    async fn show(&self, id: u32) -> String {
        format!("a helper for {id}")
    }
}

fn main() {
    let _ = StocksController.into_router();
}
