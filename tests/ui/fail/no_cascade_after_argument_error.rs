// Test: a controller argument mistake does not cascade either: `main` uses the controller and
// only the error at `buffer = 0` appears.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller(buffer = 0)]
impl StocksController {
    pub async fn index(&self) -> &'static str {
        "stocks"
    }
}

fn main() {
    let _app: axum::Router = StocksController.into_router();
}
