// Test: a `pub fn` action that is not `async`: the error is at `fn` and asks for `async fn`.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub fn index(&self) -> &'static str {
        "stocks"
    }
}

fn main() {}
