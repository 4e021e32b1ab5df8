//! The event-stream encoder: Rails' bytes (docs/rails-parity.md, L-24 to L-30), without its
//! framing bugs.

use std::fmt;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;
use serde::ser::{self, Impossible};

use crate::error::{Error, Result};

/// A field of an event: inherited from the writer's options, set, or explicitly left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Field<T> {
    #[default]
    Inherit,
    Set(T),
    Unset,
}

impl<T> Field<T> {
    /// This call's value over the writer's (Rails' `options.merge`, docs/rails-parity.md L-26).
    fn over<'a>(&'a self, default: &'a Field<T>) -> Option<&'a T> {
        match (self, default) {
            (Field::Set(value), _) | (Field::Inherit, Field::Set(value)) => Some(value),
            _ => None,
        }
    }
}

/// The fields of an event other than its data: `retry`, `event`, `id`.
///
/// Given to [`Sse::new`](super::Sse::new) they apply to every event; given to
/// [`Sse::write_with`](super::Sse::write_with) they apply to one, and override the writer's: a
/// field set here replaces the writer's, a field [unset](Event::no_event) here leaves the
/// writer's out (Rails' `event: nil`).
///
/// ```
/// use std::time::Duration;
/// use live_runtime::sse::Event;
///
/// let every = Event::new().retry(Duration::from_millis(300)).event("prices");
/// let this_one = Event::id(42).no_event();
/// # let _ = (every, this_one);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    pub(crate) retry: Field<u64>,
    pub(crate) event: Field<String>,
    pub(crate) id: Field<IdText>,
}

/// An event's `id` as text, kept inline when it is short (any number, a short key), so that
/// an id per event costs no allocation.
#[derive(Clone)]
pub(crate) enum IdText {
    Inline {
        len: u8,
        bytes: [u8; IdText::INLINE],
    },
    Heap(Box<str>),
}

impl IdText {
    /// Room for any `u64` or `i128` (at most 40 characters) with a short prefix.
    const INLINE: usize = 46;

    fn new(id: impl fmt::Display) -> Self {
        let mut inline = IdText::Inline {
            len: 0,
            bytes: [0; IdText::INLINE],
        };
        match fmt::write(&mut inline, format_args!("{id}")) {
            Ok(()) => inline,
            // Longer: `Display` runs again, into a `String`.
            Err(fmt::Error) => IdText::Heap(id.to_string().into()),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            IdText::Inline { len, bytes } => {
                // Filled by `write_str` only, whole `str`s at a time.
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            IdText::Heap(text) => text,
        }
    }
}

impl fmt::Write for IdText {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let IdText::Inline { len, bytes } = self else {
            return Err(fmt::Error);
        };
        let start = usize::from(*len);
        let end = start + text.len();
        let room = bytes.get_mut(start..end).ok_or(fmt::Error)?;
        room.copy_from_slice(text.as_bytes());
        *len = u8::try_from(end).map_err(|_| fmt::Error)?;
        Ok(())
    }
}

impl fmt::Debug for IdText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for IdText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for IdText {}

impl Event {
    /// No field set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only an `id`. Any `Display` value: a number, a string.
    pub fn id(id: impl fmt::Display) -> Self {
        Event::new().with_id(id)
    }

    /// Sets `id`. Any text a browser can send back intact as `Last-Event-ID` (see
    /// [`LastEventId`](super::LastEventId)), non-ASCII included; a control character (a
    /// newline, carriage return, NUL, tab…) or a leading or trailing space makes the write
    /// fail with [`ErrorKind::InvalidEvent`](crate::ErrorKind::InvalidEvent): a header cannot
    /// carry the first, and HTTP trims the second.
    #[must_use]
    pub fn with_id(mut self, id: impl fmt::Display) -> Self {
        self.id = Field::Set(IdText::new(id));
        self
    }

    /// Sets `event`, the event type. A newline, carriage return or NUL in it makes the write
    /// fail with [`ErrorKind::InvalidEvent`](crate::ErrorKind::InvalidEvent).
    #[must_use]
    pub fn event(mut self, event: impl Into<String>) -> Self {
        self.event = Field::Set(event.into());
        self
    }

