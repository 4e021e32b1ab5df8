//! The arguments of `#[live_controller(...)]` and of the per-method route attributes.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Attribute, LitBool, LitInt, LitStr, Path, Token};

use crate::errors::Errors;
use crate::routes;

const CONTROLLER_KEYS: &str = "`path`, `exclude_locals`, `buffer`, `write_timeout_ms`, `coalesce_bytes`, `html_error_snippet`";

/// `buffer = N` or `buffer = unbounded`.
pub(crate) enum BufferArg {
    Chunks(LitInt),
    Unbounded(Span),
}

/// The controller's settings, each with its tokens for spans.
#[derive(Default)]
pub(crate) struct ControllerArgs {
    pub(crate) path: Option<LitStr>,
    pub(crate) exclude_locals: Vec<Path>,
    pub(crate) buffer: Option<BufferArg>,
    /// `Some(None)` for `write_timeout_ms = none`.
    pub(crate) write_timeout_ms: Option<Option<LitInt>>,
    pub(crate) coalesce_bytes: Option<LitInt>,
    pub(crate) html_error_snippet: Option<LitBool>,
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
        let parser = syn::meta::parser(|meta| args.parse_one(meta));
        if let Err(error) = parser.parse2(tokens) {
            errors.push(error);
        }
        if let Some(path) = &args.path {
            if let Err(message) = routes::check(&path.value()) {
                errors.at(path, message);
            } else if path.value() != "/" && path.value().contains('{') {
                errors.at(path, "the controller's `path` cannot have parameters");
            }
        }
        args
    }

    fn parse_one(&mut self, meta: ParseNestedMeta) -> syn::Result<()> {
        let Some(key) = meta.path.get_ident().map(ToString::to_string) else {
            return Err(meta.error(format!(
                "unknown argument; expected one of {CONTROLLER_KEYS}"
            )));
        };
        match key.as_str() {
            "path" => {
                once(&self.path, &meta, "path")?;
                self.path = Some(meta.value()?.parse()?);
            }
            "exclude_locals" => {
                if !self.exclude_locals.is_empty() {
                    return Err(meta.error("`exclude_locals` is given more than once"));
                }
                meta.parse_nested_meta(|local| {
                    self.exclude_locals.push(local.path);
                    Ok(())
                })?;
                if self.exclude_locals.is_empty() {
                    return Err(meta.error("`exclude_locals(...)` needs at least one task-local"));
                }
            }
            "buffer" => {
                once(&self.buffer, &meta, "buffer")?;
                let value = meta.value()?;
                self.buffer = Some(if value.peek(LitInt) {
                    BufferArg::Chunks(positive(value.parse()?, "buffer")?)
                } else {
                    let word: syn::Ident = value.parse().map_err(|e| {
                        syn::Error::new(e.span(), "expected a number of chunks or `unbounded`")
                    })?;
                    if word != "unbounded" {
                        return Err(syn::Error::new(
                            word.span(),
                            "expected a number of chunks or `unbounded`",
                        ));
                    }
                    BufferArg::Unbounded(word.span())
                });
            }
            "write_timeout_ms" => {
                once(&self.write_timeout_ms, &meta, "write_timeout_ms")?;
                let value = meta.value()?;
                self.write_timeout_ms = Some(if value.peek(LitInt) {
                    Some(positive(value.parse()?, "write_timeout_ms")?)
                } else {
                    let word: syn::Ident = value.parse().map_err(|e| {
                        syn::Error::new(e.span(), "expected milliseconds or `none`")
                    })?;
                    if word != "none" {
                        return Err(syn::Error::new(
                            word.span(),
                            "expected milliseconds or `none`",
                        ));
                    }
                    None
                });
            }
            "coalesce_bytes" => {
                once(&self.coalesce_bytes, &meta, "coalesce_bytes")?;
                let lit: LitInt = meta.value()?.parse()?;
                lit.base10_parse::<usize>()?;
                self.coalesce_bytes = Some(lit);
            }
            "html_error_snippet" => {
                once(&self.html_error_snippet, &meta, "html_error_snippet")?;
                self.html_error_snippet = Some(if meta.input.peek(Token![=]) {
                    meta.value()?.parse()?
                } else {
                    LitBool::new(
                        true,
                        meta.path
                            .get_ident()
                            .map_or_else(Span::call_site, |i| i.span()),
                    )
                });
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

/// One route attribute on a method: `#[get("/p")]`, ..., `#[route(method = "GET", path = "/p")]`.
pub(crate) struct RouteAttr {
    pub(crate) method: String,
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
        let path: LitStr = attr.parse_args().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("`#[{name}]` takes one path string: `#[{name}(\"/prices\")]`"),
            )
        })?;
        Ok(RouteAttr {
            method: name.to_uppercase(),
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
                    "unknown argument; expected `method` or `path`: {usage}"
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
        let upper = method.value().to_uppercase();
        if !routes::METHODS.contains(&upper.as_str()) {
            return Err(syn::Error::new(
                method.span(),
                format!(
                    "unknown HTTP method `{}`; expected one of {}",
                    method.value(),
                    routes::METHODS.join(", ")
                ),
            ));
        }
        Ok(RouteAttr {
            method: upper,
            path,
        })
    }
}
