//! Rails' golden bytes and headers (docs/rails-parity.md, L-24 to L-32) against
//! `examples/rails_parity.rs`, over real HTTP, action by action.

use crate::apps::rails_parity as app;
use crate::support;

use std::sync::Arc;

use support::{Server, next_chunk, text, within};
use tokio::sync::Semaphore;

async fn server() -> (Server, Arc<Semaphore>) {
    let latch = Arc::new(Semaphore::new(0));
    (Server::start(app::app(latch.clone())).await, latch)
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

async fn body(server: &Server, action: &str) -> String {
    text(server.get(&format!("/test/{action}")).await).await
}

/// `test_basic_sse`, `test_sse_with_event_name`, `test_sse_with_retry`, `test_sse_with_id`,
/// `test_sse_with_multiple_line_message`: the exact bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_golden_bytes() {
    let (server, _) = server().await;
    let response = server.get("/test/basic_sse").await;
    assert_eq!(header(&response, "content-type"), Some("text/event-stream"));
    assert_eq!(
        text(response).await,
        "data: {\"name\":\"John\"}\n\ndata: {\"name\":\"Ryan\"}\n\n"
    );
    assert_eq!(
        body(&server, "sse_with_event").await,
        "event: send-name\ndata: {\"name\":\"John\"}\n\nevent: send-name\ndata: {\"name\":\"Ryan\"}\n\n"
    );
    assert_eq!(
        body(&server, "sse_with_retry").await,
        "retry: 1000\ndata: {\"name\":\"John\"}\n\nretry: 1500\ndata: {\"name\":\"Ryan\"}\n\n"
    );
    assert_eq!(
        body(&server, "sse_with_id").await,
        "id: 1\ndata: {\"name\":\"John\"}\n\nid: 2\ndata: {\"name\":\"Ryan\"}\n\n"
    );
    assert_eq!(
        body(&server, "sse_with_multiple_line_message").await,
        "data: first line.\ndata: second line.\n\n"
    );
}

/// `test_write_to_stream`, `test_write_lines_to_stream`, `test_live_stream_default_header`,
/// `test_set_cookie`, `test_render_text`, `test_infinite_test_buffer`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_stream_golden_bytes() {
    let (server, _) = server().await;
    let response = server.get("/test/basic_stream").await;
    assert_eq!(header(&response, "content-type"), Some("text/event-stream"));
    assert_eq!(header(&response, "cache-control"), Some("no-cache"));
    assert_eq!(text(response).await, "helloworld");
    assert_eq!(body(&server, "write_lines").await, "hello\nworld\n");
    let response = server.get("/test/default_header").await;
    assert_eq!(
        header(&response, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(text(response).await, "<html><body>hi</body></html>");
    let response = server.get("/test/set_cookie").await;
    let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["hello=world"]);
    assert_eq!(text(response).await, "hello world");
    assert_eq!(body(&server, "render_text").await, "zomg");
    assert_eq!(
        body(&server, "overfill_default_buffer").await,
        "abcdefghijklmnopqrstuvwxyz"
    );
}

/// `test_send_stream`, `test_send_stream_with_options`, and the explicit, implicit and
/// inferred content types (docs/rails-parity.md, L-32).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_stream_golden_headers() {
    let (server, _) = server().await;
    let response = server.get("/test/basic_send_stream").await;
    assert_eq!(header(&response, "content-type"), Some("text/csv"));
    assert_eq!(
        header(&response, "content-disposition"),
        Some("attachment; filename=\"my.csv\"; filename*=UTF-8''my.csv")
    );
    assert_eq!(text(response).await, "name,age\ndavid,41");

    let response = server.get("/test/send_stream_with_options").await;
    assert_eq!(header(&response, "content-type"), Some("application/json"));
    assert_eq!(
        header(&response, "content-disposition"),
        Some("inline; filename=\"export\"; filename*=UTF-8''export")
    );
    assert_eq!(text(response).await, r#"{ name: "David", age: 41 }"#);

    for action in [
        "send_stream_with_inferred_content_type",
        "send_stream_with_implicit_content_type",
        "send_stream_with_explicit_content_type",
    ] {
        let response = server.get(&format!("/test/{action}")).await;
        assert_eq!(
            header(&response, "content-type"),
            Some("text/csv"),
            "{action}"
        );
        assert_eq!(
            text(response).await,
            "fruit,quantity\napple,5\n",
            "{action}"
        );
    }
}

/// `test_send_stream_instrumentation`: a tracing event with filename, disposition and type.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_stream_is_instrumented() {
    let logs = support::logs();
    let (server, _) = server().await;
    body(&server, "send_stream_with_inferred_content_type").await;
    let lines = logs.lines_with("send_stream");
    assert!(
        lines.iter().any(|l| l.contains("filename=sample.csv")
            && l.contains("disposition=\"attachment\"")
            && l.contains("content_type=text/csv")),
        "{lines:#?}"
    );
}

