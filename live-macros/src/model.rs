//! The controller as the macro sees it: its actions, their arguments and routes, read from the
//! impl block and checked. Every mistake is pushed to the error sink and reading goes on, so
//! one bad method does not hide the others.

use std::collections::HashMap;

use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{
    FnArg, GenericArgument, Ident, ImplItem, ImplItemFn, ItemImpl, PathArguments, ReceiverKind,
    ReturnType, Type, TypeParamBound, Visibility,
};

use crate::args::{RouteAttr, is_route_attr};
use crate::errors::Errors;
use crate::routes;

pub(crate) struct Controller {
    pub(crate) self_ty: Type,
    pub(crate) name: String,
    pub(crate) actions: Vec<Action>,
}

pub(crate) struct Action {
    pub(crate) ident: Ident,
    pub(crate) args: Vec<Type>,
    /// Which argument is the `Live` handle, if any: then the action is live.
    pub(crate) live: Option<usize>,
    pub(crate) output: ReturnType,
    pub(crate) routes: Vec<Route>,
}

pub(crate) struct Route {
    pub(crate) method: String,
    /// The full path: the controller's base path joined with the action's.
    pub(crate) path: String,
    pub(crate) span: Span,
}

/// Reads the impl block, strips the route attributes from it (they are the macro's, not
/// rustc's), and returns the model.
pub(crate) fn read(
    item: &mut ItemImpl,
    base: Option<String>,
    errors: &mut Errors,
) -> Option<Controller> {
    let generic = check_impl(item, errors);
    let name = type_name(&item.self_ty);
    if name.is_none() {
        errors.at(
            &item.self_ty,
            "`#[live_controller]` needs a named type: `impl StocksController { ... }`",
        );
    }
    let base = base.unwrap_or_else(|| routes::base_path(name.as_deref().unwrap_or("")));
    let mut actions = Vec::new();
    let mut unrouted_live = Vec::new();
    for impl_item in &mut item.items {
        match impl_item {
            ImplItem::Fn(method) => {
                let route_attrs = take_route_attrs(&mut method.attrs);
                if matches!(method.vis, Visibility::Public(_)) {
                    if let Some(action) = read_action(method, &route_attrs, &base, errors) {
                        actions.push(action);
                    }
                } else if let Some(attr) = route_attrs.first() {
                    errors.at(
                        attr,
                        format!(
                            "`{}` is not `pub`, so it is a helper, not an action (Rails: private methods are not actions); make it `pub` or remove this attribute",
                            method.sig.ident
                        ),
                    );
                } else if takes_live(method) {
                    unrouted_live.push(method.sig.ident.clone());
                }
            }
            ImplItem::Const(item) => reject_route_attrs(&mut item.attrs, "a constant", errors),
            ImplItem::Type(item) => reject_route_attrs(&mut item.attrs, "a type", errors),
            ImplItem::Macro(item) => reject_route_attrs(&mut item.attrs, "a macro", errors),
            _ => {}
        }
    }
    for name in unrouted_live {
        if !called_in(item, &name) {
            errors.at(
                &name,
                format!(
                    "`{name}` takes a `Live` but is not `pub`, so it is not an action and no route reaches it; make it `pub` to route it (a helper that an action calls is fine)"
                ),
            );
        }
    }
    check_conflicts(&actions, errors);
    if generic {
        // No `Controller` impl at all: one for `Wrapper<T>` would name a `T` out of scope.
        return None;
    }
    Some(Controller {
        self_ty: (*item.self_ty).clone(),
        name: name?,
        actions,
    })
}

/// Checks the impl block itself; `true` if it is generic.
fn check_impl(item: &ItemImpl, errors: &mut Errors) -> bool {
    if let Some((path, _)) = &item.trait_ {
        errors.at(
            path,
            "`#[live_controller]` goes on an inherent impl block, not a trait impl",
        );
    }
    if let Some(unsafety) = &item.unsafety {
        errors.at(unsafety, "a controller impl block cannot be `unsafe`");
    }
    let generic = !item.generics.params.is_empty() || item.generics.where_clause.is_some();
    if generic {
        errors.at(
            &item.generics,
            "a controller cannot be generic: its routes are fixed when it compiles",
        );
    }
    generic
}

