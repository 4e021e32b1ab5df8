// Test: two actions on the same method and path (`GET /stocks/prices`): the error is at the
// second path and names the first action.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn prices(&self) -> &'static str {
        "prices"
    }

    #[get("/prices")]
    pub async fn quotes(&self) -> &'static str {
        "quotes"
    }
}

fn main() {}
