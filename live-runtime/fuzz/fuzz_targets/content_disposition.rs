//! `Content-Disposition` of a download: a valid header that no filename breaks out of.
//! The property is `properties::content_disposition`, which `cargo test` also runs on the corpus.

#![no_main]

// Every target includes all properties and uses one.
#[allow(dead_code)]
#[path = "../properties.rs"]
mod properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| properties::content_disposition(data));
