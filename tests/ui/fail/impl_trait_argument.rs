// Test: an `impl Trait` argument: the error is at it; axum must know the argument's type.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn create(&self, body: impl Into<String>) -> String {
        body.into()
    }
}

fn main() {}
