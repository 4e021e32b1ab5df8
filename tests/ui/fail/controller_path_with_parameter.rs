// Test: a parameter in the controller's `path`: the error is at the path string.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller(path = "/accounts/{account}/stocks")]
impl StocksController {
    pub async fn index(&self) -> &'static str {
        "stocks"
    }
}

fn main() {}
