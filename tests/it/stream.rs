//! Raw live streams over real HTTP: commit, default headers, writes, helpers, conditional GET,
//! HTTP/1.0 and compression layers. Each test names the Rails behaviour it reproduces, by its
//! id in `docs/rails-parity.md`.

use crate::support;

use std::future::Future;
use std::sync::LazyLock;

use axum::Router;
use axum::response::Response;
use axum::routing::get;
use live_runtime::prelude::*;
use support::{Server, next_chunk, read_to_close, text, within};
use tokio::sync::{mpsc, oneshot};

type Latch = std::sync::Arc<tokio::sync::Mutex<Option<oneshot::Receiver<()>>>>;

/// One route, `GET /t`, running `action`.
async fn serve<F, Fut>(action: F) -> Server
where
    F: Fn(Live) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = live_runtime::Result> + Send + 'static,
{
    serve_with(&DEFAULT, action).await
}

static DEFAULT: LazyLock<LiveConfig> = LazyLock::new(LiveConfig::new);

async fn serve_with<F, Fut>(config: &'static LiveConfig, action: F) -> Server
where
    F: Fn(Live) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = live_runtime::Result> + Send + 'static,
{
    let handler = move |request: LiveRequest| {
        let action = action.clone();
        async move { request.with_config(config).spawn(action).await }
    };
    Server::start(Router::new().route("/t", get(handler))).await
}

/// A latch the action waits on and the test releases.
fn latch() -> (oneshot::Sender<()>, Latch) {
    let (release, wait) = oneshot::channel();
    (
        release,
        std::sync::Arc::new(tokio::sync::Mutex::new(Some(wait))),
    )
}

async fn wait(latch: &Latch) {
    let receiver = latch.lock().await.take().expect("latch used once");
    let _ = receiver.await;
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

/// Rails `test_write_to_stream`: raw writes are concatenated; an explicit type is kept as is.
static UNBOUNDED: LazyLock<LiveConfig> =
    LazyLock::new(|| LiveConfig::new().buffer(Buffer::Unbounded));

/// A writer that is never made to wait (an unbounded buffer) still lets its response go out
/// while it writes: the client reads the first chunk and tells the action to stop, on one
/// thread, where an action that never yields would keep the response from being sent at all.
#[tokio::test]
async fn a_writer_never_made_to_wait_still_streams() {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = stop.clone();
    let server = serve_with(&UNBOUNDED, move |live: Live| {
        let stop = stop.clone();
        async move {
            let mut stream = live.stream();
            let mut written = 0u64;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                stream.write("x").await?;
                written += 1;
                assert!(written < 10_000_000, "the client never got the stream");
            }
            Ok(())
        }
    })
    .await;
    let mut response = within(support::client().get(server.url("/t")).send())
        .await
        .unwrap();
    assert!(next_chunk(&mut response).await.is_some());
    stopped.store(true, std::sync::atomic::Ordering::SeqCst);
    while next_chunk(&mut response).await.is_some() {}
}

#[tokio::test]
async fn write_to_stream() {
    let server = serve(|mut live: Live| async move {
        live.set_content_type("text/event-stream")?;
        let mut stream = live.stream();
        stream.write("hello").await?;
        stream.write("world").await?;
        Ok(())
    })
    .await;
    let response = server.get("/t").await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), Some("text/event-stream"));
    assert_eq!(text(response).await, "helloworld");
}

/// Rails `test_write_lines_to_stream` (docs/rails-parity.md, L-15): `writeln` adds `\n` only when
/// missing.
#[tokio::test]
async fn write_lines_to_stream() {
    let server = serve(|live: Live| async move {
        let mut stream = live.stream();
        stream.writeln("hello\n").await?;
        stream.writeln("world").await?;
        stream.close();
        Ok(())
    })
    .await;
    assert_eq!(text(server.get("/t").await).await, "hello\nworld\n");
}

