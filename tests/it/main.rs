//! The integration tests, in one binary so the whole stack is linked once. Each module is what
//! used to be a test file of its own: `cargo test --test it chat::` runs one of them. Apart,
//! each in a process of its own: `no_timer` (a runtime without timers), `leak` (counters of
//! the whole process) and `ui` (trybuild).

#[path = "../support/redis_server.rs"]
mod redis_server;
#[path = "../support/mod.rs"]
mod support;

mod apps;
mod bad_input;
mod broadcast;
mod browser;
mod browser_chat;
mod browser_jobs;
mod chat;
mod conformance;
mod controller;
mod disconnect;
mod error_types;
mod errors;
mod examples;
mod hello;
mod http2;
mod hub_topics;
mod jobs;
mod locals;
mod metrics;
mod rails_parity;
mod redis_faults;
mod retry;
mod send_stream;
mod shutdown;
mod sse;
mod state;
mod stream;
mod stream_ext;
mod test_client;
mod topic_lifecycle;
