//! Reading the arguments of `#[live_controller(...)]` and of the route attributes: their
//! syntax only (keys, `=`, literal kinds, numbers in range); what the values mean for routing is
//! checked in `validate`.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::{Parse, ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Attribute, Ident, LitBool, LitInt, LitStr, Path, Token, Type};

use crate::errors::Errors;

const CONTROLLER_KEYS: &str = "`path`, `state`, `exclude_locals`, `buffer`, `write_timeout_ms`, `coalesce_bytes`, `html_error_snippet`, `clean_end_on_error`, `cancel_on_disconnect`, `error_renderer`";

/// The settings that are on when named bare; each is the `LiveConfig` method of its name.
const FLAGS: [&str; 3] = [
    "html_error_snippet",
    "clean_end_on_error",
    "cancel_on_disconnect",
];

/// `buffer = N` or `buffer = unbounded`.
pub(crate) enum BufferArg {
    Chunks(LitInt),
    Unbounded(Span),
}

/// The controller's settings, each with its tokens for spans.
#[derive(Default)]
pub(crate) struct ControllerArgs {
    pub(crate) path: Option<LitStr>,
    /// The axum state the actions' extractors read: `state = AppState`.
    pub(crate) state: Option<Type>,
    pub(crate) exclude_locals: Vec<Path>,
    pub(crate) buffer: Option<BufferArg>,
    /// `Some(None)` for `write_timeout_ms = none`.
    pub(crate) write_timeout_ms: Option<Option<LitInt>>,
    pub(crate) coalesce_bytes: Option<LitInt>,
    /// `error_renderer = path::to::function`.
    pub(crate) error_renderer: Option<Path>,
    /// The flags given, by name (one of [`FLAGS`]), in the order written.
    pub(crate) flags: Vec<(Ident, LitBool)>,
}

/// Rejects a key given twice, at the second one.
fn once<T>(slot: &Option<T>, meta: &ParseNestedMeta, name: &str) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!("`{name}` is given more than once")));
    }
    Ok(())
}

fn positive(lit: LitInt, what: &str) -> syn::Result<LitInt> {
    match lit.base10_parse::<u64>() {
        Ok(n) if n > 0 => Ok(lit),
        _ => Err(syn::Error::new(
            lit.span(),
            format!("`{what}` must be a whole number above 0"),
        )),
    }
}

impl ControllerArgs {
    pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> Self {
        let mut args = ControllerArgs::default();
        let parser = syn::meta::parser(|meta| {
            // A bad argument is reported and skipped, so the ones after it are checked too.
            if let Err(error) = args.parse_one(&meta) {
                errors.push(error);
                skip_argument(meta.input)?;
            }
            Ok(())
        });
        if let Err(error) = parser.parse2(tokens) {
            errors.push(error);
        }
        args
    }

    fn parse_one(&mut self, meta: &ParseNestedMeta) -> syn::Result<()> {
        let key = path_text(&meta.path);
        match key.as_str() {
            "path" => {
                once(&self.path, meta, "path")?;
                self.path = Some(value(meta, "a path string: `path = \"/api/stocks\"`")?);
            }
            "state" => {
                once(&self.state, meta, "state")?;
                self.state = Some(value(meta, "the app's state type: `state = AppState`")?);
            }
            "exclude_locals" => {
                if !self.exclude_locals.is_empty() {
                    return Err(meta.error("`exclude_locals` is given more than once"));
                }
                // Checked before `parse_nested_meta`, whose messages for these are syn's.
                match meta.input.cursor().group(Delimiter::Parenthesis) {
                    Some((inside, ..)) if !inside.eof() => {}
                    _ => {
                        return Err(meta.error(
                            "`exclude_locals` needs the task-locals to leave out: `exclude_locals(TENANT, DB_STACK)`",
                        ));
                    }
                }
                meta.parse_nested_meta(|local| {
                    self.exclude_locals.push(local.path);
                    Ok(())
                })?;
            }
            "buffer" => {
                once(&self.buffer, meta, "buffer")?;
                let expected = "a number of chunks or `unbounded`: `buffer = 32`";
                self.buffer = Some(match value(meta, expected)? {
                    NumberOr::Number(n) => BufferArg::Chunks(positive(n, "buffer")?),
                    NumberOr::Word(word) if word == "unbounded" => {
                        BufferArg::Unbounded(word.span())
                    }
                    NumberOr::Word(word) => return Err(takes(&word, "buffer", expected)),
                });
            }
            "write_timeout_ms" => {
                once(&self.write_timeout_ms, meta, "write_timeout_ms")?;
                let expected = "milliseconds or `none`: `write_timeout_ms = 5000`";
                self.write_timeout_ms = Some(match value(meta, expected)? {
                    NumberOr::Number(n) => Some(positive(n, "write_timeout_ms")?),
                    NumberOr::Word(word) if word == "none" => None,
                    NumberOr::Word(word) => {
                        return Err(takes(&word, "write_timeout_ms", expected));
                    }
                });
            }
            "coalesce_bytes" => {
                once(&self.coalesce_bytes, meta, "coalesce_bytes")?;
                let expected = "a number of bytes: `coalesce_bytes = 65536`";
                let lit: LitInt = value(meta, expected)?;
                lit.base10_parse::<usize>()
                    .map_err(|_| takes(&lit, "coalesce_bytes", expected))?;
                self.coalesce_bytes = Some(lit);
            }
            "error_renderer" => {
                once(&self.error_renderer, meta, "error_renderer")?;
                let expected =
                    "a function from `&ErrorPage` to a response: `error_renderer = error_pages`";
                self.error_renderer = Some(value(meta, expected)?);
            }
            name if FLAGS.contains(&name) => {
                let given = self.flags.iter().find(|(flag, _)| flag == name);
                once(&given, meta, name)?;
                let ident = Ident::new(name, meta.path.span());
                self.flags.push((ident, flag(meta, name)?));
            }
            _ => {
                return Err(meta.error(format!(
                    "unknown argument `{key}`; expected one of {CONTROLLER_KEYS}"
                )));
            }
        }
        Ok(())
    }
}

