// Test: every route attribute: `#[get]`, `#[post]`, `#[put]`, `#[patch]`, `#[delete]` and
// `#[route(method = ..., path = ...)]` (any case), paths relative to the controller's, `{name}`
// and `{*rest}` parameters; an attribute replaces the derived route.
use live_runtime::prelude::*;
use live_runtime::routing::Route;

pub struct StocksController;

#[live_controller]
impl StocksController {
    #[get("/")]
    pub async fn list(&self) -> &'static str {
        "list"
    }

    #[post("/{id}/refresh")]
    pub async fn refresh(&self) -> &'static str {
        "refresh"
    }

    #[put("/{id}/price")]
    pub async fn set_price(&self) -> &'static str {
        "set_price"
    }

    #[patch("/{id}/name")]
    pub async fn rename(&self) -> &'static str {
        "rename"
    }

    #[delete("/cache")]
    pub async fn clear_cache(&self) -> &'static str {
        "clear_cache"
    }

    #[route(method = "HEAD", path = "/ping")]
    pub async fn ping(&self) -> StatusCode {
        StatusCode::OK
    }

    #[route(path = "/files/{*rest}", method = "options")]
    pub async fn files(&self) -> StatusCode {
        StatusCode::NO_CONTENT
    }

    /// An attribute on a Rails name replaces its derived route.
    #[get("/all")]
    pub async fn index(&self) -> &'static str {
        "index"
    }
}

fn route(method: &'static str, path: &'static str, action: &'static str) -> Route {
    Route {
        method,
        path,
        controller: "StocksController",
        action,
    }
}

fn main() {
    assert_eq!(
        <StocksController as Controller>::ROUTES,
        [
            route("GET", "/stocks", "list"),
            route("POST", "/stocks/{id}/refresh", "refresh"),
            route("PUT", "/stocks/{id}/price", "set_price"),
            route("PATCH", "/stocks/{id}/name", "rename"),
            route("DELETE", "/stocks/cache", "clear_cache"),
            route("HEAD", "/stocks/ping", "ping"),
            route("OPTIONS", "/stocks/files/{*rest}", "files"),
            route("GET", "/stocks/all", "index"),
        ]
    );
    let _router: axum::Router = StocksController.into_router();
}
