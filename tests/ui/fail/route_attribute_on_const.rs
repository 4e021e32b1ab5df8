// Test: a route attribute on an associated constant: the error is at the attribute.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    #[get("/limit")]
    pub const LIMIT: u32 = 10;
}

fn main() {
    let _ = StocksController::LIMIT;
}
