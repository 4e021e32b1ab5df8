// Test: `#[live_controller]` on a struct, not an impl block: one error at `struct` saying
// where the attribute goes, with the struct's own name; the struct is still emitted, so
// `main` using it adds nothing.
use live_runtime::prelude::*;

#[live_controller]
pub struct PricesFeed;

fn main() {
    let _ = PricesFeed;
}
