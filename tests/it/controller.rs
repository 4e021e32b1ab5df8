//! `#[live_controller]` over real HTTP: derived and attribute routes at the right methods and
//! paths (405 otherwise), extractors, the route table against what the router serves, two
//! controllers in one app, task-locals into actions and `exclude_locals`.

// `new` is the Rails action `GET /new`, not a constructor.
#![allow(clippy::wrong_self_convention)]

use crate::support;

use std::sync::Mutex;

use axum::Json;
use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use live_runtime::prelude::*;
use live_runtime::routing::Route;
use serde::Deserialize;
use support::{Server, text, within};

live_runtime::task_local! {
    static REQUEST_ID: String;
    static TENANT: String;
}

/// A resource controller: every Rails name, one action per attribute form.
#[derive(Default)]
pub struct StocksController {
    created: Mutex<Vec<String>>,
}

/// A new stock.
#[derive(Debug, Deserialize)]
pub struct NewStock {
    name: String,
}

/// `?limit=`
#[derive(Debug, Deserialize)]
pub struct Limit {
    limit: Option<u32>,
}

#[live_controller(exclude_locals(TENANT))]
impl StocksController {
    pub async fn index(&self, Query(q): Query<Limit>) -> String {
        format!("index limit={:?}", q.limit)
    }

    pub async fn show(&self, Path(id): Path<u32>, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.write(format!("show {id}")).await?;
        Ok(())
    }

    pub async fn new(&self) -> &'static str {
        "new"
    }

    pub async fn create(&self, Json(stock): Json<NewStock>) -> (StatusCode, String) {
        self.record(&stock.name);
        (StatusCode::CREATED, format!("created {}", stock.name))
    }

    pub async fn edit(&self, Path(id): Path<u32>) -> String {
        format!("edit {id}")
    }

    pub async fn update(&self, Path(id): Path<u32>, body: String) -> String {
        format!("update {id} {body}")
    }

    pub async fn destroy(&self, Path(id): Path<u32>) -> StatusCode {
        let _ = id;
        StatusCode::NO_CONTENT
    }

    /// Derived `GET /stocks/prices`: a live stream that reports the task-locals it sees.
    pub async fn prices(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream
            .write(format!(
                "id={:?} tenant={:?}",
                REQUEST_ID.get(),
                TENANT.get()
            ))
            .await?;
        Ok(())
    }

    #[post("/{id}/refresh")]
    pub async fn refresh(&self, Path(id): Path<u32>, headers: HeaderMap, live: Live) {
        let agent = headers
            .get("x-agent")
            .map_or("-", |v| v.to_str().unwrap_or("?"))
            .to_owned();
        let _ = live.text(format!("refreshed {id} by {agent}"));
    }

    #[put("/bulk")]
    #[patch("/bulk")]
    pub async fn bulk(&self) -> &'static str {
        "bulk"
    }

    #[delete("/all")]
    pub async fn purge(&self) -> StatusCode {
        StatusCode::ACCEPTED
    }

    #[route(method = "OPTIONS", path = "/")]
    pub async fn options(&self) -> &'static str {
        "options"
    }

    #[get("/count")]
    pub async fn count(&self) -> String {
        self.created.lock().unwrap().len().to_string()
    }

    fn record(&self, name: &str) {
        self.created.lock().unwrap().push(name.to_owned());
    }
}

/// A second controller, with a base path of its own.
pub struct ChatRoomsController;

#[live_controller(path = "/api/rooms")]
impl ChatRoomsController {
    pub async fn index(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.writeln("room a").await?;
        stream.writeln("room b").await?;
        stream.close();
        Ok(())
    }

    /// Sees every local: this controller excludes none.
    pub async fn locals(&self, live: Live) -> live_runtime::Result {
        live.text(format!(
            "id={:?} tenant={:?}",
            REQUEST_ID.get(),
            TENANT.get()
        ))
    }
}