/// Rails `test_live_stream_default_header` (docs/rails-parity.md, L-09): no type set →
/// `text/html; charset=utf-8`.
#[tokio::test]
async fn default_header() {
    let server = serve(|live: Live| async move {
        let mut stream = live.stream();
        stream.write("<html><body>hi</body></html>").await?;
        Ok(())
    })
    .await;
    let response = server.get("/t").await;
    assert_eq!(
        header(&response, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(text(response).await, "<html><body>hi</body></html>");
}

/// live_response_test `test_cache_control_is_set_by_default` and
/// `test_content_length_is_removed` (docs/rails-parity.md, L-08): `no-cache`, chunked, no length.
#[tokio::test]
async fn cache_control_default_and_content_length_removed() {
    let server = serve(|mut live: Live| async move {
        live.set_header("content-length", "999")?;
        live.stream().write("abc").await?;
        Ok(())
    })
    .await;
    let response = server.get("/t").await;
    assert_eq!(header(&response, "cache-control"), Some("no-cache"));
    assert_eq!(header(&response, "content-length"), None);
    assert_eq!(header(&response, "transfer-encoding"), Some("chunked"));
    assert_eq!(text(response).await, "abc");
}

/// live_response_test `test_cache_control_is_set_manually`: a user's Cache-Control is kept.
#[tokio::test]
async fn cache_control_set_manually_is_kept() {
    let server = serve(|mut live: Live| async move {
        live.set_header(header::CACHE_CONTROL, "public")?;
        live.stream().write("x").await?;
        Ok(())
    })
    .await;
    let response = server.get("/t").await;
    assert_eq!(header(&response, "cache-control"), Some("public"));
}

/// Rails `test_set_cookie` (docs/rails-parity.md, L-12): a cookie set before the first write is
/// sent, exactly once.
#[tokio::test]
async fn set_cookie_sent_once() {
    let server = serve(|mut live: Live| async move {
        live.set_cookie(Cookie::new("hello", "world"))?;
        live.set_cookie(Cookie::new("other", "1"))?;
        let mut stream = live.stream();
        stream.write("hello world").await?;
        stream.close();
        Ok(())
    })
    .await;
    let response = server.get("/t").await;
    let cookies: Vec<_> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(cookies, ["hello=world", "other=1"]);
    assert_eq!(text(response).await, "hello world");
}

/// Rails `test_render_text` (docs/rails-parity.md, L-33a): an ordinary render in a live controller.
#[tokio::test]
async fn render_text() {
    let server = serve(|live: Live| async move { live.text("zomg") }).await;
    let response = server.get("/t").await;
    assert_eq!(
        header(&response, "content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(header(&response, "content-length"), Some("4"));
    assert_eq!(text(response).await, "zomg");
}

/// The other non-streaming helpers: html, json, head, respond; status and cookies carried.
#[tokio::test]
async fn html_json_head_and_respond_helpers() {
    let handler = |kind: &'static str| {
        move |request: LiveRequest| async move {
            request
                .spawn(move |mut live: Live| async move {
                    live.set_cookie(Cookie::new("seen", "1"))?;
                    match kind {
                        "html" => live.html("<p>hi</p>"),
                        "json" => live.json(&serde_json::json!({ "name": "David", "age": 41 })),
                        "head" => live.head(StatusCode::NO_CONTENT),
                        _ => live.respond((StatusCode::CREATED, "made")),
                    }
                })
                .await
        }
    };
    let app = Router::new()
        .route("/html", get(handler("html")))
        .route("/json", get(handler("json")))
        .route("/head", get(handler("head")))
        .route("/respond", get(handler("respond")));
    let server = Server::start(app).await;

    let html = server.get("/html").await;
    assert_eq!(
        header(&html, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(header(&html, "set-cookie"), Some("seen=1"));
    assert_eq!(text(html).await, "<p>hi</p>");

    let json = server.get("/json").await;
    assert_eq!(header(&json, "content-type"), Some("application/json"));
    assert_eq!(text(json).await, r#"{"age":41,"name":"David"}"#);

    let head = server.get("/head").await;
    assert_eq!(head.status(), 204);
    assert_eq!(text(head).await, "");

    let respond = server.get("/respond").await;
    assert_eq!(respond.status(), 201);
    assert_eq!(header(&respond, "set-cookie"), Some("seen=1"));
    assert_eq!(text(respond).await, "made");
}

/// Rails `test_async_stream` and live_response_test `test_parallel`
/// (docs/rails-parity.md, L-07): the first chunk reaches the client while the action is still
/// running, blocked on a latch that only the client's receipt of that chunk releases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_stream() {
    let (release, latch) = latch();
    let server = serve(move |mut live: Live| {
        let latch = latch.clone();
        async move {
            live.set_content_type("text/event-stream")?;
            let mut stream = live.stream();
            stream.write("hello").await?;
            wait(&latch).await;
            stream.write("world").await?;
            Ok(())
        }
    })
    .await;
    let mut response = server.get("/t").await;
    assert_eq!(next_chunk(&mut response).await.unwrap(), "hello");
    release.send(()).unwrap();
    assert_eq!(next_chunk(&mut response).await.unwrap(), "world");
    assert_eq!(next_chunk(&mut response).await, None);
}

/// Rails `test_write_returns_bytesize` (docs/rails-parity.md, L-14): `write` returns the bytes
/// written.
#[tokio::test]
async fn write_returns_bytesize() {
    let (sizes, mut seen) = mpsc::unbounded_channel();
    let server = serve(move |live: Live| {
        let sizes = sizes.clone();
        async move {
            let mut stream = live.stream();
            sizes.send(stream.write("foo").await?).unwrap();
            sizes.send(stream.writeln("bar").await?).unwrap();
            sizes.send(stream.write("").await?).unwrap();
            Ok(())
        }
    })
    .await;
    assert_eq!(text(server.get("/t").await).await, "foobar\n");
    let mut got = Vec::new();
    while let Ok(size) = seen.try_recv() {
        got.push(size);
    }
    assert_eq!(got, [3, 4, 0]);
}

/// Rails `test_infinite_test_buffer` and `overfill_default_buffer`
/// (docs/rails-parity.md, B-01, B-04): 26 writes through an unbounded buffer and through the
/// default 10-chunk buffer both arrive whole.
#[tokio::test]
async fn many_writes_through_bounded_and_unbounded_buffers() {
    static UNBOUNDED: LazyLock<LiveConfig> =
        LazyLock::new(|| LiveConfig::new().buffer(Buffer::Unbounded));
    let action = |live: Live| async move {
        let mut stream = live.stream();
        for letter in b'a'..=b'z' {
            stream.write(vec![letter]).await?;
        }
        Ok(())
    };
    let alphabet = "abcdefghijklmnopqrstuvwxyz";
    let bounded = serve(action).await;
    assert_eq!(text(bounded.get("/t").await).await, alphabet);
    let unbounded = serve_with(&UNBOUNDED, action).await;
    assert_eq!(text(unbounded.get("/t").await).await, alphabet);
}

/// Rails `test_stale_without_etag` / `test_stale_with_etag` (docs/rails-parity.md, L-10):
/// conditional GET.
#[tokio::test]
async fn stale_with_and_without_etag() {
    let server = serve(|mut live: Live| async move {
        if live.stale("123")? {
            live.stream().write("stale").await?;
        }
        Ok(())
    })
    .await;
    let fresh_copy = server.get("/t").await;
    assert_eq!(fresh_copy.status(), 200);
    assert_eq!(header(&fresh_copy, "etag"), Some("W/\"123\""));
    assert_eq!(text(fresh_copy).await, "stale");

    let response = within(
        support::client()
            .get(server.url("/t"))
            .header("if-none-match", "W/\"123\"")
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 304);
    assert_eq!(header(&response, "etag"), Some("W/\"123\""));
    assert_eq!(text(response).await, "");

    let other = within(
        support::client()
            .get(server.url("/t"))
            .header("if-none-match", "\"456\"")
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(other.status(), 200);
}

/// docs/rails-parity.md, L-10: a status set before commit is sent.
#[tokio::test]
async fn status_set_before_commit() {
    let server = serve(|mut live: Live| async move {
        live.set_status(StatusCode::CREATED);
        live.stream().write("made").await?;
        Ok(())
    })
    .await;
    let response = server.get("/t").await;
    assert_eq!(response.status(), 201);
    assert_eq!(text(response).await, "made");
}

/// docs/rails-parity.md, L-16, the hang Rails documents: an action that writes and never closes
/// still ends its response when it returns.
#[tokio::test]
async fn forgotten_close_ends_with_the_action() {
    let server = serve(|live: Live| async move {
        let mut stream = live.stream();
        stream.write("no close").await?;
        // Not even the handle's drop may close it: only the end of the action does here.
        std::mem::forget(stream);
        Ok(())
    })
    .await;
    assert_eq!(text(server.get("/t").await).await, "no close");
}

/// The close guard: dropping a committed stream ends the response even while the action
/// goes on with other work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_stream_ends_the_response() {
    let (release, latch) = latch();
    let (done_tx, done) = oneshot::channel();
    let done_tx = std::sync::Arc::new(std::sync::Mutex::new(Some(done_tx)));
    let server = serve(move |live: Live| {
        let latch = latch.clone();
        let done_tx = done_tx.clone();
        async move {
            let mut stream = live.stream();
            stream.write("bye").await?;
            drop(stream);
            wait(&latch).await;
            let _ = done_tx.lock().unwrap().take().unwrap().send(());
            Ok(())
        }
    })
    .await;
    // The body ends while the action still waits on the latch.
    assert_eq!(text(server.get("/t").await).await, "bye");
    release.send(()).unwrap();
    within(done).await.unwrap();
}

/// docs/rails-parity.md, L-06: an action that never writes commits at its end, with the defaults
/// and no body; a close with no write commits too.
#[tokio::test]
async fn end_of_action_and_close_commit() {
    let server = serve(|mut live: Live| async move {
        live.set_header("x-marker", "end")?;
        Ok(())
    })
    .await;
    let response = server.get("/t").await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-marker"), Some("end"));
    assert_eq!(header(&response, "cache-control"), Some("no-cache"));
    assert_eq!(text(response).await, "");

    let (release, latch) = latch();
    let server = serve(move |live: Live| {
        let latch = latch.clone();
        async move {
            let mut stream = live.stream();
            stream.close();
            assert!(stream.is_closed());
            wait(&latch).await;
            Ok(())
        }
    })
    .await;
    // Headers and the end of the body arrive while the action still waits.
    let response = server.get("/t").await;
    assert_eq!(text(response).await, "");
    release.send(()).unwrap();
}

/// docs/rails-parity.md, L-03 and pain point 4: an HTTP/1.0 request gets the whole stream,
/// close-delimited, where Rails sends the first chunk and drops the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_1_0_streams_completely() {
    let (release, latch) = latch();
    let server = serve(move |live: Live| {
        let latch = latch.clone();
        async move {
            let mut stream = live.stream();
            stream.write("tick 0\n").await?;
            // The later ticks are produced only after the client saw the first one.
            wait(&latch).await;
            for n in 1..5 {
                stream.write(format!("tick {n}\n")).await?;
            }
            Ok(())
        }
    })
    .await;
    let mut socket = support::raw(server.addr, "GET /t HTTP/1.0\r\n\r\n").await;
    let head = support::read_until(&mut socket, "tick 0\n").await;
    release.send(()).unwrap();
    let rest = read_to_close(&mut socket).await;
    let whole = head + &rest;
    assert!(whole.starts_with("HTTP/1.0 200 OK\r\n"), "{whole}");
    assert!(
        !whole.to_lowercase().contains("transfer-encoding"),
        "{whole}"
    );
    assert!(
        whole.ends_with("tick 0\ntick 1\ntick 2\ntick 3\ntick 4\n"),
        "{whole}"
    );
}

/// docs/rails-parity.md, pain point 3 (Rack::ETag, L-40), and
/// `test_response_buffer_do_not_respond_to_to_ary`: with tower-http's compression layer installed
/// as `live_runtime::compression` says, a raw stream and an SSE stream still deliver their first
/// chunk before the action finishes, uncompressed, and without a `Content-Encoding` (RFC 9110:
/// `identity` is not one to send).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compression_layer_does_not_buffer() {
    for content_type in ["text/plain", "text/event-stream"] {
        let (release, latch) = latch();
        let handler = move |request: LiveRequest| {
            let latch = latch.clone();
            async move {
                request
                    .spawn(move |mut live: Live| async move {
                        live.set_content_type(content_type)?;
                        let mut stream = live.stream();
                        stream.write("data: first\n\n").await?;
                        wait(&latch).await;
                        stream.write("data: second\n\n").await?;
                        Ok::<_, Error>(())
                    })
                    .await
            }
        };
        let app = Router::new().route("/t", get(handler)).layer(compression());
        let server = Server::start(app).await;
        let mut response = within(
            support::client()
                .get(server.url("/t"))
                .header("accept-encoding", "gzip")
                .send(),
        )
        .await
        .unwrap();
        assert_eq!(header(&response, "content-encoding"), None);
        assert_eq!(next_chunk(&mut response).await.unwrap(), "data: first\n\n");
        release.send(()).unwrap();
        assert_eq!(next_chunk(&mut response).await.unwrap(), "data: second\n\n");
    }
}

/// The compression layer as `live_runtime::compression` sets it up.
fn compression()
-> tower_http::compression::CompressionLayer<impl tower_http::compression::predicate::Predicate> {
    use tower_http::compression::predicate::{DefaultPredicate, Predicate};
    tower_http::compression::CompressionLayer::new()
        .compress_when(DefaultPredicate::new().and(live_runtime::compression::not_live_stream))
}

/// Ordinary axum responses and whole responses of live actions under the same compression
/// layer are still compressed: live opts its streams out, nothing else.
#[tokio::test]
async fn compression_still_applies_to_ordinary_responses() {
    async fn page() -> Response {
        axum::response::IntoResponse::into_response("x".repeat(4096))
    }
    async fn live_page(request: LiveRequest) -> Response {
        request
            .spawn(|live: Live| async move { live.html("x".repeat(4096)) })
            .await
    }
    let app = Router::new()
        .route("/page", get(page))
        .route("/live_page", get(live_page))
        .layer(compression());
    let server = Server::start(app).await;
    for path in ["/page", "/live_page"] {
        let response = within(
            support::client()
                .get(server.url(path))
                .header("accept-encoding", "gzip")
                .send(),
        )
        .await
        .unwrap();
        assert_eq!(
            header(&response, "content-encoding"),
            Some("gzip"),
            "{path}"
        );
    }
}

/// Coalescing (docs/rails-parity.md, B-01, surpassed): when the writer is ahead of the client, the
/// chunks already queued go out together, one body frame for many writes, and nothing is lost or
/// reordered. On one thread, so the 100 writes are all queued before hyper polls the body again.
#[tokio::test]
async fn queued_chunks_go_out_in_one_frame() {
    static UNBOUNDED: LazyLock<LiveConfig> =
        LazyLock::new(|| LiveConfig::new().buffer(Buffer::Unbounded));
    for writes in [Writes::Raw, Writes::Sse] {
        let frames = frames_of_100_queued_writes(&UNBOUNDED, writes).await;
        assert_eq!(frames.len(), 1, "100 queued {writes:?} writes, one frame");
    }
}

/// `coalesce_bytes` bounds the frames coalescing makes.
#[tokio::test]
async fn coalesce_bytes_bounds_the_frames() {
    static SMALL_FRAMES: LazyLock<LiveConfig> = LazyLock::new(|| {
        LiveConfig::new()
            .buffer(Buffer::Unbounded)
            .coalesce_bytes(10)
    });
    let frames = frames_of_100_queued_writes(&SMALL_FRAMES, Writes::Raw).await;
    assert!(frames.iter().all(|frame| frame.len() <= 10), "{frames:?}");
    assert!(frames.iter().any(|frame| frame.len() > 2), "{frames:?}");
    // SSE events (encoded into one shared buffer) are joined up to the limit too.
    static SSE_FRAMES: LazyLock<LiveConfig> = LazyLock::new(|| {
        LiveConfig::new()
            .buffer(Buffer::Unbounded)
            .coalesce_bytes(30)
    });
    let frames = frames_of_100_queued_writes(&SSE_FRAMES, Writes::Sse).await;
    assert!(frames.iter().all(|frame| frame.len() <= 30), "{frames:?}");
    assert!(frames.iter().any(|frame| frame.len() > 12), "{frames:?}");
}

/// `coalesce_bytes(0)`: each write is a body frame of its own, raw or SSE.
#[tokio::test]
async fn coalesce_bytes_zero_sends_one_frame_per_write() {
    static OFF: LazyLock<LiveConfig> = LazyLock::new(|| {
        LiveConfig::new()
            .buffer(Buffer::Unbounded)
            .coalesce_bytes(0)
    });
    for writes in [Writes::Raw, Writes::Sse] {
        let frames = frames_of_100_queued_writes(&OFF, writes).await;
        assert_eq!(frames.len(), 100, "{writes:?}: {frames:?}");
    }
}

/// How [`frames_of_100_queued_writes`] writes: `n;` on the raw stream, or an SSE event `n`.
#[derive(Clone, Copy, Debug)]
enum Writes {
    Raw,
    Sse,
}

/// The body frames, as the client receives them, of 100 writes queued while the client has not
/// read past the first; checks that nothing is lost or reordered.
async fn frames_of_100_queued_writes(config: &'static LiveConfig, writes: Writes) -> Vec<String> {
    let (release, latch) = latch();
    let server = serve_with(config, move |live: Live| {
        let latch = latch.clone();
        async move {
            match writes {
                Writes::Raw => {
                    let mut stream = live.stream();
                    stream.write("first;").await?;
                    // Everything below is queued while the client has not read past "first;".
                    wait(&latch).await;
                    for n in 0..100 {
                        stream.write(format!("{n};")).await?;
                    }
                }
                Writes::Sse => {
                    let mut sse = live.sse(SseOptions::new().keep_alive(None));
                    sse.stream().write("first;").await?;
                    wait(&latch).await;
                    for n in 0..100 {
                        sse.write(n).await?;
                    }
                }
            }
            Ok(())
        }
    })
    .await;
    let mut response = server.get("/t").await;
    assert_eq!(next_chunk(&mut response).await.unwrap(), "first;");
    release.send(()).unwrap();
    let mut frames = Vec::new();
    while let Some(chunk) = next_chunk(&mut response).await {
        frames.push(String::from_utf8(chunk.to_vec()).unwrap());
    }
    let expected: String = match writes {
        Writes::Raw => (0..100).map(|n| format!("{n};")).collect(),
        Writes::Sse => (0..100).map(|n| format!("data: {n}\n\n")).collect(),
    };
    assert_eq!(frames.concat(), expected);
    frames
}

/// What an action sees of its response: `Live::status` as set, and `is_committed` false
/// until the first write.
#[tokio::test]
async fn status_and_commit_as_the_action_sees_them() {
    let server = serve(|mut live: Live| async move {
        live.set_status(StatusCode::CREATED);
        let status = live.status();
        let mut stream = live.stream();
        let before = stream.is_committed();
        stream.write(format!("{status} {before} ")).await?;
        let after = stream.is_committed();
        stream.write(after.to_string()).await?;
        Ok(())
    })
    .await;
    let response = server.get("/t").await;
    assert_eq!(response.status(), 201);
    assert_eq!(text(response).await, "201 Created false true");
}

/// An entity tag an `ETag` header cannot hold is an error: before commit, a 500 without it.
#[tokio::test]
async fn invalid_etag_is_refused() {
    let server = serve(|mut live: Live| async move {
        live.stale("two words")?;
        live.stream().write("never").await?;
        Ok(())
    })
    .await;
    let response = server.get("/t").await;
    assert_eq!(response.status(), 500);
    assert!(response.headers().get("etag").is_none());
    assert!(!text(response).await.contains("never"));
}

/// `Tail::writeln` ends each line of an `on_error` tail with one newline.
#[tokio::test]
async fn on_error_tail_lines() {
    let server = serve(|live: Live| async move {
        let mut stream = live.stream();
        stream.on_error(|_error, tail| {
            tail.writeln("failed");
            tail.writeln("once\n");
            Ok(())
        });
        stream.write("a\n").await?;
        Err(Error::msg("tail test"))
    })
    .await;
    let body = support::cut_text(server.get("/t").await).await;
    assert_eq!(body, "a\nfailed\nonce\n");
}
