// Test: the status is fixed once the stream is taken, too (docs/rails-parity.md, L-10, L-11).
use live_runtime::prelude::*;

async fn action(mut live: Live) -> live_runtime::Result {
    let stream = live.stream();
    live.set_status(StatusCode::CREATED);
    drop(stream);
    Ok(())
}

fn main() {
    let _ = action;
}