/// A number, or a word such as `unbounded` or `none`.
enum NumberOr {
    Number(LitInt),
    Word(Ident),
}

impl Parse for NumberOr {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(LitInt) {
            input.parse().map(NumberOr::Number)
        } else {
            input.parse().map(NumberOr::Word)
        }
    }
}

/// The value of `key = value`; a missing `=` or a value of the wrong kind is reported with how
/// to write it, where syn would only say which token it expected.
fn value<T: Parse>(meta: &ParseNestedMeta, expected: &str) -> syn::Result<T> {
    let key = path_text(&meta.path);
    if !meta.input.peek(Token![=]) {
        return Err(takes(&meta.path, &key, expected));
    }
    let input = meta.value()?;
    let at = input.span();
    input
        .parse()
        .map_err(|_| syn::Error::new(at, format!("`{key}` takes {expected}")))
}

/// A setting that is on when named bare: `key`, `key = true` or `key = false`.
fn flag(meta: &ParseNestedMeta, key: &str) -> syn::Result<LitBool> {
    if meta.input.peek(Token![=]) {
        return value(meta, &format!("`true` or `false`, or nothing: `{key}`"));
    }
    let span = meta
        .path
        .get_ident()
        .map_or_else(Span::call_site, |i| i.span());
    Ok(LitBool::new(true, span))
}

fn takes(tokens: impl ToTokens, key: &str, expected: &str) -> syn::Error {
    syn::Error::new_spanned(tokens, format!("`{key}` takes {expected}"))
}

/// An argument's name as written, for messages.
fn path_text(path: &Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}

/// Skips the rest of a bad argument, up to the comma before the next one.
fn skip_argument(input: ParseStream) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<TokenTree>()?;
    }
    Ok(())
}

/// One route attribute on a method: `#[get("/p")]`, ..., `#[route(method = "GET", path = "/p")]`.
pub(crate) struct RouteAttr {
    /// As written: `"GET"` spanned at `get` for `#[get]`, the string of `#[route]`.
    pub(crate) method: LitStr,
    pub(crate) path: LitStr,
}

/// The attribute names that route an action.
pub(crate) fn is_route_attr(attr: &Attribute) -> bool {
    attr.path().get_ident().is_some_and(|i| {
        matches!(
            i.to_string().as_str(),
            "get" | "post" | "put" | "patch" | "delete" | "route"
        )
    })
}

impl RouteAttr {
    pub(crate) fn parse(attr: &Attribute) -> syn::Result<Self> {
        let name = attr
            .path()
            .get_ident()
            .expect("checked by is_route_attr")
            .to_string();
        if name == "route" {
            return Self::parse_route(attr);
        }
        let missing = || {
            syn::Error::new_spanned(
                attr,
                format!(
                    "`#[{name}]` needs a path, relative to the controller's: `#[{name}(\"/prices\")]`"
                ),
            )
        };
        let syn::Meta::List(list) = &attr.meta else {
            return Err(missing());
        };
        if list.tokens.is_empty() {
            return Err(missing());
        }
        // At all the arguments: syn's error would point at the first token it did not expect.
        let path: LitStr = attr.parse_args().map_err(|_| {
            syn::Error::new_spanned(
                &list.tokens,
                format!("`#[{name}]` takes one path string: `#[{name}(\"/prices\")]`; several routes are several attributes"),
            )
        })?;
        Ok(RouteAttr {
            method: LitStr::new(&name.to_uppercase(), attr.path().span()),
            path,
        })
    }

