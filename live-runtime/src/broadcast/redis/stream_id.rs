//! Redis stream ids (`ms-seq`) and epochs (8 hex digits) as text, both ways.

use crate::broadcast::id::{EventId, Position};

/// An epoch as Redis stores it.
pub(super) fn epoch_text(epoch: u32) -> String {
    format!("{epoch:08x}")
}

pub(super) fn parse_epoch(text: &str) -> Option<u32> {
    u32::from_str_radix(text, 16).ok()
}

/// A position as a stream id.
pub(super) fn position_text(position: Position) -> String {
    format!("{}-{}", position.major, position.minor)
}

pub(super) fn parse_position(text: &str) -> Option<Position> {
    let (major, minor) = text.split_once('-')?;
    Some(Position {
        major: major.parse().ok()?,
        minor: minor.parse().ok()?,
    })
}

/// The id of an entry of the history of `epoch`.
pub(super) fn event_id(epoch: &str, id: &str) -> Option<EventId> {
    Some(EventId {
        epoch: parse_epoch(epoch)?,
        position: parse_position(id)?,
    })
}

/// XRANGE's start for what follows `position`: `(ms-seq`, or the next millisecond's first
/// id where `seq` is the largest (Redis refuses `(ms-<max>`), or past everything.
pub(super) fn exclusive(position: Position) -> String {
    match (position.major, position.minor) {
        (major, minor) if minor < u64::MAX => format!("({major}-{minor}"),
        (major, _) if major < u64::MAX => format!("{}-0", major + 1),
        _ => "+".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(major: u64, minor: u64) -> Position {
        Position { major, minor }
    }

    #[test]
    fn positions_round_trip_as_stream_ids() {
        assert_eq!(
            parse_position("1732860000000-3"),
            Some(position(1_732_860_000_000, 3))
        );
        assert_eq!(position_text(position(5, 0)), "5-0");
        for bad in [
            "",
            "5",
            "5-",
            "-3",
            "a-1",
            "1-b",
            "1-2-3",
            "99999999999999999999-0",
        ] {
            assert_eq!(parse_position(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn epochs_are_eight_hex_digits() {
        assert_eq!(epoch_text(0xab), "000000ab");
        assert_eq!(parse_epoch("deadbeef"), Some(0xdead_beef));
        assert_eq!(parse_epoch("not hex"), None);
        // The same text an event id shows, so a client's id names the Redis history.
        let id = event_id("0000002a", "7-1").unwrap();
        assert_eq!(id, EventId::new(42, 7, 1));
        assert_eq!(id.to_string(), "0000002a-7-1");
        assert_eq!(event_id("0000002a", "7"), None);
        assert_eq!(event_id("x", "7-1"), None);
    }

    #[test]
    fn exclusive_starts_after_the_position() {
        assert_eq!(exclusive(position(5, 2)), "(5-2");
        // Redis refuses `(5-<u64::MAX>`: the next millisecond's first id is the same start.
        assert_eq!(exclusive(position(5, u64::MAX)), "6-0");
        assert_eq!(exclusive(position(u64::MAX, u64::MAX)), "+");
    }
}
