//! What a subscription yields: published events, and gaps where events were lost to it.

use std::fmt;
use std::sync::{Arc, OnceLock};

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::id::EventId;
use crate::error::{Error, Result};
use crate::sse::encode::data_lines;

/// One published event, as every subscriber of its topic receives it (shared, not copied).
pub struct BroadcastEvent {
    id: EventId,
    event: Option<Box<str>>,
    data: Box<str>,
    /// The SSE bytes, encoded by the first subscriber that forwards the event and shared by
    /// all the others.
    sse: OnceLock<Bytes>,
}

impl BroadcastEvent {
    pub(crate) fn new(id: EventId, event: Option<Box<str>>, data: Box<str>) -> Arc<Self> {
        Arc::new(BroadcastEvent {
            id,
            event,
            data,
            sse: OnceLock::new(),
        })
    }

    /// The event's id: the one [`publish`](super::Hub::publish) returned.
    pub fn id(&self) -> EventId {
        self.id
    }

    /// The SSE event name it was published with, if any.
    pub fn event(&self) -> Option<&str> {
        self.event.as_deref()
    }

    /// The payload as text: a string as it was published, anything else as JSON.
    pub fn data(&self) -> &str {
        &self.data
    }

    /// The payload parsed as JSON.
    ///
    /// # Errors
    /// If the payload is not JSON of type `T`.
    pub fn json<T: DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(&self.data)
    }

    /// The event as Server-Sent Events bytes: `event:` (if named), `id:`, and the payload
    /// as `data:` lines (a newline in a string payload starts a new `data:` line, so nothing
    /// in a payload can forge a field). Encoded once per event, whatever the number of
    /// subscribers.
    pub fn sse_bytes(&self) -> Bytes {
        self.sse
            .get_or_init(|| {
                let mut buf = BytesMut::with_capacity(self.data.len() + 48);
                if let Some(event) = &self.event {
                    buf.put_slice(b"event: ");
                    buf.put_slice(event.as_bytes());
                    buf.put_u8(b'\n');
                }
                buf.put_slice(b"id: ");
                buf.put_slice(self.id.to_string().as_bytes());
                buf.put_u8(b'\n');
                data_lines(&mut buf, &self.data);
                buf.put_u8(b'\n');
                buf.freeze()
            })
            .clone()
    }
}

impl fmt::Debug for BroadcastEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BroadcastEvent")
            .field("id", &self.id)
            .field("event", &self.event)
            .field("data", &self.data)
            .finish()
    }
}

/// What a [`Subscription`](super::Subscription) yields.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// The next event of the topic.
    Event(Arc<BroadcastEvent>),
    /// Events were lost to this subscriber: what follows is not contiguous with what it had.
    Gap(Gap),
}

impl Delivery {
    /// The SSE bytes [`Sse::forward`](crate::sse::Sse::forward) sends for it: the event's
    /// [`sse_bytes`](BroadcastEvent::sse_bytes), or the gap's `event: reset`.
    pub fn sse_bytes(&self) -> Bytes {
        match self {
            Delivery::Event(event) => event.sse_bytes(),
            Delivery::Gap(gap) => gap.sse_bytes(),
        }
    }
}

/// Events between the subscriber's last id and the next delivery are gone, so the subscriber
/// should refetch its state (a page reloads the room, say) rather than trust it is complete.
///
/// It comes first when a subscription resumes after an id older than the retained history
/// (or from another history: the server restarted, the Redis data was wiped), and in the
/// middle of a subscription that fell behind by more than the history holds. What follows it
/// is the oldest retained event on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub(crate) after: Option<EventId>,
}

impl Gap {
    /// The last id the subscriber had when the gap was found: the `since` it resumed after,
    /// or the last event it was given.
    pub fn after(&self) -> Option<EventId> {
        self.after
    }

    /// The SSE bytes the bridge sends for it: `event: reset` with JSON data
    /// `{"after":"<id>"}` (or `{"after":null}`), and no `id:`, so the browser's
    /// `Last-Event-ID` is left alone.
    pub fn sse_bytes(&self) -> Bytes {
        let after = self
            .after
            .map_or_else(|| "null".to_owned(), |id| format!("\"{id}\""));
        Bytes::from(format!("event: reset\ndata: {{\"after\":{after}}}\n\n"))
    }
}

/// A payload as stored and sent: a string verbatim, anything else as JSON, as
/// [`Sse::write`](crate::sse::Sse::write) does.
pub(crate) fn payload_text<T: Serialize + ?Sized>(payload: &T, limit: usize) -> Result<Box<str>> {
    let json = serde_json::to_string(payload).map_err(Error::invalid_event)?;
    let text = if json.starts_with('"') {
        serde_json::from_str::<String>(&json).map_err(Error::invalid_event)?
    } else {
        json
    };
    if text.len() > limit {
        return Err(Error::payload_too_large(text.len(), limit));
    }
    Ok(text.into_boxed_str())
}

/// An event name as the SSE `event:` field can carry it.
pub(crate) fn check_event_name(event: &str) -> Result {
    if event.is_empty() || event.contains(['\n', '\r', '\0']) {
        return Err(Error::invalid_event(format!(
            "an SSE event name must be non-empty, without newline, carriage return or NUL: {event:?}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_bytes_cannot_be_forged_by_the_payload() {
        let event = BroadcastEvent::new(
            EventId::new(1, 2, 3),
            Some("message".into()),
            "hi\ndata: forged\r\nid: 9\revent: x".into(),
        );
        assert_eq!(
            event.sse_bytes(),
            "event: message\nid: 00000001-2-3\ndata: hi\ndata: data: forged\ndata: id: 9\ndata: event: x\n\n"
        );
        // Shared, not re-encoded.
        assert_eq!(event.sse_bytes().as_ptr(), event.sse_bytes().as_ptr());
    }

    #[test]
    fn debug_shows_the_event_not_its_encoding() {
        let id = EventId::new(1, 2, 3);
        let event = BroadcastEvent::new(id, Some("message".into()), "hi".into());
        event.sse_bytes();
        assert_eq!(
            format!("{event:?}"),
            format!(r#"BroadcastEvent {{ id: {id:?}, event: Some("message"), data: "hi" }}"#)
        );
    }

    #[test]
    fn payloads_strings_verbatim_others_json() {
        assert_eq!(&*payload_text("a\"b", 100).unwrap(), "a\"b");
        assert_eq!(
            &*payload_text(&serde_json::json!({"a": 1}), 100).unwrap(),
            "{\"a\":1}"
        );
        let error = payload_text("x".repeat(11).as_str(), 10).unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::PayloadTooLarge);
    }

    #[test]
    fn gap_is_a_reset_event_without_id() {
        let gap = Gap {
            after: Some(EventId::new(0xab, 1, 0)),
        };
        assert_eq!(
            gap.sse_bytes(),
            "event: reset\ndata: {\"after\":\"000000ab-1-0\"}\n\n"
        );
        assert_eq!(
            Gap { after: None }.sse_bytes(),
            "event: reset\ndata: {\"after\":null}\n\n"
        );
        assert!(check_event_name("a\nb").is_err());
        assert!(check_event_name("").is_err());
    }
}
