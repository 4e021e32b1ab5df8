//! Error semantics of live actions over real HTTP (docs/rails-parity.md, the E rows; `lst:N` is a
//! line of Rails' `live_stream_test.rb`): errors and panics before commit become ordinary error
//! responses, errors after commit go through `on_error`, are logged with their value and cut the
//! response after the `on_error` tail (cleanly only when asked to), and a client that leaves is
//! not an error.

use crate::support;

use std::sync::{Arc, LazyLock, Mutex};

use axum::Router;
use axum::response::Response;
use axum::routing::get;
use live_runtime::Result;
use live_runtime::prelude::*;
use tokio::sync::{Notify, oneshot};
use tracing::Instrument;

use support::{Server, client, cut_text, logs, raw, read_to_close, read_until, text, within};

/// Rails' `ActionView::Base.streaming_completion_on_exception`.
const HTML_SNIPPET: &str = r#""><script>window.location = "/500.html"</script></html>"#;

/// The generic page of a 500 for a client that accepts anything: never the error's own text.
fn generic_500() -> String {
    support::html_error_page(StatusCode::INTERNAL_SERVER_ERROR)
}

static HTML_SNIPPET_CONFIG: LazyLock<LiveConfig> =
    LazyLock::new(|| LiveConfig::new().html_error_snippet(true));

/// One value sent from inside an action (or its `on_error` callback) to the test. Cloneable,
/// so it can live in an axum handler closure; only the first `send` is delivered.
struct Report<T>(Arc<Mutex<Option<oneshot::Sender<T>>>>);

impl<T> Clone for Report<T> {
    fn clone(&self) -> Self {
        Report(self.0.clone())
    }
}

impl<T> Report<T> {
    fn send(&self, value: T) {
        if let Some(sender) = self.0.lock().unwrap().take() {
            let _ = sender.send(value);
        }
    }
}

fn report<T>() -> (Report<T>, oneshot::Receiver<T>) {
    let (sender, receiver) = oneshot::channel();
    (Report(Arc::new(Mutex::new(Some(sender)))), receiver)
}

/// Awaits what the action reported.
async fn received<T>(receiver: oneshot::Receiver<T>) -> T {
    within(receiver)
        .await
        .expect("the action ended without reporting")
}

/// A span tagging every log line of one request, so that tests running in parallel in this
/// process can tell their own lines apart.
fn case(marker: &'static str) -> tracing::Span {
    tracing::info_span!("case", id = marker)
}

/// Panics with `message`; typed so that an action can `return explode(..)`.
fn explode(message: &str) -> Result {
    panic!("{message}")
}

/// A plain streaming action, to show the server still serves after a failure.
async fn ok(request: LiveRequest) -> Response {
    request
        .spawn(|live: Live| async move {
            live.stream().write("ok").await?;
            Ok::<_, Error>(())
        })
        .await
}

fn is_error_line(line: &str) -> bool {
    line.contains(" ERROR ")
}

/// Rails `test_exception_in_controller_before_streaming` (lst:675-685), docs/rails-parity.md E-01:
/// an error before the first write is an ordinary 500 with a generic body (no internals, no partial
/// stream), and it is logged at ERROR with its text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exception_before_commit_is_a_generic_500() {
    const MARKER: &str = "boom before commit e01-5c1d";
    logs();
    async fn handler(request: LiveRequest) -> Response {
        request
            .spawn(|mut live: Live| async move {
                live.set_content_type("text/event-stream")?;
                let _stream = live.stream();
                Err::<(), _>(Error::msg(MARKER))
            })
            .await
    }
    let server = Server::start(Router::new().route("/", get(handler))).await;

    let response = server.get("/").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8",
        "the error page, not the stream's head"
    );
    let body = text(response).await;
    assert_eq!(body, generic_500());
    assert!(!body.contains("boom"), "internals leaked: {body:?}");

    let lines = logs().lines_with(MARKER);
    assert!(
        lines
            .iter()
            .any(|l| is_error_line(l) && l.contains("action failed before commit")),
        "error not logged at ERROR with its text: {lines:#?}"
    );
}

