//! Rails' own live tests as conformance rows (docs/rails-parity.md), one table run twice with the
//! same expectations: over a real socket, and through the in-process test client. If the two
//! paths disagree, the runtime or the client has a bug.

use crate::apps::rails_parity;
use crate::support;

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;
use http::HeaderMap;
use live_runtime::test_client::{TestClient, TestResponse};
use support::{Server, within};
use tokio::sync::Semaphore;

/// Where the requests go.
enum Transport {
    Socket(Server),
    InProcess(TestClient),
}

/// What a client observed of a whole response.
#[derive(Debug, PartialEq)]
struct Observed {
    status: u16,
    headers: HeaderMap,
    body: String,
}

/// A response being read.
enum Open {
    Socket(reqwest::Response),
    InProcess(TestResponse),
}

impl Open {
    async fn next_chunk(&mut self) -> Option<Bytes> {
        match self {
            Open::Socket(response) => support::next_chunk(response).await,
            Open::InProcess(response) => response.next_chunk().await.unwrap(),
        }
    }
}

impl Transport {
    async fn both() -> [(Transport, Arc<Semaphore>); 2] {
        let socket_latch = Arc::new(Semaphore::new(0));
        let client_latch = Arc::new(Semaphore::new(0));
        let server = Server::start(rails_parity::app(socket_latch.clone())).await;
        let client = TestClient::new(rails_parity::app(client_latch.clone()));
        [
            (Transport::Socket(server), socket_latch),
            (Transport::InProcess(client), client_latch),
        ]
    }

    fn name(&self) -> &'static str {
        match self {
            Transport::Socket(_) => "socket",
            Transport::InProcess(_) => "test client",
        }
    }

    async fn open(&self, path: &str, headers: &[(&str, &str)]) -> (u16, HeaderMap, Open) {
        match self {
            Transport::Socket(server) => {
                let mut request = support::client().get(server.url(path));
                // reqwest sends `Accept: */*` unless given one; an empty one is none, as for
                // Rails, so both paths send the same request.
                if !headers.iter().any(|(name, _)| *name == "accept") {
                    request = request.header("accept", "");
                }
                for (name, value) in headers {
                    request = request.header(*name, *value);
                }
                let response = within(request.send()).await.unwrap();
                (
                    response.status().as_u16(),
                    response.headers().clone(),
                    Open::Socket(response),
                )
            }
            Transport::InProcess(client) => {
                let mut request = client.get(path);
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                let response = request.send().await.unwrap();
                let head = (response.status().as_u16(), response.headers().clone());
                (head.0, head.1, Open::InProcess(response))
            }
        }
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Observed {
        let (status, headers, mut open) = self.open(path, headers).await;
        let mut body = Vec::new();
        while let Some(chunk) = open.next_chunk().await {
            body.extend_from_slice(&chunk);
        }
        Observed {
            status,
            headers,
            body: String::from_utf8(body).unwrap(),
        }
    }
}

/// One row: a request, and what must be observed.
struct Row {
    rails_test: &'static str,
    action: &'static str,
    request_headers: &'static [(&'static str, &'static str)],
    status: u16,
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
}

const fn row(
    rails_test: &'static str,
    action: &'static str,
    status: u16,
    body: &'static str,
) -> Row {
    Row {
        rails_test,
        action,
        request_headers: &[],
        status,
        headers: &[],
        body,
    }
}

