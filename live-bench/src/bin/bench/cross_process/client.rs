//! The client child of the cross-process mode: `bench client <port> <events>`.
//!
//! One current-thread tokio runtime and ONE raw `TcpStream` to `127.0.0.1:<port>`. On it, the
//! client reads `GET /stream` twice: an untimed warm-up, then the measured stream. It checks
//! the `200`, a chunked body and `text/event-stream`, then decodes the chunked framing and
//! the SSE events as bytes arrive: each event must be `event: tick`, `id: <i>` and
//! `data: {"i":<i>}`, with `i` = 0, 1, 2, ... and none missing, repeated or out of order, and
//! the body must end after `events` of them.
//!
//! Protocol with the parent, by lines: after the warm-up the client prints `ready` and waits
//! for `go` on its stdin; it then sends the request, reads the stream to its end, and prints
//! one line of JSON, a [`Report`].

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use live_bench::BoxResult;
use live_bench::chunked::Chunked;

/// What one stream measured.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Report {
    /// Events received, all checked.
    pub events: u64,
    /// Bytes of the decoded body.
    pub body_bytes: u64,
    /// HTTP/1 chunks: about one per body frame the server sent.
    pub chunks: u64,
    /// `read` calls that returned data.
    pub reads: u64,
    /// From writing the request to the end of the body.
    pub wall_ns: u64,
}

const REQUEST: &[u8] =
    b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";

pub fn run(args: &[String]) -> BoxResult<()> {
    let [port, events] = args else {
        return Err("usage: bench client <port> <events>".into());
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port.parse()?));
    let events: u64 = events.parse()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut conn = rt.block_on(TcpStream::connect(addr))?;
    rt.block_on(read_stream(&mut conn, &mut buf, events))?;
    say("ready")?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    if line.trim() != "go" {
        return Err(format!("expected `go`, got {line:?}").into());
    }
    let report = rt.block_on(read_stream(&mut conn, &mut buf, events))?;
    say(&serde_json::to_string(&report)?)
}

fn say(line: &str) -> BoxResult<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

/// One request on `conn`, read to the end of its body.
async fn read_stream(conn: &mut TcpStream, buf: &mut [u8], events: u64) -> BoxResult<Report> {
    let start = Instant::now();
    conn.write_all(REQUEST).await?;
    let mut decoder = Decoder::new(events);
    let mut reads = 0;
    while !decoder.is_done() {
        let n = conn.read(buf).await?;
        if n == 0 {
            return Err("the connection closed before the end of the body".into());
        }
        reads += 1;
        decoder.push(&buf[..n])?;
    }
    let wall = start.elapsed();
    decoder.finish()?;
    Ok(Report {
        events: decoder.events.next,
        body_bytes: decoder.chunked.body_bytes,
        chunks: decoder.chunked.chunks,
        reads,
        wall_ns: u64::try_from(wall.as_nanos()).unwrap_or(u64::MAX),
    })
}

/// Decodes one response: its head, its chunked body, and the SSE events in it, incrementally.
struct Decoder {
    /// The response head so far; `None` once it has been read.
    head: Option<Vec<u8>>,
    chunked: Chunked,
    /// Decoded body bytes not yet parsed as events: at most one partial event.
    body: Vec<u8>,
    events: Events,
}

impl Decoder {
    fn new(expected: u64) -> Self {
        Decoder {
            head: Some(Vec::with_capacity(512)),
            chunked: Chunked::default(),
            body: Vec::with_capacity(64 * 1024),
            events: Events { expected, next: 0 },
        }
    }

    fn is_done(&self) -> bool {
        self.chunked.is_done()
    }

