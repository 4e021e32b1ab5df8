//! Controllers as routers, and their route tables as data (Rails' `rails routes`).

use std::fmt;

/// One route of a controller: what `#[live_controller]` derived from an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Route {
    /// The HTTP method, upper case (`GET`, `POST`, ...).
    pub method: &'static str,
    /// The full path, in axum's syntax (`/stocks/{id}`).
    pub path: &'static str,
    /// The controller's type name.
    pub controller: &'static str,
    /// The action: the method's name.
    pub action: &'static str,
}

/// A type `#[live_controller]` was applied to: its routes, and the router serving them.
///
/// A controller without `state = ...` gives a `Router` (state `()`): serve it, or merge it
/// into an app whose router has state with [`into_router_for`](Controller::into_router_for).
/// One with `#[live_controller(state = AppState)]` gives a `Router<AppState>`: merge it into
/// the app's router, which provides the state with `with_state` as usual in axum.
pub trait Controller: Sized + Send + Sync + 'static {
    /// The axum state its actions' extractors read: `()`, or the `state = ...` argument.
    type State: Clone + Send + Sync + 'static;

    /// Every route of the controller, in the order of its actions.
    const ROUTES: &'static [Route];

    /// The controller's actions as an axum router; the controller is shared by them all
    /// (`Arc<Self>`, each action borrows `&self`).
    fn into_router(self) -> axum::Router<Self::State>;

    /// The router of a controller without state, typed for an app router of state `S`, so
    /// `app.merge(controller.into_router_for::<AppState>())` compiles.
    fn into_router_for<S>(self) -> axum::Router<S>
    where
        Self: Controller<State = ()>,
        S: Clone + Send + Sync + 'static,
    {
        // The router needs no state, so providing `()` turns it into a router of any state.
        self.into_router().with_state(())
    }
}

/// A printable route table of one or more controllers, like `rails routes`:
///
/// ```text
/// Verb  URI Pattern         Controller#Action
/// GET   /stocks             StocksController#index
/// GET   /stocks/prices      StocksController#prices
/// ```
///
/// ```
/// use live_runtime::routing::{Route, RouteTable};
/// const ROUTES: &[Route] = &[Route {
///     method: "GET",
///     path: "/hello/stream",
///     controller: "HelloController",
///     action: "stream",
/// }];
/// let table = RouteTable::new().with(ROUTES).to_string();
/// assert!(table.contains("GET   /hello/stream  HelloController#stream"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds routes, a controller's `ROUTES` say.
    #[must_use]
    pub fn with(mut self, routes: &[Route]) -> Self {
        self.routes.extend_from_slice(routes);
        self
    }

    /// Adds every route of controller `C`.
    #[must_use]
    pub fn controller<C: Controller>(self) -> Self {
        self.with(C::ROUTES)
    }

    /// The routes so far.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }
}

impl fmt::Display for RouteTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const VERB: &str = "Verb";
        const URI: &str = "URI Pattern";
        let verb = self
            .routes
            .iter()
            .map(|r| r.method.len())
            .fold(VERB.len(), usize::max);
        let uri = self
            .routes
            .iter()
            .map(|r| r.path.len())
            .fold(URI.len(), usize::max);
        writeln!(f, "{VERB:verb$}  {URI:uri$}  Controller#Action")?;
        for route in &self.routes {
            writeln!(
                f,
                "{:verb$}  {:uri$}  {}#{}",
                route.method, route.path, route.controller, route.action
            )?;
        }
        Ok(())
    }
}
