//! A chat: one room per name, messages broadcast through a [`Hub`] to every open page, on one
//! node or many. `GET /rooms/{room}` serves a page that opens an `EventSource` on
//! `GET /rooms/{room}/messages` and posts with `fetch` to `POST /rooms/{room}/messages`. A
//! message posted on any node reaches every page of the room on every node, once and in the
//! same order; a page that reconnects (to the same node or another) resumes after the last
//! message it saw, with `Last-Event-ID`.
//!
//! ```sh
//! cargo run --example chat                 # in-process hub; PORT overrides 3000
//! open http://127.0.0.1:3000/rooms/lobby
//!
//! # Two nodes sharing rooms and history through Redis 7:
//! redis-server --port 6379 --save '' --appendonly yes
//! REDIS_URL=redis://127.0.0.1:6379 PORT=3000 cargo run --example chat
//! REDIS_URL=redis://127.0.0.1:6379 PORT=3001 cargo run --example chat
//! open http://127.0.0.1:3000/rooms/lobby http://127.0.0.1:3001/rooms/lobby
//! ```
//!
//! `REDIS_URL` selects the Redis engine (otherwise the hub is in-process: one node, history
//! lost at restart), `CHAT_HISTORY` the messages kept per room for replay (default 1000).
//!
//! # The HTTP interface
//!
//! - `GET /rooms/{room}`: the page. A room name is 1 to 64 characters of `A-Z a-z 0-9 _ -`;
//!   any other is a `404` with a JSON body `{"error": "..."}` on every route.
//! - `POST /rooms/{room}/messages` with `Content-Type: application/json` and a body
//!   `{"author": "...", "text": "..."}`: `201 Created` with `{"id": "<event id>"}`. Errors,
//!   each with `{"error": "..."}` (a 4xx publishes nothing): `415` for a body that is not
//!   declared JSON, `400` for malformed JSON (or not an object of strings), `422` for an
//!   author or text missing or blank, an author over [`MAX_AUTHOR_BYTES`] (100) bytes or a
//!   text over [`MAX_TEXT_BYTES`] (4,096) bytes, `413` for a body over 64 KiB, and `503` when
//!   Redis is unreachable (within about 3 s: the hub's timeouts; never a hang; see below).
//! - `GET /rooms/{room}/messages`: Server-Sent Events, `retry: 1000` first. Each message is
//!   `event: message`, `id:` the id the `POST` answered, `data:` the [`Message`] as one line
//!   of JSON (so nothing in a text can break the framing). Without `Last-Event-ID` (a first
//!   visit) the stream replays the room's retained history, then goes on live; with it, it
//!   resumes right after that id; when the history no longer reaches back that far (or the
//!   id is of another history: a restarted in-process node, a wiped Redis) it sends
//!   `event: reset` first, then the oldest retained message on, and the page starts its list
//!   over. A malformed `Last-Event-ID` is a `400`.
//!
//! # Redis down
//!
//! A `POST` answers `503` (with `Retry-After`) and the page shows the error. Redis refusing
//! the connection means the message was not taken; Redis not answering in time (the hub's
//! 2 s timeout) leaves it unknown, as the command may have run and only its reply been lost,
//! so a message sent again may then show twice.
//!
//! The stream is different: an `EventSource` that gets an error status gives up for good, and
//! the page would never recover. So when the hub cannot read the room's history, the stream
//! is committed anyway (`200`, `retry: 1000`, an `event: unavailable`; `Sse::retry_later`
//! does this when handed the subscription's error) and ends at once: the
//! browser reconnects a second later, with its `Last-Event-ID`, until Redis is back, and then
//! resumes with nothing lost. Open streams survive an outage: the hub reconnects in
//! the background and delivers what Redis accepted meanwhile.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[path = "common/mod.rs"]
mod common;

use axum::body::Body;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use live_runtime::broadcast::{EventId, Hub, HubConfig, Since};
use live_runtime::prelude::*;
use serde::{Deserialize, Serialize};

