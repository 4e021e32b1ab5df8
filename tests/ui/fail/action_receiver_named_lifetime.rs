// Test: `&'a self`: the error is at the lifetime; an action takes plain `&self`.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn index<'a>(&'a self) -> &'static str {
        "stocks"
    }
}

fn main() {}
