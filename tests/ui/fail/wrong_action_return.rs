// Test: a live action returns `()` or `live_runtime::Result`; anything else is rejected at
// the spawn with a message that says so.
use axum::response::Response;
use live_runtime::prelude::*;

async fn handler(request: LiveRequest) -> Response {
    request.spawn(|_live: Live| async move { 42 }).await
}

fn main() {
    let _ = handler;
}
