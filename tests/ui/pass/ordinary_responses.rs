// Test: an action without `Live` is ordinary and returns any axum response: text, a status, a
// tuple, JSON, `Html`, a `Response`, `impl IntoResponse`, a `Result` of responses, `()`.
use axum::Json;
use axum::response::{Html, IntoResponse, Response};
use live_runtime::prelude::*;
use serde::Serialize;

#[derive(Serialize)]
pub struct Stock {
    pub name: String,
}

pub struct PagesController;

#[live_controller]
impl PagesController {
    pub async fn text(&self) -> &'static str {
        "text"
    }

    pub async fn owned(&self) -> String {
        "owned".to_owned()
    }

    pub async fn status(&self) -> StatusCode {
        StatusCode::ACCEPTED
    }

    pub async fn tuple(&self) -> (StatusCode, [(header::HeaderName, &'static str); 1], String) {
        (
            StatusCode::CREATED,
            [(header::LOCATION, "/pages/1")],
            "created".to_owned(),
        )
    }

    pub async fn json(&self) -> Json<Stock> {
        Json(Stock {
            name: "ACME".to_owned(),
        })
    }

    pub async fn html(&self) -> Html<&'static str> {
        Html("<p>hi</p>")
    }

    pub async fn response(&self) -> Response {
        StatusCode::NO_CONTENT.into_response()
    }

    pub async fn opaque(&self) -> impl IntoResponse {
        "opaque"
    }

    pub async fn fallible(&self) -> Result<String, (StatusCode, String)> {
        Err((StatusCode::NOT_FOUND, "no such page".to_owned()))
    }

    pub async fn nothing(&self) {}
}

fn main() {
    assert_eq!(<PagesController as Controller>::ROUTES.len(), 10);
    let _router: axum::Router = PagesController.into_router();
}
