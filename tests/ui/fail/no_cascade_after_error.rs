// Test: with a mistake in the impl block, code using the controller (`into_router`, `ROUTES`)
// still compiles: only the macro's error appears.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub fn index(&self) -> &'static str {
        "stocks"
    }

    pub async fn show(&self) -> &'static str {
        "stock"
    }
}

fn main() {
    let _app: axum::Router = StocksController.into_router();
    let _ = <StocksController as Controller>::ROUTES;
    let _ = StocksController.show();
    let _ = RouteTable::new().controller::<StocksController>();
}
