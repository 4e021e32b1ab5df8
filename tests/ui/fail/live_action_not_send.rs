// Test: a live action holding an `Rc` across an `.await`: its future is not `Send`, and the
// error is at the action's name (live actions run on tokio's multi-threaded scheduler).
use std::rc::Rc;

use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn stream(&self, live: Live) -> live_runtime::Result {
        let name = Rc::new("stock");
        let mut stream = live.stream();
        stream.write("hello").await?;
        stream.writeln(*name).await?;
        Ok(())
    }
}

fn main() {}
