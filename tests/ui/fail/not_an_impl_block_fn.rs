// Test: `#[live_controller]` on a free function: the error is at `fn`, and says the attribute
// goes on an inherent impl block, naming no type (a function names none to suggest).
use live_runtime::prelude::*;

#[live_controller]
pub async fn index() -> &'static str {
    "stocks"
}

fn main() {
    let _ = index;
}
