//! Property tests of the SSE encoder against the WHATWG parser: whatever the payload and the
//! (valid) fields, a client gets back exactly what was sent, and no input can make a field
//! appear that was not asked for. Two parsers judge: the crate's own, and the
//! `eventsource-stream` crate, written by others, so that a misreading of the spec shared by
//! our encoder and our parser cannot pass.

use std::time::Duration;

use live_runtime::ErrorKind;
use live_runtime::sse::parse::{EventParser, Item};
use live_runtime::sse::{Event, LastEventId, event_bytes};
use proptest::prelude::*;

/// What a client sees of a payload: its line breaks, whichever they were, as `\n`.
fn normalized(payload: &str) -> String {
    payload.replace("\r\n", "\n").replace('\r', "\n")
}

fn parse_all(bytes: &[u8]) -> Vec<Item> {
    EventParser::new().push(bytes)
}

/// The events the independent parser reads from `pieces`, sent one after the other.
fn judged(pieces: &[&[u8]]) -> Vec<eventsource_stream::Event> {
    use eventsource_stream::Eventsource;
    use futures_util::{FutureExt, StreamExt};
    let pieces: Vec<Result<Vec<u8>, std::convert::Infallible>> =
        pieces.iter().map(|piece| Ok(piece.to_vec())).collect();
    futures_util::stream::iter(pieces)
        .eventsource()
        .map(|event| event.expect("the independent parser accepts the stream"))
        .collect()
        // Its input is always ready, so the parse completes in one poll.
        .now_or_never()
        .expect("parsed without waiting")
}

/// A field value that is valid: no line break, no NUL.
fn field() -> impl Strategy<Value = String> {
    "[^\r\n\0]{0,20}"
}

/// An id that is valid: one a `Last-Event-ID` header carries back intact (no control
/// character, no space at either end), any other character included.
fn id_field() -> impl Strategy<Value = String> {
    "([^\x00-\x20\x7f]([^\x00-\x1f\x7f]{0,18}[^\x00-\x20\x7f])?)?"
}

/// What `LastEventId<String>` makes of a `Last-Event-ID` header.
fn extracted(header: http::HeaderValue) -> Result<Option<String>, u16> {
    use axum::extract::FromRequestParts;
    let (mut parts, ()) = http::Request::builder()
        .header("last-event-id", header)
        .body(())
        .unwrap()
        .into_parts();
    let extract = LastEventId::<String>::from_request_parts(&mut parts, &());
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(extract)
        .map(LastEventId::into_inner)
        .map_err(|rejection| rejection.status().as_u16())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn text_payloads_round_trip(
        payload in any::<String>(),
        event in proptest::option::of(field()),
        id in proptest::option::of(id_field()),
        retry in proptest::option::of(0u64..10_000_000),
    ) {
        let mut fields = Event::new();
        if let Some(event) = &event { fields = fields.event(event.as_str()); }
        if let Some(id) = &id { fields = fields.with_id(id); }
        if let Some(retry) = retry { fields = fields.retry(Duration::from_millis(retry)); }
        let bytes = event_bytes(payload.as_str(), &fields).unwrap();
        let items = parse_all(&bytes);
        prop_assert_eq!(items.len(), 1, "{:?}", String::from_utf8_lossy(&bytes));
        let Item::Event(parsed) = &items[0] else { panic!("not an event: {items:?}") };
        prop_assert_eq!(&parsed.data, &normalized(&payload));
        let expected_type = match event.as_deref() { None | Some("") => "message", Some(e) => e };
        prop_assert_eq!(parsed.event.as_str(), expected_type);
        prop_assert_eq!(&parsed.id, &id);
        prop_assert_eq!(parsed.retry, retry);

        let judged = judged(&[&bytes]);
        prop_assert_eq!(judged.len(), 1, "{:?}", String::from_utf8_lossy(&bytes));
        prop_assert_eq!(&judged[0].data, &normalized(&payload));
        prop_assert_eq!(judged[0].event.as_str(), expected_type);
        prop_assert_eq!(judged[0].id.as_str(), id.as_deref().unwrap_or(""));
        prop_assert_eq!(judged[0].retry, retry.map(Duration::from_millis));
    }

    #[test]
    fn json_payloads_round_trip(value in json_value()) {
        let bytes = event_bytes(&value, &Event::new()).unwrap();
        let items = parse_all(&bytes);
        prop_assert_eq!(items.len(), 1);
        let Item::Event(parsed) = &items[0] else { panic!() };
        let judged = judged(&[&bytes]);
        prop_assert_eq!(judged.len(), 1);
        prop_assert_eq!(&judged[0].data, &parsed.data);
        let back = match &value {
            // A JSON string is a string payload: sent as text.
            serde_json::Value::String(s) => { prop_assert_eq!(&parsed.data, &normalized(s)); return Ok(()); }
            _ => serde_json::from_str::<serde_json::Value>(&parsed.data).unwrap(),
        };
        prop_assert_eq!(back, value);
    }

    /// Fields with a line break or NUL are refused, never sent.
    #[test]
    fn invalid_fields_are_errors(prefix in field(), bad in "[\r\n\0]", suffix in field(), in_id: bool) {
        let value = format!("{prefix}{bad}{suffix}");
        let fields = if in_id { Event::id(&value) } else { Event::new().event(value) };
        let error = event_bytes("payload", &fields).unwrap_err();
        prop_assert_eq!(error.kind(), ErrorKind::InvalidEvent);
    }

    /// The writer and `LastEventId` agree: an id the writer sends comes back from the header a
    /// browser makes of it (the id's UTF-8 bytes), and one it refuses is one HTTP would refuse
    /// or trim.
    #[test]
    fn ids_survive_last_event_id(id in any::<String>()) {
        match event_bytes("x", &Event::id(&id)) {
            Ok(_) => {
                let header = http::HeaderValue::from_bytes(id.as_bytes());
                prop_assert!(header.is_ok(), "not a header value: {id:?}");
                prop_assert_eq!(id.trim_matches(' '), &id, "HTTP trims it");
                let back = extracted(header.unwrap());
                prop_assert_eq!(back, Ok((!id.is_empty()).then_some(id)));
            }
            Err(error) => {
                prop_assert_eq!(error.kind(), ErrorKind::InvalidEvent);
                // Tabs are refused too, to keep the rule short.
                let header_would_change = http::HeaderValue::from_bytes(id.as_bytes()).is_err()
                    || id.trim_matches(' ') != id
                    || id.contains('\t');
                prop_assert!(header_would_change, "refused an id a header carries: {id:?}");
            }
        }
    }

    /// Several events in a row, cut into arbitrary chunks, parse to the same events.
    #[test]
    fn any_chunking_gives_the_same_events(payloads in proptest::collection::vec(any::<String>(), 1..5), cut in any::<prop::sample::Index>()) {
        let mut stream = Vec::new();
        for (n, payload) in payloads.iter().enumerate() {
            stream.extend_from_slice(&event_bytes(payload.as_str(), &Event::id(n)).unwrap());
        }
        let whole = parse_all(&stream);
        let at = cut.index(stream.len() + 1);
        let mut parser = EventParser::new();
        let mut pieces = parser.push(&stream[..at]);
        pieces.extend(parser.push(&stream[at..]));
        prop_assert_eq!(&pieces, &whole);
        prop_assert_eq!(whole.len(), payloads.len());
        let judged = judged(&[&stream[..at], &stream[at..]]);
        let data: Vec<String> = judged.into_iter().map(|event| event.data).collect();
        let expected: Vec<String> = payloads.iter().map(|payload| normalized(payload)).collect();
        prop_assert_eq!(data, expected);
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
