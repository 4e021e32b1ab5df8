//! What each fuzz target checks, one function per target taking the raw input bytes. Shared
//! by the targets in `fuzz_targets/` (cargo-fuzz, the long run) and by
//! `live-runtime/tests/fuzz_corpus.rs`, which replays the corpus in every stable `cargo test`:
//! one definition of each property, so CI checks what the fuzzer checks.

use std::str::FromStr;
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use axum::extract::FromRequestParts;
use futures_util::FutureExt;
use http::{HeaderValue, StatusCode};
use live_runtime::ErrorKind;
use live_runtime::broadcast::EventId;
use live_runtime::send_stream::Download;
use live_runtime::sse::parse::{EventParser, Item};
use live_runtime::sse::{Event, LastEventId, event_bytes};

/// A property, checked on one input; it panics if the input breaks it.
pub type Property = fn(&[u8]);

/// Every target, by the name of its corpus directory and of its cargo-fuzz binary.
pub const TARGETS: [(&str, Property); 4] = [
    ("sse_encode", sse_encode),
    ("sse_parse", sse_parse),
    ("content_disposition", content_disposition),
    ("last_event_id", last_event_id),
];

/// The input of [`sse_encode`], decoded from the bytes as libfuzzer-sys decodes a typed
/// target's input (`arbitrary_take_rest`).
#[derive(Debug, Arbitrary)]
struct EncodeInput {
    payload: String,
    event: Option<String>,
    id: Option<String>,
    retry: Option<u32>,
}

/// The SSE encoder: for any payload and fields, either the fields are refused (a line break
/// or NUL in `event` or `id`), or a WHATWG parser gets back exactly one event with exactly the
/// payload and fields asked for, and no line that was not asked for.
pub fn sse_encode(data: &[u8]) {
    let Ok(input) = EncodeInput::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let mut fields = Event::new();
    if let Some(event) = &input.event {
        fields = fields.event(event.as_str());
    }
    if let Some(id) = &input.id {
        fields = fields.with_id(id);
    }
    if let Some(retry) = input.retry {
        fields = fields.retry(Duration::from_millis(retry.into()));
    }
    let refused = (input.event.as_deref()).is_some_and(|event| event.contains(['\r', '\n', '\0']))
        || input.id.as_deref().is_some_and(id_refused);
    let bytes = match event_bytes(input.payload.as_str(), &fields) {
        Ok(bytes) => bytes,
        Err(error) => {
            assert!(refused, "refused valid fields: {error}");
            assert_eq!(error.kind(), ErrorKind::InvalidEvent);
            return;
        }
    };
    assert!(!refused, "accepted a field with a line break or NUL");

    // Every line is one the encoder was asked for: each field at most once, then data lines.
    let text = std::str::from_utf8(&bytes).expect("the encoder writes UTF-8");
    let body = text
        .strip_suffix("\n\n")
        .expect("an event ends with a blank line");
    let mut seen = (0, 0, 0);
    for line in body.split('\n') {
        assert!(
            !line.contains('\r'),
            "a carriage return inside a line: {line:?}"
        );
        if line.starts_with("retry: ") {
            seen.0 += 1;
        } else if line.starts_with("event: ") {
            seen.1 += 1;
        } else if line.starts_with("id: ") {
            seen.2 += 1;
        } else {
            assert!(
                line.starts_with("data: "),
                "a line that is no field asked for: {line:?}"
            );
        }
    }
    let asked = |present: bool| usize::from(present);
    assert_eq!(seen.0, asked(input.retry.is_some()));
    assert_eq!(seen.1, asked(input.event.is_some()));
    assert_eq!(seen.2, asked(input.id.is_some()));

    // What a browser makes of it: the payload (line breaks as `\n`) and the fields.
    let items = EventParser::new().push(&bytes);
    let [Item::Event(event)] = items.as_slice() else {
        panic!("not exactly one event: {items:?}");
    };
    let normalized = input.payload.replace("\r\n", "\n").replace('\r', "\n");
    assert_eq!(event.data, normalized);
    let expected_type = match input.event.as_deref() {
        None | Some("") => "message",
        Some(name) => name,
    };
    assert_eq!(event.event, expected_type);
    assert_eq!(event.id, input.id);
    assert_eq!(event.retry, input.retry.map(u64::from));
}

/// The SSE parser, on any bytes (the first byte picks where the stream is cut in two): the
/// same items whatever the chunking; no line break in what it dispatches, no NUL in an id;
/// and every event it dispatches, encoded again by live's encoder, parses back the same (an
/// event type with a NUL, which the encoder refuses, excepted).
pub fn sse_parse(data: &[u8]) {
    let Some((&cut, stream)) = data.split_first() else {
        return;
    };
    let whole = EventParser::new().push(stream);
    let at = usize::from(cut) * stream.len() / 255;
    let mut parser = EventParser::new();
    let mut chunked = parser.push(&stream[..at]);
    chunked.extend(parser.push(&stream[at..]));
    assert_eq!(chunked, whole, "cut at {at}");

    for item in whole {
        let event = match item {
            Item::Comment(text) => {
                assert!(!text.contains(['\r', '\n']), "comment {text:?}");
                continue;
            }
            Item::Event(event) => event,
        };
        assert!(!event.event.is_empty() && !event.event.contains(['\r', '\n']));
        assert!(!event.data.contains('\r'), "data {:?}", event.data);
        for id in event.id.iter().chain([&event.last_event_id]) {
            assert!(!id.contains(['\r', '\n', '\0']), "id {id:?}");
        }
        let mut fields = Event::new().event(event.event.as_str());
        if let Some(id) = &event.id {
            fields = fields.with_id(id);
        }
        if let Some(retry) = event.retry {
            fields = fields.retry(Duration::from_millis(retry));
        }
        let bytes = match event_bytes(event.data.as_str(), &fields) {
            Ok(bytes) => bytes,
            Err(error) => {
                let id_refused = event.id.as_deref().is_some_and(id_refused);
                assert!(
                    event.event.contains('\0') || id_refused,
                    "refused {event:?}: {error}"
                );
                continue;
            }
        };
        let again = EventParser::new().push(&bytes);
        let [Item::Event(back)] = again.as_slice() else {
            panic!("{event:?} encoded as {bytes:?} parses as {again:?}");
        };
        assert_eq!(
            (&back.event, &back.data, &back.id, back.retry),
            (&event.event, &event.data, &event.id, event.retry)
        );
    }
}

