//! The code `#[live_controller]` writes: the user's impl block without its route attributes,
//! and an impl of `live_runtime::routing::Controller` whose router runs each action.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ItemImpl;
use syn::spanned::Spanned;

use crate::args::{BufferArg, ControllerArgs};
use crate::errors::Errors;
use crate::model::{Action, Block, Controller};
use crate::{paths, validate};

/// Where the attribute goes, with the user's own type when the item names one.
fn not_an_impl(item: &syn::Item) -> String {
    let named = match item {
        syn::Item::Struct(s) => Some(&s.ident),
        syn::Item::Enum(e) => Some(&e.ident),
        syn::Item::Union(u) => Some(&u.ident),
        _ => None,
    };
    match named {
        Some(name) => format!(
            "`#[live_controller]` goes on an inherent `impl` block: `#[live_controller] impl {name} {{ ... }}`"
        ),
        None => "`#[live_controller]` goes on an inherent `impl` block: the controller type's, with its actions".to_owned(),
    }
}

pub(crate) fn live_controller(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = ControllerArgs::parse(attr, &mut errors);
    let mut item: ItemImpl = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(error) => {
            // Not an impl block: say so at the item, and leave it as written.
            let error = match syn::parse2::<syn::Item>(item.clone()) {
                Ok(other) => syn::Error::new(item_span(&other), not_an_impl(&other)),
                Err(_) => error,
            };
            let error = error.to_compile_error();
            return quote!(#error #item);
        }
    };
    let block = Block::read(&mut item);
    let controller = validate::controller(&args, &item, &block, &mut errors);
    allow_rails_names(&mut item);
    let generated = match &controller {
        Some(controller) if errors.is_empty() => generate(controller, &args),
        // Keep the trait impl, so code using the controller does not add errors of its own.
        Some(controller) => fallback(controller, &args),
        None => TokenStream::new(),
    };
    let errors = errors.to_compile_errors();
    quote! {
        #item
        #generated
        #errors
    }
}

