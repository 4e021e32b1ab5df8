//! Keeping compression layers off live streams.
//!
//! A compression layer holds a body's bytes in its encoder until a buffer fills, so under one
//! a live stream's chunks and events would arrive late and in lumps. Every streamed live
//! response carries the [`LiveStreamed`] extension, and [`not_live_stream`] is a predicate
//! over it in the shape tower-http's `Predicate` accepts for a function, so an app compresses
//! everything else:
//!
//! ```
//! use axum::Router;
//! use tower_http::compression::predicate::{DefaultPredicate, Predicate};
//! use tower_http::compression::CompressionLayer;
//!
//! let app: Router = Router::new() // ... your controllers' routers ...
//!     .layer(
//!         CompressionLayer::new()
//!             .compress_when(DefaultPredicate::new().and(live_runtime::compression::not_live_stream)),
//!     );
//! ```
//!
//! tower-http's default predicate already skips `text/event-stream`, so SSE streams are safe
//! without it; raw streams and downloads need it. Whole responses of live actions (`html`,
//! `json`, errors) carry no marker and are compressed as usual.

use http::{Extensions, HeaderMap, StatusCode, Version};

/// The response extension of a streamed live response (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveStreamed;

/// `false` for a streamed live response: a compression predicate (see the
/// [module docs](self)).
pub fn not_live_stream(
    _status: StatusCode,
    _version: Version,
    _headers: &HeaderMap,
    extensions: &Extensions,
) -> bool {
    extensions.get::<LiveStreamed>().is_none()
}
