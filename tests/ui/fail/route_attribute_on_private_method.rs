// Test: a route attribute on a method that is not `pub`: the error is at the attribute and
// says private methods are helpers, not actions.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    #[get("/prices")]
    async fn prices(&self) -> &'static str {
        "prices"
    }
}

fn main() {
    let _ = StocksController.prices();
}
