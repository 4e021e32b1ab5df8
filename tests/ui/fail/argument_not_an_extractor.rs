// Test: the last argument is not an axum extractor (`u32`): the error is at `u32`, with the
// runtime trait's message, and nowhere else.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn show(&self, id: u32) -> String {
        id.to_string()
    }
}

fn main() {}