/// `test_async_stream`: `blocking_stream` delivers `hello` while it waits on the latch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_stream_delivers_as_it_goes() {
    let (server, latch) = server().await;
    let mut response = server.get("/test/blocking_stream").await;
    assert_eq!(next_chunk(&mut response).await.unwrap(), "hello");
    latch.add_permits(1);
    assert_eq!(next_chunk(&mut response).await.unwrap(), "world");
    latch.add_permits(1);
    assert_eq!(next_chunk(&mut response).await, None);
}

/// `test_stale_without_etag`, `test_stale_with_etag`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_and_fresh() {
    let (server, _) = server().await;
    assert_eq!(body(&server, "with_stale").await, "stale");
    let response = within(
        support::client()
            .get(server.url("/test/with_stale"))
            .header("if-none-match", "W/\"123\"")
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 304);
}

/// `test_exception_in_controller_before_streaming`, `test_bad_request_in_controller_before_streaming`,
/// `test_exception_callback_when_committed`, `test_exceptions_raised_handling_exceptions_and_committed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exceptions() {
    let (server, _) = server().await;
    let response = server.get("/test/exception_in_controller").await;
    assert_eq!(response.status(), 500);
    assert_eq!(
        text(response).await,
        support::html_error_page(http::StatusCode::INTERNAL_SERVER_ERROR)
    );
    assert_eq!(server.get("/test/bad_request_error").await.status(), 400);
    let response = server.get("/test/exception_with_callback").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        text(response).await,
        "data: \"500 Internal Server Error\"\n\n"
    );
    let response = server.get("/test/exception_in_exception_callback").await;
    assert_eq!(response.status(), 200);
    assert_eq!(text(response).await, "");
}

/// A request without `Accept` is HTML for Rails: after a late error it gets the `/500.html`
/// script, then the `on_error` tail, where `curl`'s `*/*` above gets the tail alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exception_after_commit_without_accept_is_html() {
    let (server, _) = server().await;
    let mut socket = support::raw(
        server.addr,
        "GET /test/exception_with_callback HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .await;
    let response = support::read_to_close(&mut socket).await;
    let snippet = response
        .find(r#""><script>window.location = "/500.html"</script></html>"#)
        .expect(&response);
    let tail = response
        .find("data: \"500 Internal Server Error\"\n\n")
        .expect(&response);
    assert!(snippet < tail, "{response}");
}

/// `test_abort_with_full_buffer`: the client leaves; the blocked writer fails and `on_error`
/// logs "Error while streaming".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overfill_buffer_and_die() {
    let logs = support::logs();
    let (server, _) = server().await;
    let mut socket = support::raw(
        server.addr,
        "GET /test/overfill_buffer_and_die HTTP/1.1\r\nHost: t\r\n\r\n",
    )
    .await;
    support::read_until(&mut socket, "xxxx").await;
    drop(socket);
    support::eventually("on_error logged the disconnect", || {
        logs.lines_with("Error while streaming")
            .iter()
            .any(|l| l.contains("client disconnected"))
    })
    .await;
}

/// `test_ignore_client_disconnect`: the action completes after the client left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignore_client_disconnect() {
    let logs = support::logs();
    let (server, _) = server().await;
    let mut response = server.get("/test/ignore_client_disconnect").await;
    assert_eq!(next_chunk(&mut response).await.unwrap(), "first");
    drop(response);
    support::eventually("Work complete", || {
        !logs.lines_with("Work complete").is_empty()
    })
    .await;
}

/// `test_thread_locals_get_copied`, `test_isolated_state_get_copied`,
/// `test_connected_to_stack_not_inherited`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_context() {
    let (server, _) = server().await;
    assert_eq!(body(&server, "thread_locals").await, "aaron");
    assert_eq!(body(&server, "isolated_state").await, "david");
    assert_eq!(
        body(&server, "connected_to_stack_not_inherited").await,
        "None"
    );
}

/// docs/rails-parity.md cites tests as `file::function`, or by function alone after one in the
/// same cell: each must exist, so the document does not send readers to tests that moved.
#[test]
fn cited_tests_exist() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/rails-parity.md")).unwrap();
    let mut missing = Vec::new();
    let mut cited = 0;
    for cell in doc
        .lines()
        .filter(|line| line.starts_with('|'))
        .flat_map(|line| line.split('|'))
    {
        let mut file = None;
        // The code spans of the cell are every other piece between backticks.
        for span in cell.split('`').skip(1).step_by(2) {
            let name = match span.split_once("::") {
                Some((path, name)) if path.ends_with(".rs") => {
                    file = Some(path);
                    name
                }
                _ if span
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') =>
                {
                    span
                }
                _ => continue,
            };
            let Some(file) = file else { continue };
            cited += 1;
            let source = std::fs::read_to_string(root.join(file)).unwrap_or_default();
            if !source.contains(&format!("fn {name}(")) {
                missing.push(format!("{file}::{name}"));
            }
        }
    }
    assert!(cited > 50, "only {cited} citations read");
    assert!(missing.is_empty(), "cited but missing: {missing:#?}");
}
