//! A test client for live controllers: requests go through the app's axum `Router`
//! in-process, on exactly the production path (spawned action, copied task-locals, close
//! guard, bounded buffer), with no socket. Bodies are read incrementally, SSE is parsed, a
//! stream can be dropped mid-way, and every read has a timeout, so a stream that never ends
//! fails the test with a clear message instead of hanging it. Under `tokio::time::pause()`
//! the timeouts are virtual: an action that sleeps a second between events runs instantly.
//!
//! Enabled by the `test-util` feature.
//!
//! ```
//! use live_runtime::prelude::*;
//! use live_runtime::test_client::TestClient;
//!
//! pub struct TicksController;
//!
//! #[live_controller]
//! impl TicksController {
//!     pub async fn index(&self, live: Live) -> live_runtime::Result {
//!         let mut sse = live.sse(SseOptions::new());
//!         for n in 0..3 {
//!             tokio::time::sleep(std::time::Duration::from_secs(1)).await;
//!             sse.write_with(n, Event::id(n)).await?;
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), live_runtime::test_client::TestError> {
//! let client = TestClient::new(TicksController.into_router());
//! let mut response = client.get("/ticks").send().await?;     // as soon as it commits
//! assert_eq!(response.header("content-type"), Some("text/event-stream"));
//! let first = response.next_event().await?.expect("an event");
//! assert_eq!((first.id.as_deref(), first.data.as_str()), (Some("0"), "0"));
//! assert_eq!(response.events().await?.len(), 2);               // the rest, to the end
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde::Serialize;
use tower::ServiceExt;

use crate::sse::parse::{EventParser, Item, ParsedEvent};

/// How long a read may wait before the test fails, unless set with
/// [`RequestBuilder::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a test client call failed. Its message says what was waited for and how long.
#[derive(Debug)]
pub struct TestError(String);

impl fmt::Display for TestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TestError {}

/// Sends requests to a router in-process.
#[derive(Debug, Clone)]
pub struct TestClient {
    router: Router,
}

impl TestClient {
    /// A client of `router` (a controller's `into_router()`, or a whole app).
    pub fn new(router: Router) -> Self {
        TestClient { router }
    }

    /// A request with any method.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        RequestBuilder {
            router: self.router.clone(),
            method,
            path: path.to_owned(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Body::empty(),
            timeout: DEFAULT_TIMEOUT,
            error: None,
        }
    }

    /// A `GET` request.
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    /// A `POST` request.
    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    /// A `PUT` request.
    pub fn put(&self, path: &str) -> RequestBuilder {
        self.request(Method::PUT, path)
    }

    /// A `PATCH` request.
    pub fn patch(&self, path: &str) -> RequestBuilder {
        self.request(Method::PATCH, path)
    }

    /// A `DELETE` request.
    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.request(Method::DELETE, path)
    }
}

/// A request being built; [`send`](Self::send) it.
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder {
    router: Router,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Body,
    timeout: Duration,
    error: Option<String>,
}

impl RequestBuilder {
    /// Adds a header; an invalid name or value makes [`send`](Self::send) fail.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(name), Ok(value)) => {
                self.headers.append(name, value);
            }
            _ => self.error = Some(format!("invalid header {name}: {value:?}")),
        }
        self
    }

    /// Adds query parameters, percent-encoded.
    pub fn query<T: Serialize + ?Sized>(mut self, query: &T) -> Self {
        match serde_urlencoded::to_string(query) {
            Ok(encoded) => self.query.extend(
                serde_urlencoded::from_str::<Vec<(String, String)>>(&encoded).unwrap_or_default(),
            ),
            Err(error) => self.error = Some(format!("query does not encode: {error}")),
        }
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets a JSON body and `Content-Type: application/json`.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(bytes) => {
                self.body = bytes.into();
                self.headers.insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
            Err(error) => self.error = Some(format!("body does not serialize: {error}")),
        }
        self
    }

    /// How long each wait of this request and its response may take (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends the request; returns as soon as the response is committed (status and headers),
    /// while a live action may still be writing the body.
    pub async fn send(self) -> Result<TestResponse, TestError> {
        if let Some(error) = self.error {
            return Err(TestError(error));
        }
        let mut uri = self.path.clone();
        if !self.query.is_empty() {
            uri.push(if uri.contains('?') { '&' } else { '?' });
            uri.push_str(&serde_urlencoded::to_string(&self.query).unwrap_or_default());
        }
        let mut request = Request::builder()
            .method(self.method.clone())
            .uri(&uri)
            .body(self.body)
            .map_err(|e| TestError(format!("invalid request {} {uri}: {e}", self.method)))?;
        *request.headers_mut() = self.headers;
        let what = format!("{} {uri}", self.method);
        let response = tokio::time::timeout(self.timeout, self.router.oneshot(request))
            .await
            .map_err(|_| {
                TestError(format!(
                    "{what}: no response within {:?} (the action never wrote, closed or returned)",
                    self.timeout
                ))
            })?
            .unwrap_or_else(|never| match never {});
        let (parts, body) = response.into_parts();
        Ok(TestResponse {
            what,
            status: parts.status,
            headers: parts.headers,
            body: Some(body),
            timeout: self.timeout,
            parser: EventParser::new(),
            pending: VecDeque::new(),
        })
    }
}

