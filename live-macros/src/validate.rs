//! Every rule a controller must follow, checked on the impl block as read, before anything is
//! generated. Each mistake is reported at the user's own tokens and checking goes on in the
//! order written, so one bad method does not hide the others; what passes becomes the model.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{
    FnArg, GenericArgument, Ident, ImplItem, ImplItemFn, ItemImpl, PathArguments, ReceiverKind,
    ReturnType, Type, TypeParamBound,
};

use crate::args::{ControllerArgs, RouteAttr};
use crate::errors::Errors;
use crate::model::{Action, Block, Controller, Item, Method, Route, is_live};
use crate::routes;

/// Checks the controller's arguments and its impl block; the model of its actions, or `None`
/// when no `Controller` impl can be written for it at all.
pub(crate) fn controller(
    args: &ControllerArgs,
    item: &ItemImpl,
    block: &Block,
    errors: &mut Errors,
) -> Option<Controller> {
    controller_path(args, errors);
    let generic = impl_block(item, errors);
    let name = type_name(&item.self_ty);
    if name.is_none() {
        errors.at(
            &item.self_ty,
            "`#[live_controller]` needs a named type: `impl StocksController { ... }`",
        );
    }
    let base = match &args.path {
        Some(path) => path.value(),
        None => routes::base_path(name.as_deref().unwrap_or("")),
    };
    let mut actions = Vec::new();
    for entry in &block.items {
        match entry {
            Item::Method(method) if method.is_pub() => {
                actions.extend(action(method, &base, errors));
            }
            Item::Method(method) => not_pub(method, item, errors),
            Item::NotAMethod { what, route_attrs } => {
                for attr in route_attrs {
                    errors.at(
                        attr,
                        format!("only `pub async fn` methods can be actions, not {what}"),
                    );
                }
            }
        }
    }
    conflicts(&actions, errors);
    if generic {
        // No `Controller` impl at all: one for `Wrapper<T>` would name a `T` out of scope.
        return None;
    }
    let controller = Controller {
        self_ty: (*item.self_ty).clone(),
        name: name?,
        actions,
    };
    if args.state.is_none() {
        state_arguments(&controller, errors);
    }
    Some(controller)
}

fn controller_path(args: &ControllerArgs, errors: &mut Errors) {
    let Some(path) = &args.path else { return };
    if let Err(message) = routes::check(&path.value()) {
        errors.at(path, message);
    } else if path.value() != "/" && path.value().contains('{') {
        errors.at(path, "the controller's `path` cannot have parameters");
    }
}

