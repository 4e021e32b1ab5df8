//! # live
//!
//! Rails' `include ActionController::Live`, for axum and tokio: actions that write to the
//! client as they go (raw chunks, Server-Sent Events, downloads), each in its own tokio task.
//!
//! An action gets a [`Live`] handle: the response before commit. It sets status, headers and
//! cookies, then takes the [`LiveStream`] and writes. The first write commits: status and
//! headers go out, and the handler returns while the action keeps writing. The stream ends
//! when the action ends, by return, `?` or panic, so a forgotten close never hangs a client.
//!
//! ```no_run
//! use axum::{Router, routing::get, response::Response};
//! use live_runtime::prelude::*;
//!
//! async fn stream(request: LiveRequest) -> Response {
//!     request
//!         .spawn(|mut live: Live| async move {
//!             live.set_content_type("text/event-stream")?;
//!             let mut stream = live.stream();
//!             for _ in 0..100 {
//!                 stream.write("hello world\n").await?;
//!                 tokio::time::sleep(std::time::Duration::from_secs(1)).await;
//!             }
//!             Ok::<_, live_runtime::Error>(())
//!         })
//!         .await
//! }
//!
//! # async fn serve() {
//! let app = Router::new().route("/hello/stream", get(stream));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
//! axum::serve(listener, app).await.unwrap();
//! # }
//! ```
//!
//! ## How it behaves
//!
//! | concern | Rails | live |
//! |---|---|---|
//! | where the action runs | a thread per request | a tokio task; the handler awaits only the commit |
//! | request state | fiber-locals copied | [`task_local!`] values cloned in, minus exclusions; the tracing span |
//! | close | "you must call close" | the end of the action closes; [`LiveStream::close`] too |
//! | headers after commit | raise or silently lost | impossible: [`Live::stream`] consumes the handle |
//! | defaults at commit | `no-cache`, no length, `text/html` | the same |
//! | error before commit | 500 | the error's response (500, no internals), logged |
//! | error after commit | `on_error`, FATAL log | [`LiveStream::on_error`] gets the error; logged with its value |
//! | client gone | noticed on a later write only | `Err(ClientDisconnected)`, [`LiveStream::disconnected`] while idle |
//! | backpressure | 10 chunks, Puma's 10 s | [`config::Buffer`], write timeout, queued chunks sent as one frame |
//! | HTTP/1.0 | truncated | streamed to the end, close-delimited |
//!
//! ## Errors
//!
//! [`Error`] and [`ErrorKind`] say what each failure means: `Closed` (a write after close, a
//! bug), `ClientDisconnected` and `WriteTimeout` (the client is gone, a normal end),
//! `InvalidHeader` (a header HTTP cannot carry), `Panic` and `Action` (the action failed).
//!
//! ## Disconnects
//!
//! hyper drops a response body when it learns that the connection is closed; live turns that
//! drop into [`LiveStream::disconnected`] and failing writes. For an idle HTTP/1.1 stream,
//! hyper learns it from the closed socket's read side, so the bound is the time for the FIN
//! to arrive plus a scheduler tick (measured in `tests/disconnect.rs`: well under 100 ms on
//! loopback). Behind a proxy that keeps the upstream connection open, only a write notices;
//! SSE keep-alives bound that.

mod action;
mod channel;
pub mod config;
mod error;
pub mod locals;
mod response;
mod stats;
mod stream;

pub use action::{ActionOutput, LiveRequest};
pub use config::LiveConfig;
pub use cookie::Cookie;
pub use error::{BoxError, Error, ErrorKind, Result};
pub use response::Live;
pub use stats::{Stats, stats};
pub use stream::{LiveStream, Tail};

/// Everything an application needs: `use live_runtime::prelude::*;`.
pub mod prelude {
    pub use crate::config::{Buffer, LiveConfig};
    pub use crate::{Cookie, Error, ErrorKind, Live, LiveRequest, LiveStream, Tail};
    pub use http::{StatusCode, header};
}

/// Not public API: the paths the `#[live_controller]` macro emits.
#[doc(hidden)]
pub mod __private {
    pub use ::axum;
    pub use ::tokio;
}