/// Rails' `new` action is a method named `new` that does not return `Self`, which clippy's
/// `new_ret_no_self` flags in the user's code; here the name is the point.
fn allow_rails_names(item: &mut ItemImpl) {
    for impl_item in &mut item.items {
        if let syn::ImplItem::Fn(method) = impl_item
            && method.sig.ident == "new"
            && matches!(method.vis, syn::Visibility::Public(_))
        {
            method
                .attrs
                .push(syn::parse_quote!(#[allow(clippy::new_ret_no_self)]));
        }
    }
}

fn item_span(item: &syn::Item) -> Span {
    use syn::Item;
    match item {
        Item::Fn(f) => f.sig.fn_token.span,
        Item::Struct(s) => s.struct_token.span,
        Item::Enum(e) => e.enum_token.span,
        Item::Trait(t) => t.trait_token.span,
        Item::Mod(m) => m.mod_token.span,
        other => other.span(),
    }
}

/// The state type of the router: the `state = ...` argument, or `()`.
fn state_type(args: &ControllerArgs) -> TokenStream {
    match &args.state {
        Some(state) => quote!(#state),
        None => quote!(()),
    }
}

fn fallback(controller: &Controller, args: &ControllerArgs) -> TokenStream {
    let private = paths::private();
    let axum = paths::axum();
    let self_ty = &controller.self_ty;
    let state = state_type(args);
    quote! {
        impl #private::Controller for #self_ty {
            type State = #state;
            const ROUTES: &'static [#private::Route] = &[];
            fn into_router(self) -> #axum::Router<#state> {
                ::core::unreachable!("the controller did not compile")
            }
        }
    }
}

fn generate(controller: &Controller, args: &ControllerArgs) -> TokenStream {
    let private = paths::private();
    let axum = paths::axum();
    let self_ty = &controller.self_ty;
    let name = &controller.name;

    let route_entries = controller.actions.iter().flat_map(|action| {
        let action_name = action.ident.to_string().trim_start_matches("r#").to_owned();
        let private = &private;
        action.routes.iter().map(move |route| {
            let (method, path) = (&route.method, &route.path);
            quote!(#private::Route { method: #method, path: #path, controller: #name, action: #action_name })
        })
    });

    let state = state_type(args);
    let handlers = controller.actions.iter().map(|action| {
        let binding = handler_ident(action);
        let handler = handler(action, &state);
        quote!(let #binding = #handler;)
    });

    // One `route` per path, every method of that path on it (axum refuses a path twice).
    let mut paths: Vec<(&str, Vec<TokenStream>)> = Vec::new();
    for action in &controller.actions {
        let binding = handler_ident(action);
        for route in &action.routes {
            let filter = Ident::new(&route.method, Span::call_site());
            let on = quote!(.on(#axum::routing::MethodFilter::#filter, ::core::clone::Clone::clone(&#binding)));
            match paths.iter_mut().find(|(path, _)| *path == route.path) {
                Some((_, methods)) => methods.push(on),
                None => paths.push((&route.path, vec![on])),
            }
        }
    }
    let routes = paths.iter().map(
        |(path, methods)| quote!(.route(#path, #axum::routing::MethodRouter::new() #(#methods)*)),
    );

    let config = config(args);
    quote! {
        impl #private::Controller for #self_ty {
            type State = #state;
            const ROUTES: &'static [#private::Route] = &[#(#route_entries),*];

            fn into_router(self) -> #axum::Router<#state> {
                static __LIVE_CONFIG: #private::LazyLock<#private::LiveConfig> =
                    #private::LazyLock::new(|| #config);
                const __LIVE_CONTROLLER: &str = #name;
                let __controller = #private::Arc::new(self);
                #(#handlers)*
                #axum::Router::new() #(#routes)*
            }
        }
    }
}

fn handler_ident(action: &Action) -> Ident {
    format_ident!(
        "__live_{}",
        action.ident.to_string().trim_start_matches("r#")
    )
}

/// The controller's `LiveConfig`, each setting spanned at its argument.
fn config(args: &ControllerArgs) -> TokenStream {
    let private = paths::private();
    let mut settings = Vec::new();
    for local in &args.exclude_locals {
        let task_local = respan(&private, local.span());
        settings
            .push(quote_spanned!(local.span()=> .exclude_local(#task_local::task_local(&#local))));
    }
    match &args.buffer {
        Some(BufferArg::Chunks(n)) => {
            settings.push(quote_spanned!(n.span()=> .buffer(#private::Buffer::Chunks(#n))))
        }
        Some(BufferArg::Unbounded(span)) => {
            settings.push(quote_spanned!(*span=> .buffer(#private::Buffer::Unbounded)))
        }
        None => {}
    }
    match &args.write_timeout_ms {
        Some(Some(ms)) => settings.push(quote!(.write_timeout(::core::option::Option::Some(
            #private::Duration::from_millis(#ms)
        )))),
        Some(None) => settings.push(quote!(.write_timeout(::core::option::Option::None))),
        None => {}
    }
    if let Some(bytes) = &args.coalesce_bytes {
        settings.push(quote!(.coalesce_bytes(#bytes)));
    }
    if let Some(renderer) = &args.error_renderer {
        settings.push(quote_spanned!(renderer.span()=> .error_renderer(#renderer)));
    }
    for (name, on) in &args.flags {
        settings.push(quote!(.#name(#on)));
    }
    quote!(#private::LiveConfig::new() #(#settings)*)
}

/// The axum handler of one action. It takes the whole request and calls each extractor through
/// a runtime trait spanned at the user's type, so a type that is not one fails there, once.
fn handler(action: &Action, state: &TokenStream) -> TokenStream {
    let private = paths::private();
    let axum = paths::axum();
    let ident = &action.ident;
    let action_name = ident.to_string().trim_start_matches("r#").to_owned();
    let extracted: Vec<(usize, &syn::Type)> = action
        .args
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != action.live)
        .collect();
    let mut extract = Vec::new();
    for (n, (i, ty)) in extracted.iter().enumerate() {
        let var = format_ident!("__arg{}", i);
        let call = if n + 1 == extracted.len() {
            quote_spanned!(ty.span()=>
                <#ty as #private::LastArgument<_, #state>>::extract(
                    #axum::extract::Request::from_parts(__parts, __body),
                    &__state,
                ).await
            )
        } else {
            quote_spanned!(ty.span()=>
                <#ty as #private::PartsArgument<#state>>::extract(&mut __parts, &__state).await
            )
        };
        extract.push(quote! {
            let #var = match #call {
                ::core::result::Result::Ok(value) => value,
                ::core::result::Result::Err(rejection) => return rejection,
            };
        });
    }
    // The head is split off only when something reads it, and is mutable only when an
    // extractor of the head runs (the last extractor takes the whole request back).
    let live = action.live.is_some();
    let split = match (extracted.len() >= 2, live || !extracted.is_empty()) {
        (true, _) => quote!(let (mut __parts, __body) = __request.into_parts();),
        (false, true) => quote!(let (__parts, __body) = __request.into_parts();),
        (false, false) => quote!(let _ = __request;),
    };
    // Without an extractor the body is simply dropped with the head.
    let unused_body = if live && extracted.is_empty() {
        quote!(let _ = (__parts, __body);)
    } else {
        TokenStream::new()
    };
    let call_args = (0..action.args.len()).map(|i| {
        if Some(i) == action.live {
            quote!(__live_handle)
        } else {
            let var = format_ident!("__arg{}", i);
            quote!(#var)
        }
    });
    let call = quote!(__controller.#ident(#(#call_args),*));
    let output_span = action.output_span();

    // The action's future is bound to a name spanned at the action's name and checked there
    // for `Send`; `check_send` returns it as `Send`, so no bound at the macro reports it again.
    let action_future = Ident::new("__action", action.span());
    let private_at_action = respan(&private, action.span());
    let check_send = quote_spanned!(action.span()=>
        #private_at_action::check_send(#action_future).await
    );
    let checked = quote!({
        let #action_future = #call;
        #check_send
    });
    let run = if live {
        // All of the spawn, `.await` too, at the return type: a wrong one is reported there once.
        let spawned = quote_spanned!(output_span=>
            __live_request
                .with_config(&__LIVE_CONFIG)
                .named(__LIVE_CONTROLLER, #action_name)
                .spawn(move |__live_handle| async move #checked)
        );
        let answer = quote_spanned!(output_span=> __answer.await);
        // The request is taken apart in a block of its own: what it holds then ends before
        // the wait for the answer, instead of taking room in every request's handler future.
        quote! {
            let __answer = {
                #split
                let __live_request = #private::live_request(&__parts);
                #(#extract)*
                #unused_body
                #spawned
            };
            #answer
        }
    } else {
        // The response is a name spanned at the return type, where its error then points.
        let output = Ident::new("__output", output_span);
        let private_at_output = respan(&private, output_span);
        let respond = quote_spanned!(output_span=>
            #private_at_output::ActionResponse::into_action_response(#output)
        );
        quote! {
            #split
            #(#extract)*
            let #output = #checked;
            #private::render_error(#respond, __accept.as_ref(), &__LIVE_CONFIG)
        }
    };

    // An ordinary action's error becomes a response without the request: its page is rendered
    // afterwards, in the format the request's `Accept` asks for.
    let accept = if live {
        TokenStream::new()
    } else {
        quote!(let __accept = #private::accept(&__request);)
    };
    quote! {{
        let __controller = #private::Arc::clone(&__controller);
        move |#axum::extract::State(__state): #axum::extract::State<#state>,
              __request: #axum::extract::Request| async move {
            #accept
            #run
        }
    }}
}

/// `tokens` with every span set to `span`, so an expression built of them is reported there.
fn respan(tokens: &TokenStream, span: Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::reported;

    /// `tests/ui/fail/several_mistakes.rs`: every mistake of the arguments and of the block,
    /// in one compilation, in the order written.
    #[test]
    fn all_mistakes_of_one_block_are_reported_together() {
        let messages = reported(
            quote!(buffer = 0, colour = "blue"),
            quote! {
                impl StocksController {
                    pub fn index(&self) -> &'static str { "stocks" }
                    pub async fn update(&mut self) -> &'static str { "updated" }
                    pub async fn create(&self, body: &str) -> String { body.to_owned() }
                    #[get("prices")]
                    pub async fn prices(&self) -> &'static str { "prices" }
                    #[post("/refresh")]
                    async fn refresh(&self) -> &'static str { "refreshed" }
                    pub async fn show(&self, live: Live, _again: Live) -> live_runtime::Result {
                        drop(live);
                        Ok(())
                    }
                }
            },
        );
        assert_eq!(
            messages,
            [
                "`buffer` must be a whole number above 0",
                "unknown argument `colour`; expected one of `path`, `state`, `exclude_locals`, `buffer`, `write_timeout_ms`, `coalesce_bytes`, `html_error_snippet`, `clean_end_on_error`, `cancel_on_disconnect`, `error_renderer`",
                "action `index` must be `async fn`",
                "an action takes `&self`, not `&mut self`: actions share the controller (`Arc<Self>`) between requests; use interior mutability (`Mutex`, atomics) for state",
                "an action argument cannot be borrowed: axum extracts each argument from the request as a value of its own; take an owned type (`String`, not `&str`)",
                "path `prices` must start with `/`",
                "`refresh` is not `pub`, so it is not an action and no route reaches it (Rails: a method that is not public is a helper); make it `pub` to route it",
                "an action takes at most one `Live`: it is the one response",
            ]
        );
    }

    #[test]
    fn conflicting_routes() {
        let messages = reported(
            quote!(),
            quote! {
                impl StocksController {
                    pub async fn show(&self) {}
                    #[get("/{name}")]
                    pub async fn by_name(&self) {}
                    #[get("/new")]
                    pub async fn fresh(&self) {}
                    pub async fn new(&self) {}
                }
            },
        );
        assert_eq!(messages.len(), 2, "{messages:#?}");
        assert!(messages[0].contains("differ only in parameter names"));
        assert!(messages[1].contains("`GET /stocks/new` is already the route of `fresh`"));
    }

    #[test]
    fn the_impl_block_is_always_emitted() {
        let out = live_controller(quote!(bogus = 1), quote!(impl A { pub fn f(&self) {} }));
        let text = out.to_string();
        assert!(text.contains("impl A"), "{text}");
        assert!(text.contains("compile_error"), "{text}");
    }

    /// `tests/ui/fail/no_cascade_after_error.rs`: after a mistake the `Controller` impl is
    /// still there, without routes, so code that uses the controller adds no errors of its
    /// own; a generic block gets none, as it would name a type parameter out of scope.
    #[test]
    fn after_a_mistake_the_controller_impl_stays_without_routes() {
        let item = quote!(impl StocksController {
            pub fn index(&self) -> &'static str { "stocks" }
            pub async fn show(&self) -> &'static str { "stock" }
        });
        assert_eq!(
            reported(quote!(), item.clone()),
            ["action `index` must be `async fn`"]
        );
        let text = live_controller(quote!(), item).to_string();
        assert!(
            text.contains("const ROUTES : & 'static [") && text.contains("] = & [] ;"),
            "{text}"
        );
        assert!(text.contains("the controller did not compile"), "{text}");
        let generic = live_controller(
            quote!(),
            quote!(
                impl<T> Wrapper<T> {}
            ),
        )
        .to_string();
        assert!(!generic.contains("Controller for"), "{generic}");
    }

    /// `tests/ui/fail/not_an_impl_block*.rs`: on anything but an impl block, one error that
    /// says where the attribute goes (with the user's type when the item names one), and the
    /// item left as written.
    #[test]
    fn not_an_impl_block() {
        let named = |name: &str| {
            format!(
                "`#[live_controller]` goes on an inherent `impl` block: `#[live_controller] impl {name} {{ ... }}`"
            )
        };
        let unnamed = "`#[live_controller]` goes on an inherent `impl` block: the controller type's, with its actions".to_owned();
        let cases = [
            (
                quote!(
                    pub struct PricesFeed;
                ),
                named("PricesFeed"),
            ),
            (
                quote!(
                    enum Feed {
                        Prices,
                    }
                ),
                named("Feed"),
            ),
            (quote!(union Bits { a: u32, b: f32 }), named("Bits")),
            (
                quote!(
                    pub async fn index() -> &'static str {
                        "stocks"
                    }
                ),
                unnamed.clone(),
            ),
            (
                quote!(
                    trait Feed {}
                ),
                unnamed.clone(),
            ),
            (
                quote!(
                    mod feed {}
                ),
                unnamed.clone(),
            ),
            (
                quote!(
                    const LIMIT: u32 = 10;
                ),
                unnamed,
            ),
        ];
        for (item, expected) in cases {
            assert_eq!(reported(quote!(), item.clone()), [expected], "{item}");
            let out = live_controller(quote!(), item.clone()).to_string();
            assert!(out.ends_with(&item.to_string()), "{out}");
        }
        // Not an item at all: syn's own message, about the impl block it could not read.
        let messages = reported(quote!(), quote!(impl));
        assert_eq!(messages.len(), 1, "{messages:#?}");
        assert!(
            messages[0].starts_with("unexpected end of input"),
            "{messages:#?}"
        );
    }
}
