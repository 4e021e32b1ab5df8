// Test: a path with an unbalanced `{`: the error is at the path string and names the segment.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    #[get("/{id/history")]
    pub async fn history(&self) -> &'static str {
        "history"
    }
}

fn main() {}
