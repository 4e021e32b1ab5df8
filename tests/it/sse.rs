//! Server-Sent Events over real HTTP: headers, keep-alive (under paused time), Last-Event-ID,
//! the 204 that stops reconnection, comments, and refused field injection.

use crate::support;

use std::time::Duration;

use live_runtime::prelude::*;
use live_runtime::sse::parse::{EventParser, Item};
use serde_json::json;
use support::{Server, text, within, within_for};

/// The next chunk, in virtual time: keep-alives come after 15 s of (paused) silence.
async fn next_chunk(response: &mut reqwest::Response) -> Option<bytes::Bytes> {
    within_for(Duration::from_secs(600), response.chunk())
        .await
        .expect("body failed")
}

/// The SSE actions under test.
pub struct FeedController;

#[live_controller]
impl FeedController {
    /// Three events from where the client left off.
    pub async fn resume(&self, last: LastEventId<u64>, live: Live) -> live_runtime::Result {
        let mut sse = live.sse(
            SseOptions::new()
                .event("prices")
                .retry(Duration::from_millis(300)),
        );
        for n in last.next()..last.next() + 3 {
            sse.write_with(json!({ "n": n }), Event::id(n)).await?;
        }
        Ok(())
    }

    /// One event, then silence until the client leaves: only keep-alives flow.
    pub async fn quiet(&self, live: Live) -> live_runtime::Result {
        let mut sse = live.sse(SseOptions::new());
        sse.write("hello").await?;
        sse.stream().disconnected().await;
        Ok(())
    }

    /// An event after 10 s, then silence: the keep-alive counts from the last event.
    pub async fn late(&self, live: Live) -> live_runtime::Result {
        let mut sse = live.sse(SseOptions::new().keep_alive_text("ping"));
        sse.write("first").await?;
        tokio::time::sleep(Duration::from_secs(10)).await;
        sse.write("second").await?;
        sse.stream().disconnected().await;
        Ok(())
    }

    /// Keep-alive off: a minute of silence, then an event.
    pub async fn silent(&self, live: Live) -> live_runtime::Result {
        let mut sse = live.sse(SseOptions::new().keep_alive(None));
        sse.write("first").await?;
        tokio::time::sleep(Duration::from_secs(60)).await;
        sse.write("after a minute").await?;
        Ok(())
    }

    /// One event whose id is not ASCII, and whose data is the id the client sent back.
    pub async fn unicode_id(&self, last: LastEventId, live: Live) -> live_runtime::Result {
        // A short retry: a browser reconnects soon after the stream ends.
        let mut sse = live.sse(SseOptions::new().retry(Duration::from_millis(50)));
        let back = last.into_inner().unwrap_or_else(|| "none".into());
        sse.write_with(back, Event::id(UNICODE_ID)).await?;
        Ok(())
    }

    /// The writer's own id on every event and its retry on the first, unless an event leaves
    /// them out; JSON escaped as Rails escapes it for HTML.
    pub async fn fields(&self, live: Live) -> live_runtime::Result {
        let options = SseOptions::new()
            .id("fixed")
            .retry(Duration::from_millis(300))
            .escape_html_in_json(true);
        let mut sse = live.sse(options);
        sse.write(json!({ "html": "<b>&</b>" })).await?;
        sse.write_with("bare", Event::new().no_id().no_retry())
            .await?;
        Ok(())
    }

    /// Tells the browser to stop reconnecting.
    pub async fn done(&self, live: Live) -> live_runtime::Result {
        live.stop_reconnecting()
    }

    /// An id that would inject a field.
    pub async fn inject(&self, live: Live) -> live_runtime::Result {
        let mut sse = live.sse(SseOptions::new());
        sse.write_with("x", Event::id("1\ndata: injected")).await?;
        Ok(())
    }

    /// The same, committing only at the first write (Rails' way).
    pub async fn inject_deferred(&self, live: Live) -> live_runtime::Result {
        let mut sse = live.sse(SseOptions::new().commit_on_first_write());
        sse.write_with("x", Event::id("1\ndata: injected")).await?;
        Ok(())
    }

    /// Opens the stream, then waits for an event that never comes.
    pub async fn waiting(&self, live: Live) -> live_runtime::Result {
        let sse = live.sse(SseOptions::new());
        sse.into_stream().disconnected().await;
        Ok(())
    }