/// Rails `test_bad_request_in_controller_before_streaming` (lst:675-685),
/// docs/rails-parity.md E-01: an error that chooses its status answers with it; one that carries
/// a whole response answers with that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_request_before_commit_answers_with_its_status() {
    logs();
    async fn bad_request(request: LiveRequest) -> Response {
        request
            .spawn(|live: Live| async move {
                let _stream = live.stream();
                Err::<(), _>(Error::status(StatusCode::BAD_REQUEST))
            })
            .await
    }
    async fn teapot(request: LiveRequest) -> Response {
        request
            .spawn(|live: Live| async move {
                let _stream = live.stream();
                Err::<(), _>(
                    Error::msg("short and stout")
                        .with_response((StatusCode::IM_A_TEAPOT, "custom")),
                )
            })
            .await
    }
    let app = Router::new()
        .route("/bad", get(bad_request))
        .route("/teapot", get(teapot));
    let server = Server::start(app).await;

    let response = server.get("/bad").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        text(response).await,
        support::html_error_page(StatusCode::BAD_REQUEST)
    );

    let response = server.get("/teapot").await;
    assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
    assert_eq!(text(response).await, "custom");
}

/// docs/rails-parity.md E-01 for any `std::error::Error` through `?` (Rails: any `StandardError`
/// raised before commit, `test_exception_in_controller_before_streaming`): a generic 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn question_mark_on_std_error_before_commit_is_a_generic_500() {
    logs();
    async fn handler(request: LiveRequest) -> Response {
        request
            .spawn(|live: Live| async move {
                let _stream = live.stream();
                let _: u32 = "x".parse()?;
                Ok::<_, Error>(())
            })
            .await
    }
    let server = Server::start(Router::new().route("/", get(handler))).await;

    let response = server.get("/").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = text(response).await;
    assert_eq!(body, generic_500());
    assert!(!body.contains("digit"), "internals leaked: {body:?}");
}

/// docs/rails-parity.md E-02: after commit the client has its 200 and what was written (`""`);
/// then the response is cut (no chunked terminator, the connection closed), so the client sees
/// the failure; with `clean_end_on_error` it ends with the terminator, as in Rails. Either way
/// the error is logged at ERROR with its value, on one line (Rails logs class and message at
/// FATAL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exception_after_commit_cuts_the_body_or_ends_it_cleanly_on_request() {
    const MARKER: &str = "boom after commit e02-81ab";
    static CUT: LiveConfig = LiveConfig::new();
    static CLEAN: LazyLock<LiveConfig> =
        LazyLock::new(|| LiveConfig::new().clean_end_on_error(true));
    logs();
    // The action fails only once the client has the head, so the body is chunked on the wire
    // (a body already over when hyper writes the head goes out as `content-length: 0`).
    let release = Arc::new(Notify::new());
    let route = |config: &'static LiveConfig| {
        let release = release.clone();
        get(move |request: LiveRequest| async move {
            request
                .with_config(config)
                .spawn(|mut live: Live| async move {
                    live.set_content_type("application/json")?;
                    let mut stream = live.stream();
                    stream.write("").await?;
                    release.notified().await;
                    Err::<(), _>(Error::msg(MARKER))
                })
                .await
        })
    };
    let app = Router::new()
        .route("/cut", route(&CUT))
        .route("/clean", route(&CLEAN));
    let server = Server::start(app).await;

    let response = server.get("/cut").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(response.headers()[header::TRANSFER_ENCODING], "chunked");
    release.notify_one();
    assert_eq!(cut_text(response).await, "", "reqwest sees the body fail");
    let response = server.get("/clean").await;
    release.notify_one();
    assert_eq!(text(response).await, "", "reqwest reads to the end");

    // On the wire: the head of a chunked body, then the connection closes without the
    // terminator, or (clean) nothing but the terminator.
    for (path, expected) in [("/cut", ""), ("/clean", "0\r\n\r\n")] {
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        let mut socket = raw(server.addr, &request).await;
        let head = read_until(&mut socket, "\r\n\r\n").await;
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(
            head.ends_with("\r\n\r\n"),
            "body bytes before the error: {head:?}"
        );
        assert!(head.contains("transfer-encoding: chunked\r\n"), "{head}");
        release.notify_one();
        assert_eq!(read_to_close(&mut socket).await, expected, "{path}");
    }

    let lines = logs().lines_with(MARKER);
    assert_eq!(lines.len(), 4, "one ERROR line per request: {lines:#?}");
    assert!(
        lines
            .iter()
            .all(|l| is_error_line(l) && l.contains("action failed after commit")),
        "{lines:#?}"
    );
    // One line each, with the error's text, not a Debug dump of it.
    assert!(
        lines
            .iter()
            .all(|l| !l.contains("details=") && !l.contains("Error {")),
        "{lines:#?}"
    );
}