/// The last segment of a plain path type: `Wrapper` of `Wrapper<u32>` too, so a generic impl
/// is reported as generic only.
fn type_name(ty: &Type) -> Option<String> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    Some(path.path.segments.last()?.ident.to_string())
}

fn take_route_attrs(attrs: &mut Vec<syn::Attribute>) -> Vec<syn::Attribute> {
    let (routes, others) = std::mem::take(attrs).into_iter().partition(is_route_attr);
    *attrs = others;
    routes
}

fn reject_route_attrs(attrs: &mut Vec<syn::Attribute>, what: &str, errors: &mut Errors) {
    for attr in take_route_attrs(attrs) {
        errors.at(
            &attr,
            format!("only `pub async fn` methods can be actions, not {what}"),
        );
    }
}

fn read_action(
    method: &ImplItemFn,
    attrs: &[syn::Attribute],
    base: &str,
    errors: &mut Errors,
) -> Option<Action> {
    let before = errors.len();
    let sig = &method.sig;
    if let Some(constness) = &sig.constness {
        errors.at(
            constness,
            "an action cannot be a `const fn`: it is a `pub async fn`",
        );
    }
    if let syn::Safety::Unsafe(unsafety) = &sig.safety {
        errors.at(
            unsafety,
            "an action cannot be `unsafe`: nothing could uphold its contract",
        );
    }
    if let Some(abi) = &sig.abi {
        errors.at(abi, "an action cannot be `extern`");
    }
    // A `const fn` cannot be `async` either: one mistake, reported once, above.
    if sig.asyncness.is_none() && sig.constness.is_none() {
        errors.at(
            sig.fn_token,
            format!("action `{}` must be `async fn`", sig.ident),
        );
    }
    // Lifetime parameters alone are harmless; a borrowed receiver or argument is reported
    // where it is, below.
    let lifetimes_only = sig.generics.lifetimes().count() == sig.generics.params.len();
    if !lifetimes_only || sig.generics.where_clause.is_some() {
        errors.at(
            &sig.generics,
            "an action cannot be generic: axum must know its argument types",
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.at(variadic, "an action cannot be variadic");
    }
    check_receiver(method, errors);
    check_output_owned(&sig.output, errors);

    let mut args = Vec::new();
    let mut live = None;
    let runs_in_a_task = sig
        .inputs
        .iter()
        .any(|arg| matches!(arg, FnArg::Typed(arg) if is_live(&arg.ty)));
    for arg in sig
        .inputs
        .iter()
        .skip_while(|a| matches!(a, FnArg::Receiver(_)))
    {
        let FnArg::Typed(arg) = arg else { continue };
        let ty = (*arg.ty).clone();
        check_owned(&ty, runs_in_a_task, errors);
        if is_live(&ty) {
            if live.is_some() {
                errors.at(
                    &ty,
                    "an action takes at most one `Live`: it is the one response",
                );
            }
            live = Some(args.len());
        }
        args.push(ty);
    }

    let mut routes = Vec::new();
    let mut route = |method: &str, path: &str, span: Span| {
        routes.push(Route {
            method: method.to_owned(),
            path: routes::join(base, path),
            span,
        });
    };
    if attrs.is_empty() {
        for (method_name, path) in routes::derived(&sig.ident.to_string()) {
            route(method_name, &path, sig.ident.span());
        }
    }
    for attr in attrs {
        match RouteAttr::parse(attr) {
            Ok(parsed) => match routes::check(&parsed.path.value()) {
                Ok(()) => route(&parsed.method, &parsed.path.value(), parsed.path.span()),
                Err(message) => errors.at(&parsed.path, message),
            },
            Err(error) => errors.push(error),
        }
    }

    (errors.len() == before).then(|| Action {
        ident: sig.ident.clone(),
        args,
        live,
        output: sig.output.clone(),
        routes,
    })
}

fn check_receiver(method: &ImplItemFn, errors: &mut Errors) {
    let sig = &method.sig;
    let share = "actions share the controller (`Arc<Self>`) between requests";
    match sig.receiver() {
        None => errors.at(
            &sig.ident,
            format!("action `{}` must take `&self` ({share}); a function without `self` is not an action", sig.ident),
        ),
        Some(receiver) => match &receiver.kind {
            ReceiverKind::Reference(_, _, Some(_)) => errors.at(
                receiver,
                format!("an action takes `&self`, not `&mut self`: {share}; use interior mutability (`Mutex`, atomics) for state"),
            ),
            ReceiverKind::Reference(_, Some(lifetime), None) => {
                errors.at(lifetime, "an action takes plain `&self`, without a named lifetime")
            }
            ReceiverKind::Reference(_, None, None) => {}
            _ => errors.at(receiver, format!("an action takes `&self`, not `self` by value: {share}")),
        },
    }
}

/// No borrowed argument types. Each argument is extracted from the request as an owned value,
/// and a live action's (one that takes `Live`) moves into its spawned `'static` task; an
/// ordinary action runs inline in the handler, so only the first reason is its.
fn check_owned(ty: &Type, runs_in_a_task: bool, errors: &mut Errors) {
    let why = if runs_in_a_task {
        "the live action runs in a spawned `'static` task"
    } else {
        "axum extracts each argument from the request as a value of its own"
    };
    if let Type::Reference(reference) = ty {
        errors.at(
            reference,
            format!("an action argument cannot be borrowed: {why}; take an owned type (`String`, not `&str`)"),
        );
    } else if let Type::ImplTrait(_) = ty {
        errors.at(
            ty,
            "an action argument cannot be `impl Trait`: axum must know its type",
        );
    } else if let Some(borrow) = borrow(ty) {
        errors.at(
            ty,
            format!("an action argument cannot borrow (`{borrow}`): {why}"),
        );
    }
}

/// The response is sent after the action's call ends, so it cannot borrow `&self` or anything
/// else of the call; rustc would only say so at the macro.
fn check_output_owned(output: &ReturnType, errors: &mut Errors) {
    if let ReturnType::Type(_, ty) = output {
        if let Some(borrow) = borrow(ty) {
            errors.at(
                ty,
                format!("an action cannot return a borrow (`{borrow}`): the response outlives the call; return an owned type (`String`, not `&str`) or a `&'static` one"),
            );
        }
    }
}

/// The first borrow in a type as written: a lifetime other than `'static`, or a `&` without
/// one. Lifetimes elided inside `Fn(&str)` and `fn(&str)` are the function's own, not borrows.
fn borrow(ty: &Type) -> Option<String> {
    match ty {
        Type::Reference(reference) => match &reference.lifetime {
            None => Some("&".to_owned()),
            Some(lifetime) if lifetime.ident != "static" => Some(lifetime.to_string()),
            Some(_) => borrow(&reference.elem),
        },
        Type::Path(path) => path
            .qself
            .as_ref()
            .and_then(|qself| borrow(&qself.ty))
            .or_else(|| borrow_in_path(&path.path)),
        Type::TraitObject(object) => borrow_in_bounds(&object.bounds),
        Type::ImplTrait(opaque) => borrow_in_bounds(&opaque.bounds),
        Type::Tuple(tuple) => tuple.elems.iter().find_map(borrow),
        Type::Array(array) => borrow(&array.elem),
        Type::Slice(slice) => borrow(&slice.elem),
        Type::Paren(paren) => borrow(&paren.elem),
        Type::Group(group) => borrow(&group.elem),
        Type::Ptr(pointer) => borrow(&pointer.elem),
        _ => None,
    }
}

fn borrow_in_path(path: &syn::Path) -> Option<String> {
    path.segments.iter().find_map(|segment| {
        let PathArguments::AngleBracketed(args) = &segment.arguments else {
            return None;
        };
        args.args.iter().find_map(|arg| match arg {
            GenericArgument::Lifetime(lifetime) if lifetime.ident != "static" => {
                Some(lifetime.to_string())
            }
            GenericArgument::Type(ty) => borrow(ty),
            GenericArgument::AssocType(assoc) => borrow(&assoc.ty),
            _ => None,
        })
    })
}

fn borrow_in_bounds<'a>(bounds: impl IntoIterator<Item = &'a TypeParamBound>) -> Option<String> {
    bounds.into_iter().find_map(|bound| match bound {
        TypeParamBound::Lifetime(lifetime) if lifetime.ident != "static" => {
            Some(lifetime.to_string())
        }
        TypeParamBound::Trait(bound) => borrow_in_path(&bound.path),
        _ => None,
    })
}

