//! What `#[live_controller]` generates calls to: extraction and response through traits whose
//! errors point at the user's own tokens and say what is wrong in the user's terms. Not
//! public API.

use std::future::Future;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use http::header::{self, HeaderValue};
use http::request::Parts;

use crate::config::LiveConfig;
use crate::locals::LocalKey;

/// Every argument of an action but the last extracts from the request's head, given the
/// controller's state `S` (`()` unless `#[live_controller(state = ...)]`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an argument of an action here: it is not an extractor of the request head for state `{S}`",
    label = "not `FromRequestParts<{S}>`",
    note = "every argument but the last must implement axum's `FromRequestParts` for the controller's state (`Path`, `Query`, `HeaderMap`, ...)",
    note = "an extractor that reads the body (`Json`, `Form`, `String`, `Bytes`, `Request`) must be the last argument, and there can be only one",
    note = "an extractor of application state (`State<T>`, or one built on `FromRef`) needs the controller's state, `#[live_controller(state = AppState)]`, and `T: FromRef<AppState>`"
)]
pub trait PartsArgument<S>: Sized {
    /// Extracts the argument, or the response that rejects the request.
    ///
    /// A boxed future, not `impl Future`, for two reasons. rustc resolves an `impl Future` of
    /// the blanket impl before it checks `Self: PartsArgument`, so a type that is not an
    /// extractor would get axum's bare `FromRequestParts` bound (twice for a type of several
    /// tokens) instead of this trait's message. And the handler's future would be `Send`
    /// only through rustc seeing into that `impl Future`, which fails for an extractor whose
    /// type has a higher-ranked lifetime (`Extension<Arc<dyn Fn(&str) + Send + Sync>>`):
    /// "implementation of `Send` is not general enough", at the macro (rust-lang/rust#110338).
    fn extract<'a>(parts: &'a mut Parts, state: &'a S) -> BoxFuture<'a, Result<Self, Response>>;
}

// `do_not_recommend` on the three blanket impls: the error then names this trait with its
// own message, instead of axum's trait followed by a list of axum's impls, which quotes
// registry sources and changes with every axum release.
#[diagnostic::do_not_recommend]
impl<S: Send + Sync, T: FromRequestParts<S>> PartsArgument<S> for T {
    fn extract<'a>(parts: &'a mut Parts, state: &'a S) -> BoxFuture<'a, Result<Self, Response>> {
        Box::pin(async move {
            T::from_request_parts(parts, state)
                .await
                .map_err(IntoResponse::into_response)
        })
    }
}

/// The last argument of an action may also read the body.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an argument of an action: it is not an axum extractor for state `{S}`",
    label = "not `FromRequest<{S}>` or `FromRequestParts<{S}>`",
    note = "action arguments are axum extractors (`Path`, `Query`, `Json`, ...) and at most one `Live`",
    note = "an extractor of application state (`State<T>`, or one built on `FromRef`) needs the controller's state, `#[live_controller(state = AppState)]`, and `T: FromRef<AppState>`"
)]
pub trait LastArgument<M, S>: Sized {
    /// Extracts the argument, or the response that rejects the request. Boxed for the reasons
    /// given at [`PartsArgument::extract`].
    fn extract(request: Request, state: &S) -> BoxFuture<'_, Result<Self, Response>>;
}

#[diagnostic::do_not_recommend]
impl<M, S: Send + Sync, T: FromRequest<S, M>> LastArgument<M, S> for T {
    fn extract(request: Request, state: &S) -> BoxFuture<'_, Result<Self, Response>> {
        Box::pin(async move {
            T::from_request(request, state)
                .await
                .map_err(IntoResponse::into_response)
        })
    }
}

/// What an ordinary action (one without `Live`) returns: an axum response.
#[diagnostic::on_unimplemented(
    message = "an action without `Live` must return an axum response, not `{Self}`",
    label = "not `IntoResponse`",
    note = "take a `Live` argument to stream, or return something that implements `IntoResponse`"
)]
pub trait ActionResponse {
    /// The response.
    fn into_action_response(self) -> Response;
}

#[diagnostic::do_not_recommend]
impl<T: IntoResponse> ActionResponse for T {
    fn into_action_response(self) -> Response {
        self.into_response()
    }
}

/// The request's `Accept`, for the format of an ordinary action's error page.
pub fn accept(request: &Request) -> Option<HeaderValue> {
    request.headers().get(header::ACCEPT).cloned()
}

/// An ordinary action's response, with an error page rendered for the request.
pub fn render_error(
    response: Response,
    accept: Option<&HeaderValue>,
    config: &'static LiveConfig,
) -> Response {
    crate::error_page::render(response, accept, config.renderer())
}

/// The live side of a request, taken from its head without a future: it cannot fail.
pub fn live_request(parts: &Parts) -> crate::LiveRequest {
    crate::LiveRequest::from_parts(parts)
}

/// The action's future runs in a spawned task, so it must be `Send`; called at the action's
/// name so that is where the error points. The result is declared `Send`, so the spawn and
/// axum's `Handler` bound, spanned at the macro, do not report it again.
pub fn check_send<F: Future + Send>(future: F) -> impl Future<Output = F::Output> + Send {
    future
}

/// What `exclude_locals(...)` names: a key declared with `live_runtime::task_local!`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a task-local: `exclude_locals` takes keys declared with `live_runtime::task_local!`",
    label = "not a `live_runtime::task_local!` key"
)]
pub trait TaskLocal {
    /// The value the key holds.
    type Value: 'static;
    /// The key itself.
    fn key(&'static self) -> &'static LocalKey<Self::Value>;
}

impl<T: 'static> TaskLocal for LocalKey<T> {
    type Value = T;
    fn key(&'static self) -> &'static LocalKey<T> {
        self
    }
}

/// The key of an `exclude_locals(...)` argument, checked through [`TaskLocal`] at the user's
/// token.
pub fn task_local<K: TaskLocal + ?Sized>(key: &'static K) -> &'static LocalKey<K::Value> {
    key.key()
}
