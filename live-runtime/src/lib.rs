//! # live
//!
//! Rails' `include ActionController::Live`, for axum and tokio: actions that write to the
//! client as they go (raw chunks, Server-Sent Events, downloads), each in its own tokio task
//! (unless it is done in its first poll).
//!
//! A controller is an impl block under [`live_controller`]: each `pub async fn` is an axum
//! route, named the Rails way. An action that takes a [`Live`] handle is live: it gets the
//! response before commit, sets status, headers and cookies, then takes the [`LiveStream`] (or
//! an [`Sse`](sse::Sse) writer, or a [download](send_stream)) and writes. The first write
//! commits: status and headers go out, and the handler returns while the action keeps
//! writing. The stream ends when the action ends, by return, `?` or panic, so a forgotten close
//! never hangs a client.
//!
//! ```no_run
//! use std::time::Duration;
//! use live_runtime::prelude::*;
//!
//! pub struct HelloController;
//!
//! #[live_controller]
//! impl HelloController {
//!     /// `GET /hello/stream`
//!     pub async fn stream(&self, mut live: Live) -> live_runtime::Result {
//!         live.set_content_type("text/event-stream")?;
//!         let mut stream = live.stream();
//!         for _ in 0..100 {
//!             stream.write("hello world\n").await?;
//!             tokio::time::sleep(Duration::from_secs(1)).await;
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # async fn serve() {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
//! axum::serve(listener, HelloController.into_router()).await.unwrap();
//! # }
//! ```
//!
//! Without the macro, a plain axum handler takes the [`LiveRequest`] extractor and
//! [`spawn`](LiveRequest::spawn)s the action: the macro generates exactly that.
//!
//! ## How it behaves
//!
//! | concern | Rails | live |
//! |---|---|---|
//! | where the action runs | a thread per request | a tokio task; the handler awaits only the commit |
//! | request state | fiber-locals copied | [`task_local!`] values cloned in, minus exclusions; the tracing span |
//! | close | "you must call close" | the end of the action closes; [`LiveStream::close`] too |
//! | headers after commit | raise or silently lost | impossible: [`Live::stream`] consumes the handle |
//! | defaults at commit | `no-cache`, no length, `text/html` | the same |
//! | error before commit | 500 | the error's response (500, no internals), logged |
//! | error after commit | `on_error`, FATAL log, the response ends as if complete | [`LiveStream::on_error`] gets the error; logged with its chain; the response is cut after the `on_error` tail so clients see it failed ([`LiveConfig::clean_end_on_error`] for Rails' clean end) |
//! | client gone | noticed on a later write only | `Err(ClientDisconnected)`, [`LiveStream::disconnected`] while idle |
//! | backpressure | 10 chunks, Puma's 10 s | [`config::Buffer`], write timeout, queued chunks sent as one frame |
//! | HTTP/1.0 | truncated | streamed to the end, close-delimited |
//! | SSE | `retry`/`event`/`id` unescaped, `\r` unsplit | the same bytes, injection refused, comments, keep-alive: [`sse`] |
//! | `Last-Event-ID` | not supported | the [`LastEventId`](sse::LastEventId) extractor |
//! | `send_stream` | no length | Rails' headers, any filename safe, optional checked length: [`send_stream`] |
//! | server shutdown | streams cut (or the shutdown waits on them) | [`Shutdown`]: queued data out, clean end, writes fail, `disconnected()` resolves |
//! | tests | inline, unbounded, hang on no close | the same production path in-process, with timeouts: `test_client` |
//! | one source, many clients, many nodes | ActionCable's Redis adapter: no replay, lost while reconnecting | [`broadcast::Hub`]: bounded history, resume by `Last-Event-ID` on any node, gaps announced, Redis outages survived |
//!
//! ## Testing live controllers
//!
//! Rails runs live actions inline in tests, so streaming, backpressure and disconnects cannot
//! be tested, and a stream that never closes hangs the test. With the `test-util` feature,
//! `test_client::TestClient` sends requests through your app's router in-process, on the
//! production path (spawned action, copied task-locals, close guard, bounded buffer): it
//! returns at commit, reads chunks and SSE events as they come, can hang up mid-stream, and
//! fails a read that waits too long instead of hanging. Under `tokio::time::pause()` an action
//! that sleeps between events runs instantly:
//!
//! ```toml
//! [dev-dependencies]
//! live-runtime = { version = "0.1", features = ["test-util"] }
//! ```
//!
//! See the `test_client` module for a runnable example.
//!
//! ## Errors
//!
//! [`Error`] and [`ErrorKind`] say what each failure means: `Closed` (a write after close, a
//! bug), `ClientDisconnected` and `WriteTimeout` (the client is gone, a normal end),
//! `InvalidHeader` (a header HTTP cannot carry), `InvalidEvent` (an SSE field that would break
//! the framing), `LengthMismatch` (a download that is not its declared length), `Panic` and
//! `Action` (the action failed), `ShuttingDown` (the app's [`Shutdown`] began: a normal end,
//! a `503` before commit).
//!
//! A live action returns `live_runtime::Result`, or the error type the app already uses:
//! `anyhow::Result<()>`, `eyre::Result<()>`, `Result<(), YourError>` or a boxed error. `?`
//! works both ways: [`Error`] is a `std::error::Error + Send + Sync`, and inside another error
//! type it keeps its kind and status (a `404` built with [`Error::status`] still answers `404`
//! from an `anyhow::Result` action). With the `anyhow` and `eyre` features, `?` also turns
//! those errors into [`Error`]. Before commit an error answers with its status; after commit
//! the response is cut (see [`LiveConfig::clean_end_on_error`]). Both are logged on one line
//! with the error's chain of causes.
//!
//! ## Disconnects
//!
//! hyper drops a response body when it learns that the connection is closed; live turns that
//! drop into [`LiveStream::disconnected`] and failing writes. For an idle HTTP/1.1 stream,
//! hyper learns it from the closed socket's read side, so the bound is the time for the FIN
//! to arrive plus a scheduler tick: well under 100 ms on loopback. Behind a proxy that keeps
//! the upstream connection open, only a write notices; SSE keep-alives bound that.