const ROWS: &[Row] = &[
    Row {
        headers: &[("content-type", "text/event-stream")],
        ..row(
            "test_basic_sse",
            "basic_sse",
            200,
            "data: {\"name\":\"John\"}\n\ndata: {\"name\":\"Ryan\"}\n\n",
        )
    },
    row(
        "test_sse_with_event_name",
        "sse_with_event",
        200,
        "event: send-name\ndata: {\"name\":\"John\"}\n\nevent: send-name\ndata: {\"name\":\"Ryan\"}\n\n",
    ),
    row(
        "test_sse_with_retry",
        "sse_with_retry",
        200,
        "retry: 1000\ndata: {\"name\":\"John\"}\n\nretry: 1500\ndata: {\"name\":\"Ryan\"}\n\n",
    ),
    row(
        "test_sse_with_id",
        "sse_with_id",
        200,
        "id: 1\ndata: {\"name\":\"John\"}\n\nid: 2\ndata: {\"name\":\"Ryan\"}\n\n",
    ),
    row(
        "test_sse_with_multiple_line_message",
        "sse_with_multiple_line_message",
        200,
        "data: first line.\ndata: second line.\n\n",
    ),
    Row {
        headers: &[
            ("content-type", "text/event-stream"),
            ("cache-control", "no-cache"),
        ],
        ..row("test_write_to_stream", "basic_stream", 200, "helloworld")
    },
    row(
        "test_write_lines_to_stream",
        "write_lines",
        200,
        "hello\nworld\n",
    ),
    Row {
        headers: &[("content-type", "text/html; charset=utf-8")],
        ..row(
            "test_live_stream_default_header",
            "default_header",
            200,
            "<html><body>hi</body></html>",
        )
    },
    Row {
        headers: &[("set-cookie", "hello=world")],
        ..row("test_set_cookie", "set_cookie", 200, "hello world")
    },
    Row {
        headers: &[("cache-control", "no-cache")],
        ..row("test_render_text", "render_text", 200, "zomg")
    },
    row(
        "test_infinite_test_buffer",
        "overfill_default_buffer",
        200,
        "abcdefghijklmnopqrstuvwxyz",
    ),
    Row {
        headers: &[
            ("content-type", "text/csv"),
            (
                "content-disposition",
                "attachment; filename=\"my.csv\"; filename*=UTF-8''my.csv",
            ),
        ],
        ..row(
            "test_send_stream",
            "basic_send_stream",
            200,
            "name,age\ndavid,41",
        )
    },
    Row {
        headers: &[
            ("content-type", "application/json"),
            (
                "content-disposition",
                "inline; filename=\"export\"; filename*=UTF-8''export",
            ),
        ],
        ..row(
            "test_send_stream_with_options",
            "send_stream_with_options",
            200,
            "{ name: \"David\", age: 41 }",
        )
    },
    Row {
        headers: &[("content-type", "text/csv")],
        ..row(
            "test_send_stream_with_inferred_content_type",
            "send_stream_with_inferred_content_type",
            200,
            "fruit,quantity\napple,5\n",
        )
    },
    Row {
        headers: &[("content-type", "text/csv")],
        ..row(
            "test_send_stream_with_implicit_content_type",
            "send_stream_with_implicit_content_type",
            200,
            "fruit,quantity\napple,5\n",
        )
    },
    Row {
        headers: &[("content-type", "text/csv")],
        ..row(
            "test_send_stream_with_explicit_content_type",
            "send_stream_with_explicit_content_type",
            200,
            "fruit,quantity\napple,5\n",
        )
    },
    Row {
        headers: &[("cache-control", "no-cache")],
        ..row("test_stale_without_etag", "with_stale", 200, "stale")
    },
    Row {
        request_headers: &[("if-none-match", "W/\"123\"")],
        headers: &[("cache-control", "no-cache")],
        ..row("test_stale_with_etag", "with_stale", 304, "")
    },
    // Rails' error pages: HTML by default and for `*/*`, JSON for a JSON request.
    Row {
        headers: &[("content-type", "text/html; charset=utf-8")],
        ..row(
            "test_exception_in_controller_before_streaming",
            "exception_in_controller",
            500,
            "<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>\
             <body><h1>Internal Server Error</h1></body></html>\n",
        )
    },
    Row {
        request_headers: &[("accept", "application/json")],
        headers: &[("content-type", "application/json")],
        ..row(
            "test_exception_in_controller_before_streaming",
            "exception_in_controller",
            500,
            r#"{"error":"Internal Server Error","status":500}"#,
        )
    },
    Row {
        request_headers: &[("accept", "application/json")],
        headers: &[("content-type", "application/json")],
        ..row(
            "test_bad_request_in_controller_before_streaming",
            "bad_request_error",
            400,
            r#"{"error":"Bad Request","status":400}"#,
        )
    },
    Row {
        headers: &[("content-type", "text/html; charset=utf-8")],
        ..row(
            "test_bad_request_in_controller_before_streaming",
            "bad_request_error",
            400,
            "<!DOCTYPE html>\n<html><head><title>400 Bad Request</title></head>\
             <body><h1>Bad Request</h1></body></html>\n",
        )
    },
    // Rails' tests ask for `text/event-stream`. Without an `Accept` a request is HTML, so
    // after a late error Rails writes its `/500.html` script before the `on_error` tail.
    Row {
        request_headers: &[("accept", "text/event-stream")],
        ..row(
            "test_exception_callback_when_committed",
            "exception_with_callback",
            200,
            "data: \"500 Internal Server Error\"\n\n",
        )
    },
    row(
        "test_exception_callback_when_committed",
        "exception_with_callback",
        200,
        "\"><script>window.location = \"/500.html\"</script></html>\
         data: \"500 Internal Server Error\"\n\n",
    ),
    Row {
        request_headers: &[("accept", "text/event-stream")],
        ..row(
            "test_exceptions_raised_handling_exceptions_and_committed",
            "exception_in_exception_callback",
            200,
            "",
        )
    },
    row(
        "test_exceptions_raised_handling_exceptions_and_committed",
        "exception_in_exception_callback",
        200,
        "\"><script>window.location = \"/500.html\"</script></html>",
    ),
    row(
        "test_thread_locals_get_copied",
        "thread_locals",
        200,
        "aaron",
    ),
    row(
        "test_isolated_state_get_copied",
        "isolated_state",
        200,
        "david",
    ),
    row(
        "test_connected_to_stack_not_inherited",
        "connected_to_stack_not_inherited",
        200,
        "None",
    ),
];

