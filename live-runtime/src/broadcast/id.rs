//! Event ids: opaque on the wire, totally ordered within a topic's history.

use std::fmt;
use std::str::FromStr;

/// The id of a published event, sent as the SSE `id:` and read back from `Last-Event-ID`.
///
/// To a client it is an opaque string of visible ASCII, such as `3f9a1c07-1732860000000-0`.
/// Inside it names the *history* it belongs to (an epoch chosen when the history was
/// created) and a position in that history. Within one history the positions of a topic's
/// events only grow, so "the events after this id" is well defined; an id from another
/// history is recognised as such and answered with a [`Gap`](super::Gap) instead of a silent
/// skip.
///
/// What an id reveals, and what counts as another history, depends on the engine:
/// - In-process: each topic is a history of its own, with an epoch drawn at random when the
///   topic is created and positions counting that topic's events from 1. An id tells how many
///   events its topic got since then, and nothing about other topics or the time. An id of
///   another topic, of an earlier process, or of the same topic before it was forgotten (no
///   subscriber, every event aged out) is of another history; an epoch is 32 random bits, so
///   two histories share one by chance about once in four billion.
/// - Redis: the epoch is the Redis data's (shared by its topics, new when the data is wiped)
///   and the position is Redis' stream id: the publish time in milliseconds and a sequence
///   number within it, no more than Redis itself tells.
///
/// It parses with [`FromStr`], so `LastEventId<EventId>` is the extractor for it; a header
/// that is not an id is a `400`.
///
/// ```
/// use live_runtime::broadcast::EventId;
/// let id: EventId = "3f9a1c07-1732860000000-0".parse().unwrap();
/// assert_eq!(id.to_string(), "3f9a1c07-1732860000000-0");
/// assert!("3f9a1c07-12".parse::<EventId>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventId {
    pub(crate) epoch: u32,
    pub(crate) position: Position,
}

/// A place in one history: Redis stream ids are `milliseconds-sequence`; the in-process
/// engine counts in `major` and leaves `minor` at 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct Position {
    pub(crate) major: u64,
    pub(crate) minor: u64,
}

impl EventId {
    pub(crate) fn new(epoch: u32, major: u64, minor: u64) -> Self {
        EventId {
            epoch,
            position: Position { major, minor },
        }
    }

    /// Whether `self` comes after `other` in the same history. Ids of different histories
    /// are not ordered.
    pub fn is_after(&self, other: &EventId) -> bool {
        self.epoch == other.epoch && self.position > other.position
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:08x}-{}-{}",
            self.epoch, self.position.major, self.position.minor
        )
    }
}

/// Why a string is not an [`EventId`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidEventId;

impl fmt::Display for InvalidEventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not an event id of this server (expected `<8 hex digits>-<n>-<n>`)")
    }
}

impl std::error::Error for InvalidEventId {}

impl FromStr for EventId {
    type Err = InvalidEventId;

    fn from_str(text: &str) -> Result<Self, InvalidEventId> {
        let mut parts = text.split('-');
        let (Some(epoch), Some(major), Some(minor), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(InvalidEventId);
        };
        // `from_str_radix` and `parse` accept a leading `+`; an id never has one.
        let digits = |s: &str, hex: bool| {
            !s.is_empty()
                && s.bytes().all(|b| {
                    if hex {
                        b.is_ascii_hexdigit()
                    } else {
                        b.is_ascii_digit()
                    }
                })
        };
        if epoch.len() != 8
            || !digits(epoch, true)
            || !digits(major, false)
            || !digits(minor, false)
        {
            return Err(InvalidEventId);
        }
        Ok(EventId::new(
            u32::from_str_radix(epoch, 16).map_err(|_| InvalidEventId)?,
            major.parse().map_err(|_| InvalidEventId)?,
            minor.parse().map_err(|_| InvalidEventId)?,
        ))
    }
}

/// A new epoch: unpredictable enough that two histories (two topics, two processes, a wiped
/// Redis) do not share one, without a random-number dependency. std's `RandomState` is seeded
/// randomly.
pub(crate) fn new_epoch() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    hasher.finish() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_orders() {
        let a = EventId::new(0xdead_beef, 5, 0);
        let b: EventId = a.to_string().parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "deadbeef-5-0");
        assert!(EventId::new(1, 5, 1).is_after(&EventId::new(1, 5, 0)));
        assert!(EventId::new(1, 6, 0).is_after(&EventId::new(1, 5, 9)));
        assert!(!EventId::new(2, 6, 0).is_after(&EventId::new(1, 5, 9)));
    }

    #[test]
    fn refuses_what_it_never_sends() {
        for bad in [
            "",
            "1",
            "deadbeef-1",
            "deadbeef-1-2-3",
            "deadbee-1-2",
            "deadbeeff-1-2",
            "deadbeef-+1-2",
            "deadbeef--2",
            "deadbeef-1-x",
            "deadbeef-99999999999999999999999-0",
            "zzzzzzzz-1-2",
            "café",
        ] {
            assert_eq!(bad.parse::<EventId>(), Err(InvalidEventId), "{bad:?}");
        }
    }

    #[test]
    fn epochs_differ() {
        assert_ne!(new_epoch(), new_epoch());
    }
}
