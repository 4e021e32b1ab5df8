// Test: a live action returning `Result<(), String>`: `String` is no error type, and the error
// is at the return type.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn stream(&self, live: Live) -> Result<(), String> {
        drop(live);
        Err("failed".to_owned())
    }
}

fn main() {}
