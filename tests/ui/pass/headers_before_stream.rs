// Test: everything about the head is set before the stream is taken; then only writes.
use live_runtime::prelude::*;

async fn action(mut live: Live) -> live_runtime::Result {
    live.set_status(StatusCode::CREATED);
    live.set_content_type("text/event-stream")?;
    live.set_cookie(Cookie::new("hello", "world"))?;
    let mut stream = live.stream();
    stream.write("hello").await?;
    stream.writeln("world").await?;
    stream.close();
    Ok(())
}

fn main() {
    let _ = action;
}
