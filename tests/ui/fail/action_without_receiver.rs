// Test: a `pub async fn` without `self`: the error is at its name; it must take `&self` to be
// an action (a helper would not be `pub`).
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn index() -> &'static str {
        "stocks"
    }
}

fn main() {}