    /// Sets `retry`, the client's reconnection delay, sent in whole milliseconds.
    #[must_use]
    pub fn retry(mut self, retry: Duration) -> Self {
        self.retry = Field::Set(u64::try_from(retry.as_millis()).unwrap_or(u64::MAX));
        self
    }

    /// Leaves out the writer's `id` for this event.
    #[must_use]
    pub fn no_id(mut self) -> Self {
        self.id = Field::Unset;
        self
    }

    /// Leaves out the writer's `event` for this event.
    #[must_use]
    pub fn no_event(mut self) -> Self {
        self.event = Field::Unset;
        self
    }

    /// Leaves out the writer's `retry` for this event.
    #[must_use]
    pub fn no_retry(mut self) -> Self {
        self.retry = Field::Unset;
        self
    }
}

/// How JSON payloads are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum JsonEscape {
    #[default]
    Plain,
    /// Rails' `escape_html_entities_in_json`: `<`, `>`, `&`, U+2028 and U+2029 as `\uXXXX`.
    Html,
}

/// Writes one event into `buf`: `retry:`, `event:`, `id:` (each if present, in that order),
/// the payload as `data:` lines, and the blank line. Nothing is written if it fails.
pub(crate) fn encode<T: Serialize + ?Sized>(
    buf: &mut BytesMut,
    payload: &T,
    event: &Event,
    defaults: &Event,
    escape: JsonEscape,
) -> Result {
    let start = buf.len();
    let result =
        encode_fields(buf, event, defaults).and_then(|()| encode_data(buf, payload, escape));
    if result.is_err() {
        buf.truncate(start);
    }
    result
}

fn encode_fields(buf: &mut BytesMut, event: &Event, defaults: &Event) -> Result {
    if let Some(retry) = event.retry.over(&defaults.retry) {
        retry_line(buf, *retry);
    }
    for (name, value) in [
        (
            "event",
            event.event.over(&defaults.event).map(String::as_str),
        ),
        ("id", event.id.over(&defaults.id).map(IdText::as_str)),
    ] {
        if let Some(value) = value {
            if value.contains(['\n', '\r', '\0']) {
                return Err(Error::invalid_event(format!(
                    "the SSE `{name}` field cannot contain a newline, carriage return or NUL: {value:?}"
                )));
            }
            if name == "id" && !id_survives_a_header(value) {
                return Err(Error::invalid_event(format!(
                    "the SSE `id` field cannot contain a control character or start or end with a space (it would not come back intact as Last-Event-ID): {value:?}"
                )));
            }
            buf.put_slice(name.as_bytes());
            buf.put_slice(b": ");
            buf.put_slice(value.as_bytes());
            buf.put_u8(b'\n');
        }
    }
    Ok(())
}

/// `retry: <ms>`, the line that sets the client's reconnection delay: a field of the event
/// it starts, never a block of its own (a client may dispatch a data-less block as an empty
/// message).
fn retry_line(buf: &mut BytesMut, ms: u64) {
    buf.put_slice(b"retry: ");
    buf.put_slice(itoa_u64(ms, &mut [0; 20]));
    buf.put_u8(b'\n');
}

/// An encoded event with `retry` as its first line (a copy), or the event itself.
pub(crate) fn with_retry(retry: Option<u64>, event: Bytes) -> Bytes {
    let Some(ms) = retry else { return event };
    let mut buf = BytesMut::with_capacity(event.len() + 28);
    retry_line(&mut buf, ms);
    buf.put_slice(&event);
    buf.freeze()
}

/// Whether a browser can send `id` back as a `Last-Event-ID` header that reads the same: HTTP
/// refuses control characters in a header value, tab aside, which it trims at either end like
/// a space. Refusing every control character keeps the rule short.
fn id_survives_a_header(id: &str) -> bool {
    !id.contains(|c: char| c.is_ascii_control()) && !id.starts_with(' ') && !id.ends_with(' ')
}

