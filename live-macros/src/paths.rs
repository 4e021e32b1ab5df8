//! The runtime paths the expansion uses, all absolute and through `live_runtime::__private`,
//! so no name in the user's scope (a `Result`, an `axum` module) can capture them.

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn private() -> TokenStream {
    quote!(::live_runtime::__private)
}

pub(crate) fn axum() -> TokenStream {
    quote!(::live_runtime::__private::axum)
}