//!
//! ## Module map
//!
//! From the top down: each module builds only on those in the rows below it.
//!
//! | module | what it owns |
//! |---|---|
//! | `action`, `macro_support`, `test_client` | [`LiveRequest`]: running an action (its first poll in the request's task, then a task of its own), its close guard and outcome; what `#[live_controller]` expands to; an in-process client on the production path (feature `test-util`) |
//! | [`broadcast`] | [`Hub`](broadcast::Hub): topics, history and resume; the in-process and Redis engines |
//! | [`sse`], [`send_stream`] | the formats written on a stream: Server-Sent Events and `Last-Event-ID`; downloads |
//! | `response`, [`shutdown`] | [`Live`], the handle before commit; [`Shutdown`], which ends open streams |
//! | `stream`, `body` | [`LiveStream`], the handle after commit; the response body hyper polls |
//! | `stream_state` | the one owner of a response's state: the commit phase, the queue, wake-ups |
//! | [`config`], `head`, `stats` | settings ([`LiveConfig`]); the response head before commit; metrics |
//! | `error` | [`Error`] and [`ErrorKind`] |
//! | [`error_page`], [`locals`], [`compression`], [`routing`] | error pages by `Accept`; task-locals; compression layers; the route table |

#![warn(missing_docs)]

mod action;
mod body;
pub mod broadcast;
pub mod compression;
pub mod config;
mod error;
pub mod error_page;
mod head;
pub mod locals;
mod macro_support;
mod response;
pub mod routing;
pub mod send_stream;
pub mod shutdown;
pub mod sse;
mod stats;
mod stream;
mod stream_state;
#[cfg(feature = "test-util")]
pub mod test_client;

// The READMEs' code is compiled and run with the doctests, so the first code a newcomer copies
// works: the crate's (crates.io) and the repository's.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadme;
#[cfg(all(doctest, feature = "test-util"))]
#[doc = include_str!("../../README.md")]
struct RepositoryReadme;

