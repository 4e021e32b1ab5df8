//! The integration tests, in one binary so the whole stack is linked once. Each module is what
//! used to be a test file of its own: `cargo test --test it chat::` runs one of them. Apart,
//! each in a process of its own: `no_timer` (a runtime without timers), `leak` (counters of
//! the whole process) and `ui` (trybuild).

// Each example includes `examples/common` for itself (it is a binary of its own), and two
// modules test the same example: so files load as modules more than once here.
#![allow(clippy::duplicate_mod)]

#[path = "../support/redis_server.rs"]
mod redis_server;
#[path = "../support/mod.rs"]
mod support;

mod bad_input;
mod broadcast;
mod browser;
mod browser_chat;
mod chat;
mod conformance;
mod controller;
mod disconnect;
mod error_types;
mod errors;
mod examples;
mod hello;
mod http2;
mod locals;
mod metrics;
mod rails_parity;
mod reliability;
mod send_stream;
mod shutdown;
mod sse;
mod state;
mod stream;
mod test_client;
