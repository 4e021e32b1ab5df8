// Test: `path = "..."` replaces the base path from the type name, `path = "/"` mounts the
// actions at the root, and a type without the `Controller` suffix keeps its whole name.
use live_runtime::prelude::*;
use live_runtime::routing::Route;

pub struct StocksController;

#[live_controller(path = "/api/v1/stocks")]
impl StocksController {
    pub async fn index(&self) -> &'static str {
        "stocks"
    }

    pub async fn show(&self) -> &'static str {
        "stock"
    }
}

pub struct HomeController;

#[live_controller(path = "/")]
impl HomeController {
    pub async fn index(&self) -> &'static str {
        "home"
    }

    pub async fn about(&self) -> &'static str {
        "about"
    }
}

pub struct HealthCheck;

#[live_controller]
impl HealthCheck {
    pub async fn index(&self) -> StatusCode {
        StatusCode::OK
    }
}

fn main() {
    let routes = RouteTable::new()
        .controller::<StocksController>()
        .controller::<HomeController>()
        .controller::<HealthCheck>();
    let table: Vec<(&str, &str, &str)> = routes
        .routes()
        .iter()
        .map(|r| (r.method, r.path, r.action))
        .collect();
    assert_eq!(
        table,
        [
            ("GET", "/api/v1/stocks", "index"),
            ("GET", "/api/v1/stocks/{id}", "show"),
            ("GET", "/", "index"),
            ("GET", "/about", "about"),
            ("GET", "/health_check", "index"),
        ]
    );
    assert_eq!(
        <HealthCheck as Controller>::ROUTES,
        [Route {
            method: "GET",
            path: "/health_check",
            controller: "HealthCheck",
            action: "index",
        }]
    );
    let _router: axum::Router = axum::Router::new()
        .merge(StocksController.into_router())
        .merge(HomeController.into_router())
        .merge(HealthCheck.into_router());
}
