// Test: a route attribute on an associated type: the macro's error is at the attribute. The
// second error is rustc's own, about the user's item (inherent associated types are unstable).
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    #[get("/item")]
    type Item = u32;
}

fn main() {}
