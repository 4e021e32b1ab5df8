// Test: `#[get]` without a path: the error is at the attribute and shows how to write it.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    #[get]
    pub async fn prices(&self) -> &'static str {
        "prices"
    }
}

fn main() {}
