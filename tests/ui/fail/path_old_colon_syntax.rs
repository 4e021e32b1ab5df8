// Test: `/:id`, axum 0.7's parameter syntax: the error is at the path and shows `{id}`.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    #[get("/:id/history")]
    pub async fn history(&self) -> &'static str {
        "history"
    }
}

fn main() {}