/// Whether a method takes a `Live` argument.
fn takes_live(method: &ImplItemFn) -> bool {
    method.sig.inputs.iter().any(|input| match input {
        FnArg::Typed(typed) => is_live(&typed.ty),
        FnArg::Receiver(_) => false,
    })
}

/// Whether `name` appears in the body of another method of the impl block: a helper that an
/// action calls is not a forgotten `pub`.
fn called_in(item: &ItemImpl, name: &Ident) -> bool {
    fn mentions(tokens: proc_macro2::TokenStream, name: &Ident) -> bool {
        tokens.into_iter().any(|token| match token {
            proc_macro2::TokenTree::Ident(ident) => ident == *name,
            proc_macro2::TokenTree::Group(group) => mentions(group.stream(), name),
            _ => false,
        })
    }
    item.items.iter().any(|impl_item| match impl_item {
        ImplItem::Fn(method) if method.sig.ident != *name => {
            mentions(method.block.to_token_stream(), name)
        }
        _ => false,
    })
}

/// In a controller without `state = ...`, an argument written `State<T>` cannot extract:
/// say what to add, at the argument, instead of a trait error about state `()`.
pub(crate) fn check_state_arguments(controller: &Controller, errors: &mut Errors) {
    for ty in controller.actions.iter().flat_map(|action| &action.args) {
        let Type::Path(path) = ty else { continue };
        let Some(last) = path.path.segments.last() else {
            continue;
        };
        let PathArguments::AngleBracketed(args) = &last.arguments else {
            continue;
        };
        let Some(GenericArgument::Type(inner)) = args.args.first() else {
            continue;
        };
        if last.ident == "State" {
            errors.at(
                ty,
                format!(
                    "`State` needs the controller's state: `#[live_controller(state = {})]`, then merge `into_router()` into the app's `Router<{0}>`",
                    inner.to_token_stream().to_string().replace(' ', "")
                ),
            );
        }
    }
}

