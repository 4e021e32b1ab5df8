// Test: an action without `Live` returning a type that is not a response: the error is at the
// return type and suggests `Live` or an `IntoResponse` type.
use live_runtime::prelude::*;

pub struct Stock {
    pub price: u32,
}

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn show(&self) -> Stock {
        Stock { price: 1 }
    }
}

fn main() {}
