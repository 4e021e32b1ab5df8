//! The chat example over real loopback HTTP: posting, the message stream, resuming with
//! `Last-Event-ID`, refusals, two nodes on one Redis, and Redis unreachable. Each behaviour
//! that does not need Redis runs against both engines (a module per behaviour, a test per
//! engine); every Redis test starts a redis-server of its own.
//!
//! Waits are event-driven: a test reads the stream until the event it expects arrives, and
//! every read fails the test after 10 s instead of hanging it.
//!
//! At the end, two edge cases of the broadcast API as a chat meets them: the documented
//! `subscribe()?` pattern with Redis down, and a publish whose reply was lost.

use crate::apps::chat as app;
use crate::redis_server;
use crate::support;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use app::{ChatController, Message};
use live_runtime::broadcast::{EventId, Hub, HubConfig};
use live_runtime::prelude::*;
use live_runtime::sse::parse::{EventParser, Item, ParsedEvent};
use redis_server::RedisServer;
use serde_json::{Value, json};
use support::{Server, client, within, within_for};

/// How long a request may take when Redis is unreachable: the example promises an answer
/// within 5 s; one more second of slack for a loaded machine.
const UNREACHABLE_PATIENCE: Duration = Duration::from_secs(6);

#[derive(Clone, Copy, Debug)]
enum Kind {
    Memory,
    Redis,
}

/// One chat node over loopback, and what keeps its engine alive.
struct Chat {
    server: Server,
    redis: Option<RedisServer>,
}

impl Chat {
    async fn start(kind: Kind, config: HubConfig) -> Chat {
        match kind {
            Kind::Memory => Chat {
                server: node(Hub::memory(config)).await,
                redis: None,
            },
            Kind::Redis => {
                let redis = RedisServer::start();
                Chat {
                    server: node(Hub::redis(&redis.url(), config).unwrap()).await,
                    redis: Some(redis),
                }
            }
        }
    }
}

/// The chat controller on an ephemeral loopback port.
async fn node(hub: Hub) -> Server {
    Server::start(ChatController { hub }.into_router()).await
}

/// Generates `mod $name { fn memory(); fn redis(); }`, each running `$name(kind)`.
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn memory() {
                super::$name(super::Kind::Memory).await;
            }

            #[tokio::test]
            async fn redis() {
                super::$name(super::Kind::Redis).await;
            }
        }
    )*};
}

both_engines!(
    messages_arrive_as_posted,
    first_visit_replays_the_history,
    refusals_are_json_and_publish_nothing,
    resume_gets_exactly_the_missed,
    resume_older_than_the_history_resets_first,
    resume_from_another_history_resets_first,
    malformed_last_event_id_is_a_400,
);

// ---------------------------------------------------------------------------------------
// HTTP helpers

/// A response's status, content type and body.
struct Answer {
    status: StatusCode,
    content_type: String,
    body: String,
}