/// The longest author name, in bytes (UTF-8).
pub const MAX_AUTHOR_BYTES: usize = 100;
/// The longest message text, in bytes (UTF-8).
pub const MAX_TEXT_BYTES: usize = 4096;
/// The largest request body read, in bytes; a longer one is a `413`.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The longest room name, in characters.
pub const MAX_ROOM_CHARS: usize = 64;
/// How long a browser waits before it reconnects a stream that ended or broke.
pub const RETRY: Duration = Duration::from_secs(1);

/// One chat message: what each `message` event carries, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Who wrote it, as posted.
    pub author: String,
    /// What they wrote, as posted (line breaks and all).
    pub text: String,
    /// When the server took it, in milliseconds since the Unix epoch.
    pub at: u64,
}

/// The body of a `POST`: both fields are checked by hand, so a missing one gets a clear error.
#[derive(Debug, Deserialize)]
struct NewMessage {
    author: Option<String>,
    text: Option<String>,
}

/// The `{room}` of a path, validated: 1 to [`MAX_ROOM_CHARS`] of `[A-Za-z0-9_-]`. Anything
/// else is rejected with a `404` and a JSON error, before the action runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room(pub String);

impl Room {
    /// Whether `name` is a valid room name.
    pub fn is_valid(name: &str) -> bool {
        (1..=MAX_ROOM_CHARS).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Room {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let not_found = || {
            error(
                StatusCode::NOT_FOUND,
                "no such room: a room name is 1 to 64 characters of A-Z, a-z, 0-9, _ and -",
            )
        };
        let Path(room) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| not_found())?;
        if Room::is_valid(&room) {
            Ok(Room(room))
        } else {
            Err(not_found())
        }
    }
}

/// `{"error": message}` with `status`.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "error": message.into() });
    (status, axum::Json(body)).into_response()
}

/// Whether a `Content-Type` is JSON: `application/json` or `application/<anything>+json`,
/// with any parameters (as axum's `Json` reads it).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json") || subtype.to_ascii_lowercase().ends_with("+json"))
}

/// Why a posted message is refused: a status and the text of the JSON error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub StatusCode, pub String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error(self.0, self.1)
    }
}

/// A posted message, checked: the [`Message`] to publish, or why it is refused.
fn check(headers: &HeaderMap, body: &[u8]) -> Result<Message, Refusal> {
    if !is_json(headers) {
        return Err(Refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type: application/json".into(),
        ));
    }
    let posted: NewMessage = serde_json::from_slice(body).map_err(|e| {
        Refusal(
            StatusCode::BAD_REQUEST,
            format!("expected a JSON object {{\"author\": string, \"text\": string}}: {e}"),
        )
    })?;
    let field = |value: Option<String>, name: &str, limit: usize| {
        let why = match value {
            Some(value) if value.trim().is_empty() => format!("{name} is blank"),
            Some(value) if value.len() > limit => {
                format!("{name} is {} bytes, the limit is {limit}", value.len())
            }
            Some(value) => return Ok(value),
            None => format!("{name} is missing"),
        };
        Err(Refusal(StatusCode::UNPROCESSABLE_ENTITY, why))
    };
    let author = field(posted.author, "author", MAX_AUTHOR_BYTES)?;
    let text = field(posted.text, "text", MAX_TEXT_BYTES)?;
    let at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    Ok(Message { author, text, at })
}

