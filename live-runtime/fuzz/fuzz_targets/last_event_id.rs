//! The `Last-Event-ID` extractor: `None`, exactly `T::from_str`, or a bounded 400.
//! The property is `properties::last_event_id`, which `cargo test` also runs on the corpus.

#![no_main]

// Every target includes all properties and uses one.
#[allow(dead_code)]
#[path = "../properties.rs"]
mod properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| properties::last_event_id(data));
