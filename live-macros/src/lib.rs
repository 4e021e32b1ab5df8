//! The `#[live_controller]` attribute of live. Use it through `live-runtime`, which re-exports
//! it with its documentation; every path it emits goes through `live_runtime::__private`.
//!
//! Layout: `args` parses the attribute's arguments, `model` reads and checks the impl block,
//! `routes` derives and checks paths, `expand` writes the code, `errors` collects every
//! mistake so they are all reported at once.

#![warn(missing_docs)]

mod args;
mod errors;
mod expand;
mod model;
mod paths;
mod routes;
#[cfg(test)]
mod snapshots;

use proc_macro::TokenStream;

/// Turns the `pub` methods of an inherent `impl` block into axum routes run as live actions.
/// See `live_runtime::live_controller` for the documentation.
#[proc_macro_attribute]
pub fn live_controller(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::live_controller(attr.into(), item.into()).into()
}
