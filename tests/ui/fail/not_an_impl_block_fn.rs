// Test: `#[live_controller]` on a free function: the error is at `fn`, and says the attribute
// goes on an inherent impl block.
use live_runtime::prelude::*;

#[live_controller]
pub async fn index() -> &'static str {
    "stocks"
}

fn main() {
    let _ = index;
}
