//! Request state that follows a request into its live action: inheritable task-locals copied,
//! excluded, and never leaked; the tracing span carried. Rails' `test_thread_locals_get_copied`,
//! `_get_reset`, `test_isolated_state_*`, `test_connected_to_stack_not_inherited` and
//! `test_live_streaming_doesnt_exclude_by_default` (docs/rails-parity.md, T-02 to T-05).

use crate::support;

use std::future::Future;
use std::sync::{LazyLock, Once};

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use live_runtime::prelude::*;
use support::{Server, text, within};
use tracing::Instrument;

live_runtime::task_local! {
    /// Set by the middleware from `x-request-id`.
    static REQUEST_ID: String;
    /// Set by the middleware from `x-tenant`; excluded by one controller.
    static TENANT: String;
    /// Set by the middleware from `x-stack`; excluded by the global config.
    static CONNECTED_TO_STACK: Vec<String>;
}

static EXCLUDES_TENANT: LazyLock<LiveConfig> =
    LazyLock::new(|| LiveConfig::new().exclude_local(&TENANT));
static NO_EXCLUSIONS: LazyLock<LiveConfig> = LazyLock::new(LiveConfig::new);

fn install_global_exclusion() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        LiveConfig::new()
            .exclude_local(&CONNECTED_TO_STACK)
            .install_global()
            .expect("installed once");
    });
}

/// Scopes each header that is present into its local, and opens a span for the request.
async fn scope_locals(request: Request, next: Next) -> Response {
    // A block, so no borrow of the (not `Sync`) request lives across an await.
    let (id, tenant, stack) = {
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        (
            header("x-request-id"),
            header("x-tenant"),
            header("x-stack"),
        )
    };
    let span = tracing::info_span!("request", request_id = id.as_deref().unwrap_or("-"));
    let mut run: std::pin::Pin<Box<dyn Future<Output = Response> + Send>> =
        Box::pin(next.run(request));
    if let Some(id) = id {
        run = Box::pin(REQUEST_ID.scope(id, run));
    }
    if let Some(tenant) = tenant {
        run = Box::pin(TENANT.scope(tenant, run));
    }
    if let Some(stack) = stack {
        run = Box::pin(CONNECTED_TO_STACK.scope(vec![stack], run));
    }
    run.instrument(span).await
}

/// Writes back what the action sees of each local.
async fn report(request: LiveRequest, config: &'static LiveConfig) -> Response {
    request
        .with_config(config)
        .spawn(|live: Live| async move {
            tracing::info!("action-log-line");
            let line = format!(
                "id={:?} tenant={:?} stack={:?}",
                REQUEST_ID.get(),
                TENANT.get(),
                CONNECTED_TO_STACK.get()
            );
            live.stream().write(line).await?;
            Ok::<_, Error>(())
        })
        .await
}

/// Tells whether the action's first poll, and its poll after a wait, ran in the request's task,
/// and what it sees of a local after the wait.
async fn where_it_runs(request: LiveRequest) -> Response {
    let request_task = tokio::task::id();
    request
        .spawn(move |live: Live| async move {
            let first = tokio::task::id() == request_task;
            tokio::task::yield_now().await;
            let after_wait = tokio::task::id() == request_task;
            let line = format!(
                "first poll in the request's task: {first}, after a wait: {after_wait}, id={:?}",
                REQUEST_ID.get()
            );
            live.text(line)
        })
        .await
}

async fn app() -> Server {
    install_global_exclusion();
    let app = Router::new()
        .route("/where", get(where_it_runs))
        .route("/plain", get(|r| report(r, &NO_EXCLUSIONS)))
        .route("/excluding", get(|r| report(r, &EXCLUDES_TENANT)))
        .layer(middleware::from_fn(scope_locals));
    Server::start(app).await
}

async fn get_with(server: &Server, path: &str, headers: &[(&str, &str)]) -> String {
    let mut request = support::client().get(server.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    text(within(request.send()).await.unwrap()).await
}

/// `test_thread_locals_get_copied`, `test_isolated_state_get_copied`,
/// `test_live_streaming_doesnt_exclude_by_default`: what the middleware scoped, the action
/// sees, in its first poll and in the task it may go on in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locals_are_copied_into_the_action() {
    let server = app().await;
    let body = get_with(
        &server,
        "/plain",
        &[("x-request-id", "req-1"), ("x-tenant", "acme")],
    )
    .await;
    assert_eq!(body, r#"id=Some("req-1") tenant=Some("acme") stack=None"#);
}

/// An action's first poll runs in the request's own task (an action done by then needs no
/// task); once it waits, it goes on in a task of its own, with the locals it was given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_that_waits_goes_on_in_a_task_of_its_own() {
    let server = app().await;
    let body = get_with(&server, "/where", &[("x-request-id", "req-w")]).await;
    assert_eq!(
        body,
        r#"first poll in the request's task: true, after a wait: false, id=Some("req-w")"#
    );
}

/// `test_connected_to_stack_not_inherited` (docs/rails-parity.md, T-04): a key excluded by the
/// controller, and one excluded globally, are absent in the action; the others still arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn excluded_locals_are_absent() {
    let server = app().await;
    let headers = [
        ("x-request-id", "req-2"),
        ("x-tenant", "acme"),
        ("x-stack", "reading"),
    ];
    let body = get_with(&server, "/excluding", &headers).await;
    assert_eq!(body, r#"id=Some("req-2") tenant=None stack=None"#);
    let body = get_with(&server, "/plain", &headers).await;
    assert_eq!(body, r#"id=Some("req-2") tenant=Some("acme") stack=None"#);
}

/// `test_thread_locals_get_reset`, `test_isolated_state_get_reset` (docs/rails-parity.md, T-05): a
/// later request without the values sees none, on the same connection and on a new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_leaks_into_the_next_request() {
    let server = app().await;
    let client = reqwest::Client::new(); // keeps the connection alive between requests
    for (headers, expected) in [
        (
            vec![("x-request-id", "req-3"), ("x-tenant", "acme")],
            r#"id=Some("req-3") tenant=Some("acme") stack=None"#,
        ),
        (vec![], "id=None tenant=None stack=None"),
        (
            vec![("x-request-id", "req-4")],
            r#"id=Some("req-4") tenant=None stack=None"#,
        ),
        (vec![], "id=None tenant=None stack=None"),
    ] {
        let mut request = client.get(server.url("/plain"));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        assert_eq!(text(within(request.send()).await.unwrap()).await, expected);
    }
}

/// The request's tracing span is carried into the action task: a line the action logs is
/// attributed to the request's span.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracing_span_is_carried() {
    let logs = support::logs();
    let server = app().await;
    get_with(&server, "/plain", &[("x-request-id", "span-check-77")]).await;
    let lines = logs.lines_with("action-log-line");
    assert!(
        lines.iter().any(
            |line| line.contains("request{request_id=\"span-check-77\"}")
                || line.contains("request{request_id=span-check-77}")
        ),
        "{lines:#?}"
    );
}