/// The response to a hub error of a `POST`.
fn hub_error(room: &str, failure: &Error) -> Response {
    match failure.kind() {
        ErrorKind::Unavailable => {
            tracing::warn!(room, error = %failure, "chat: could not publish");
            let mut response = error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the chat could not confirm your message: its message store is unreachable or did not answer, so it may not have been posted; try again",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        ErrorKind::PayloadTooLarge => error(StatusCode::PAYLOAD_TOO_LARGE, "message too large"),
        _ => {
            tracing::error!(room, error = %failure, "chat: could not publish");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

/// `/rooms`: the page, its message stream, and posting.
pub struct ChatController {
    /// Where messages go and come from: one topic per room, named as the room.
    pub hub: Hub,
}

#[live_controller(path = "/rooms")]
impl ChatController {
    /// `GET /rooms/{room}`: the page.
    #[get("/{room}")]
    pub async fn show(&self, Room(room): Room) -> Html<String> {
        // The name is `[A-Za-z0-9_-]` only: safe inside the HTML and the script as is.
        Html(PAGE.replace("{room}", &room))
    }

    /// `POST /rooms/{room}/messages`: publishes a message, answers `201` and its id.
    #[post("/{room}/messages")]
    pub async fn create(&self, Room(room): Room, headers: HeaderMap, body: Body) -> Response {
        let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is over {MAX_BODY_BYTES} bytes (or could not be read)"),
            );
        };
        let message = match check(&headers, &body) {
            Ok(message) => message,
            Err(refusal) => return refusal.into_response(),
        };
        match self.hub.publish_event(&room, "message", &message).await {
            Ok(id) => (
                StatusCode::CREATED,
                axum::Json(serde_json::json!({ "id": id.to_string() })),
            )
                .into_response(),
            Err(failure) => hub_error(&room, &failure),
        }
    }

    /// `GET /rooms/{room}/messages`: the room's messages as Server-Sent Events: its retained
    /// history on a first visit, or what came after `Last-Event-ID`, then live ones.
    #[get("/{room}/messages")]
    pub async fn messages(
        &self,
        Room(room): Room,
        last: LastEventId<EventId>,
        live: Live,
    ) -> live_runtime::Result {
        // A first visit shows the room's recent history; a reconnection resumes.
        let since = Since::after_or(last.into_inner(), Since::Beginning);
        let sse = live.sse(SseOptions::new().retry(RETRY));
        match self.hub.subscribe(&room, since).await {
            Ok(messages) => sse.forward(messages).await,
            // Not `?`: when Redis is down, `retry_later` sends `event: unavailable` (with the
            // `retry`) and ends the stream, so the browser reconnects (an error status would
            // make it give up for good).
            Err(error) => sse.retry_later(error),
        }
    }
}

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>live · chat · {room}</title>
<style>
  * { box-sizing: border-box; }
  body { font: 16px/1.4 system-ui, sans-serif; margin: 0; color: #1d2430; background: #f6f7f9; }
  main { max-width: 40rem; margin: 0 auto; padding: 1.5rem 1rem; display: flex; flex-direction: column; height: 100vh; }
  h1 { font-size: 1.4rem; margin: 0 0 .2rem; }
  .sub { color: #6b7280; margin: 0 0 1rem; }
  #state { display: inline-block; padding: .1rem .6rem; border-radius: 1rem; font-size: .85rem; }
  #state.open { background: #d1fae5; color: #065f46; }
  #state.connecting, #state.reconnecting { background: #fef3c7; color: #92400e; }
  #state.closed, #state.unavailable { background: #fee2e2; color: #991b1b; }
  #messages { list-style: none; margin: 0; padding: .5rem; flex: 1; overflow-y: auto;
              background: #fff; border: 1px solid #e5e7eb; border-radius: .5rem; }
  #messages li { padding: .4rem .5rem; border-bottom: 1px solid #f1f2f4; }
  #messages li:last-child { border-bottom: 0; }
  .author { font-weight: 600; margin-right: .5rem; }
  .time { color: #9ca3af; font-size: .75rem; float: right; font-variant-numeric: tabular-nums; }
  .text { white-space: pre-wrap; overflow-wrap: anywhere; }
  #empty { color: #9ca3af; padding: .4rem .5rem; }
  form { display: flex; gap: .5rem; margin-top: .75rem; }
  input { font: inherit; padding: .45rem .6rem; border: 1px solid #d1d5db; border-radius: .375rem; }
  #author { width: 9rem; }
  #text { flex: 1; }
  button { font: inherit; padding: .45rem 1rem; border: 0; border-radius: .375rem; background: #2563eb; color: #fff; cursor: pointer; }
  button:disabled { background: #93c5fd; }
  #error { color: #b91c1c; font-size: .85rem; min-height: 1.2rem; margin: .3rem 0 0; }
</style>
</head>
<body>
<main>
<h1>#{room}</h1>
<p class="sub">Broadcast over Server-Sent Events &middot; <span id="state" class="connecting">connecting</span></p>
<ul id="messages"><li id="empty">No messages yet.</li></ul>
<form id="send-form" autocomplete="off">
  <input id="author" name="author" placeholder="Your name" maxlength="100" required>
  <input id="text" name="text" placeholder="Message" required>
  <button id="send" type="submit">Send</button>
</form>
<p id="error"></p>
</main>
<script>
  // The ids of the messages shown, in order (a reset starts it over): the browser test reads it.
  window.seenIds = [];
  const ROOM = '{room}';
  const list = document.getElementById('messages');
  const state = document.getElementById('state');
  const failure = document.getElementById('error');
  const form = document.getElementById('send-form');
  const author = document.getElementById('author');
  const text = document.getElementById('text');
  const send = document.getElementById('send');
  author.value = localStorage.getItem('chat-author') || '';
  function setState(name) { state.textContent = name; state.className = name; }

  function clear() {
    window.seenIds = [];
    list.replaceChildren();
  }

  // User text goes in with textContent only, never as HTML.
  function show(id, message) {
    document.getElementById('empty')?.remove();
    const item = document.createElement('li');
    item.dataset.id = id;
    const who = document.createElement('span');
    who.className = 'author';
    who.textContent = message.author;
    const when = document.createElement('span');
    when.className = 'time';
    when.textContent = message.at ? new Date(message.at).toLocaleTimeString() : '';
    const what = document.createElement('span');
    what.className = 'text';
    what.textContent = message.text;
    item.append(when, who, what);
    const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
    list.appendChild(item);
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  const source = new EventSource('/rooms/{room}/messages');
  source.onopen = () => setState('open');
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) setState('closed');
    else if (state.className !== 'unavailable') setState('reconnecting');
  };
  source.addEventListener('message', (event) => {
    window.seenIds.push(event.lastEventId);
    show(event.lastEventId, JSON.parse(event.data));
  });
  // The history no longer reaches back to what this page saw: the server replays what it
  // still has, so start the list over.
  source.addEventListener('reset', clear);
  // The server cannot reach its store; the stream ends and the browser retries by itself.
  source.addEventListener('unavailable', () => setState('unavailable'));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    failure.textContent = '';
    send.disabled = true;
    try {
      const response = await fetch('/rooms/{room}/messages', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ author: author.value, text: text.value }),
      });
      if (response.status === 201) {
        localStorage.setItem('chat-author', author.value);
        text.value = '';
        text.focus();
      } else {
        const body = await response.json().catch(() => ({}));
        failure.textContent = body.error || ('error ' + response.status);
      }
    } catch (e) {
      failure.textContent = 'could not send: ' + e;
    } finally {
      send.disabled = false;
    }
  });
</script>
</body>
</html>
"#;

#[allow(dead_code)] // the tests include this file for the controller alone
#[tokio::main]
async fn main() -> std::io::Result<()> {
    let history = std::env::var("CHAT_HISTORY")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let config = HubConfig::default().history_events(history);
    let hub = match std::env::var("REDIS_URL") {
        Ok(url) => Hub::redis(&url, config).map_err(|e| {
            std::io::Error::other(format!("REDIS_URL={url} is not a Redis URL: {e}"))
        })?,
        Err(_) => Hub::memory(config),
    };
    let routes = RouteTable::new().controller::<ChatController>();
    let controller = ChatController { hub };
    common::serve("chat", "/rooms/lobby", controller.into_router(), routes).await
}