/// Rails `test_exception_callback_when_committed` (lst:665), docs/rails-parity.md E-02 step 2:
/// `on_error` writes an SSE error event, which is the whole body; the error is still logged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exception_callback_when_committed_writes_the_tail() {
    const MARKER: &str = "boom with callback e02-3e70";
    logs();
    async fn handler(request: LiveRequest) -> Response {
        request
            .spawn(|mut live: Live| async move {
                live.set_content_type("text/event-stream")?;
                let mut stream = live.stream();
                stream.on_error(|_error, tail| {
                    tail.write("data: \"500 Internal Server Error\"\n\n");
                    Ok(())
                });
                stream.write("").await?;
                Err::<(), _>(Error::msg(MARKER))
            })
            .await
    }
    let server = Server::start(Router::new().route("/", get(handler))).await;

    let response = server.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    assert_eq!(
        cut_text(response).await,
        "data: \"500 Internal Server Error\"\n\n"
    );
    let lines = logs().lines_with(MARKER);
    assert!(
        lines.iter().any(|l| is_error_line(l)),
        "not logged: {lines:#?}"
    );
}

/// `test_exception_callback_when_committed` (lst:665), surpassing Rails (docs/rails-parity.md, pain
/// point 12: its block gets nothing): `on_error` receives the error value itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exception_callback_receives_the_error() {
    const MARKER: &str = "boom for the callback e02-d412";
    logs();
    let (seen, seen_rx) = report::<(ErrorKind, StatusCode)>();
    let app = Router::new().route(
        "/",
        get(move |request: LiveRequest| async move {
            request
                .spawn(|mut live: Live| async move {
                    live.set_content_type("text/event-stream")?;
                    let mut stream = live.stream();
                    stream.on_error(move |error, tail| {
                        seen.send((error.kind(), error.status_code()));
                        tail.write(format!("event: error\ndata: {error}\n\n"));
                        Ok(())
                    });
                    stream.write("data: first\n\n").await?;
                    Err::<(), _>(Error::msg(MARKER))
                })
                .await
        }),
    );
    let server = Server::start(app).await;

    let response = server.get("/").await;
    let body = cut_text(response).await;
    assert_eq!(
        received(seen_rx).await,
        (ErrorKind::Action, StatusCode::INTERNAL_SERVER_ERROR)
    );
    assert_eq!(
        body,
        format!("data: first\n\nevent: error\ndata: {MARKER}\n\n")
    );
}

/// Rails `test_exceptions_raised_handling_exceptions_and_committed` (lst:687),
/// docs/rails-parity.md E-02: `on_error` itself fails; the body is `""`, the stream still ends,
/// and both errors are logged, the callback's first (Rails' order).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_on_error_logs_both_errors_and_terminates() {
    const ORIGINAL: &str = "boom e02-original-9b27";
    const DEEPER: &str = "We need to go deeper e02-9b27";
    const CASE: &str = "case-e02-9b27";
    logs();
    async fn handler(request: LiveRequest) -> Response {
        request
            .spawn(|mut live: Live| async move {
                live.set_content_type("text/event-stream")?;
                let mut stream = live.stream();
                stream.on_error(|_error, _tail| Err(Error::msg(DEEPER)));
                stream.write("").await?;
                Err::<(), _>(Error::msg(ORIGINAL))
            })
            .instrument(case(CASE))
            .await
    }
    let server = Server::start(Router::new().route("/", get(handler))).await;

    let response = server.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(cut_text(response).await, "");

    let errors: Vec<String> = logs()
        .lines_with(CASE)
        .into_iter()
        .filter(|l| is_error_line(l))
        .collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].contains(DEEPER), "{errors:#?}");
    assert!(errors[1].contains(ORIGINAL), "{errors:#?}");
}

