//! Every mistake of one impl block, collected and reported together.

use proc_macro2::TokenStream;
use quote::ToTokens;

/// A sink of `syn::Error`s: each check pushes and carries on.
#[derive(Default)]
pub(crate) struct Errors {
    errors: Vec<syn::Error>,
}

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    /// An error spanning `tokens`, which may cover several tokens of the user's code.
    pub(crate) fn at(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    pub(crate) fn len(&self) -> usize {
        self.errors.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub(crate) fn to_compile_errors(&self) -> TokenStream {
        self.errors
            .iter()
            .map(syn::Error::to_compile_error)
            .collect()
    }
}

/// What the macro reports for `#[live_controller(attr)] item`, in order: the messages of the
/// `compile_error!`s in its output, as the user reads them.
#[cfg(test)]
pub(crate) fn reported(attr: TokenStream, item: TokenStream) -> Vec<String> {
    use proc_macro2::TokenTree;
    let mut messages = Vec::new();
    let mut tokens = crate::expand::live_controller(attr, item).into_iter();
    while let Some(token) = tokens.next() {
        if matches!(&token, TokenTree::Ident(ident) if ident == "compile_error") {
            // `compile_error` `!` `{ "message" }`
            let Some(TokenTree::Group(body)) = tokens.nth(1) else {
                panic!("compile_error without a body")
            };
            messages.push(syn::parse2::<syn::LitStr>(body.stream()).unwrap().value());
        }
    }
    messages
}
