// Test: an `unsafe` action: the error is at `unsafe`; nothing could uphold its contract.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async unsafe fn index(&self) -> &'static str {
        "stocks"
    }
}

fn main() {}