/// `test_exceptions_raised_handling_exceptions_and_committed` (lst:687) with a panicking callback
/// (docs/rails-parity.md E-06: in Rails a non-`StandardError` would kill the thread): the panic is
/// caught and logged, the stream still ends, and the server keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_on_error_still_terminates_the_stream() {
    const ORIGINAL: &str = "boom e06-original-0c55";
    const PANIC: &str = "callback panic e06-0c55";
    logs();
    async fn handler(request: LiveRequest) -> Response {
        request
            .spawn(|live: Live| async move {
                let mut stream = live.stream();
                stream.on_error(|_error, _tail| panic!("{PANIC}"));
                stream.write("a").await?;
                Err::<(), _>(Error::msg(ORIGINAL))
            })
            .await
    }
    let app = Router::new().route("/", get(handler)).route("/ok", get(ok));
    let server = Server::start(app).await;

    let response = server.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(cut_text(response).await, "a");

    let panic = logs().lines_with(PANIC);
    assert!(
        panic
            .iter()
            .any(|l| is_error_line(l) && l.contains("on_error callback panicked")),
        "{panic:#?}"
    );
    let original = logs().lines_with(ORIGINAL);
    assert!(original.iter().any(|l| is_error_line(l)), "{original:#?}");

    assert_eq!(text(server.get("/ok").await).await, "ok");
}

/// docs/rails-parity.md E-01 and E-06 for a panic (Rails:
/// `test_exception_in_controller_before_streaming`; a non-`StandardError` would escape the thread):
/// a panic before commit is a generic 500, logged at ERROR, and the server keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_before_commit_is_a_generic_500() {
    const PANIC: &str = "panic before commit e06-a7f0";
    logs();
    async fn handler(request: LiveRequest) -> Response {
        request
            .spawn(|live: Live| async move {
                let _stream = live.stream();
                explode(PANIC)
            })
            .await
    }
    let app = Router::new().route("/", get(handler)).route("/ok", get(ok));
    let server = Server::start(app).await;

    let response = server.get("/").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = text(response).await;
    assert_eq!(body, generic_500());
    assert!(!body.contains("panic"), "internals leaked: {body:?}");
    let lines = logs().lines_with(PANIC);
    assert!(
        lines
            .iter()
            .any(|l| is_error_line(l) && l.contains("action failed before commit")),
        "{lines:#?}"
    );

    let response = server.get("/ok").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text(response).await, "ok");
}

/// The same for a closure (given to `LiveRequest::spawn`) that panics before it returns the
/// action's future: the action failed, a generic 500, and the server keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_making_the_action_is_a_generic_500() {
    const PANIC: &str = "panic making the action e06-93d2";
    logs();
    async fn handler(request: LiveRequest) -> Response {
        request
            .spawn(|_live: Live| -> std::future::Ready<Result> { panic!("{PANIC}") })
            .await
    }
    let app = Router::new().route("/", get(handler)).route("/ok", get(ok));
    let server = Server::start(app).await;

    let response = server.get("/").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(text(response).await, generic_500());
    let lines = logs().lines_with(PANIC);
    assert!(
        lines
            .iter()
            .any(|l| is_error_line(l) && l.contains("action failed before commit")),
        "{lines:#?}"
    );
    assert_eq!(text(server.get("/ok").await).await, "ok");
}

/// docs/rails-parity.md E-02 and E-06 for a panic after commit (Rails:
/// `test_exception_handling_plain_text`): the client gets what was written and a clean end;
/// `on_error` sees a `Panic` error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_after_commit_ends_the_stream_and_reaches_on_error() {
    const PANIC: &str = "panic after commit e06-4b19";
    logs();
    let (seen, seen_rx) = report::<(ErrorKind, String)>();
    let app = Router::new().route(
        "/",
        get(move |request: LiveRequest| async move {
            request
                .spawn(|live: Live| async move {
                    let mut stream = live.stream();
                    stream.on_error(move |error, _tail| {
                        seen.send((error.kind(), error.to_string()));
                        Ok(())
                    });
                    stream.write("a").await?;
                    explode(PANIC)
                })
                .await
        }),
    );
    let server = Server::start(app).await;

    let response = server.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(cut_text(response).await, "a");

    let (kind, message) = received(seen_rx).await;
    assert_eq!(kind, ErrorKind::Panic);
    assert!(message.contains(PANIC), "{message}");
    let lines = logs().lines_with(PANIC);
    assert!(lines.iter().any(|l| is_error_line(l)), "{lines:#?}");
}