/// A response whose body is read as it arrives.
pub struct TestResponse {
    what: String,
    status: StatusCode,
    headers: HeaderMap,
    /// `None` once the body has ended.
    body: Option<Body>,
    timeout: Duration,
    parser: EventParser,
    pending: VecDeque<Item>,
}

impl TestResponse {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A header as text, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The next body chunk as the server sent it (one frame; queued writes may arrive
    /// together), or `None` at the end of the body.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, TestError> {
        loop {
            let Some(body) = &mut self.body else {
                return Ok(None);
            };
            let frame = tokio::time::timeout(self.timeout, body.frame())
                .await
                .map_err(|_| {
                    TestError(format!(
                        "{}: no data within {:?}; the stream is still open",
                        self.what, self.timeout
                    ))
                })?;
            match frame {
                None => {
                    self.body = None;
                    return Ok(None);
                }
                Some(Err(error)) => {
                    self.body = None;
                    return Err(TestError(format!(
                        "{}: the body failed: {error}",
                        self.what
                    )));
                }
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        return Ok(Some(data));
                    }
                }
            }
        }
    }

    /// The rest of the body, to its end.
    pub async fn bytes(&mut self) -> Result<Bytes, TestError> {
        let mut all = BytesMut::new();
        while let Some(chunk) = self.next_chunk().await? {
            all.extend_from_slice(&chunk);
        }
        Ok(all.freeze())
    }

    /// The rest of the body as text, to its end.
    pub async fn text(&mut self) -> Result<String, TestError> {
        let bytes = self.bytes().await?;
        String::from_utf8(bytes.to_vec())
            .map_err(|e| TestError(format!("{}: the body is not UTF-8: {e}", self.what)))
    }

    /// The rest of the body parsed as JSON.
    ///
    /// # Errors
    /// Those of [`bytes`](Self::bytes), and a body that is not JSON of type `T` (the error
    /// names the request and serde's reason).
    pub async fn json<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, TestError> {
        let bytes = self.bytes().await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            TestError(format!(
                "{}: the body is not the JSON expected: {e}",
                self.what
            ))
        })
    }

    /// The next SSE event (comments are skipped), or `None` at the end of the body. Parsed
    /// as a browser would, by [`EventParser`].
    pub async fn next_event(&mut self) -> Result<Option<ParsedEvent>, TestError> {
        loop {
            while let Some(item) = self.pending.pop_front() {
                if let Item::Event(event) = item {
                    return Ok(Some(event));
                }
            }
            match self.next_chunk().await? {
                Some(chunk) => self.pending.extend(self.parser.push(&chunk)),
                None => return Ok(None),
            }
        }
    }

    /// The next SSE comment (a keep-alive, say), or `None` at the end of the body. Events
    /// before it are skipped.
    pub async fn next_comment(&mut self) -> Result<Option<String>, TestError> {
        loop {
            while let Some(item) = self.pending.pop_front() {
                if let Item::Comment(comment) = item {
                    return Ok(Some(comment));
                }
            }
            match self.next_chunk().await? {
                Some(chunk) => self.pending.extend(self.parser.push(&chunk)),
                None => return Ok(None),
            }
        }
    }

    /// The remaining SSE events, to the end of the body.
    pub async fn events(&mut self) -> Result<Vec<ParsedEvent>, TestError> {
        let mut events = Vec::new();
        while let Some(event) = self.next_event().await? {
            events.push(event);
        }
        Ok(events)
    }

    /// The remaining SSE events as an async stream, which ends with the body, or after its
    /// first error (a timeout, a failed body).
    pub fn event_stream(self) -> impl futures_util::Stream<Item = Result<ParsedEvent, TestError>> {
        futures_util::stream::unfold(Some(self), |response| async move {
            let mut response = response?;
            match response.next_event().await {
                Ok(Some(event)) => Some((Ok(event), Some(response))),
                Ok(None) => None,
                // After a timeout the body is still open: reading on would time out again,
                // forever, where a test collecting the stream needs it to end.
                Err(error) => Some((Err(error), None)),
            }
        })
    }

    /// Hangs up mid-stream, as a client that goes away: the action's writes fail with
    /// `ClientDisconnected` and its `disconnected()` resolves.
    pub fn disconnect(self) {
        drop(self);
    }
}

impl fmt::Debug for TestResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestResponse")
            .field("request", &self.what)
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("ended", &self.body.is_none())
            .finish_non_exhaustive()
    }
}
