// Test: a generic action: the error is at its generics, `<T>`, since axum must know the
// argument types of a handler.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn show<T: Default>(&self) -> &'static str {
        let _ = T::default();
        "stock"
    }
}

fn main() {}
