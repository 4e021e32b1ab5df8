//! The minimal controller the project started from: `GET /hello/stream` writes
//! `hello world\n` `n` times (query `n`, default 100), one every `interval_ms` (default 1000),
//! then the stream ends.
//!
//! ```sh
//! cargo run --example hello            # PORT overrides 3000
//! curl -N 'http://127.0.0.1:3000/hello/stream?n=3&interval_ms=200'
//! ```

use std::time::Duration;

#[path = "common/mod.rs"]
mod common;

use axum::extract::Query;
use live_runtime::prelude::*;
use serde::Deserialize;

/// `?n=100&interval_ms=1000`
#[derive(Debug, Deserialize)]
pub struct Params {
    #[serde(default = "default_n")]
    n: u32,
    #[serde(default = "default_interval")]
    interval_ms: u64,
}

fn default_n() -> u32 {
    100
}

fn default_interval() -> u64 {
    1000
}

/// The minimal controller the project started from (Rails' `MyController`), at `/hello`.
pub struct HelloController;

#[live_controller]
impl HelloController {
    /// `GET /hello/stream`: Rails' `MyController#stream`, without the `ensure close`: the end
    /// of the action closes.
    pub async fn stream(
        &self,
        Query(params): Query<Params>,
        mut live: Live,
    ) -> live_runtime::Result {
        live.set_content_type("text/event-stream")?;
        let mut stream = live.stream();
        for i in 0..params.n {
            if i > 0 {
                tokio::time::sleep(Duration::from_millis(params.interval_ms)).await;
            }
            stream.write("hello world\n").await?;
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let routes = RouteTable::new().controller::<HelloController>();
    common::serve(
        "hello",
        "/hello/stream",
        HelloController.into_router(),
        routes,
    )
    .await
}
