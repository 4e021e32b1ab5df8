// Test: `#[live_controller]` on a struct, not an impl block: one error at `struct` saying
// where the attribute goes; the struct is still emitted, so `main` using it adds nothing.
use live_runtime::prelude::*;

#[live_controller]
pub struct StocksController;

fn main() {
    let _ = StocksController;
}
