// Test: `#[get("/a", "/b")]`: one attribute takes one path; the error is at the arguments and
// shows the usage (several routes are several attributes).
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    #[get("/prices", "/quotes")]
    pub async fn prices(&self) -> &'static str {
        "prices"
    }
}

fn main() {}