    /// Decodes the bytes of one `read`.
    fn push(&mut self, input: &[u8]) -> BoxResult<()> {
        let Some(head) = &mut self.head else {
            return self.push_body(input);
        };
        head.extend_from_slice(input);
        let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
            if head.len() > 16 * 1024 {
                return Err("response head too long".into());
            }
            return Ok(());
        };
        let head = self.head.take().unwrap_or_default();
        let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
        if !text.starts_with("http/1.1 200") {
            let status = text.lines().next().unwrap_or_default();
            return Err(format!("/stream: {status}").into());
        }
        for needed in [
            "transfer-encoding: chunked",
            "content-type: text/event-stream",
        ] {
            if !text.contains(needed) {
                return Err(format!("/stream: no `{needed}` in the response head").into());
            }
        }
        self.push_body(&head[end + 4..])
    }

    fn push_body(&mut self, input: &[u8]) -> BoxResult<()> {
        self.chunked.push(input, &mut self.body)?;
        let parsed = self.events.parse(&self.body)?;
        self.body.drain(..parsed);
        Ok(())
    }

    /// The body is over: every event must have come, whole.
    fn finish(&self) -> BoxResult<()> {
        if !self.body.is_empty() {
            return Err(format!("the body ended inside an event: {:?}", self.body).into());
        }
        if self.events.next != self.events.expected {
            return Err(format!(
                "the body ended after {} events of {}",
                self.events.next, self.events.expected
            )
            .into());
        }
        Ok(())
    }
}

/// The SSE parser and checker.
struct Events {
    expected: u64,
    /// The `i` the next event must carry.
    next: u64,
}

impl Events {
    /// Parses and checks the complete events at the start of `body`; returns the bytes they
    /// took. A partial event is left for the next call.
    fn parse(&mut self, body: &[u8]) -> BoxResult<usize> {
        let mut parsed = 0;
        'events: loop {
            let mut at = parsed;
            let mut fields = Fields::default();
            loop {
                let Some(len) = body[at..].iter().position(|&b| b == b'\n') else {
                    break 'events;
                };
                let line = &body[at..at + len];
                at += len + 1;
                if line.is_empty() {
                    break;
                }
                fields.line(line)?;
            }
            parsed = at;
            if fields.is_comment_only() {
                // A keep-alive, or a blank line: no event.
                continue;
            }
            self.check(&fields)?;
            self.next += 1;
        }
        Ok(parsed)
    }

    fn check(&self, fields: &Fields<'_>) -> BoxResult<()> {
        let i = self.next;
        if i >= self.expected {
            return Err(format!("more than the {} events expected", self.expected).into());
        }
        if fields.event != Some(b"tick") {
            return Err(format!("event {i}: `event` is {:?}", fields.event.map(lossy)).into());
        }
        if fields.id.and_then(decimal) != Some(i) {
            return Err(format!("event {i}: `id` is {:?}", fields.id.map(lossy)).into());
        }
        let data = fields
            .data
            .and_then(|d| d.strip_prefix(b"{\"i\":"))
            .and_then(|d| d.strip_suffix(b"}"))
            .and_then(decimal);
        if data != Some(i) {
            return Err(format!("event {i}: `data` is {:?}", fields.data.map(lossy)).into());
        }
        Ok(())
    }
}

/// The fields of one event, as the SSE spec reads a line: `name: value` (one space after the
/// colon dropped), `:` a comment. Fields other than `event`, `id` and `data`, or a second
/// `data` line, are errors here: the servers must send exactly the expected bytes.
#[derive(Default)]
struct Fields<'a> {
    event: Option<&'a [u8]>,
    id: Option<&'a [u8]>,
    data: Option<&'a [u8]>,
}

impl<'a> Fields<'a> {
    fn line(&mut self, line: &'a [u8]) -> BoxResult<()> {
        if line.starts_with(b":") {
            return Ok(());
        }
        let colon = line.iter().position(|&b| b == b':').unwrap_or(line.len());
        let (name, value) = line.split_at(colon);
        let value = value.strip_prefix(b":").unwrap_or(value);
        let value = value.strip_prefix(b" ").unwrap_or(value);
        let slot = match name {
            b"event" => &mut self.event,
            b"id" => &mut self.id,
            b"data" => &mut self.data,
            _ => return Err(format!("unexpected line {:?}", lossy(line)).into()),
        };
        if slot.replace(value).is_some() {
            return Err(format!("repeated field in line {:?}", lossy(line)).into());
        }
        Ok(())
    }

    fn is_comment_only(&self) -> bool {
        self.event.is_none() && self.id.is_none() && self.data.is_none()
    }
}

/// A decimal `u64` with no sign, no leading zero and nothing else.
fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        d.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
            .flatten()
    })
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
