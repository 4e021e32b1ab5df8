//! The SSE parser: chunking-independent, and what it parses, the encoder sends back the same.
//! The property is `properties::sse_parse`, which `cargo test` also runs on the corpus.

#![no_main]

// Every target includes all properties and uses one.
#[allow(dead_code)]
#[path = "../properties.rs"]
mod properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| properties::sse_parse(data));