    /// A comment, a multi-line payload with every kind of line break, and an explicit
    /// content type that `sse()` keeps.
    pub async fn mixed(&self, mut live: Live) -> live_runtime::Result {
        live.set_header("cache-control", "no-store")?;
        let mut sse = live.sse(SseOptions::new());
        sse.comment("hello\nclient").await?;
        sse.write("a\r\nb\rc\nd").await?;
        Ok(())
    }
}

/// An id with accents, a non-Latin script and an emoji: UTF-8 of 2, 3 and 4 bytes a character.
pub const UNICODE_ID: &str = "café Ωμέγα ☕ 🦀";

async fn server() -> Server {
    Server::start(FeedController.into_router()).await
}

fn events(body: &str) -> Vec<Item> {
    EventParser::new().push(body.as_bytes())
}

#[tokio::test]
async fn sse_headers() {
    let server = server().await;
    let response = server.get("/feed/resume").await;
    let header = |name| response.headers().get(name).map(|v| v.to_str().unwrap());
    assert_eq!(header("content-type"), Some("text/event-stream"));
    assert_eq!(header("cache-control"), Some("no-cache, no-transform"));
    assert_eq!(header("x-accel-buffering"), Some("no"));
    let response = server.get("/feed/mixed").await;
    assert_eq!(response.headers()["cache-control"], "no-store");
}

/// `Last-Event-ID`: absent starts at 0; a number resumes after it, with no gap and no
/// duplicate; a malformed one is a 400 that says why.
#[tokio::test]
async fn last_event_id_resumes() {
    let server = server().await;
    let ids = |body: String| -> Vec<String> {
        events(&body)
            .into_iter()
            .map(|item| match item {
                Item::Event(e) => {
                    assert_eq!(e.event.as_str(), "prices");
                    e.id.unwrap()
                }
                Item::Comment(c) => panic!("comment {c}"),
            })
            .collect()
    };
    assert_eq!(
        ids(text(server.get("/feed/resume").await).await),
        ["0", "1", "2"]
    );
    let get = |value: &'static str| {
        let request = support::client()
            .get(server.url("/feed/resume"))
            .header("last-event-id", value);
        async move { within(request.send()).await.unwrap() }
    };
    assert_eq!(ids(text(get("4").await).await), ["5", "6", "7"]);
    assert_eq!(ids(text(get("").await).await), ["0", "1", "2"]);
    let malformed = get("four").await;
    assert_eq!(malformed.status(), 400);
    assert!(
        text(malformed)
            .await
            .starts_with("invalid Last-Event-ID header: \"four\"")
    );
}

