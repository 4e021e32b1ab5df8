// Test: `#[live_controller]` on a trait impl: the error is at the trait's name and says the
// macro reads inherent impl blocks only; the trait impl itself still compiles.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl Default for StocksController {
    fn default() -> Self {
        StocksController
    }
}

fn main() {
    let _ = StocksController::default();
}
