// Test: an unknown controller argument: the error is at `buffr` and lists the known ones.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller(buffr = 32)]
impl StocksController {
    pub async fn index(&self) -> &'static str {
        "stocks"
    }
}

fn main() {}
