// Test: an `extern "C"` action: the error is at `extern "C"`.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async extern "C" fn index(&self) -> &'static str {
        "stocks"
    }
}

fn main() {}
