// Test: a type error inside a live action's body: rustc's own error, at the user's tokens in
// the body; the macro adds nothing.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn stream(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        let written: u32 = stream.write("hello").await?;
        stream.writeln(written.to_string()).await?;
        Ok(())
    }
}

fn main() {}