/// A string payload goes verbatim, one `data:` line per line (`\n`, `\r\n` and a lone `\r`
/// all break lines, where Rails splits on `\n` only); anything else as one line of JSON (see
/// docs/rails-parity.md, L-24 and L-28).
fn encode_data<T: Serialize + ?Sized>(
    buf: &mut BytesMut,
    payload: &T,
    escape: JsonEscape,
) -> Result {
    match payload.serialize(TextPayload { buf: &mut *buf }) {
        Ok(()) => {}
        Err(NotText) => {
            buf.put_slice(b"data: ");
            let writer = (&mut *buf).writer();
            match escape {
                JsonEscape::Plain => serde_json::to_writer(writer, payload),
                JsonEscape::Html => payload.serialize(&mut serde_json::Serializer::with_formatter(
                    writer, HtmlSafe,
                )),
            }
            .map_err(Error::invalid_event)?;
            buf.put_u8(b'\n');
        }
    }
    buf.put_u8(b'\n');
    Ok(())
}

/// Writes `text` as `data:` lines.
pub(crate) fn data_lines(buf: &mut BytesMut, text: &str) {
    prefixed_lines(buf, b"data: ", text);
}

/// Writes `text` as comment lines, then the blank line.
pub(crate) fn comment(buf: &mut BytesMut, text: &str) {
    prefixed_lines(buf, b": ", text);
    buf.put_u8(b'\n');
}

fn prefixed_lines(buf: &mut BytesMut, prefix: &[u8], text: &str) {
    let mut rest = text;
    loop {
        buf.put_slice(prefix);
        match rest.find(['\r', '\n']) {
            Some(at) => {
                buf.put_slice(&rest.as_bytes()[..at]);
                buf.put_u8(b'\n');
                let skip = if rest[at..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[at + skip..];
            }
            None => {
                buf.put_slice(rest.as_bytes());
                buf.put_u8(b'\n');
                return;
            }
        }
    }
}

fn itoa_u64(mut n: u64, out: &mut [u8; 20]) -> &[u8] {
    let mut at = out.len();
    loop {
        at -= 1;
        out[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &out[at..];
        }
    }
}

/// A serializer that accepts only a top-level string (or char), and writes it as data lines:
/// how "a string is sent verbatim, anything else as JSON" is told apart without specialization.
struct TextPayload<'a> {
    buf: &'a mut BytesMut,
}

#[derive(Debug)]
struct NotText;

impl fmt::Display for NotText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a string")
    }
}

impl std::error::Error for NotText {}

impl ser::Error for NotText {
    fn custom<T: fmt::Display>(_: T) -> Self {
        NotText
    }
}

/// The serializer methods of [`TextPayload`] that refuse: everything but strings.
macro_rules! not_text {
    ($($method:ident($($arg:ty),*) -> $ok:ty;)*) => {
        $(fn $method(self, $(_: $arg),*) -> std::result::Result<$ok, NotText> { Err(NotText) })*
    };
}

