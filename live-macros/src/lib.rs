//! The `#[live_controller]` attribute of live. Use it through `live-runtime`, which re-exports
//! it with its documentation; every path it emits goes through `live_runtime::__private`.
//!
//! Parse, validate, expand: `args` reads the attribute's arguments and the route attributes,
//! `model` reads the impl block and holds the controller's model, `validate` checks every rule
//! and builds the model of what passes, `expand` writes the code. `routes` holds the routing
//! rules as pure functions on strings, `errors` collects every mistake so they are all
//! reported at once, `paths` names the runtime's items.

#![warn(missing_docs)]

mod args;
mod errors;
mod expand;
mod model;
mod paths;
mod routes;
#[cfg(test)]
mod snapshots;
mod validate;

use proc_macro::TokenStream;

/// Turns the `pub` methods of an inherent `impl` block into axum routes run as live actions.
/// See `live_runtime::live_controller` for the documentation.
#[proc_macro_attribute]
pub fn live_controller(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::live_controller(attr.into(), item.into()).into()
}
