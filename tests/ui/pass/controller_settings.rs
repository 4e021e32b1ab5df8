// Test: every controller setting: `buffer = N` and `buffer = unbounded`, `write_timeout_ms = N`
// and `= none`, `coalesce_bytes = N` (0 too), `html_error_snippet`, `clean_end_on_error` and
// `cancel_on_disconnect` bare and `= false`, `error_renderer = path`, and
// `exclude_locals(...)` with keys declared by `live_runtime::task_local!`, local or by path.
use live_runtime::prelude::*;

live_runtime::task_local! {
    static TENANT: String;
    static REQUEST_ID: u64;
}

mod db {
    live_runtime::task_local! {
        pub static STACK: Vec<String>;
    }
}

mod pages {
    use axum::response::Response;
    use live_runtime::error_page::ErrorPage;

    pub fn render(page: &ErrorPage) -> Response {
        page.default_response()
    }
}

pub struct TunedController;

#[live_controller(
    path = "/tuned",
    buffer = 32,
    write_timeout_ms = 5000,
    coalesce_bytes = 65536,
    html_error_snippet,
    clean_end_on_error,
    cancel_on_disconnect,
    error_renderer = pages::render,
    exclude_locals(TENANT, REQUEST_ID, db::STACK)
)]
impl TunedController {
    pub async fn stream(&self, live: Live) -> live_runtime::Result {
        live.stream().write("tuned").await?;
        Ok(())
    }
}

pub struct UnboundedController;

#[live_controller(
    buffer = unbounded,
    write_timeout_ms = none,
    coalesce_bytes = 0,
    html_error_snippet = false,
    clean_end_on_error = false,
    cancel_on_disconnect = false,
    exclude_locals(TENANT)
)]
impl UnboundedController {
    pub async fn stream(&self, live: Live) -> live_runtime::Result {
        live.stream().write("unbounded").await?;
        Ok(())
    }
}

pub struct OneChunkController;

#[live_controller(buffer = 1, html_error_snippet = true)]
impl OneChunkController {
    pub async fn stream(&self, live: Live) -> live_runtime::Result {
        live.stream().write("one").await?;
        Ok(())
    }
}

fn main() {
    assert_eq!(<TunedController as Controller>::ROUTES[0].path, "/tuned/stream");
    assert_eq!(
        <UnboundedController as Controller>::ROUTES[0].path,
        "/unbounded/stream"
    );
    assert_eq!(
        <OneChunkController as Controller>::ROUTES[0].path,
        "/one_chunk/stream"
    );
    let _router: axum::Router = axum::Router::new()
        .merge(TunedController.into_router())
        .merge(UnboundedController.into_router())
        .merge(OneChunkController.into_router());
}