/// Rails `test_exception_handling_html` (lst:637), docs/rails-parity.md E-02 step 1: the
/// `/500.html` script is written after an error once committed, only when opted in and only for
/// clients that accept HTML.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_error_snippet_is_opt_in_and_for_html_clients() {
    logs();
    async fn action(live: Live) -> Result {
        let mut stream = live.stream();
        stream.write("<html><body>").await?;
        Err(Error::msg("boom in html e02-html-6d3c"))
    }
    async fn opted_in(request: LiveRequest) -> Response {
        request
            .with_config(&HTML_SNIPPET_CONFIG)
            .spawn(action)
            .await
    }
    async fn default(request: LiveRequest) -> Response {
        request.spawn(action).await
    }
    let app = Router::new()
        .route("/opted-in", get(opted_in))
        .route("/default", get(default));
    let server = Server::start(app).await;
    let get_html = |path: &str| {
        within(
            client()
                .get(server.url(path))
                .header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
                .send(),
        )
    };

    // reqwest sends `Accept: */*`: not an HTML client.
    let body = cut_text(server.get("/opted-in").await).await;
    assert_eq!(body, "<html><body>", "no snippet without Accept: text/html");

    let body = cut_text(get_html("/default").await.unwrap()).await;
    assert_eq!(body, "<html><body>", "no snippet unless opted in");

    let response = get_html("/opted-in").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = cut_text(response).await;
    assert!(body.ends_with(HTML_SNIPPET), "{body:?}");
    assert_eq!(body, format!("<html><body>{HTML_SNIPPET}"));
}

/// docs/rails-parity.md E-04 (Rails logs a disconnect as a FATAL 500), D-08, and
/// `test_abort_with_full_buffer` (lst:482): a write after the client left fails with
/// `ClientDisconnected`; the action ends with it through `?`, and that is logged at debug, not as
/// an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_disconnect_is_not_logged_as_an_error() {
    const CASE: &str = "case-e04-2f8e";
    logs();
    let (failed, failed_rx) = report::<ErrorKind>();
    let app = Router::new().route(
        "/",
        get(move |request: LiveRequest| async move {
            request
                .spawn(|live: Live| async move {
                    tracing::info!("start");
                    let mut stream = live.stream();
                    let chunk = bytes::Bytes::from(vec![b'x'; 1024]);
                    let error = loop {
                        if let Err(error) = stream.write(chunk.clone()).await {
                            break error;
                        }
                    };
                    failed.send(error.kind());
                    // The action ends with the disconnect, as `?` on the write would.
                    Err::<(), _>(error)
                })
                .instrument(case(CASE))
                .await
        }),
    );
    let server = Server::start(app).await;

    let mut socket = raw(server.addr, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
    read_until(&mut socket, "xxxx").await;
    drop(socket);

    assert_eq!(received(failed_rx).await, ErrorKind::ClientDisconnected);
    // The end of the action logs the disconnect last, at debug: once it is there, every line
    // this request will log is.
    support::eventually("the disconnect is logged at debug", || {
        logs().lines_with(CASE).iter().any(|l| {
            l.contains(" DEBUG ")
                && l.contains("connection going away")
                && l.contains("client disconnected")
        })
    })
    .await;
    let lines = logs().lines_with(CASE);
    assert!(
        lines.iter().any(|l| l.contains("start")),
        "the case's span is not in its lines: {lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| is_error_line(l)),
        "a disconnect was logged as an error: {lines:#?}"
    );
}

/// docs/rails-parity.md D-05 (Rails `IOError: closed stream`, response.rb:149): a write after the
/// action's own close fails with `Closed`, whatever the connection's state; the body is what came
/// before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_after_close_is_closed() {
    logs();
    let (seen, seen_rx) = report::<Option<ErrorKind>>();
    let app = Router::new().route(
        "/",
        get(move |request: LiveRequest| async move {
            request
                .spawn(|live: Live| async move {
                    let mut stream = live.stream();
                    stream.write("a").await?;
                    stream.close();
                    let late = stream.write("b").await;
                    seen.send(late.err().map(|error| error.kind()));
                    Ok::<_, Error>(())
                })
                .await
        }),
    );
    let server = Server::start(app).await;

    let response = server.get("/").await;
    assert_eq!(text(response).await, "a");
    assert_eq!(received(seen_rx).await, Some(ErrorKind::Closed));
}