/// Rails' default request has no `Accept`: every action of the example that answers with a
/// whole response has a row for it, the 21 of Rails' tests and the 3 that read the request's
/// context. The other 3 wait on the client, below.
#[test]
fn every_whole_response_action_has_a_row_without_accept() {
    use live_runtime::routing::Controller;
    let waits_on_the_client = [
        "blocking_stream",
        "overfill_buffer_and_die",
        "ignore_client_disconnect",
    ];
    let whole: BTreeSet<_> = <rails_parity::TestController as Controller>::ROUTES
        .iter()
        .map(|route| route.action)
        .filter(|action| !waits_on_the_client.contains(action))
        .collect();
    let without_accept: BTreeSet<_> = ROWS
        .iter()
        .filter(|row| {
            !row.request_headers
                .iter()
                .any(|(name, _)| *name == "accept")
        })
        .map(|row| row.action)
        .collect();
    assert_eq!(whole.len(), 24);
    assert_eq!(without_accept, whole);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_responses_agree_with_rails_on_both_paths() {
    for (transport, _) in Transport::both().await {
        for row in ROWS {
            let seen = transport
                .get(&format!("/test/{}", row.action), row.request_headers)
                .await;
            let case = format!("{} via {}", row.rails_test, transport.name());
            assert_eq!(seen.status, row.status, "{case}");
            assert_eq!(seen.body, row.body, "{case}");
            for (name, value) in row.headers {
                let values: Vec<_> = seen.headers.get_all(*name).iter().collect();
                assert_eq!(values, [*value], "{case}: {name}");
            }
        }
    }
}

/// `test_async_stream`: `hello` arrives while the action waits on the latch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_stream_on_both_paths() {
    for (transport, latch) in Transport::both().await {
        let (status, _, mut open) = transport.open("/test/blocking_stream", &[]).await;
        assert_eq!(status, 200, "{}", transport.name());
        assert_eq!(
            open.next_chunk().await.unwrap(),
            "hello",
            "{}",
            transport.name()
        );
        latch.add_permits(1);
        assert_eq!(
            open.next_chunk().await.unwrap(),
            "world",
            "{}",
            transport.name()
        );
        latch.add_permits(1);
        assert_eq!(open.next_chunk().await, None, "{}", transport.name());
    }
}

/// `test_ignore_client_disconnect` and `test_abort_with_full_buffer`: the client leaves
/// mid-stream; the action completes, or its blocked write fails and `on_error` runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnects_on_both_paths() {
    let logs = support::logs();
    for (transport, _) in Transport::both().await {
        let completed = logs.lines_with("Work complete").len();
        let (_, _, mut open) = transport.open("/test/ignore_client_disconnect", &[]).await;
        assert_eq!(open.next_chunk().await.unwrap(), "first");
        drop(open);
        support::eventually("Work complete", || {
            logs.lines_with("Work complete").len() > completed
        })
        .await;

        let failed = logs.lines_with("Error while streaming").len();
        let (_, _, mut open) = transport.open("/test/overfill_buffer_and_die", &[]).await;
        assert!(open.next_chunk().await.is_some());
        drop(open);
        support::eventually("on_error ran", || {
            logs.lines_with("Error while streaming").len() > failed
        })
        .await;
    }
}