impl ser::Serializer for TextPayload<'_> {
    type Ok = ();
    type Error = NotText;
    type SerializeSeq = Impossible<(), NotText>;
    type SerializeTuple = Impossible<(), NotText>;
    type SerializeTupleStruct = Impossible<(), NotText>;
    type SerializeTupleVariant = Impossible<(), NotText>;
    type SerializeMap = Impossible<(), NotText>;
    type SerializeStruct = Impossible<(), NotText>;
    type SerializeStructVariant = Impossible<(), NotText>;

    fn serialize_str(self, text: &str) -> std::result::Result<(), NotText> {
        data_lines(self.buf, text);
        Ok(())
    }

    fn serialize_char(self, c: char) -> std::result::Result<(), NotText> {
        self.serialize_str(c.encode_utf8(&mut [0; 4]))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> std::result::Result<(), NotText> {
        value.serialize(self)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> std::result::Result<(), NotText> {
        Err(NotText)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> std::result::Result<(), NotText> {
        Err(NotText)
    }

    not_text! {
        serialize_bool(bool) -> ();
        serialize_i8(i8) -> ();
        serialize_i16(i16) -> ();
        serialize_i32(i32) -> ();
        serialize_i64(i64) -> ();
        serialize_i128(i128) -> ();
        serialize_u8(u8) -> ();
        serialize_u16(u16) -> ();
        serialize_u32(u32) -> ();
        serialize_u64(u64) -> ();
        serialize_u128(u128) -> ();
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_bytes(&[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_unit_variant(&'static str, u32, &'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }
}

/// serde_json's compact output with Rails' HTML-safe escaping of strings.
struct HtmlSafe;

impl serde_json::ser::Formatter for HtmlSafe {
    fn write_string_fragment<W: std::io::Write + ?Sized>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            let escaped = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..at])?;
            writer.write_all(escaped.as_bytes())?;
            start = at + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// The bytes of one event, for an [`on_error`](crate::LiveStream::on_error) tail or a test.
///
/// ```
/// use live_runtime::sse::{Event, event_bytes};
/// let bytes = event_bytes("oops", &Event::new().event("error")).unwrap();
/// assert_eq!(bytes, "event: error\ndata: oops\n\n");
/// ```
pub fn event_bytes<T: Serialize + ?Sized>(payload: &T, event: &Event) -> Result<Bytes> {
    let mut buf = BytesMut::new();
    encode(&mut buf, payload, event, &Event::new(), JsonEscape::Plain)?;
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn enc<T: Serialize + ?Sized>(payload: &T, event: Event, defaults: Event) -> String {
        let mut buf = BytesMut::new();
        encode(&mut buf, payload, &event, &defaults, JsonEscape::Plain).unwrap();
        String::from_utf8(buf.to_vec()).unwrap()
    }

    /// Short ids are kept inline and long ones on the heap; both write the same text.
    #[test]
    fn ids_of_any_length_keep_their_text() {
        let short = IdText::new(u64::MAX);
        assert!(matches!(short, IdText::Inline { .. }));
        assert_eq!(short.as_str(), "18446744073709551615");
        let exactly = "é".repeat(IdText::INLINE / 2);
        assert!(matches!(IdText::new(&exactly), IdText::Inline { .. }));
        let long = format!("{exactly}!");
        let id = IdText::new(&long);
        assert!(matches!(id, IdText::Heap(_)));
        assert_eq!(id.as_str(), long);
        assert_eq!(
            enc("x", Event::id(&long), Event::new()),
            format!("id: {long}\ndata: x\n\n")
        );
        assert_eq!(IdText::new("a"), IdText::new(String::from("a")));
        // Debug shows the text, as the `String` it replaces did.
        assert!(format!("{:?}", Event::id(7)).contains(r#"Set("7")"#));
    }

    /// Rails' exact bytes for each option (docs/rails-parity.md, L-25 and L-30).
    #[test]
    fn rails_golden_bytes() {
        let none = Event::new;
        assert_eq!(
            enc("{\"name\":\"John\"}", none(), none()),
            "data: {\"name\":\"John\"}\n\n"
        );
        assert_eq!(
            enc(&json!({"name": "Ryan"}), none(), none()),
            "data: {\"name\":\"Ryan\"}\n\n"
        );
        let retry = |ms| Event::new().retry(Duration::from_millis(ms));
        assert_eq!(enc("x", none(), retry(1000)), "retry: 1000\ndata: x\n\n");
        assert_eq!(
            enc(&json!({"name": "Ryan"}), retry(1500), retry(1000)),
            "retry: 1500\ndata: {\"name\":\"Ryan\"}\n\n"
        );
        assert_eq!(enc("x", Event::id(1), none()), "id: 1\ndata: x\n\n");
        assert_eq!(
            enc("x", none(), Event::new().event("send-name")),
            "event: send-name\ndata: x\n\n"
        );
        assert_eq!(
            enc(
                "line1\nline2\n",
                Event::id(10)
                    .event("other")
                    .retry(Duration::from_millis(500)),
                Event::new().retry(Duration::from_millis(300)).event("ctor"),
            ),
            "retry: 500\nevent: other\nid: 10\ndata: line1\ndata: line2\ndata: \n\n"
        );
        assert_eq!(
            enc("first line.\nsecond line.", none(), none()),
            "data: first line.\ndata: second line.\n\n"
        );
    }

    /// docs/rails-parity.md, L-26: an unset field suppresses the writer's; empty and zero values
    /// are sent.
    #[test]
    fn option_merging() {
        let ctor = Event::new().event("ctor").with_id(3);
        assert_eq!(
            enc("x", Event::new().no_event(), ctor.clone()),
            "id: 3\ndata: x\n\n"
        );
        assert_eq!(
            enc("x", Event::new().event(""), ctor.clone()),
            "event: \nid: 3\ndata: x\n\n"
        );
        assert_eq!(
            enc("x", Event::id(0).no_event(), ctor),
            "id: 0\ndata: x\n\n"
        );
    }

    /// docs/rails-parity.md, L-24: a string verbatim, everything else JSON.
    #[test]
    fn payload_kinds() {
        let none = Event::new;
        assert_eq!(
            enc(&String::from("plain"), none(), none()),
            "data: plain\n\n"
        );
        assert_eq!(enc(&'c', none(), none()), "data: c\n\n");
        assert_eq!(enc(&42, none(), none()), "data: 42\n\n");
        assert_eq!(enc(&Option::<u8>::None, none(), none()), "data: null\n\n");
        assert_eq!(enc(&[1, 2], none(), none()), "data: [1,2]\n\n");
        assert_eq!(enc(&json!("quoted?"), none(), none()), "data: quoted?\n\n");
        assert_eq!(
            enc(&json!({"a": "x\ny"}), none(), none()),
            "data: {\"a\":\"x\\ny\"}\n\n"
        );
    }

    /// docs/rails-parity.md, L-28, fixed: `\r\n` and a lone `\r` are line breaks too.
    #[test]
    fn every_line_break_starts_a_data_line() {
        let none = Event::new;
        assert_eq!(enc("a\r\nb", none(), none()), "data: a\ndata: b\n\n");
        assert_eq!(enc("next\rcr", none(), none()), "data: next\ndata: cr\n\n");
        assert_eq!(enc("", none(), none()), "data: \n\n");
    }

    /// docs/rails-parity.md, L-29, fixed: a line break or NUL in `event` or `id` is an error, and
    /// nothing is written; so is an `id` that could not come back as a `Last-Event-ID` header.
    #[test]
    fn injection_is_an_error() {
        for bad in [
            Event::id("1\ndata: injected"),
            Event::new().event("a\rb"),
            Event::id("x\0"),
            Event::id("tab\there"),
            Event::id("bell\x07"),
            Event::id(" leading"),
            Event::id("trailing "),
        ] {
            let mut buf = BytesMut::from("kept");
            let error = encode(&mut buf, "x", &bad, &Event::new(), JsonEscape::Plain).unwrap_err();
            assert_eq!(error.kind(), crate::ErrorKind::InvalidEvent);
            assert_eq!(&buf[..], b"kept");
        }
    }

    #[test]
    fn html_safe_json_like_rails() {
        let mut buf = BytesMut::new();
        let payload = json!({"html": "<a href='x'>&</a>\u{2028}"});
        encode(
            &mut buf,
            &payload,
            &Event::new(),
            &Event::new(),
            JsonEscape::Html,
        )
        .unwrap();
        assert_eq!(
            &buf[..],
            b"data: {\"html\":\"\\u003ca href='x'\\u003e\\u0026\\u003c/a\\u003e\\u2028\"}\n\n"
        );
    }

    #[test]
    fn comments_are_split_into_comment_lines() {
        let mut buf = BytesMut::new();
        comment(&mut buf, "one\ntwo");
        assert_eq!(&buf[..], b": one\n: two\n\n");
    }
}
