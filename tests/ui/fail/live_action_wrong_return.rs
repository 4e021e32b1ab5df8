// Test: a live action returning `u32`: the error is at `u32`, says a live action returns `()`
// or `live_runtime::Result`, and appears once.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn stream(&self, live: Live) -> u32 {
        drop(live);
        42
    }
}

fn main() {}
