// Test: a borrowed argument (`&str`): the error is at the type and says the action runs in
// a `'static` task, so it takes an owned `String`.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn create(&self, body: &str) -> String {
        body.to_owned()
    }
}

fn main() {}
