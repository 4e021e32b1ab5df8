//! Fuzzes the SSE encoder: for any payload and fields, either the fields are refused (a line
//! break or NUL in `event` or `id`), or a WHATWG parser gets back exactly one event with
//! exactly the payload and fields asked for, and no line that was not asked for.

#![no_main]

use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use live_runtime::ErrorKind;
use live_runtime::sse::parse::{EventParser, Item};
use live_runtime::sse::{Event, event_bytes};

#[derive(Debug, Arbitrary)]
struct Input {
    payload: String,
    event: Option<String>,
    id: Option<String>,
    retry: Option<u32>,
}

fuzz_target!(|input: Input| {
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
    let refused = [&input.event, &input.id]
        .into_iter()
        .flatten()
        .any(|value| value.contains(['\r', '\n', '\0']));
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
    let body = text.strip_suffix("\n\n").expect("an event ends with a blank line");
    let mut seen = (0, 0, 0);
    for line in body.split('\n') {
        assert!(!line.contains('\r'), "a carriage return inside a line: {line:?}");
        if line.starts_with("retry: ") {
            seen.0 += 1;
        } else if line.starts_with("event: ") {
            seen.1 += 1;
        } else if line.starts_with("id: ") {
            seen.2 += 1;
        } else {
            assert!(line.starts_with("data: "), "a line that is no field asked for: {line:?}");
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
});
