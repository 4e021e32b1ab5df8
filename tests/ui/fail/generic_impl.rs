// Test: a generic controller impl: one error at `<T>` saying the routes of a controller are
// fixed at compile time.
use std::marker::PhantomData;

use live_runtime::prelude::*;

pub struct StocksController<T>(PhantomData<T>);

#[live_controller]
impl<T: Send + Sync + 'static> StocksController<T> {
    pub async fn index(&self) -> &'static str {
        "stocks"
    }
}

fn main() {}
