//! The benchmark and reliability harness of `live`, never published: its binaries measure the
//! runtime against hand-written axum (BENCHMARKS.md) and put the examples' server under
//! hostile load (RELIABILITY.md).
//!
//! | binary | measures |
//! |---|---|
//! | `bench` | throughput, SSE encoding and idle-stream memory; `--cross-process` one stream with server and client in processes of their own |
//! | `bench_fanout` | one topic fanned out to thousands of SSE subscribers: latency, CPU and memory per subscriber |
//! | `sse_allocs` | heap allocations per SSE event, server side |
//! | `topic_memory` | the heap an in-process topic and its subscribers take |
//! | `close_latency` | how soon a topic's close reaches every subscriber on two Redis nodes |
//! | `reliability` | churn, stalled clients, panics and shutdown at full size |
//!
//! The library holds what more than one of them shares:
//!
//! | module | what it is |
//! |---|---|
//! | [`child`] | child processes that are killed however a run ends |
//! | [`proc_stat`] | `/proc` readings: memory, CPU time, a quiet machine |
//! | [`redis_server`] | a `redis-server` of a run's own |
//! | [`chunked`] | an incremental decoder of chunked HTTP/1.1 bodies |
//! | [`rounds`] | the median and range of a report's rounds |
//! | [`sse_routes`] | the SSE routes that `bench` times and `sse_allocs` counts |
//! | [`reliability`] | the reliability scenarios, which this crate's tests also run |
//! | [`server`] | the examples' server, which the reliability scenarios load |

pub mod child;
pub mod chunked;
pub mod proc_stat;
pub mod redis_server;
pub mod reliability;
pub mod rounds;
pub mod sse_routes;

// The reliability runs test the examples' server itself (its write stall timeout), so they
// load its very file; it leaves `examples/` once it is a library function of live-runtime.
#[path = "../../examples/common/server.rs"]
pub mod server;

/// The error type of the harness: any error, reported and the run ended.
pub type BoxResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;