/// Turns the `pub` methods of an inherent `impl` block into axum routes, each run as a live
/// action.
///
/// ```
/// use live_runtime::prelude::*;
/// use axum::extract::{Path, Query};
///
/// #[derive(Default)]
/// pub struct StocksController;
///
/// #[live_controller]                       // base path `/stocks`, from the type name
/// impl StocksController {
///     /// `GET /stocks`: an ordinary action, any axum response.
///     pub async fn index(&self) -> &'static str {
///         "stocks"
///     }
///
///     /// `GET /stocks/{id}`: a live action streams as it goes.
///     pub async fn show(&self, Path(id): Path<u32>, live: Live) -> live_runtime::Result {
///         let mut stream = live.stream();
///         stream.writeln(format!("stock {id}")).await?;
///         Ok(())
///     }                                    // the stream ends with the action
///
///     /// `POST /stocks/refresh`, by attribute.
///     #[post("/refresh")]
///     pub async fn refresh(&self) -> StatusCode {
///         StatusCode::ACCEPTED
///     }
///
///     fn helper(&self) {}                  // not `pub`: a helper, not an action
/// }
///
/// let app: axum::Router = StocksController.into_router();
/// print!("{}", RouteTable::new().controller::<StocksController>());
/// ```
///
/// # The impl block
///
/// Each `pub async fn` taking `&self` is an action; every other method is a helper, left alone
/// (Rails: private methods are not actions). A method that is not `pub` (`pub(crate)`
/// included) but is routed is a compile error, at the attribute or the name, since no route
/// would reach it. Routed by attribute: it carries a route attribute. Routed by name: no other
/// method of the block calls it, and it takes a [`Live`] or is an `async fn` taking `&self`
/// named as a Rails resource action (`index`, `show`, `new`, `create`, `edit`, `update`,
/// `destroy`).
///
/// The impl block is emitted as written, plus an impl of
/// [`Controller`](routing::Controller): `ROUTES`, the route table as data, and
/// `into_router(self)`, an `axum::Router` (of the controller's `state`, see below) which shares
/// the controller between requests as `Arc<Self>`.
///
/// # Routes
///
/// The base path is the type name without `Controller`, in snake case (`StocksController` ->
/// `/stocks`, `ChatRoomsController` -> `/chat_rooms`), unless `path = "..."` says otherwise.
/// An action's route comes from its name, as Rails' resources:
///
/// | action | method | path |
/// |---|---|---|
/// | `index` | GET | `/` |
/// | `show` | GET | `/{id}` |
/// | `new` | GET | `/new` |
/// | `create` | POST | `/` |
/// | `edit` | GET | `/{id}/edit` |
/// | `update` | PATCH and PUT | `/{id}` |
/// | `destroy` | DELETE | `/{id}` |
/// | any other | GET | `/<name>` |
///
/// A route attribute replaces the derived route, relative to the base path: `#[get("/p")]`,
/// `#[post("/p")]`, `#[put("/p")]`, `#[patch("/p")]`, `#[delete("/p")]`, or `#[route(method =
/// "HEAD", path = "/p")]` for any method. Several attributes give an action several routes.
/// Paths use axum's syntax: `{name}` for a parameter, `{*rest}` for the rest of the path.
/// A request with the wrong method gets `405 Method Not Allowed`.
///
/// # Arguments
///
/// After `&self`, an action takes axum extractors (`Path`, `Query`, `HeaderMap`, `Json`, ...;
/// at most one that reads the body, and last) and at most one [`Live`]. With `Live` the action
/// is live: it runs in a spawned task with the request's task-locals (see
/// [`task_local!`]) and returns `()` or [`Result`]. Without it, it is an ordinary action and
/// returns any `IntoResponse`.
///
/// # Shared state
///
/// Three ways, from the simplest:
///
/// - **Fields of the controller**: what only this controller uses (a hub, a store, a client).
///   The controller is built once and shared, so fields are read through `&self`; keep what
///   changes behind a `Mutex` or atomics.
/// - **axum state**: what the whole app shares, and what extractors read (an authentication
///   extractor that looks up users in a store). Name the state type with
///   `#[live_controller(state = AppState)]`: actions then take `State<AppState>`, `State<T>`
///   for any `T: FromRef<AppState>`, and any extractor implemented for that state, in
///   ordinary and live actions alike. `into_router()` is then a `Router<AppState>`, merged
///   into the app's router, which provides the state once with `with_state`. A controller
///   without state merges into such an app through
///   [`into_router_for::<AppState>()`](routing::Controller::into_router_for).
/// - **`Extension`**: a value a layer adds per request (`axum::Extension<T>` as an argument),
///   for apps that already pass things that way.
///
/// ```
/// use axum::extract::{FromRef, State};
/// use axum::{Extension, Router};
/// use live_runtime::prelude::*;
///
/// #[derive(Clone)]
/// pub struct AppState {
///     pub motd: Motd,
/// }
///
/// #[derive(Clone)]
/// pub struct Motd(pub &'static str);
///
/// impl FromRef<AppState> for Motd {
///     fn from_ref(state: &AppState) -> Motd {
///         state.motd.clone()
///     }
/// }
///
/// pub struct NewsController {
///     pub headline: String,                              // a field of the controller
/// }
///
/// #[live_controller(state = AppState)]
/// impl NewsController {
///     pub async fn index(&self, State(Motd(motd)): State<Motd>) -> String {
///         format!("{} / {motd}", self.headline)             // a field and a part of the state
///     }
///
///     pub async fn stream(
///         &self,
///         State(app): State<AppState>,                      // the whole state
///         Extension(region): Extension<&'static str>,       // added by a layer
///         live: Live,
///     ) -> live_runtime::Result {
///         live.stream().write(format!("{} in {region}", app.motd.0)).await?;
///         Ok(())
///     }
/// }
///
/// let app: Router = Router::new()
///     .merge(NewsController { headline: "live 0.1".into() }.into_router())
///     .layer(Extension("eu-west"))
///     .with_state(AppState { motd: Motd("hello") });
/// ```
///
/// # Controller settings
///
/// `#[live_controller(path = "/api/stocks", state = AppState, buffer = 32, write_timeout_ms = 5000,
/// coalesce_bytes = 65536, html_error_snippet, clean_end_on_error, cancel_on_disconnect,
/// exclude_locals(TENANT, DB_STACK))]`, each
/// optional, falling back to the global [`LiveConfig`]:
///
/// | argument | meaning |
/// |---|---|
/// | `path = "/p"` | the base path |
/// | `state = AppState` | the axum state the actions' extractors read; `into_router()` is a `Router<AppState>` |
/// | `buffer = N` or `buffer = unbounded` | chunks a stream may queue ([`config::Buffer`]) |
/// | `write_timeout_ms = N` or `= none` | how long a write may wait for a stalled client |
/// | `coalesce_bytes = N` | the most bytes sent as one frame when the writer is ahead |
/// | `html_error_snippet` (`= false` to turn off) | Rails' `/500.html` script after a late error |
/// | `clean_end_on_error` (`= false` to turn off) | end the response as complete after a late error, as Rails ([`LiveConfig::clean_end_on_error`]); by default it is cut, so clients see the failure |
/// | `cancel_on_disconnect` (`= false` to turn off) | drop the action when its client leaves ([`LiveConfig::cancel_on_disconnect`]) |
/// | `error_renderer = f` | the controller's error pages: `f(&ErrorPage) -> Response` ([`LiveConfig::error_renderer`], [`error_page`]) |
/// | `exclude_locals(A, B)` | task-locals not copied into this controller's actions |
///
/// # Before-action hooks
///
/// Rails' `before_action` (authentication for a whole controller, say) is a layer on the
/// controller's router: `route_layer` runs it for the controller's routes only, before the
/// action is called, and a hook that answers (a `401`) stops the request there, so the action,
/// live or not, never starts.
///
/// ```
/// use axum::extract::Request;
/// use axum::middleware::{self, Next};
/// use axum::response::{IntoResponse, Response};
/// use live_runtime::prelude::*;
///
/// pub struct AccountsController;
///
/// #[live_controller]
/// impl AccountsController {
///     pub async fn index(&self) -> &'static str {
///         "your accounts"
///     }
/// }
///
/// /// The hook: a bearer token, or `401`.
/// async fn authenticate(request: Request, next: Next) -> Response {
///     match request.headers().get(header::AUTHORIZATION) {
///         Some(value) if value == "Bearer secret" => next.run(request).await,
///         _ => StatusCode::UNAUTHORIZED.into_response(),
///     }
/// }
///
/// let accounts = AccountsController
///     .into_router()
///     .route_layer(middleware::from_fn(authenticate));
/// let app: axum::Router = axum::Router::new().merge(accounts); // other routes stay open
/// ```
///
/// # Compile errors
///
/// Every mistake is reported at your own tokens, all mistakes of an impl block at once, and
/// the impl block is still emitted, so nothing else breaks because of them:
///
/// - **not an impl block / a trait impl / a generic impl**: the macro only reads inherent,
///   non-generic impl blocks of a named type, whose routes are fixed at compile time.
/// - **not `async`, generic, `const`, `unsafe` or `extern` action**: an action is a plain
///   `pub async fn`.
/// - **`&mut self`, `self` or no receiver**: actions share the controller, so they take
///   `&self`; keep mutable state behind a `Mutex` or atomics.
/// - **an argument that is not an extractor**, **a body extractor not last**, **two body
///   extractors**: the error is at the argument's type and says which rule it breaks.
/// - **`State<T>` without `state = ...`**, or **a `State<T>` the controller's state cannot
///   give** (no `T: FromRef<AppState>`): the error is at the argument and names the state.
/// - **two `Live` arguments**: there is one response.
/// - **a borrowed argument** (`&str`, `Cow<'a, str>`): the action runs in a `'static` task.
/// - **an action future that is not `Send`** (an `Rc` held across an `.await`): the error is at
///   the action's name; live actions run on tokio's multi-threaded scheduler.
/// - **a wrong return type**: a live action returns `()` or `live_runtime::Result`; an
///   ordinary one an `IntoResponse`.
/// - **unknown or repeated controller or route arguments**, **a route attribute without its
///   path**, **a path that does not start with `/`, has an empty segment or an unbalanced
///   `{`**: the error is at the argument.
/// - **two actions on the same method and path**, or paths that differ only in parameter
///   names: axum would refuse them when the app starts; here it is a compile error.
/// - **a method that is not `pub` but routed by attribute or by name** (see the impl block
///   above), **a route attribute on a constant or type**: only `pub async fn` methods are
///   actions.
pub use live_macros::live_controller;

