//! The SSE encoder: fields refused or sent exactly, no line that was not asked for.
//! The property is `properties::sse_encode`, which `cargo test` also runs on the corpus.

#![no_main]

// Every target includes all properties and uses one.
#[allow(dead_code)]
#[path = "../properties.rs"]
mod properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| properties::sse_encode(data));
