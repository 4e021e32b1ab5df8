// Test: a controller with `state = AppState` takes `State<AppState>`, a sub-state through
// `FromRef`, and an extractor of its own that reads the state, in ordinary and live actions;
// its router merges into the app's `Router<AppState>`, as does a stateless controller's.
use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::{Json, Router};
use live_runtime::prelude::*;

#[derive(Clone)]
pub struct AppState {
    pub greeting: Greeting,
}

#[derive(Clone)]
pub struct Greeting(pub &'static str);

impl FromRef<AppState> for Greeting {
    fn from_ref(state: &AppState) -> Self {
        state.greeting.clone()
    }
}

pub struct Greeted(pub &'static str);

impl<S: Send + Sync> FromRequestParts<S> for Greeted
where
    Greeting: FromRef<S>,
{
    type Rejection = StatusCode;

    async fn from_request_parts(_: &mut Parts, state: &S) -> Result<Self, StatusCode> {
        Ok(Greeted(Greeting::from_ref(state).0))
    }
}

pub struct GreetingsController;

#[live_controller(state = AppState)]
impl GreetingsController {
    pub async fn index(&self, State(app): State<AppState>) -> &'static str {
        app.greeting.0
    }

    pub async fn create(&self, Greeted(g): Greeted, Json(name): Json<String>) -> String {
        format!("{g} {name}")
    }

    pub async fn stream(&self, Greeted(g): Greeted, State(Greeting(h)): State<Greeting>, live: Live) -> live_runtime::Result {
        live.stream().write(format!("{g} {h}")).await?;
        Ok(())
    }
}

pub struct PingController;

#[live_controller]
impl PingController {
    pub async fn index(&self) -> &'static str {
        "pong"
    }
}

fn main() {
    let app: Router = Router::new()
        .merge(GreetingsController.into_router())
        .merge(PingController.into_router_for::<AppState>())
        .with_state(AppState { greeting: Greeting("hello") });
    let _ = app;
}
