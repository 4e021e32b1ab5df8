// Test: an ordinary action returning a borrow of the controller (`&str` from `&self`): the
// response must outlive the request's handler, so it is rejected at the user's tokens.
use live_runtime::prelude::*;

pub struct StocksController {
    name: String,
}

#[live_controller]
impl StocksController {
    pub async fn index(&self) -> &str {
        &self.name
    }
}

fn main() {}