/// No Rails test (Rails leaves a bad header value to Rack or the server); the port's stricter rule
/// (docs/rails-parity.md, pain point 14: headers are checked before commit): a newline in a header
/// value is an `InvalidHeader` error, not an injection; nothing is set and the action goes on
/// streaming.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_header_is_an_error_and_the_action_goes_on() {
    logs();
    let (seen, seen_rx) = report::<(Option<ErrorKind>, bool)>();
    let app = Router::new().route(
        "/",
        get(move |request: LiveRequest| async move {
            request
                .spawn(|mut live: Live| async move {
                    let kind = live.set_header("x-bad", "a\nb").err().map(|e| e.kind());
                    seen.send((kind, live.headers().contains_key("x-bad")));
                    live.set_content_type("text/plain")?;
                    let mut stream = live.stream();
                    stream.write("still ").await?;
                    stream.write("streaming").await?;
                    Ok::<_, Error>(())
                })
                .await
        }),
    );
    let server = Server::start(app).await;

    let response = server.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("x-bad").is_none());
    assert_eq!(response.headers()[header::CONTENT_TYPE], "text/plain");
    assert_eq!(text(response).await, "still streaming");
    assert_eq!(
        received(seen_rx).await,
        (Some(ErrorKind::InvalidHeader), false)
    );
}

/// The error of an ordinary action (no `Live`) is logged too, with its text, as a live
/// action's is: `?` on an io error answers 500 and says why in the log, not on the wire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordinary_action_errors_are_logged() {
    const MARKER: &str = "disk on fire ordinary-7f3a";
    pub struct ReportsController;
    #[live_controller]
    impl ReportsController {
        pub async fn index(&self) -> Result<String> {
            let read: std::io::Result<String> = Err(std::io::Error::other(MARKER));
            Ok(read?)
        }
    }
    let server = Server::start(ReportsController.into_router()).await;
    let response = server.get("/reports").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = text(response).await;
    assert!(!body.contains(MARKER), "internals leaked: {body:?}");
    let lines = logs().lines_with(MARKER);
    assert!(
        lines.iter().any(|l| is_error_line(l)),
        "the io error was not logged at ERROR: {lines:#?}"
    );
}

/// A failure after commit reaches tower layers: the body fails, so `TraceLayer`'s `on_failure`
/// runs under a classifier that watches the end of streams (axum's default HTTP classifier
/// judges by the status alone), where a clean end would have looked like a success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_after_commit_reaches_trace_layer() {
    use tower_http::classify::{ClassifiedResponse, ClassifyEos, ClassifyResponse};
    use tower_http::classify::{SharedClassifier, StatusInRangeAsFailures};
    use tower_http::trace::TraceLayer;

    /// A server error or a body that fails is a failure.
    #[derive(Clone)]
    struct UntilTheEnd;
    impl ClassifyResponse for UntilTheEnd {
        type FailureClass = String;
        type ClassifyEos = Self;
        fn classify_response<B>(
            self,
            response: &http::Response<B>,
        ) -> ClassifiedResponse<String, Self> {
            match StatusInRangeAsFailures::new(500..=599).classify_response(response) {
                ClassifiedResponse::Ready(Err(status)) => {
                    ClassifiedResponse::Ready(Err(status.to_string()))
                }
                _ => ClassifiedResponse::RequiresEos(self),
            }
        }
        fn classify_error<E: std::fmt::Display + 'static>(self, error: &E) -> String {
            error.to_string()
        }
    }
    impl ClassifyEos for UntilTheEnd {
        type FailureClass = String;
        fn classify_eos(self, _: Option<&http::HeaderMap>) -> std::result::Result<(), String> {
            Ok(())
        }
        fn classify_error<E: std::fmt::Display + 'static>(self, error: &E) -> String {
            error.to_string()
        }
    }

    async fn handler(request: LiveRequest) -> Response {
        request
            .spawn(|live: Live| async move {
                let mut stream = live.stream();
                stream.write("row 1\n").await?;
                Err::<(), _>(Error::msg("row 2 failed"))
            })
            .await
    }
    let (failed, failed_rx) = report::<String>();
    let app = Router::new().route("/", get(handler)).layer(
        TraceLayer::new(SharedClassifier::new(UntilTheEnd))
            .on_failure(move |class: String, _latency, _span: &tracing::Span| failed.send(class)),
    );
    let server = Server::start(app).await;

    let response = server.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(cut_text(response).await, "row 1\n");
    let class = received(failed_rx).await;
    assert!(class.contains("failed after commit"), "{class}");
}
