// Test: `#![deny(dead_code)]` still fires on a private helper no action calls: the macro's
// expansion does not mark the impl block's methods used.
#![deny(dead_code)]

use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn index(&self) -> &'static str {
        "stocks"
    }

    fn unused_helper(&self) -> u32 {
        42
    }
}

fn main() {
    let _ = StocksController.into_router();
}
