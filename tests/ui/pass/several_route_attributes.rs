// Test: several route attributes on one action give it several routes, on one path or on
// several; an action may share a path with another on a different method.
use live_runtime::prelude::*;
use live_runtime::routing::Route;

pub struct PricesController;

#[live_controller]
impl PricesController {
    #[get("/")]
    #[get("/latest")]
    #[route(method = "HEAD", path = "/")]
    pub async fn latest(&self) -> &'static str {
        "latest"
    }

    #[put("/")]
    #[patch("/")]
    pub async fn replace(&self, body: String) -> String {
        body
    }
}

fn route(method: &'static str, path: &'static str, action: &'static str) -> Route {
    Route {
        method,
        path,
        controller: "PricesController",
        action,
    }
}

fn main() {
    assert_eq!(
        <PricesController as Controller>::ROUTES,
        [
            route("GET", "/prices", "latest"),
            route("GET", "/prices/latest", "latest"),
            route("HEAD", "/prices", "latest"),
            route("PUT", "/prices", "replace"),
            route("PATCH", "/prices", "replace"),
        ]
    );
    let _router: axum::Router = PricesController.into_router();
}
