// Test: a route attribute on a `pub(crate)` method: only `pub` methods are actions; the error
// is at the attribute.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    #[get("/prices")]
    pub(crate) async fn prices(&self) -> &'static str {
        "prices"
    }
}

fn main() {
    let _ = StocksController.prices();
}
