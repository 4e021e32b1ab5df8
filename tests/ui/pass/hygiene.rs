// Test: the expansion is hygienic: it compiles under `#![deny(warnings, unused_qualifications)]`
// with `Result`, `Option`, `Box`, `Send`, `Arc`, `String`, `Vec` and `Future` shadowed, and
// modules named `axum`, `core`, `std` and `http` in scope (the test reaches axum as `::axum`).
#![deny(warnings, unused_qualifications)]

use ::axum::extract::{Path, Query};
use live_runtime::prelude::*;

struct Result;
struct Option;
struct Box;
struct Send;
struct Arc;
struct String;
struct Vec;
struct Future;
mod axum {}
mod core {}
mod std {}
mod http {}

live_runtime::task_local! {
    static TENANT: u64;
}

#[derive(serde::Deserialize)]
pub struct Page {
    pub page: u32,
}

pub struct HygieneController;

#[live_controller(buffer = 4, write_timeout_ms = 1000, coalesce_bytes = 1024, exclude_locals(TENANT))]
impl HygieneController {
    pub async fn index(&self, Query(page): Query<Page>) -> ::std::string::String {
        page.page.to_string()
    }

    pub async fn show(&self, Path(id): Path<u32>, live: Live) -> live_runtime::Result {
        live.stream().writeln(id.to_string()).await?;
        Ok(())
    }

    #[post("/ping")]
    pub async fn ping(&self, body: ::std::string::String) -> StatusCode {
        let _ = body;
        StatusCode::NO_CONTENT
    }

    pub async fn quiet(&self, live: Live) {
        drop(live);
    }
}

/// The other branches of the settings, under the same shadowing.
pub struct QuietController;

#[live_controller(buffer = unbounded, write_timeout_ms = none, html_error_snippet)]
impl QuietController {}

fn main() {
    let _shadows = (Result, Option, Box, Send, Arc, String, Vec, Future);
    assert_eq!(<HygieneController as Controller>::ROUTES.len(), 4);
    let _router: ::axum::Router = HygieneController.into_router();
    let _router: ::axum::Router = QuietController.into_router();
}
