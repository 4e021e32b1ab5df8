// Test: in a controller action, a header set after the stream was taken is the typestate's
// move error, at the user's `live`.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn stream(&self, mut live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.write("hello").await?;
        live.set_header("x-late", "too late")?;
        Ok(())
    }
}

fn main() {}