/// `Content-Disposition` of a download (the first byte's low bit: inline; the rest, lossily
/// UTF-8: the filename): always a valid header of visible ASCII, in Rails' shape, whose
/// ASCII fallback name cannot break out of its quotes and whose RFC 5987 name decodes back
/// to the filename exactly.
pub fn content_disposition(data: &[u8]) {
    let Some((&flags, name)) = data.split_first() else {
        return;
    };
    let filename = String::from_utf8_lossy(name);
    let mut download = Download::new(filename.as_ref());
    let kind = if flags & 1 == 1 {
        download = download.inline();
        "inline"
    } else {
        "attachment"
    };
    let value = download.content_disposition();
    assert!(
        HeaderValue::from_str(&value).is_ok(),
        "not a header: {value:?}"
    );
    assert!(
        value.bytes().all(|b| (b' '..=b'~').contains(&b)),
        "{value:?}"
    );

    let rest = value
        .strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix("; filename=\""))
        .unwrap_or_else(|| panic!("not Rails' shape: {value:?}"));
    let (fallback, encoded) = rest
        .split_once("\"; filename*=UTF-8''")
        .unwrap_or_else(|| panic!("no RFC 5987 name: {value:?}"));
    assert!(
        !fallback.contains(['"', '\\', ';']),
        "fallback {fallback:?}"
    );
    assert!(
        encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~%".contains(&b)),
        "RFC 5987 name {encoded:?}"
    );
    assert_eq!(percent_decode(encoded), filename.as_bytes());
    if filename.is_ascii() {
        assert_eq!(percent_decode(fallback), filename.as_bytes());
    }
}

fn percent_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(byte) = bytes.next() {
        if byte == b'%' {
            let hex: String = bytes.by_ref().take(2).map(char::from).collect();
            out.push(u8::from_str_radix(&hex, 16).expect("two hex digits after %"));
        } else {
            out.push(byte);
        }
    }
    out
}

/// Whether the writer refuses an SSE `id`: one that would not come back intact as a
/// `Last-Event-ID` header (a control character, a space at either end) or that would break
/// the framing.
fn id_refused(id: &str) -> bool {
    id.contains(|c: char| c.is_ascii_control()) || id.starts_with(' ') || id.ends_with(' ')
}

/// The `Last-Event-ID` extractor, on any header value (bytes a header cannot hold are
/// refused by hyper before any extractor runs): missing or empty is `None`; otherwise exactly
/// what `T::from_str` makes of the text, or a `400` whose body quotes at most 64 bytes of
/// the value, escaped, on one line.
pub fn last_event_id(data: &[u8]) {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    // Ids are UTF-8 text (a browser sends back what the writer sent, non-ASCII included).
    let text = std::str::from_utf8(value.as_bytes()).ok();
    check_parsed::<u64>(&value, text, |_, _| true);
    check_parsed::<String>(&value, text, |id, text| id == text);
    // A broadcast id reads back what it writes (its own spelling: other spellings of the same
    // id, upper-case hex or leading zeros, are read too).
    check_parsed::<EventId>(&value, text, |id, _| id.to_string().parse() == Ok(*id));
}

/// Extracts `LastEventId<T>` from a request carrying `value`, and checks the outcome against
/// `T::from_str` on `text` (the value as visible ASCII, if it is); `same` checks more of a
/// parsed id against the text it came from.
fn check_parsed<T>(value: &HeaderValue, text: Option<&str>, same: impl Fn(&T, &str) -> bool)
where
    T: FromStr + Send + PartialEq + std::fmt::Debug,
    T::Err: std::fmt::Display,
{
    let (mut parts, ()) = http::Request::builder()
        .header("last-event-id", value.clone())
        .body(())
        .expect("a request")
        .into_parts();
    let extracted = LastEventId::<T>::from_request_parts(&mut parts, &())
        .now_or_never()
        .expect("the extractor never waits");
    match (text, extracted) {
        (Some(""), Ok(LastEventId(None))) => {}
        (Some(text), Ok(LastEventId(Some(id)))) => {
            assert_eq!(text.parse::<T>().ok().as_ref(), Some(&id), "{text:?}");
            assert!(same(&id, text), "{text:?} read as {id:?}");
        }
        (text, Err(response)) => {
            assert!(
                text.is_none_or(|text| !text.is_empty() && text.parse::<T>().is_err()),
                "refused {text:?}"
            );
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .now_or_never()
                .expect("a full body")
                .expect("a body");
            let body = std::str::from_utf8(&body).expect("a UTF-8 body");
            assert!(
                body.starts_with("invalid Last-Event-ID header: "),
                "{body:?}"
            );
            // 64 bytes escaped (at most 4 each, `\u{7f}` aside: visible ASCII only), plus the
            // parse error's own words.
            assert!(body.len() < 512, "{} bytes", body.len());
            assert!(!body.contains(['\r', '\n', '\0']), "{body:?}");
        }
        (text, Ok(id)) => panic!("{text:?} read as {id:?}"),
    }
}
