//! A parser of `text/event-stream` written from the WHATWG rules ("Interpreting an event
//! stream", HTML Living Standard 9.2.6): what a browser's `EventSource` makes of the bytes.
//! Used by the property tests, the fuzz target and the test client; public so clients of a
//! live server can use it too.
//!
//! ```
//! use live_runtime::sse::parse::{EventParser, Item};
//!
//! let mut parser = EventParser::new();
//! let items = parser.push(b"retry: 500\nevent: prices\nid: 7\ndata: {\"p\":1}\n\n: ping\n\n");
//! let Item::Event(event) = &items[0] else { panic!() };
//! assert_eq!((event.event.as_str(), event.data.as_str()), ("prices", "{\"p\":1}"));
//! assert_eq!((event.id.as_deref(), event.retry), (Some("7"), Some(500)));
//! assert_eq!(items[1], Item::Comment("ping".into()));
//! ```

/// What the parser found: an event a browser would dispatch, or a comment line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A dispatched event.
    Event(ParsedEvent),
    /// A comment line (`: text`), without the colon and one leading space.
    Comment(String),
}

/// One dispatched event, as a browser's `EventSource` sees it.
///
/// `event` and `last_event_id` are what the browser always has (the `MessageEvent`'s `type`
/// and `lastEventId`), so they are never missing: the type defaults to `message`, the last id
/// carries over from earlier events. `id` and `retry` are fields of this event's own block,
/// which it may not have, so they are `Option`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEvent {
    /// The event type: the `event` field, or `message` without one (`MessageEvent.type`).
    pub event: String,
    /// The `data` lines, joined with `\n`.
    pub data: String,
    /// The `id` field of this event's block, if it had one.
    pub id: Option<String>,
    /// The last event ID after this event: what a browser sends back as `Last-Event-ID`.
    pub last_event_id: String,
    /// The `retry` field of this event's block, if it had a valid one.
    pub retry: Option<u64>,
}

impl ParsedEvent {
    /// The data parsed as JSON.
    ///
    /// ```
    /// use live_runtime::sse::parse::{EventParser, Item};
    /// let items = EventParser::new().push(b"data: {\"n\": 1}\n\n");
    /// let Item::Event(event) = &items[0] else { panic!() };
    /// let value: serde_json::Value = event.json().unwrap();
    /// assert_eq!(value["n"], 1);
    /// ```
    ///
    /// # Errors
    /// If the data is not JSON of type `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(&self.data)
    }
}

/// An incremental event-stream parser: feed it bytes as they arrive, in any chunking.
#[derive(Debug, Default)]
pub struct EventParser {
    line: Vec<u8>,
    after_cr: bool,
    started: bool,
    data: String,
    event_type: String,
    id: Option<String>,
    last_event_id: String,
    retry: Option<u64>,
}

impl EventParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses `bytes`, returning what they complete. An event is dispatched by the blank line
    /// after it; a block cut off by the end of the stream is never dispatched (as in a browser).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Item> {
        let mut items = Vec::new();
        for &byte in bytes {
            match byte {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    self.after_cr = byte == b'\r';
                    let line = std::mem::take(&mut self.line);
                    self.line(&line, &mut items);
                }
                _ => {
                    self.after_cr = false;
                    self.line.push(byte);
                }
            }
        }
        items
    }

    fn line(&mut self, raw: &[u8], items: &mut Vec<Item>) {
        let text = String::from_utf8_lossy(raw);
        let mut line: &str = &text;
        if !self.started {
            self.started = true;
            line = line.strip_prefix('\u{feff}').unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch(items);
            return;
        }
        if let Some(comment) = line.strip_prefix(':') {
            items.push(Item::Comment(
                comment.strip_prefix(' ').unwrap_or(comment).to_owned(),
            ));
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => value.clone_into(&mut self.event_type),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
            }
            "id" if !value.contains('\0') => {
                value.clone_into(&mut self.last_event_id);
                self.id = Some(value.to_owned());
            }
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry = value.parse().ok();
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, items: &mut Vec<Item>) {
        let id = self.id.take();
        let retry = self.retry.take();
        let event_type = std::mem::take(&mut self.event_type);
        if self.data.is_empty() {
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop(); // the last `\n`
        items.push(Item::Event(ParsedEvent {
            event: if event_type.is_empty() {
                "message".to_owned()
            } else {
                event_type
            },
            data,
            id,
            last_event_id: self.last_event_id.clone(),
            retry,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(bytes: &[u8]) -> Vec<ParsedEvent> {
        EventParser::new()
            .push(bytes)
            .into_iter()
            .filter_map(|item| match item {
                Item::Event(event) => Some(event),
                Item::Comment(_) => None,
            })
            .collect()
    }

    #[test]
    fn whatwg_examples() {
        let parsed = events(b"data: YHOO\ndata: +2\ndata: 10\n\n");
        assert_eq!(parsed[0].data, "YHOO\n+2\n10");
        // The spec's example: `data:test` and `data: test` are the same; a field with no
        // colon is a field with an empty value.
        let parsed = events(b"data\n\ndata\ndata\n\ndata:\n");
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].data, "");
        assert_eq!(parsed[1].data, "\n");
        let parsed = events(b"data:test\n\ndata: test\n\n");
        assert_eq!(parsed[0].data, parsed[1].data);
    }

    #[test]
    fn line_endings_and_chunking() {
        let whole = b"id: 1\r\nevent: a\rdata: x\r\n\r\ndata: y\n\n";
        let expected = events(whole);
        assert_eq!(expected.len(), 2);
        assert_eq!(
            (expected[0].event.as_str(), expected[0].data.as_str()),
            ("a", "x")
        );
        // Any split, including between `\r` and `\n`, gives the same events.
        for split in 0..whole.len() {
            let mut parser = EventParser::new();
            let mut items = parser.push(&whole[..split]);
            items.extend(parser.push(&whole[split..]));
            let got: Vec<_> = items
                .into_iter()
                .filter_map(|i| {
                    if let Item::Event(e) = i {
                        Some(e)
                    } else {
                        None
                    }
                })
                .collect();
            assert_eq!(got, expected, "split at {split}");
        }
    }

    #[test]
    fn ids_persist_retry_needs_digits_and_nul_ids_are_ignored() {
        let parsed = events(b"id: 5\ndata: a\n\ndata: b\n\nid: x\0y\nretry: 1.5\ndata: c\n\n");
        assert_eq!(parsed[1].id, None);
        assert_eq!(parsed[1].last_event_id, "5");
        assert_eq!(parsed[2].last_event_id, "5");
        assert_eq!(parsed[2].retry, None);
    }

    #[test]
    fn incomplete_block_is_not_dispatched() {
        assert!(events(b"data: cut off").is_empty());
        assert!(events(b"data: cut off\n").is_empty());
    }
}