/// `Live` or a path ending in `Live`, without generics.
fn is_live(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.qself.is_none()
        && path.path.segments.last().is_some_and(|s| s.ident == "Live" && s.arguments.is_none()))
}

/// Two routes with the same method and path, or paths axum cannot tell apart.
fn check_conflicts(actions: &[Action], errors: &mut Errors) {
    let mut by_route: HashMap<(String, String), &Ident> = HashMap::new();
    let mut by_shape: HashMap<String, (&str, &Ident)> = HashMap::new();
    for action in actions {
        for route in &action.routes {
            let key = (route.method.clone(), route.path.clone());
            if let Some(first) = by_route.get(&key) {
                errors.push(syn::Error::new(
                    route.span,
                    format!(
                        "`{} {}` is already the route of `{first}`",
                        route.method, route.path
                    ),
                ));
                continue;
            }
            by_route.insert(key, &action.ident);
            let shape = routes::shape(&route.path);
            match by_shape.get(&shape) {
                Some((path, first)) if *path != route.path => errors.push(syn::Error::new(
                    route.span,
                    format!(
                        "`{}` and `{path}` (of `{first}`) differ only in parameter names; axum cannot tell them apart",
                        route.path
                    ),
                )),
                Some(_) => {}
                None => {
                    by_shape.insert(shape, (&route.path, &action.ident));
                }
            }
        }
    }
}