    fn parse_route(attr: &Attribute) -> syn::Result<Self> {
        let usage = "`#[route(method = \"GET\", path = \"/prices\")]`";
        let mut method: Option<LitStr> = None;
        let mut path: Option<LitStr> = None;
        if !matches!(attr.meta, syn::Meta::List(_)) {
            return Err(syn::Error::new_spanned(
                attr,
                format!("`#[route]` needs a method and a path: {usage}"),
            ));
        }
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("method") {
                once(&method, &meta, "method")?;
                method = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("path") {
                once(&path, &meta, "path")?;
                path = Some(meta.value()?.parse()?);
            } else {
                return Err(meta.error(format!(
                    "unknown argument `{}`; expected `method` or `path`: {usage}",
                    path_text(&meta.path)
                )));
            }
            Ok(())
        })?;
        let (Some(method), Some(path)) = (method, path) else {
            return Err(syn::Error::new_spanned(
                attr,
                format!("`#[route]` needs both a method and a path: {usage}"),
            ));
        };
        Ok(RouteAttr { method, path })
    }
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    use crate::errors::reported;
    use crate::expand::live_controller;

    /// What the macro reports for these controller arguments on a controller without mistakes.
    fn reported_for(attr: TokenStream) -> Vec<String> {
        reported(attr, quote!(impl StocksController {}))
    }

    #[test]
    fn every_bad_controller_argument_is_reported() {
        let messages = reported_for(quote!(
            buffer = 0,
            colour = "blue",
            path = "/a",
            path = "/b"
        ));
        assert_eq!(messages.len(), 3, "{messages:#?}");
        assert!(messages[0].contains("`buffer` must be a whole number above 0"));
        assert!(messages[1].contains("unknown argument `colour`"));
        assert!(messages[2].contains("`path` is given more than once"));
    }

    #[test]
    fn exclude_locals_needs_a_list() {
        for tokens in [quote!(exclude_locals()), quote!(exclude_locals)] {
            let messages = reported_for(tokens);
            assert_eq!(messages.len(), 1, "{messages:#?}");
            assert!(messages[0].contains("needs the task-locals to leave out"));
        }
        assert!(reported_for(quote!(exclude_locals(TENANT, db::STACK))).is_empty());
        assert_eq!(
            reported_for(quote!(exclude_locals(TENANT), exclude_locals(DB))),
            ["`exclude_locals` is given more than once"]
        );
    }

    /// Each mistake in the controller's arguments, with the message of its `tests/ui/fail`
    /// case where it has one.
    #[test]
    fn each_controller_argument_mistake_has_its_message() {
        let cases = [
            (
                quote!(buffer = infinite),
                "`buffer` takes a number of chunks or `unbounded`: `buffer = 32`",
            ),
            (
                quote!(buffer = 0),
                "`buffer` must be a whole number above 0",
            ),
            (
                quote!(cancel_on_disconnect = 1),
                "`cancel_on_disconnect` takes `true` or `false`, or nothing: `cancel_on_disconnect`",
            ),
            (
                quote!(cancel_on_disconnect, cancel_on_disconnect = false),
                "`cancel_on_disconnect` is given more than once",
            ),
            (
                quote!(coalesce_bytes = "64k"),
                "`coalesce_bytes` takes a number of bytes: `coalesce_bytes = 65536`",
            ),
            (
                quote!(coalesce_bytes = 100000000000000000000000),
                "`coalesce_bytes` takes a number of bytes: `coalesce_bytes = 65536`",
            ),
            (
                quote!(path),
                "`path` takes a path string: `path = \"/api/stocks\"`",
            ),
            (
                quote!(path = "/stocks", path = "/shares"),
                "`path` is given more than once",
            ),
            (
                quote!(html_error_snippet = "yes"),
                "`html_error_snippet` takes `true` or `false`, or nothing: `html_error_snippet`",
            ),
            (
                quote!(buffr = 32),
                "unknown argument `buffr`; expected one of `path`, `state`, `exclude_locals`, `buffer`, `write_timeout_ms`, `coalesce_bytes`, `html_error_snippet`, `clean_end_on_error`, `cancel_on_disconnect`, `error_renderer`",
            ),
            (
                quote!(write_timeout_ms = "5s"),
                "`write_timeout_ms` takes milliseconds or `none`: `write_timeout_ms = 5000`",
            ),
            (
                quote!(write_timeout_ms = never),
                "`write_timeout_ms` takes milliseconds or `none`: `write_timeout_ms = 5000`",
            ),
            (
                quote!(write_timeout_ms = 0),
                "`write_timeout_ms` must be a whole number above 0",
            ),
            (
                quote!(state = "AppState"),
                "`state` takes the app's state type: `state = AppState`",
            ),
            (
                quote!(error_renderer = 404),
                "`error_renderer` takes a function from `&ErrorPage` to a response: `error_renderer = error_pages`",
            ),
        ];
        for (attr, expected) in cases {
            assert_eq!(reported_for(attr.clone()), [expected], "{attr}");
        }
    }

    #[test]
    fn every_setting_in_every_accepted_form_is_accepted() {
        let attr = quote!(
            path = "/",
            state = crate::AppState,
            exclude_locals(TENANT),
            buffer = unbounded,
            write_timeout_ms = none,
            coalesce_bytes = 0,
            error_renderer = pages::render,
            html_error_snippet,
            clean_end_on_error = false,
            cancel_on_disconnect = true,
        );
        assert_eq!(reported_for(attr), Vec::<String>::new());
    }

    /// Arguments syn cannot read at all (a path without its `path =`): syn's message, once.
    #[test]
    fn an_argument_that_is_not_a_name_is_a_syntax_error() {
        assert_eq!(
            reported_for(quote!("/api/stocks")),
            ["unexpected literal in nested attribute, expected ident"]
        );
    }

    /// Each mistake in a route attribute, with the message of its `tests/ui/fail` case.
    #[test]
    fn each_route_attribute_mistake_has_its_message() {
        let usage = "`#[route(method = \"GET\", path = \"/prices\")]`";
        let cases = [
            (
                quote!(#[post()]),
                "`#[post]` needs a path, relative to the controller's: `#[post(\"/prices\")]`"
                    .to_owned(),
            ),
            (
                quote!(#[get]),
                "`#[get]` needs a path, relative to the controller's: `#[get(\"/prices\")]`"
                    .to_owned(),
            ),
            (
                quote!(#[get = "/prices"]),
                "`#[get]` needs a path, relative to the controller's: `#[get(\"/prices\")]`"
                    .to_owned(),
            ),
            (
                quote!(#[get(prices)]),
                "`#[get]` takes one path string: `#[get(\"/prices\")]`; several routes are several attributes".to_owned(),
            ),
            (
                quote!(#[get("/prices", "/quotes")]),
                "`#[get]` takes one path string: `#[get(\"/prices\")]`; several routes are several attributes".to_owned(),
            ),
            (
                quote!(#[route(method = "GET", method = "HEAD", path = "/prices")]),
                "`method` is given more than once".to_owned(),
            ),
            (
                quote!(#[route(method = "GET", path = "/a", path = "/b")]),
                "`path` is given more than once".to_owned(),
            ),
            (
                quote!(#[route(path = "/prices")]),
                format!("`#[route]` needs both a method and a path: {usage}"),
            ),
            (
                quote!(#[route]),
                format!("`#[route]` needs a method and a path: {usage}"),
            ),
            (
                quote!(#[route(method = "GET", pth = "/prices")]),
                format!("unknown argument `pth`; expected `method` or `path`: {usage}"),
            ),
        ];
        for (attr, expected) in cases {
            let item = quote!(impl StocksController {
                #attr
                pub async fn prices(&self) {}
            });
            assert_eq!(reported(quote!(), item), [expected], "{attr}");
        }
    }

    /// `#[route]` takes any method in any case, as `#[get]` does for its own.
    #[test]
    fn route_attributes_name_the_method_in_any_case() {
        let item = quote!(impl StocksController {
            #[route(method = "options", path = "/prices")]
            pub async fn prices(&self) {}
            #[get("/quotes")]
            #[route(method = "Head", path = "/quotes")]
            pub async fn quotes(&self) {}
        });
        assert_eq!(reported(quote!(), item.clone()), Vec::<String>::new());
        let routes = live_controller(quote!(), item).to_string();
        for route in [
            r#"method : "OPTIONS" , path : "/stocks/prices""#,
            r#"method : "GET" , path : "/stocks/quotes""#,
            r#"method : "HEAD" , path : "/stocks/quotes""#,
        ] {
            assert!(routes.contains(route), "{route} in {routes}");
        }
    }
}
