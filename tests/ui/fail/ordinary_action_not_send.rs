// Test: an ordinary action (no `Live`) holding an `Rc` across an `.await`: its future is not
// `Send`, and the error is at the action's name.
use std::rc::Rc;

use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn index(&self) -> String {
        let name = Rc::new("stocks");
        tokio::task::yield_now().await;
        name.to_string()
    }
}

fn main() {}