/// An id the writer sends comes back intact: a browser sends a non-ASCII id back as UTF-8,
/// and `LastEventId<String>` takes it (it used to answer 400, "not visible ASCII").
#[tokio::test]
async fn unicode_last_event_id_round_trips() {
    let server = server().await;
    let body = text(server.get("/feed/unicode_id").await).await;
    let [Item::Event(first)] = &events(&body)[..] else {
        panic!("{body:?}")
    };
    assert_eq!(
        (first.id.as_deref(), first.data.as_str()),
        (Some(UNICODE_ID), "none")
    );
    // Raw UTF-8 bytes in the header, as a browser sends them.
    let echoed = http::HeaderValue::from_bytes(first.id.as_ref().unwrap().as_bytes()).unwrap();
    let response = within(
        support::client()
            .get(server.url("/feed/unicode_id"))
            .header("last-event-id", echoed)
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let body = text(response).await;
    let [Item::Event(second)] = &events(&body)[..] else {
        panic!("{body:?}")
    };
    assert_eq!(second.data, UNICODE_ID);
}

/// `SseOptions::id` goes on every event and `retry` on the first, unless `no_id`/`no_retry`
/// leave them out of one; `escape_html_in_json` escapes `<`, `>` and `&` in JSON strings.
#[tokio::test]
async fn writer_fields_and_html_escaping() {
    let server = server().await;
    assert_eq!(
        text(server.get("/feed/fields").await).await,
        "retry: 300\nid: fixed\ndata: {\"html\":\"\\u003cb\\u003e\\u0026\\u003c/b\\u003e\"}\n\n\
         data: bare\n\n"
    );
}

/// Keep-alive: a comment after 15 s of silence, again 15 s later; time is paused, so the
/// test takes no real time.
#[tokio::test(start_paused = true)]
async fn keep_alive_after_silence() {
    let server = server().await;
    let started = tokio::time::Instant::now();
    let mut response = server.get("/feed/quiet").await;
    assert_eq!(next_chunk(&mut response).await.unwrap(), "data: hello\n\n");
    assert_eq!(next_chunk(&mut response).await.unwrap(), ":\n\n");
    assert_eq!(started.elapsed().as_secs(), 15);
    assert_eq!(next_chunk(&mut response).await.unwrap(), ":\n\n");
    assert_eq!(started.elapsed().as_secs(), 30);
}

/// Each event restarts the keep-alive's count: after an event at 10 s, the next comment is at
/// 25 s.
#[tokio::test(start_paused = true)]
async fn keep_alive_is_reset_by_events() {
    let server = server().await;
    let started = tokio::time::Instant::now();
    let mut response = server.get("/feed/late").await;
    assert_eq!(next_chunk(&mut response).await.unwrap(), "data: first\n\n");
    assert_eq!(next_chunk(&mut response).await.unwrap(), "data: second\n\n");
    assert_eq!(started.elapsed().as_secs(), 10);
    assert_eq!(next_chunk(&mut response).await.unwrap(), ": ping\n\n");
    // To the millisecond: the timer, set at the first idle poll for 15 s, is moved when it
    // fires to 15 s after the last event.
    assert_eq!(started.elapsed().as_millis(), 25_000);
}

/// With keep-alive off, nothing is sent in a minute of silence.
#[tokio::test(start_paused = true)]
async fn keep_alive_off() {
    let server = server().await;
    let mut response = server.get("/feed/silent").await;
    assert_eq!(next_chunk(&mut response).await.unwrap(), "data: first\n\n");
    assert_eq!(
        next_chunk(&mut response).await.unwrap(),
        "data: after a minute\n\n"
    );
}

#[tokio::test]
async fn no_content_stops_reconnection() {
    let server = server().await;
    let response = server.get("/feed/done").await;
    assert_eq!(response.status(), 204);
    assert_eq!(text(response).await, "");
}

/// docs/rails-parity.md, L-29, fixed: an `id` with a newline is an error and nothing of the
/// event is sent, never an injected field. The stream was open already (200, then cut by the
/// error); with `commit_on_first_write` the error is still the response (500).
#[tokio::test]
async fn field_injection_is_refused() {
    let server = server().await;
    let response = server.get("/feed/inject").await;
    assert_eq!(response.status(), 200);
    let body = support::cut_text(response).await;
    assert!(!body.contains("injected"), "{body}");
    let response = server.get("/feed/inject_deferred").await;
    assert_eq!(response.status(), 500);
    let body = text(response).await;
    assert!(!body.contains("injected"), "{body}");
}

/// An SSE stream opens when it is made, not at its first event: the client has the head at
/// once, and the keep-alive runs from then (paused time: the test takes no real time).
#[tokio::test(start_paused = true)]
async fn sse_opens_before_its_first_event() {
    let server = server().await;
    let started = tokio::time::Instant::now();
    let mut response = server.get("/feed/waiting").await;
    assert_eq!(started.elapsed().as_secs(), 0);
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(next_chunk(&mut response).await.unwrap(), ":\n\n");
    assert_eq!(started.elapsed().as_secs(), 15);
}

/// Comments split into comment lines; `\r\n`, `\r` and `\n` all start a `data:` line.
#[tokio::test]
async fn comments_and_line_breaks() {
    let server = server().await;
    let body = text(server.get("/feed/mixed").await).await;
    assert_eq!(
        body,
        ": hello\n: client\n\ndata: a\ndata: b\ndata: c\ndata: d\n\n"
    );
    let items = events(&body);
    assert_eq!(items[0], Item::Comment("hello".into()));
    let Item::Event(event) = &items[2] else {
        panic!("{items:?}")
    };
    assert_eq!(event.data, "a\nb\nc\nd");
}
