//! Stream entries as `publish.lua` writes them: the epoch (`h`), the id of the entry before
//! (`p`), the event's name (`e`, if it has one), its data (`d`) and, on a closed topic's final
//! event, `f`.

use std::sync::Arc;

use redis::Value;
use redis::streams::StreamId;

use super::stream_id::{event_id, parse_position};
use crate::broadcast::event::BroadcastEvent;
use crate::broadcast::id::Position;

/// An entry as the publish script wrote it; anything else in the stream is skipped.
pub(super) fn to_event(entry: &StreamId) -> Option<Arc<BroadcastEvent>> {
    let id = event_id(&field(entry, "h")?, &entry.id)?;
    Some(BroadcastEvent::new(
        id,
        field(entry, "e").map(String::into_boxed_str),
        field(entry, "d")?.into_boxed_str(),
    ))
}

/// The id of the entry added before this one to the same stream.
pub(super) fn previous(entry: &StreamId) -> Option<Position> {
    field(entry, "p").as_deref().and_then(parse_position)
}

/// Whether the entry is a closed topic's final event: nothing follows it.
pub(super) fn is_final(entry: &StreamId) -> bool {
    entry.map.contains_key("f")
}

/// A field of an entry, as text.
fn field(entry: &StreamId, name: &str) -> Option<String> {
    match entry.map.get(name)? {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(text) => Some(text.clone()),
        _ => None,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::broadcast::id::EventId;

    /// An entry with these fields, as XREAD or XRANGE returns it.
    pub(in crate::broadcast::redis) fn entry(id: &str, fields: &[(&str, &str)]) -> StreamId {
        StreamId {
            id: id.to_owned(),
            map: fields
                .iter()
                .map(|(name, value)| {
                    (
                        (*name).to_owned(),
                        Value::BulkString(value.as_bytes().into()),
                    )
                })
                .collect(),
            ..StreamId::default()
        }
    }

    #[test]
    fn reads_what_the_publish_script_writes() {
        let named = entry(
            "7-1",
            &[
                ("h", "0000002a"),
                ("p", "6-0"),
                ("e", "message"),
                ("d", "hi"),
            ],
        );
        let event = to_event(&named).unwrap();
        assert_eq!(event.id(), EventId::new(42, 7, 1));
        assert_eq!(event.event(), Some("message"));
        assert_eq!(event.data(), "hi");
        assert_eq!(previous(&named), Some(Position { major: 6, minor: 0 }));
        assert!(!is_final(&named));
        assert!(is_final(&entry(
            "9-0",
            &[("h", "0000002a"), ("d", "end"), ("f", "1")]
        )));

        let unnamed = entry("8-0", &[("h", "0000002a"), ("p", "7-1"), ("d", "{}")]);
        assert_eq!(to_event(&unnamed).unwrap().event(), None);
    }

    #[test]
    fn skips_entries_another_program_wrote() {
        // No epoch, no data, an epoch that is not one, a field that is not text.
        assert!(to_event(&entry("7-1", &[("d", "hi")])).is_none());
        assert!(to_event(&entry("7-1", &[("h", "0000002a")])).is_none());
        assert!(to_event(&entry("7-1", &[("h", "zz"), ("d", "hi")])).is_none());
        let mut odd = entry("7-1", &[("h", "0000002a")]);
        odd.map.insert("d".into(), Value::Int(1));
        assert!(to_event(&odd).is_none());
        assert_eq!(previous(&entry("7-1", &[])), None);
    }
}