impl Action {
    pub(crate) fn span(&self) -> Span {
        self.ident.span()
    }

    pub(crate) fn output_span(&self) -> Span {
        match &self.output {
            ReturnType::Default => self.ident.span(),
            ReturnType::Type(_, ty) => ty.span(),
        }
    }
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;
    use syn::parse_quote;

    use super::*;
    use crate::errors::reported;

    /// What the macro reports for a controller whose impl block holds `items`.
    fn reported_in(items: TokenStream) -> Vec<String> {
        reported(quote!(), quote!(impl StocksController { #items }))
    }

    /// Each mistake in an action's signature, alone in its block, with the message of its
    /// `tests/ui/fail` case where it has one.
    #[test]
    fn each_action_mistake_has_its_message() {
        let share = "actions share the controller (`Arc<Self>`) between requests";
        let cases = [
            (
                quote!(pub async fn create(&mut self) -> String {}),
                format!("an action takes `&self`, not `&mut self`: {share}; use interior mutability (`Mutex`, atomics) for state"),
            ),
            (
                quote!(pub fn index(&self) -> &'static str {}),
                "action `index` must be `async fn`".to_owned(),
            ),
            (
                quote!(pub async fn index<'a>(&'a self) -> &'static str {}),
                "an action takes plain `&self`, without a named lifetime".to_owned(),
            ),
            (
                quote!(pub async fn index(&self) -> &str {}),
                "an action cannot return a borrow (`&`): the response outlives the call; return an owned type (`String`, not `&str`) or a `&'static` one".to_owned(),
            ),
            (
                quote!(pub async fn index(self) -> &'static str {}),
                format!("an action takes `&self`, not `self` by value: {share}"),
            ),
            (
                quote!(pub async fn index() -> &'static str {}),
                format!("action `index` must take `&self` ({share}); a function without `self` is not an action"),
            ),
            (
                quote!(pub async fn create(&self, body: &str) -> String {}),
                "an action argument cannot be borrowed: axum extracts each argument from the request as a value of its own; take an owned type (`String`, not `&str`)".to_owned(),
            ),
            (
                quote!(pub async fn create<'a>(&self, body: Cow<'a, str>) -> String {}),
                "an action argument cannot borrow (`'a`): axum extracts each argument from the request as a value of its own".to_owned(),
            ),
            (
                quote!(pub async fn create(&self, name: &str, live: Live) -> live_runtime::Result {}),
                "an action argument cannot be borrowed: the live action runs in a spawned `'static` task; take an owned type (`String`, not `&str`)".to_owned(),
            ),
            (
                quote!(pub async fn create(&self, body: impl Into<String>) -> String {}),
                "an action argument cannot be `impl Trait`: axum must know its type".to_owned(),
            ),
            (
                quote!(pub const fn index(&self) -> &'static str {}),
                "an action cannot be a `const fn`: it is a `pub async fn`".to_owned(),
            ),
            (
                quote!(pub async unsafe fn index(&self) -> &'static str {}),
                "an action cannot be `unsafe`: nothing could uphold its contract".to_owned(),
            ),
            (
                quote!(pub async extern "C" fn index(&self) -> &'static str {}),
                "an action cannot be `extern`".to_owned(),
            ),
            (
                quote!(pub async fn show<T: Default>(&self) -> &'static str {}),
                "an action cannot be generic: axum must know its argument types".to_owned(),
            ),
            (
                quote!(pub async fn show<'a>(&self) -> &'static str where 'a: 'static {}),
                "an action cannot be generic: axum must know its argument types".to_owned(),
            ),
            (
                quote!(pub async fn stream(&self, live: Live, _again: Live) -> live_runtime::Result {}),
                "an action takes at most one `Live`: it is the one response".to_owned(),
            ),
        ];
        for (method, expected) in cases {
            assert_eq!(reported_in(method.clone()), [expected], "{method}");
        }
    }

    /// The paths of `tests/ui/fail/path_*.rs`, each reported at its route.
    #[test]
    fn each_bad_path_has_its_message() {
        let cases = [
            (
                quote!(#[get("/prices//today")]),
                "path `/prices//today` has an empty segment (`//`, or a trailing `/`)",
            ),
            (
                quote!(#[get("/:id/history")]),
                "path `/:id/history`: axum 0.8 writes parameters as `{id}`, not `:id`",
            ),
            (
                quote!(#[get("/{id/history")]),
                "path `/{id/history`: unbalanced `{` or `}` in segment `{id` (a parameter is a whole segment, `{name}`)",
            ),
            (
                quote!(#[get("prices")]),
                "path `prices` must start with `/`",
            ),
        ];
        for (attr, expected) in cases {
            let method = quote!(#attr pub async fn history(&self) -> &'static str {});
            assert_eq!(reported_in(method), [expected], "{attr}");
        }
        assert_eq!(
            reported(
                quote!(path = "/stocks/"),
                quote!(impl StocksController { pub async fn index(&self) {} })
            ),
            ["path `/stocks/` has an empty segment (`//`, or a trailing `/`)"]
        );
    }

    /// Every bad route of a block, of one method or several, is reported.
    #[test]
    fn every_bad_route_of_a_block_is_reported() {
        let messages = reported_in(quote! {
            #[get("prices")]
            #[post("/prices//all")]
            pub async fn prices(&self) -> &'static str {}
            #[delete("/{id")]
            pub async fn remove(&self) -> &'static str {}
        });
        assert_eq!(
            messages,
            [
                "path `prices` must start with `/`",
                "path `/prices//all` has an empty segment (`//`, or a trailing `/`)",
                "path `/{id`: unbalanced `{` or `}` in segment `{id` (a parameter is a whole segment, `{name}`)",
            ]
        );
    }

    #[test]
    fn routes_that_clash() {
        let messages = reported_in(quote! {
            pub async fn prices(&self) -> &'static str {}
            #[get("/prices")]
            pub async fn quotes(&self) -> &'static str {}
        });
        assert_eq!(
            messages,
            ["`GET /stocks/prices` is already the route of `prices`"]
        );
        let messages = reported_in(quote! {
            pub async fn show(&self) -> &'static str {}
            #[get("/{symbol}")]
            pub async fn by_symbol(&self) -> &'static str {}
        });
        assert_eq!(
            messages,
            [
                "`/stocks/{symbol}` and `/stocks/{id}` (of `show`) differ only in parameter names; axum cannot tell them apart"
            ]
        );
    }

    /// A route attribute on anything but a `pub` method: it would route nothing.
    #[test]
    fn a_route_attribute_on_what_is_not_an_action() {
        let helper = "`prices` is not `pub`, so it is a helper, not an action (Rails: private methods are not actions); make it `pub` or remove this attribute";
        let cases = [
            (
                quote!(
                    #[get("/limit")]
                    pub const LIMIT: u32 = 10;
                ),
                "only `pub async fn` methods can be actions, not a constant",
            ),
            (
                quote!(
                    #[get("/item")]
                    type Item = u32;
                ),
                "only `pub async fn` methods can be actions, not a type",
            ),
            (
                quote!(#[get("/made")] made!();),
                "only `pub async fn` methods can be actions, not a macro",
            ),
            (
                quote!(
                    #[get("/prices")]
                    async fn prices(&self) -> &'static str {}
                ),
                helper,
            ),
            (
                quote!(
                    #[get("/prices")]
                    pub(crate) async fn prices(&self) -> &'static str {}
                ),
                helper,
            ),
        ];
        for (item, expected) in cases {
            assert_eq!(reported_in(item.clone()), [expected], "{item}");
        }
    }

    /// A method that takes `Live` but is not `pub` is a forgotten `pub`, unless another
    /// method calls it: then it is a helper.
    #[test]
    fn a_live_method_that_is_not_pub() {
        let messages = reported_in(quote! {
            async fn prices(&self, live: Live) -> live_runtime::Result {}
            pub async fn show(&self, live: Live) -> live_runtime::Result {
                self.render(live).await
            }
            async fn render(&self, live: Live) -> live_runtime::Result {}
        });
        assert_eq!(
            messages,
            [
                "`prices` takes a `Live` but is not `pub`, so it is not an action and no route reaches it; make it `pub` to route it (a helper that an action calls is fine)"
            ]
        );
    }

    /// The impl block itself: one that cannot be a controller is reported, once.
    #[test]
    fn each_impl_block_mistake_has_its_message() {
        let cases = [
            (
                quote!(
                    impl<T: Send + Sync + 'static> StocksController<T> {
                        pub async fn index(&self) -> &'static str {}
                    }
                ),
                "a controller cannot be generic: its routes are fixed when it compiles",
            ),
            (
                quote!(impl StocksController where Self: Sized {}),
                "a controller cannot be generic: its routes are fixed when it compiles",
            ),
            (
                quote!(impl Default for StocksController {
                    fn default() -> Self { StocksController }
                }),
                "`#[live_controller]` goes on an inherent impl block, not a trait impl",
            ),
            (
                quote!(unsafe impl StocksController {}),
                "a controller impl block cannot be `unsafe`",
            ),
            (
                quote!(
                    impl (u8, u16) {}
                ),
                "`#[live_controller]` needs a named type: `impl StocksController { ... }`",
            ),
            (
                quote!(
                    impl <Vec<u8> as IntoIterator>::Item {}
                ),
                "`#[live_controller]` needs a named type: `impl StocksController { ... }`",
            ),
        ];
        for (item, expected) in cases {
            assert_eq!(reported(quote!(), item.clone()), [expected], "{item}");
        }
    }

    #[test]
    fn state_needs_the_controllers_state() {
        let item = quote!(impl StocksController {
            pub async fn index(&self, State(_app): State<AppState>) -> &'static str {}
        });
        assert_eq!(
            reported(quote!(), item.clone()),
            [
                "`State` needs the controller's state: `#[live_controller(state = AppState)]`, then merge `into_router()` into the app's `Router<AppState>`"
            ]
        );
        assert_eq!(
            reported(quote!(state = AppState), item),
            Vec::<String>::new()
        );
    }

    fn borrow_of(ty: Type) -> Option<String> {
        borrow(&ty)
    }

    #[test]
    fn borrows_in_types() {
        assert_eq!(borrow_of(parse_quote!(&str)).as_deref(), Some("&"));
        assert_eq!(borrow_of(parse_quote!(Json<&str>)).as_deref(), Some("&"));
        assert_eq!(borrow_of(parse_quote!(Cow<'a, str>)).as_deref(), Some("'a"));
        assert_eq!(borrow_of(parse_quote!(&'a str)).as_deref(), Some("'a"));
        assert_eq!(
            borrow_of(parse_quote!(impl IntoResponse + '_)).as_deref(),
            Some("'_")
        );
        assert_eq!(
            borrow_of(parse_quote!((StatusCode, &'static [&str]))).as_deref(),
            Some("&")
        );
        assert_eq!(borrow_of(parse_quote!(&'static str)), None);
        assert_eq!(
            borrow_of(parse_quote!((StatusCode, Cow<'static, str>))),
            None
        );
        assert_eq!(borrow_of(parse_quote!(Json<Vec<String>>)), None);
        assert_eq!(
            borrow_of(parse_quote!(
                Extension<Arc<dyn Fn(&str) -> &str + Send + Sync>>
            )),
            None
        );
        assert_eq!(borrow_of(parse_quote!(Extension<fn(&str) -> usize>)), None);
    }
}
