// Test: a header set after the stream was taken is a compile error, not a lost header
// (docs/rails-parity.md, L-11): `Live::stream` consumes the handle that can write headers.
use live_runtime::prelude::*;

async fn action(mut live: Live) -> live_runtime::Result {
    let mut stream = live.stream();
    stream.write("hello").await?;
    live.set_header("x-late", "too late")?;
    Ok(())
}

fn main() {
    let _ = action;
}
