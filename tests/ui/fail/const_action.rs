// Test: a `const fn` action: the error is at `const`.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub const fn index(&self) -> &'static str {
        "stocks"
    }
}

fn main() {}