pub use action::{ActionOutput, LiveRequest};
pub use config::LiveConfig;
pub use cookie::Cookie;
pub use error::{BoxError, Error, ErrorKind, Result};
pub use response::Live;
pub use shutdown::Shutdown;
#[cfg(feature = "metrics")]
pub use stats::describe_metrics;
pub use stats::{Stats, stats};
pub use stream::{LiveStream, Tail};

/// Everything an application needs: `use live_runtime::prelude::*;`.
pub mod prelude {
    pub use crate::config::{Buffer, LiveConfig};
    pub use crate::routing::{Controller, RouteTable};
    pub use crate::sse::{Event, LastEventId, Sse, SseOptions};
    pub use crate::{
        Cookie, Error, ErrorKind, Live, LiveRequest, LiveStream, Shutdown, Tail, live_controller,
    };
    pub use http::{StatusCode, header};
}

/// Not public API: the paths the `#[live_controller]` macro emits.
#[doc(hidden)]
pub mod __private {
    pub use crate::macro_support::*;
    pub use crate::routing::{Controller, Route};
    pub use crate::{LiveConfig, LiveRequest, config::Buffer};
    pub use ::axum;
    pub use ::core::{future::Future, marker::Send, result::Result};
    pub use ::std::sync::{Arc, LazyLock};
    pub use ::std::time::Duration;
}
