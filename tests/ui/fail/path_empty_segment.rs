// Test: a path with an empty segment (`//`): the error is at the path string.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    #[get("/prices//today")]
    pub async fn prices(&self) -> &'static str {
        "prices"
    }
}

fn main() {}
