// Test: an action taking `self` by value: the error is at `self` and asks for `&self`.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn index(self) -> &'static str {
        "stocks"
    }
}

fn main() {}