/// Checks the impl block itself; `true` if it is generic.
fn impl_block(item: &ItemImpl, errors: &mut Errors) -> bool {
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

/// A method that is not `pub` is a helper, unless a route attribute or its name says it is an
/// action: then it is a forgotten `pub`, better an error here than a 404 at run time.
fn not_pub(method: &Method, item: &ItemImpl, errors: &mut Errors) {
    let sig = &method.item.sig;
    let at: TokenStream = match method.routes.first() {
        Some((attr, _)) => attr.to_token_stream(),
        None if routed_by_name(method, item) => sig.ident.to_token_stream(),
        None => return,
    };
    errors.at(
        at,
        format!(
            "`{}` is not `pub`, so it is not an action and no route reaches it (Rails: a method that is not public is a helper); make it `pub` to route it",
            sig.ident
        ),
    );
}

/// No other method of the block calls it, and it takes `Live` or is an `async fn` on `&self`
/// named as a Rails resource action.
fn routed_by_name(method: &Method, item: &ItemImpl) -> bool {
    let sig = &method.item.sig;
    let on_self = sig
        .receiver()
        .is_some_and(|receiver| matches!(receiver.kind, ReceiverKind::Reference(_, _, None)));
    let named_as_action =
        sig.asyncness.is_some() && on_self && routes::is_resource_action(&sig.ident.to_string());
    (method.takes_live() || named_as_action) && !called_in(item, &sig.ident)
}

/// Whether `name` appears in the body of another method of the impl block: a helper that an
/// action calls is not a forgotten `pub`.
fn called_in(item: &ItemImpl, name: &Ident) -> bool {
    fn mentions(tokens: TokenStream, name: &Ident) -> bool {
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

/// Checks a `pub` method as an action: its signature, then its arguments, then its routes.
fn action(method: &Method, base: &str, errors: &mut Errors) -> Option<Action> {
    let before = errors.len();
    signature(&method.item, errors);
    arguments(&method.item, errors);
    let mut routes = Vec::new();
    if method.routes.is_empty() {
        let ident = &method.item.sig.ident;
        for (method, path) in routes::derived(&ident.to_string()) {
            routes.push(Route {
                method: method.to_owned(),
                path: routes::join(base, &path),
                span: ident.span(),
            });
        }
    }
    for (_, parsed) in &method.routes {
        match parsed {
            Ok(attr) => routes.extend(route(attr, base, errors)),
            Err(error) => errors.push(error.clone()),
        }
    }
    (errors.len() == before).then(|| Action::new(&method.item, routes))
}

fn signature(method: &ImplItemFn, errors: &mut Errors) {
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
    // where it is.
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
    receiver(method, errors);
    output_owned(&sig.output, errors);
}

fn receiver(method: &ImplItemFn, errors: &mut Errors) {
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

/// The response is sent after the action's call ends, so it cannot borrow `&self` or anything
/// else of the call; rustc would only say so at the macro.
fn output_owned(output: &ReturnType, errors: &mut Errors) {
    if let ReturnType::Type(_, ty) = output
        && let Some(borrow) = borrow(ty)
    {
        errors.at(
            ty,
            format!("an action cannot return a borrow (`{borrow}`): the response outlives the call; return an owned type (`String`, not `&str`) or a `&'static` one"),
        );
    }
}

/// Owned arguments, and at most one `Live`. Each argument is extracted from the request as a
/// value of its own, and a live action's also move into its spawned `'static` task.
fn arguments(method: &ImplItemFn, errors: &mut Errors) {
    let types: Vec<&Type> = method
        .sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(arg) => Some(&*arg.ty),
            FnArg::Receiver(_) => None,
        })
        .collect();
    let why = if types.iter().any(|ty| is_live(ty)) {
        "the live action runs in a spawned `'static` task"
    } else {
        "axum extracts each argument from the request as a value of its own"
    };
    let mut lives = 0;
    for ty in types {
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
        if is_live(ty) {
            lives += 1;
            if lives > 1 {
                errors.at(
                    ty,
                    "an action takes at most one `Live`: it is the one response",
                );
            }
        }
    }
}

/// One route attribute's method and path, joined to the base path.
fn route(attr: &RouteAttr, base: &str, errors: &mut Errors) -> Option<Route> {
    let method = attr.method.value().to_uppercase();
    if !routes::METHODS.contains(&method.as_str()) {
        errors.at(
            &attr.method,
            format!(
                "unknown HTTP method `{}`; expected one of {}",
                attr.method.value(),
                routes::METHODS.join(", ")
            ),
        );
        return None;
    }
    let path = attr.path.value();
    if let Err(message) = routes::check(&path) {
        errors.at(&attr.path, message);
        return None;
    }
    Some(Route {
        method,
        path: routes::join(base, &path),
        span: attr.path.span(),
    })
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

/// Two routes with the same method and path, or paths axum cannot tell apart: axum would
/// refuse them when the app starts.
fn conflicts(actions: &[Action], errors: &mut Errors) {
    let mut by_route: HashMap<(&str, &str), &Ident> = HashMap::new();
    let mut by_shape: HashMap<String, (&str, &Ident)> = HashMap::new();
    for action in actions {
        for route in &action.routes {
            let key = (route.method.as_str(), route.path.as_str());
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

/// In a controller without `state = ...`, an argument written `State<T>` cannot extract:
/// say what to add, at the argument, instead of a trait error about state `()`.
fn state_arguments(controller: &Controller, errors: &mut Errors) {
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

    /// The paths of `tests/ui/fail/path_*.rs` and `controller_path_*.rs` and the method of
    /// `unknown_http_method.rs`, each reported where it is written.
    #[test]
    fn each_bad_route_has_its_message() {
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
        let attr = quote!(#[route(method = "FETCH", path = "/prices")]);
        assert_eq!(
            reported_in(quote!(#attr pub async fn history(&self) -> &'static str {})),
            [
                "unknown HTTP method `FETCH`; expected one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, TRACE"
            ]
        );
        let controller_paths = [
            (
                quote!(path = "/stocks/"),
                "path `/stocks/` has an empty segment (`//`, or a trailing `/`)",
            ),
            (
                quote!(path = "/accounts/{account}/stocks"),
                "the controller's `path` cannot have parameters",
            ),
            (
                quote!(path = "api/stocks"),
                "path `api/stocks` must start with `/`",
            ),
        ];
        for (attr, expected) in controller_paths {
            let item = quote!(impl StocksController { pub async fn index(&self) {} });
            assert_eq!(reported(attr.clone(), item), [expected], "{attr}");
        }
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

    /// A route attribute on a constant, type or macro: it would route nothing.
    #[test]
    fn a_route_attribute_on_what_is_not_a_method() {
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
        ];
        for (item, expected) in cases {
            assert_eq!(reported_in(item.clone()), [expected], "{item}");
        }
    }

    fn not_pub(name: &str) -> String {
        format!(
            "`{name}` is not `pub`, so it is not an action and no route reaches it (Rails: a method that is not public is a helper); make it `pub` to route it"
        )
    }

    /// `tests/ui/fail/route_attribute_on_private_method.rs`, `..._pub_crate_method.rs`,
    /// `live_method_not_pub.rs` and `resource_action_not_pub.rs`: a method that is not `pub`
    /// but routed, by attribute or by name, is one mistake with one message.
    #[test]
    fn a_routed_method_that_is_not_pub() {
        let cases = [
            (
                "prices",
                quote!(
                    #[get("/prices")]
                    async fn prices(&self) -> &'static str {}
                ),
            ),
            (
                "prices",
                quote!(
                    #[route(method = "GET", path = "/prices")]
                    pub(crate) fn prices() -> &'static str {}
                ),
            ),
            // An attribute routes even a helper that an action calls.
            (
                "prices",
                quote!(
                    #[post("/prices")]
                    async fn prices(&self) -> &'static str {}
                    pub async fn index(&self) -> String {
                        self.prices().await.into()
                    }
                ),
            ),
            (
                "prices",
                quote!(
                    async fn prices(&self, live: Live) -> live_runtime::Result {}
                ),
            ),
            (
                "prices",
                quote!(
                    fn prices(live: Live) {}
                ),
            ),
            (
                "index",
                quote!(
                    pub(crate) async fn index(&self) -> &'static str {}
                ),
            ),
            (
                "show",
                quote!(
                    async fn show(&self, Path(id): Path<u32>) -> String {}
                ),
            ),
        ];
        for (name, items) in cases {
            assert_eq!(reported_in(items.clone()), [not_pub(name)], "{items}");
        }
    }

    /// What is not routed stays a helper: a method that takes neither a route attribute nor
    /// a `Live` and is not a Rails action, and one that is, if another method calls it or
    /// it could not be an action (not `async`, no `&self`).
    #[test]
    fn helpers_that_are_not_pub_are_left_alone() {
        let helpers = quote! {
            pub async fn show(&self, live: Live) -> live_runtime::Result {
                self.render(live).await?;
                self.index().await;
                Ok(())
            }
            async fn render(&self, live: Live) -> live_runtime::Result {}
            async fn index(&self) -> &'static str {}
            async fn prices(&self) -> &'static str {}
            fn new() -> Self {}
            fn update(&self, value: u32) {}
            async fn create(config: Config) -> Self {}
            async fn destroy(&mut self) {}
        };
        assert_eq!(reported_in(helpers), Vec::<String>::new());
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