async fn app() -> Server {
    let app = axum::Router::new()
        .merge(StocksController::default().into_router())
        .merge(ChatRoomsController.into_router())
        .layer(axum::middleware::from_fn(
            |request: axum::extract::Request, next: axum::middleware::Next| async move {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .map(|v| v.to_str().unwrap().to_owned());
                let run = TENANT.scope("acme".to_owned(), next.run(request));
                match id {
                    Some(id) => REQUEST_ID.scope(id, run).await,
                    None => run.await,
                }
            },
        ));
    Server::start(app).await
}

async fn call(server: &Server, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = support::client().request(method, server.url(path));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let response = within(request.send()).await.unwrap();
    let status = response.status().as_u16();
    (status, text(response).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derived_routes_answer_at_their_method_and_path() {
    let server = app().await;
    let cases: &[(&str, &str, Option<&str>, u16, &str)] = &[
        ("GET", "/stocks", None, 200, "index limit=None"),
        ("GET", "/stocks?limit=5", None, 200, "index limit=Some(5)"),
        ("GET", "/stocks/7", None, 200, "show 7"),
        ("GET", "/stocks/new", None, 200, "new"),
        (
            "POST",
            "/stocks",
            Some(r#"{"name":"ACME"}"#),
            201,
            "created ACME",
        ),
        ("GET", "/stocks/7/edit", None, 200, "edit 7"),
        ("PATCH", "/stocks/7", Some("x"), 200, "update 7 x"),
        ("PUT", "/stocks/7", Some("y"), 200, "update 7 y"),
        ("DELETE", "/stocks/7", None, 204, ""),
        ("POST", "/stocks/7/refresh", None, 200, "refreshed 7 by -"),
        ("PUT", "/stocks/bulk", None, 200, "bulk"),
        ("PATCH", "/stocks/bulk", None, 200, "bulk"),
        ("DELETE", "/stocks/all", None, 202, ""),
        ("OPTIONS", "/stocks", None, 200, "options"),
        ("GET", "/stocks/count", None, 200, "1"),
        ("GET", "/api/rooms", None, 200, "room a\nroom b\n"),
    ];
    for (method, path, body, status, expected) in cases {
        assert_eq!(
            call(&server, method, path, *body).await,
            (*status, (*expected).to_owned()),
            "{method} {path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_method_is_405_and_unknown_path_404() {
    let server = app().await;
    assert_eq!(call(&server, "DELETE", "/stocks", None).await.0, 405);
    assert_eq!(call(&server, "POST", "/stocks/7/edit", None).await.0, 405);
    assert_eq!(call(&server, "GET", "/stocks/7/refresh", None).await.0, 405);
    assert_eq!(call(&server, "POST", "/api/rooms", None).await.0, 405);
    assert_eq!(call(&server, "GET", "/nowhere", None).await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extractor_rejections_are_4xx() {
    let server = app().await;
    // Path<u32> with a word, bad JSON, a bad query: axum's rejections, never a panic.
    assert_eq!(call(&server, "GET", "/stocks/seven", None).await.0, 400);
    assert_eq!(
        call(&server, "POST", "/stocks", Some("{not json")).await.0,
        400
    );
    assert_eq!(call(&server, "GET", "/stocks?limit=-1", None).await.0, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_reach_extractors_of_live_actions() {
    let server = app().await;
    let response = within(
        support::client()
            .post(server.url("/stocks/3/refresh"))
            .header("x-agent", "bot")
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(text(response).await, "refreshed 3 by bot");
}

/// The route table is data, and it is exactly what the router serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_table_matches_the_router() {
    let route = |method, path, action| Route {
        method,
        path,
        controller: "StocksController",
        action,
    };
    assert_eq!(
        <StocksController as Controller>::ROUTES,
        &[
            route("GET", "/stocks", "index"),
            route("GET", "/stocks/{id}", "show"),
            route("GET", "/stocks/new", "new"),
            route("POST", "/stocks", "create"),
            route("GET", "/stocks/{id}/edit", "edit"),
            route("PATCH", "/stocks/{id}", "update"),
            route("PUT", "/stocks/{id}", "update"),
            route("DELETE", "/stocks/{id}", "destroy"),
            route("GET", "/stocks/prices", "prices"),
            route("POST", "/stocks/{id}/refresh", "refresh"),
            route("PUT", "/stocks/bulk", "bulk"),
            route("PATCH", "/stocks/bulk", "bulk"),
            route("DELETE", "/stocks/all", "purge"),
            route("OPTIONS", "/stocks", "options"),
            route("GET", "/stocks/count", "count"),
        ][..]
    );
    // Every route of the table answers (not 404 nor 405) at its method, with `{id}` = 1.
    let server = app().await;
    let table = RouteTable::new()
        .controller::<StocksController>()
        .controller::<ChatRoomsController>();
    for route in table.routes() {
        let path = route.path.replace("{id}", "1");
        let body = (route.action == "create").then_some(r#"{"name":"x"}"#);
        let (status, _) = call(&server, route.method, &path, body).await;
        assert!(
            status != 404 && status != 405,
            "{} {} -> {status}",
            route.method,
            route.path
        );
    }
    // And nothing else: at a path of the table, a method it does not list is 405; a path it
    // does not list is 404.
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    for path in table.routes().iter().map(|route| route.path) {
        let listed: Vec<&str> = (table.routes().iter())
            .filter(|route| route.path == path)
            .map(|route| route.method)
            .collect();
        let concrete = path.replace("{id}", "1");
        for method in methods.iter().filter(|method| !listed.contains(method)) {
            let (status, _) = call(&server, method, &concrete, None).await;
            assert_eq!(status, 405, "{method} {path}");
        }
    }
    for path in ["/", "/stock", "/stocks/1/unknown", "/api", "/api/rooms/1"] {
        for method in methods {
            let (status, _) = call(&server, method, path, None).await;
            assert_eq!(status, 404, "{method} {path}");
        }
    }
    let printed = table.to_string();
    assert!(printed.starts_with("Verb     URI Pattern"), "{printed}");
    assert!(
        printed.contains("GET      /api/rooms/locals     ChatRoomsController#locals"),
        "{printed}"
    );
}

/// Task-locals scoped by a middleware reach the actions; `exclude_locals(TENANT)` keeps
/// `TENANT` out of this controller's actions only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locals_reach_actions_and_exclude_locals_removes_them() {
    let server = app().await;
    let get = |path: &'static str| {
        let request = support::client()
            .get(server.url(path))
            .header("x-request-id", "r-9");
        async move { text(within(request.send()).await.unwrap()).await }
    };
    assert_eq!(get("/stocks/prices").await, r#"id=Some("r-9") tenant=None"#);
    assert_eq!(
        get("/api/rooms/locals").await,
        r#"id=Some("r-9") tenant=Some("acme")"#
    );
}

/// Rails' `before_action` is `route_layer` on the controller's router: a hook that answers
/// stops the request before the action, so a live action never starts.
#[tokio::test]
async fn route_layer_runs_before_the_action() {
    use axum::extract::Request;
    use axum::middleware::{self, Next};
    use axum::response::{IntoResponse, Response};
    use std::sync::atomic::{AtomicUsize, Ordering};

    static STARTED: AtomicUsize = AtomicUsize::new(0);
    pub struct GuardedController;
    #[live_controller]
    impl GuardedController {
        pub async fn index(&self, live: Live) -> live_runtime::Result {
            STARTED.fetch_add(1, Ordering::SeqCst);
            let mut stream = live.stream();
            stream.write("inside").await?;
            Ok(())
        }
    }
    async fn authenticate(request: Request, next: Next) -> Response {
        match request.headers().get(header::AUTHORIZATION) {
            Some(value) if value == "Bearer secret" => next.run(request).await,
            _ => StatusCode::UNAUTHORIZED.into_response(),
        }
    }
    let app = GuardedController
        .into_router()
        .route_layer(middleware::from_fn(authenticate));
    let server = Server::start(app).await;

    let refused = server.get("/guarded").await;
    assert_eq!(refused.status(), 401);
    assert_eq!(STARTED.load(Ordering::SeqCst), 0, "the action ran");
    let allowed = within(
        support::client()
            .get(server.url("/guarded"))
            .header("authorization", "Bearer secret")
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(text(allowed).await, "inside");
    assert_eq!(STARTED.load(Ordering::SeqCst), 1);
}
