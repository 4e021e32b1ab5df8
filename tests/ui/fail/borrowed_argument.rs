// Test: a borrowed argument (`&str`) in an ordinary action: the error is at the type and
// says axum extracts each argument as a value of its own, so it takes an owned `String`
// (not that the action runs in a spawned task: an ordinary action runs inline).
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn create(&self, body: &str) -> String {
        body.to_owned()
    }
}

fn main() {}