impl Answer {
    /// The body as JSON, asserting the content type says so.
    fn json(&self) -> Value {
        assert_eq!(self.content_type, "application/json", "{}", self.body);
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// Asserts a JSON error `{"error": "<something>"}` with `status`.
    fn assert_error(&self, status: u16, case: &str) {
        assert_eq!(self.status.as_u16(), status, "{case}: {}", self.body);
        let error = self.json();
        let message = error["error"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{case}: no error message in {error}");
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = within(response.text()).await.expect("body failed");
    Answer {
        status,
        content_type,
        body,
    }
}

/// `POST path` with this content type (none if `None`) and body.
async fn post_raw(
    server: &Server,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Answer {
    let mut request = client().post(server.url(path)).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    answer(within(request.send()).await.expect("request failed")).await
}

/// `POST /rooms/{room}/messages` with a JSON body.
async fn post(server: &Server, room: &str, body: &Value) -> Answer {
    let path = format!("/rooms/{room}/messages");
    post_raw(
        server,
        &path,
        Some("application/json"),
        serde_json::to_vec(body).unwrap(),
    )
    .await
}

/// Posts a message that must be taken: returns its id.
async fn say(server: &Server, room: &str, author: &str, text: &str) -> String {
    let answer = post(server, room, &json!({ "author": author, "text": text })).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let id = answer.json()["id"]
        .as_str()
        .expect("a string id")
        .to_owned();
    id.parse::<EventId>().expect("the id is an EventId");
    id
}

/// Posts `n` messages `"<prefix> <i>"` by `bot`: their ids.
async fn say_n(server: &Server, room: &str, prefix: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(say(server, room, "bot", &format!("{prefix} {i}")).await);
    }
    ids
}

/// An open `GET /rooms/{room}/messages`, read event by event.
struct Stream {
    response: reqwest::Response,
    parser: EventParser,
    events: VecDeque<ParsedEvent>,
    /// Everything received, as text.
    raw: String,
}

/// Opens the room's message stream (resuming after `last` if given): `200`, SSE.
async fn open(server: &Server, room: &str, last: Option<&str>) -> Stream {
    let mut request = client().get(server.url(&format!("/rooms/{room}/messages")));
    if let Some(last) = last {
        request = request.header("last-event-id", last);
    }
    let response = within(request.send()).await.expect("request failed");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    Stream {
        response,
        parser: EventParser::new(),
        events: VecDeque::new(),
        raw: String::new(),
    }
}

impl Stream {
    /// Reads one more chunk; `false` at the end of the stream.
    async fn read(&mut self) -> bool {
        let Some(chunk) = support::next_chunk(&mut self.response).await else {
            return false;
        };
        self.raw.push_str(&String::from_utf8_lossy(&chunk));
        for item in self.parser.push(&chunk) {
            if let Item::Event(event) = item {
                self.events.push_back(event);
            }
        }
        true
    }

    /// The next event; fails the test if the stream ends first or nothing comes in 10 s.
    async fn next(&mut self) -> ParsedEvent {
        loop {
            if let Some(event) = self.events.pop_front() {
                return event;
            }
            assert!(self.read().await, "the stream ended; got {:?}", self.raw);
        }
    }

    /// The next event, which must be a `message`: its id and message.
    async fn message(&mut self) -> (String, Message) {
        let event = self.next().await;
        assert_eq!(event.event, "message", "{event:?}");
        // One line of JSON: nothing in a text can add a line (and so a field) to the event.
        assert!(!event.data.contains('\n'), "{event:?}");
        let message = serde_json::from_str(&event.data).expect("a Message as JSON");
        (event.id.expect("a message has an id"), message)
    }

    /// The ids of the next `n` messages.
    async fn ids(&mut self, n: usize) -> Vec<String> {
        let mut ids = Vec::new();
        for _ in 0..n {
            ids.push(self.message().await.0);
        }
        ids
    }

    /// Reads to the end of the stream (fails the test if it does not end in 10 s): the events
    /// it had left.
    async fn end(mut self) -> (Vec<ParsedEvent>, String) {
        while self.read().await {}
        (self.events.into(), self.raw)
    }
}

/// Nothing else is queued on `stream`: a message posted now is the next one it gets. Returns
/// that message's id.
async fn assert_nothing_more(server: &Server, room: &str, stream: &mut Stream) -> String {
    let marker = say(server, room, "marker", "nothing before me").await;
    assert_eq!(stream.message().await.0, marker);
    marker
}

// ---------------------------------------------------------------------------------------
// Both engines

/// The texts that must come back exactly as posted.
fn tricky_texts() -> Vec<String> {
    vec![
        "hello".into(),
        "two\nlines".into(),
        "crlf\r\nline and a lone\rreturn".into(),
        "data: x".into(),
        "id: 9".into(),
        "event: reset\n\nid: 1\ndata: forged\n\n".into(),
        ": a comment?\nretry: 1".into(),
        "unicode: héllo wörld 🌍 日本語 \u{2028} \u{0}".into(),
        "  spaces kept  ".into(),
        "<b>not bold</b> & <script>alert(1)</script>".into(),
        "x".repeat(app::MAX_TEXT_BYTES),
    ]
}

/// POST answers `201` with the event's id; the stream gives each message once, in order, as
/// `event: message` with that id and the author and text exactly as posted, whatever the
/// text holds. The stream starts with `retry: 1000`.
async fn messages_arrive_as_posted(kind: Kind) {
    let chat = Chat::start(kind, HubConfig::default()).await;
    let server = &chat.server;
    let mut stream = open(server, "lobby", None).await;
    let mut previous: Option<EventId> = None;
    let long_author = "é".repeat(app::MAX_AUTHOR_BYTES / 2);
    for (i, text) in tricky_texts().into_iter().enumerate() {
        let author = if i % 2 == 0 { "Ada 🦀" } else { &long_author };
        let answer = post(server, "lobby", &json!({ "author": author, "text": text })).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        let id = answer.json()["id"].as_str().unwrap().to_owned();
        let (got_id, message) = stream.message().await;
        assert_eq!(got_id, id);
        assert_eq!(
            (message.author.as_str(), message.text.as_str()),
            (author, text.as_str())
        );
        assert!(message.at > 0);
        // Ids grow within the room.
        let id: EventId = id.parse().unwrap();
        assert!(
            previous.is_none_or(|p| id.is_after(&p)),
            "{id} after {previous:?}"
        );
        previous = Some(id);
    }
    assert!(stream.raw.starts_with("retry: 1000\n"), "{:?}", stream.raw);
    // Rooms are separate, and a 64-character name is a room.
    let long_room = "r".repeat(app::MAX_ROOM_CHARS);
    let mut other = open(server, &long_room, None).await;
    let id = say(server, &long_room, "b", "elsewhere").await;
    assert_eq!(other.message().await.0, id);
    assert_nothing_more(server, "lobby", &mut stream).await;
}

/// A first visit (no `Last-Event-ID`) replays the room's history, then goes on live.
async fn first_visit_replays_the_history(kind: Kind) {
    let chat = Chat::start(kind, HubConfig::default()).await;
    let server = &chat.server;
    let ids = say_n(server, "lobby", "before", 3).await;
    let mut stream = open(server, "lobby", None).await;
    assert_eq!(stream.ids(3).await, ids);
    let live = say(server, "lobby", "ada", "live").await;
    assert_eq!(stream.message().await.0, live);
    assert_nothing_more(server, "lobby", &mut stream).await;
}

/// Every refusal is a 4xx with a JSON error, and publishes nothing: neither a stream open
/// during the refusals nor a later first visit sees anything before the next real message.
async fn refusals_are_json_and_publish_nothing(kind: Kind) {
    let chat = Chat::start(kind, HubConfig::default()).await;
    let server = &chat.server;
    let mut stream = open(server, "lobby", None).await;
    let path = "/rooms/lobby/messages";
    let valid = br#"{"author": "ada", "text": "hi"}"#.to_vec();
    let json = Some("application/json");
    let cases: Vec<(&str, Option<&str>, Vec<u8>, u16)> = vec![
        ("no content type", None, valid.clone(), 415),
        ("text/plain", Some("text/plain"), valid.clone(), 415),
        (
            "a form",
            Some("application/x-www-form-urlencoded"),
            b"author=a&text=b".to_vec(),
            415,
        ),
        (
            "malformed JSON",
            json,
            br#"{"author": "ada", "text": "#.to_vec(),
            400,
        ),
        ("an empty body", json, Vec::new(), 400),
        ("an array", json, b"[]".to_vec(), 400),
        ("a string", json, br#""ada: hi""#.to_vec(), 400),
        ("null", json, b"null".to_vec(), 400),
        (
            "a number author",
            json,
            br#"{"author": 1, "text": "hi"}"#.to_vec(),
            400,
        ),
        (
            "a null text",
            json,
            br#"{"author": "ada", "text": null}"#.to_vec(),
            422,
        ),
        ("no author", json, br#"{"text": "hi"}"#.to_vec(), 422),
        ("no text", json, br#"{"author": "ada"}"#.to_vec(), 422),
        ("an empty object", json, b"{}".to_vec(), 422),
        (
            "an empty author",
            json,
            br#"{"author": "", "text": "hi"}"#.to_vec(),
            422,
        ),
        (
            "a blank author",
            json,
            br#"{"author": " \t\n", "text": "hi"}"#.to_vec(),
            422,
        ),
        (
            "an empty text",
            json,
            br#"{"author": "ada", "text": ""}"#.to_vec(),
            422,
        ),
        (
            "a blank text",
            json,
            br#"{"author": "ada", "text": "  \r\n "}"#.to_vec(),
            422,
        ),
    ];
    for (case, content_type, body, status) in cases {
        post_raw(server, path, content_type, body)
            .await
            .assert_error(status, case);
    }
    let too_long = [
        (
            "a text one byte over",
            "ada".to_owned(),
            "x".repeat(app::MAX_TEXT_BYTES + 1),
        ),
        // Bytes, not characters: 2,049 two-byte characters.
        (
            "a text of long characters",
            "ada".to_owned(),
            "é".repeat(app::MAX_TEXT_BYTES / 2 + 1),
        ),
        (
            "an author one byte over",
            "a".repeat(app::MAX_AUTHOR_BYTES + 1),
            "hi".to_owned(),
        ),
    ];
    for (case, author, text) in too_long {
        post(server, "lobby", &json!({ "author": author, "text": text }))
            .await
            .assert_error(422, case);
    }
    let huge = json!({ "author": "ada", "text": "x".repeat(app::MAX_BODY_BYTES) });
    post(server, "lobby", &huge)
        .await
        .assert_error(413, "a body over 64 KiB");
    // Room names: 1 to 64 of [A-Za-z0-9_-], on every route.
    let long_room = "r".repeat(app::MAX_ROOM_CHARS + 1);
    for room in [
        "bad.room",
        "bad%20room",
        "%F0%9F%8C%8D",
        "lobby%2Fx",
        long_room.as_str(),
    ] {
        let body = serde_json::to_vec(&json!({"author": "a", "text": "b"})).unwrap();
        let case = format!("room {room:?}");
        post_raw(server, &format!("/rooms/{room}/messages"), json, body)
            .await
            .assert_error(404, &case);
        for path in [format!("/rooms/{room}"), format!("/rooms/{room}/messages")] {
            answer(server.get(&path).await)
                .await
                .assert_error(404, &case);
        }
    }
    // Nothing was published: the next message is the first either stream sees.
    let first = say(server, "lobby", "ada", "the first").await;
    assert_eq!(stream.message().await.0, first);
    let mut later = open(server, "lobby", None).await;
    assert_eq!(later.message().await.0, first);
    assert_nothing_more(server, "lobby", &mut later).await;
}

/// Read 2, leave, 3 more are posted, come back with `Last-Event-ID`: exactly the 3 missed,
/// in order, then live.
async fn resume_gets_exactly_the_missed(kind: Kind) {
    let chat = Chat::start(kind, HubConfig::default()).await;
    let server = &chat.server;
    let mut stream = open(server, "lobby", None).await;
    let seen = say_n(server, "lobby", "seen", 2).await;
    assert_eq!(stream.ids(2).await, seen);
    drop(stream);
    let missed = say_n(server, "lobby", "missed", 3).await;
    let mut stream = open(server, "lobby", Some(&seen[1])).await;
    assert_eq!(stream.ids(3).await, missed);
    let newest = assert_nothing_more(server, "lobby", &mut stream).await;
    // Resuming after the newest message replays nothing.
    let mut stream = open(server, "lobby", Some(&newest)).await;
    assert_nothing_more(server, "lobby", &mut stream).await;
}

/// With 3 messages kept, a client that saw only the first of 6 gets `event: reset` first,
/// then the 3 retained; one that saw the third (the last trimmed) missed nothing: no reset.
async fn resume_older_than_the_history_resets_first(kind: Kind) {
    let chat = Chat::start(kind, HubConfig::default().history_events(3)).await;
    let server = &chat.server;
    let ids = say_n(server, "lobby", "m", 6).await;
    // After the last one trimmed: nothing missed.
    let mut stream = open(server, "lobby", Some(&ids[2])).await;
    assert_eq!(stream.ids(3).await, ids[3..]);
    drop(stream);

    let mut stream = open(server, "lobby", Some(&ids[0])).await;
    let reset = stream.next().await;
    assert_eq!(reset.event, "reset", "{reset:?}");
    assert_eq!(reset.id, None, "a reset leaves Last-Event-ID alone");
    let data: Value = serde_json::from_str(&reset.data).unwrap();
    assert_eq!(data, json!({ "after": ids[0] }));
    assert_eq!(stream.ids(3).await, ids[3..]);
    assert_nothing_more(server, "lobby", &mut stream).await;
}

/// An id of another history (a restarted in-process node, a wiped Redis) resumes after a
/// reset, with everything retained.
async fn resume_from_another_history_resets_first(kind: Kind) {
    let chat = Chat::start(kind, HubConfig::default()).await;
    let server = &chat.server;
    let ids = say_n(server, "lobby", "m", 2).await;
    let epoch = &ids[0][..8];
    let foreign = if epoch == "0badcafe" {
        "0badcaff-1-0"
    } else {
        "0badcafe-1-0"
    };
    let mut stream = open(server, "lobby", Some(foreign)).await;
    assert_eq!(stream.next().await.event, "reset");
    assert_eq!(stream.ids(2).await, ids);
    assert_nothing_more(server, "lobby", &mut stream).await;
}

/// A `Last-Event-ID` that is not an id of this server is a `400`, not a silent restart.
async fn malformed_last_event_id_is_a_400(kind: Kind) {
    let chat = Chat::start(kind, HubConfig::default()).await;
    let url = chat.server.url("/rooms/lobby/messages");
    for bad in ["nope", "42", "deadbeef-1", "deadbeef-1-0-0", "deadbeef-x-0"] {
        let request = client().get(&url).header("last-event-id", bad);
        let response = within(request.send()).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad:?}");
    }
}

// ---------------------------------------------------------------------------------------
// The page

#[tokio::test]
async fn page_opens_an_event_source_and_a_form() {
    let chat = Chat::start(Kind::Memory, HubConfig::default()).await;
    let page = answer(chat.server.get("/rooms/lobby").await).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.content_type, "text/html; charset=utf-8");
    for needle in [
        "new EventSource('/rooms/lobby/messages')",
        "addEventListener('message'",
        "addEventListener('reset'",
        "window.seenIds",
        "fetch('/rooms/lobby/messages'",
        "'Content-Type': 'application/json'",
        "id=\"author\"",
        "id=\"text\"",
        "id=\"state\"",
    ] {
        assert!(page.body.contains(needle), "the page lacks {needle}");
    }
    // User text is only ever set as text.
    assert!(!page.body.contains("innerHTML"));
}

// ---------------------------------------------------------------------------------------
// Two nodes on one Redis

/// Two hubs on one Redis (two controllers, two servers): a message posted on either node
/// reaches the streams of both, in one order; a client that leaves node 1 and comes back on
/// node 2 with `Last-Event-ID` gets exactly what it missed, whichever node it was posted on.
#[tokio::test]
async fn two_nodes_share_rooms_and_resume_across_nodes() {
    let redis = RedisServer::start();
    let one = node(Hub::redis(&redis.url(), HubConfig::default()).unwrap()).await;
    let two = node(Hub::redis(&redis.url(), HubConfig::default()).unwrap()).await;
    let mut on_one = open(&one, "lobby", None).await;
    let a = say(&two, "lobby", "bea", "from node 2").await;
    let (id, message) = on_one.message().await;
    assert_eq!((id.as_str(), message.author.as_str()), (a.as_str(), "bea"));
    assert_eq!(message.text, "from node 2");
    let b = say(&one, "lobby", "ada", "from node 1").await;
    assert_eq!(on_one.message().await.0, b);

    // Leave node 1; messages go on, on both nodes; come back on node 2, where nobody has
    // listened to the room yet.
    drop(on_one);
    let missed = vec![
        say(&two, "lobby", "bea", "missed 1").await,
        say(&one, "lobby", "ada", "missed 2").await,
        say(&two, "lobby", "bea", "missed 3").await,
    ];
    let mut back = open(&two, "lobby", Some(&b)).await;
    assert_eq!(back.ids(3).await, missed);
    // Then live, from either node, each once.
    assert_nothing_more(&one, "lobby", &mut back).await;
    assert_nothing_more(&two, "lobby", &mut back).await;
    // A first visit on node 2 replays the whole room, in the order node 1 gave it.
    let mut first = open(&two, "lobby", None).await;
    let all = first.ids(5).await;
    assert_eq!(all[..2], [a, b]);
    assert_eq!(all[2..], missed);
}

/// Concurrent posts on both nodes: every stream, on either node, sees each message once and
/// all of them in one order.
#[tokio::test]
async fn two_nodes_agree_on_the_order_of_concurrent_posts() {
    let redis = RedisServer::start();
    let one = node(Hub::redis(&redis.url(), HubConfig::default()).unwrap()).await;
    let two = node(Hub::redis(&redis.url(), HubConfig::default()).unwrap()).await;
    let mut streams = vec![
        open(&one, "lobby", None).await,
        open(&one, "lobby", None).await,
        open(&two, "lobby", None).await,
        open(&two, "lobby", None).await,
    ];
    let (mut from_one, mut from_two) = tokio::join!(
        say_n(&one, "lobby", "one", 15),
        say_n(&two, "lobby", "two", 15)
    );
    let mut posted = Vec::new();
    posted.append(&mut from_one);
    posted.append(&mut from_two);
    posted.sort();
    let mut orders = Vec::new();
    for stream in &mut streams {
        orders.push(stream.ids(30).await);
    }
    for order in &orders {
        assert_eq!(order, &orders[0], "two streams disagree on the order");
    }
    let mut seen = orders[0].clone();
    seen.sort();
    assert_eq!(seen, posted, "each message exactly once");
    // The order is the ids' order.
    let ids: Vec<EventId> = orders[0].iter().map(|id| id.parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[1].is_after(&w[0])));
}

// ---------------------------------------------------------------------------------------
// Redis unreachable

/// A loopback port nothing listens on.
fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A POST while Redis is unreachable: a `503` with a JSON error (and `Retry-After`), in time.
async fn assert_post_unavailable(server: &Server) {
    let started = Instant::now();
    let request = client()
        .post(server.url("/rooms/lobby/messages"))
        .header("content-type", "application/json")
        .body(r#"{"author": "ada", "text": "lost?"}"#);
    let response = within_for(UNREACHABLE_PATIENCE, request.send())
        .await
        .expect("request failed");
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap()),
        Some("1")
    );
    let answer = within_for(UNREACHABLE_PATIENCE, answer(response)).await;
    answer.assert_error(503, "Redis unreachable");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// A stream opened while Redis is unreachable: `200`, SSE, `retry: 1000`, and it ends (so an
/// `EventSource` retries instead of giving up on a `503`), in time.
async fn assert_stream_ends(server: &Server, last: Option<&str>) {
    let started = Instant::now();
    let stream = within_for(UNREACHABLE_PATIENCE, open(server, "lobby", last)).await;
    let (events, raw) = within_for(UNREACHABLE_PATIENCE, stream.end()).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(raw.starts_with("retry: 1000\n"), "{raw:?}");
    assert!(
        events.iter().all(|e| e.event == "unavailable"),
        "{events:?}"
    );
}

/// Nothing listens where the hub points.
#[tokio::test]
async fn redis_unreachable_post_is_503_and_stream_ends() {
    let url = format!("redis://127.0.0.1:{}", dead_port());
    let server = node(Hub::redis(&url, HubConfig::default()).unwrap()).await;
    assert_post_unavailable(&server).await;
    assert_stream_ends(&server, None).await;
    // Again, while the hub fails fast between its connection attempts.
    assert_post_unavailable(&server).await;
    assert_stream_ends(&server, Some("0badcafe-1-0")).await;
    // The page itself needs no Redis.
    assert_eq!(server.get("/rooms/lobby").await.status(), StatusCode::OK);
}

/// Redis dies under a running node, then comes back: posts fail with `503` meanwhile, new
/// streams end cleanly, and once it is back the stream that stayed open gets what was posted
/// after the restart, and a client that resumes gets what it missed.
#[tokio::test]
async fn redis_killed_then_restarted() {
    let chat = Chat::start(Kind::Redis, HubConfig::default()).await;
    let server = &chat.server;
    let mut redis = chat.redis.expect("a Redis chat");
    let mut stream = open(server, "lobby", None).await;
    let before = say(server, "lobby", "ada", "before").await;
    assert_eq!(stream.message().await.0, before);

    redis.kill();
    assert_post_unavailable(server).await;
    assert_stream_ends(server, Some(&before)).await;

    redis.restart();
    // The hub reconnects on a later call; ask until it has (it may fail fast for 250 ms).
    let deadline = Instant::now() + support::PATIENCE;
    let after = loop {
        let answer = post(server, "lobby", &json!({"author": "ada", "text": "after"})).await;
        if answer.status == StatusCode::CREATED {
            break answer.json()["id"].as_str().unwrap().to_owned();
        }
        answer.assert_error(503, "while Redis restarts");
        assert!(
            Instant::now() < deadline,
            "never published after the restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        stream.message().await.0,
        after,
        "the open stream survived the outage"
    );
    let mut resumed = open(server, "lobby", Some(&before)).await;
    assert_eq!(resumed.message().await.0, after);
}

/// The Redis data is wiped (`FLUSHALL`) under an open page: the next message reaches it
/// after an `event: reset`, so the page starts its list over instead of mixing histories.
#[tokio::test]
async fn redis_wiped_history_resets_open_streams() {
    let chat = Chat::start(Kind::Redis, HubConfig::default()).await;
    let server = &chat.server;
    let redis = chat.redis.as_ref().unwrap();
    let mut stream = open(server, "lobby", None).await;
    let old = say_n(server, "lobby", "old", 2).await;
    assert_eq!(stream.ids(2).await, old);
    assert!(redis.command("FLUSHALL").starts_with("+OK"));
    let new = say(server, "lobby", "ada", "after the wipe").await;
    let reset = stream.next().await;
    assert_eq!(reset.event, "reset", "{reset:?}");
    assert_eq!(stream.message().await.0, new);
    assert_nothing_more(server, "lobby", &mut stream).await;
    // A page that resumes with an id of the old history gets a reset too.
    let mut resumed = open(server, "lobby", Some(&old[1])).await;
    assert_eq!(resumed.next().await.event, "reset");
    assert_eq!(resumed.message().await.0, new);
}

/// Redis accepts connections but answers nothing (`CLIENT PAUSE`): still a `503` in time,
/// never a hang, and the stream ends. Once Redis answers again, the refused message is not
/// there: the `503` meant it.
#[tokio::test]
async fn redis_hanging_post_is_503_in_time() {
    let chat = Chat::start(Kind::Redis, HubConfig::default()).await;
    let server = &chat.server;
    let redis = chat.redis.as_ref().unwrap();
    let warm = say(server, "lobby", "ada", "warm connection").await;
    // Both within the pause: each takes the hub's 2 s response timeout.
    assert!(redis.command("CLIENT PAUSE 5000 ALL").starts_with("+OK"));
    tokio::join!(
        assert_post_unavailable(server),
        assert_stream_ends(server, None)
    );
    // Paused too, so it answers when the pause is over.
    assert!(redis.command("PING").starts_with("+PONG"));
    let mut stream = open(server, "lobby", None).await;
    assert_eq!(stream.message().await.0, warm);
    assert_nothing_more(server, "lobby", &mut stream).await;
}

// ---------------------------------------------------------------------------------------
// Edge cases of the broadcast API, as the chat meets them.

/// The pattern of the `broadcast` module's docs: `subscribe(..).await?`, then `forward`.
pub struct DocPatternController {
    hub: Hub,
}

#[live_controller(path = "/doc")]
impl DocPatternController {
    /// `GET /doc/{room}`
    #[get("/{room}")]
    pub async fn show(
        &self,
        axum::extract::Path(room): axum::extract::Path<String>,
        last: LastEventId<EventId>,
        live: Live,
    ) -> live_runtime::Result {
        let sse = live.sse(SseOptions::new().retry(Duration::from_secs(1)));
        let messages = self.hub.subscribe(&room, last).await?;
        sse.forward(messages).await
    }
}

/// With Redis down, `subscribe(..).await?` after `live.sse()` must not answer `503` to an
/// `EventSource`, which would then give up for good (WHATWG: a non-200 status fails the
/// connection): the runtime commits the SSE stream empty and ends it, so the browser retries.
#[tokio::test]
async fn documented_pattern_keeps_an_event_source_retrying_while_redis_is_down() {
    let url = format!("redis://127.0.0.1:{}", dead_port());
    let hub = Hub::redis(&url, HubConfig::default()).unwrap();
    let server = Server::start(DocPatternController { hub }.into_router()).await;
    let response = within(client().get(server.url("/doc/lobby")).send())
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "an EventSource that gets this status stops reconnecting for good"
    );
}

/// A TCP proxy to Redis that can start swallowing Redis' replies while still passing the
/// commands on: a reply lost on the way back, as in a network partition.
struct ReplyEatingProxy {
    port: u16,
    eat: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl ReplyEatingProxy {
    async fn start(redis_port: u16) -> ReplyEatingProxy {
        use std::sync::atomic::{AtomicBool, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let eat = std::sync::Arc::new(AtomicBool::new(false));
        let eating = eat.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = tokio::net::TcpStream::connect(("127.0.0.1", redis_port))
                    .await
                    .unwrap();
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                });
                let eating = eating.clone();
                tokio::spawn(async move {
                    let mut buf = [0_u8; 4096];
                    while let Ok(n @ 1..) = server_read.read(&mut buf).await {
                        if !eating.load(Ordering::SeqCst)
                            && client_write.write_all(&buf[..n]).await.is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        ReplyEatingProxy { port, eat }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn eat_replies(&self) {
        self.eat.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// When Redis ran the publish and only its reply was lost (past the hub's 2 s response
/// timeout), the POST answers `503` in time, and the docs are true to what happened: the
/// outcome is unknown, and here the event was in fact published (an observer on another node
/// receives it). So the chat's error must not claim that nothing was sent.
#[tokio::test]
async fn unavailable_publish_after_a_lost_reply_has_an_unknown_outcome() {
    let redis = RedisServer::start();
    let proxy = ReplyEatingProxy::start(redis.port()).await;
    let behind_proxy = node(Hub::redis(&proxy.url(), HubConfig::default()).unwrap()).await;
    let observer = node(Hub::redis(&redis.url(), HubConfig::default()).unwrap()).await;
    let mut stream = open(&observer, "lobby", None).await;
    let warm = say(&behind_proxy, "lobby", "ada", "warm connection").await;
    assert_eq!(stream.message().await.0, warm);

    proxy.eat_replies();
    assert_post_unavailable(&behind_proxy).await;
    let (_, message) = stream.message().await;
    assert_eq!(
        message.text, "lost?",
        "Redis stored it; only the reply was lost"
    );
}
