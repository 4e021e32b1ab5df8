//! Controllers in an app with axum state, over real HTTP: `State<AppState>`, a sub-state through
//! `FromRef`, an authentication extractor that reads a store from the state (before a body
//! extractor and before `Live`), a stateful and a stateless controller merged into one
//! `Router<AppState>` that gets its state once.

use crate::support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::{Json, Router};
use live_runtime::prelude::*;
use support::{Server, client, next_chunk, text, within};

/// Who holds which bearer token.
#[derive(Clone, Default)]
pub struct UserStore(Arc<HashMap<String, String>>);

/// The notes each user wrote.
#[derive(Clone, Default)]
pub struct Notes(Arc<Mutex<Vec<String>>>);

/// The app's state, as an axum app has it: parts reachable through `FromRef`.
#[derive(Clone)]
pub struct AppState {
    users: UserStore,
    notes: Notes,
    name: &'static str,
}

impl FromRef<AppState> for UserStore {
    fn from_ref(state: &AppState) -> Self {
        state.users.clone()
    }
}

impl FromRef<AppState> for Notes {
    fn from_ref(state: &AppState) -> Self {
        state.notes.clone()
    }
}

/// A bearer-token extractor for any state that has a `UserStore`: a 401 otherwise.
pub struct CurrentUser(String);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser
where
    UserStore: FromRef<S>,
{
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let users = UserStore::from_ref(state);
        parts
            .headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .and_then(|token| users.0.get(token))
            .map(|name| CurrentUser(name.clone()))
            .ok_or((StatusCode::UNAUTHORIZED, "who are you?"))
    }
}

pub struct NotesController;

#[live_controller(state = AppState)]
impl NotesController {
    /// The whole state.
    pub async fn index(&self, State(app): State<AppState>) -> String {
        format!(
            "{} has {} notes",
            app.name,
            app.notes.0.lock().unwrap().len()
        )
    }

    /// A state-based extractor before a body extractor.
    pub async fn create(
        &self,
        CurrentUser(user): CurrentUser,
        State(notes): State<Notes>,
        Json(text): Json<String>,
    ) -> StatusCode {
        notes.0.lock().unwrap().push(format!("{user}: {text}"));
        StatusCode::CREATED
    }

    /// A live action with state-based extractors: streams the notes, one chunk each.
    pub async fn feed(
        &self,
        CurrentUser(user): CurrentUser,
        State(notes): State<Notes>,
        live: Live,
    ) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.write(format!("hello {user}\n")).await?;
        let all = notes.0.lock().unwrap().clone();
        for note in all {
            stream.write(format!("{note}\n")).await?;
        }
        Ok(())
    }
}

/// A controller without state, merged into the same app.
pub struct PingController;

#[live_controller]
impl PingController {
    pub async fn index(&self, live: Live) -> live_runtime::Result {
        live.stream().write("pong").await?;
        Ok(())
    }
}

fn app() -> Router {
    let state = AppState {
        users: UserStore(Arc::new(HashMap::from([(
            "t0ken".to_owned(),
            "ada".to_owned(),
        )]))),
        notes: Notes::default(),
        name: "notes app",
    };
    // An existing app with state, as axum users build it.
    let existing: Router<AppState> = Router::new().route(
        "/about",
        axum::routing::get(|State(app): State<AppState>| async move { app.name }),
    );
    existing
        .merge(NotesController.into_router())
        .merge(PingController.into_router_for::<AppState>())
        .with_state(state)
}

#[tokio::test]
async fn controllers_with_state_serve_in_an_app_with_state() {
    let server = Server::start(app()).await;
    assert_eq!(text(server.get("/about").await).await, "notes app");
    assert_eq!(
        text(server.get("/notes").await).await,
        "notes app has 0 notes"
    );
    assert_eq!(text(server.get("/ping").await).await, "pong");

    // The authentication extractor reads the store from the state.
    let post = |token: &'static str| {
        client()
            .post(server.url("/notes"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(r#""buy milk""#)
            .send()
    };
    let refused = within(post("wrong")).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(text(refused).await, "who are you?");
    let created = within(post("t0ken")).await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(
        text(server.get("/notes").await).await,
        "notes app has 1 notes"
    );

    // The live action: refused before it starts without a user, streamed with one.
    let feed = |token: &'static str| {
        client()
            .get(server.url("/notes/feed"))
            .bearer_auth(token)
            .send()
    };
    let refused = within(feed("wrong")).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let mut streamed = within(feed("t0ken")).await.unwrap();
    assert_eq!(streamed.status(), StatusCode::OK);
    let mut body = Vec::new();
    while let Some(chunk) = next_chunk(&mut streamed).await {
        body.extend_from_slice(&chunk);
    }
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "hello ada\nada: buy milk\n"
    );
}
