//! The example apps under test, each file loaded once here and used by the modules that test
//! it (`conformance` and `rails_parity` share one).

// Each app's `main`, and the examples' server it starts, only run as the example's binary.
#![allow(dead_code)]
// Each app includes `examples/common` for its own binary, so here it loads once per app.
#![allow(clippy::duplicate_mod)]

#[path = "../../examples/chat.rs"]
pub mod chat;
#[path = "../../examples/export.rs"]
pub mod export;
#[path = "../../examples/hello.rs"]
pub mod hello;
#[path = "../../examples/jobs.rs"]
pub mod jobs;
#[path = "../../examples/rails_parity.rs"]
pub mod rails_parity;
#[path = "../../examples/stocks.rs"]
pub mod stocks;
