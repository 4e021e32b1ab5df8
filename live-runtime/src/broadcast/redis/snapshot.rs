//! One atomic read of a topic's history, and the replay it gives a subscriber.

use std::sync::Arc;

use crate::broadcast::Since;
use crate::broadcast::engine::Replay;
use crate::broadcast::event::BroadcastEvent;
use crate::broadcast::id::{EventId, Position};
use crate::broadcast::kind::TopicKind;

/// What `read.lua` returns.
pub(super) struct Snapshot {
    pub(super) epoch: Option<u32>,
    pub(super) trimmed: Option<Position>,
    pub(super) last: Option<Position>,
    /// The first id of a topic that Redis had forgotten entirely (or never had): ids before
    /// it may have missed anything.
    pub(super) born: Option<Position>,
    /// The id before the first event read.
    pub(super) before: Option<Position>,
    pub(super) events: Vec<Arc<BroadcastEvent>>,
    /// `None` for a topic with no events (it has no kind until its next publish).
    pub(super) kind: Option<TopicKind>,
    /// Closed: its last event is the final one, and nothing follows.
    pub(super) closed: bool,
    /// The topic's meta hash exists: it was published to and is not forgotten.
    pub(super) exists: bool,
}

impl Snapshot {
    /// The id of the last event added, in this history (where a topic with none starts).
    pub(super) fn last_id(&self) -> Option<EventId> {
        self.epoch.map(|epoch| EventId {
            epoch,
            position: self.last.unwrap_or_default(),
        })
    }

    /// The replay of a new subscription from `since`.
    pub(super) fn subscribed(self, since: Since) -> Replay {
        match since {
            Since::After(id) if self.kind == Some(TopicKind::Value) => self.newest(Some(id)),
            _ if self.kind == Some(TopicKind::Value) => self.newest(None),
            // The read holds the final event alone.
            Since::Now if self.closed => self.newest(None),
            Since::Now => Replay {
                gap: false,
                head: self.last_id(),
                events: self.events,
            },
            Since::Beginning => self.replay(None, false),
            Since::After(id) => self.replay(Some(id), true),
        }
    }

    /// The replay of a live subscription catching up after `after`.
    pub(super) fn caught_up(self, after: Option<EventId>) -> Replay {
        if self.kind == Some(TopicKind::Value) {
            return self.newest(after);
        }
        self.replay(after, false)
    }

    /// The newest event read (a value topic's current value, a closed topic's final event),
    /// never after a gap; nothing if `after` is it.
    fn newest(self, after: Option<EventId>) -> Replay {
        let current = self.last_id();
        let before = self.epoch.map(|epoch| EventId {
            epoch,
            position: self.before.unwrap_or_default(),
        });
        Replay {
            gap: false,
            head: if after.is_some() && after == current {
                after
            } else {
                before
            },
            events: self.events,
        }
    }

    /// The replay after `after`: a gap if `after` is of another history, past the end of
    /// this one, or older than what was trimmed. A topic that Redis no longer knows at all
    /// (quiet for twice the history's age) is a gap too: nothing says what it lost.
    ///
    /// A client `resuming` from an id before the topic was born again is told of a gap too;
    /// a live subscription catching up is not, since its position may be the synthetic start
    /// of a topic that had no event yet.
    fn replay(self, after: Option<EventId>, resuming: bool) -> Replay {
        let gap = after.is_some_and(|id| {
            self.epoch != Some(id.epoch)
                || self.last.is_none_or(|last| id.position > last)
                || self.trimmed.is_some_and(|trimmed| trimmed > id.position)
                || (resuming && self.born.is_some_and(|born| born > id.position))
        });
        let start = self.epoch.map(|epoch| EventId {
            epoch,
            position: self.trimmed.unwrap_or_default(),
        });
        Replay {
            gap,
            events: self.events,
            head: if gap { start } else { after.or(start) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPOCH: u32 = 7;

    fn at(major: u64) -> Position {
        Position { major, minor: 0 }
    }

    fn id(major: u64) -> EventId {
        EventId::new(EPOCH, major, 0)
    }

    /// A topic whose events 1 to `trimmed` are gone and `last` is the newest.
    fn snapshot(trimmed: Option<u64>, last: Option<u64>, born: Option<u64>) -> Snapshot {
        Snapshot {
            epoch: Some(EPOCH),
            trimmed: trimmed.map(at),
            last: last.map(at),
            born: born.map(at),
            before: None,
            events: Vec::new(),
            kind: Some(TopicKind::Log),
            closed: false,
            exists: true,
        }
    }

    fn gap_and_head(replay: Replay) -> (bool, Option<EventId>) {
        (replay.gap, replay.head)
    }

    #[test]
    fn a_resume_within_the_history_goes_on_from_its_id() {
        let replay = snapshot(Some(2), Some(9), None).subscribed(Since::After(id(4)));
        assert_eq!(gap_and_head(replay), (false, Some(id(4))));
        // The very last event: nothing to replay, nothing lost.
        let replay = snapshot(Some(2), Some(9), None).subscribed(Since::After(id(9)));
        assert_eq!(gap_and_head(replay), (false, Some(id(9))));
    }

    #[test]
    fn a_resume_the_history_cannot_vouch_for_is_a_gap_from_its_start() {
        let trimmed_past_it = snapshot(Some(5), Some(9), None);
        assert_eq!(
            gap_and_head(trimmed_past_it.subscribed(Since::After(id(4)))),
            (true, Some(id(5)))
        );
        let past_the_end = snapshot(None, Some(9), None);
        assert_eq!(
            gap_and_head(past_the_end.subscribed(Since::After(id(10)))),
            (true, Some(id(0)))
        );
        let forgotten_topic = snapshot(None, None, None);
        assert!(forgotten_topic.subscribed(Since::After(id(1))).gap);
        let another_history = snapshot(None, Some(9), None);
        let replay = another_history.subscribed(Since::After(EventId::new(EPOCH + 1, 4, 0)));
        assert_eq!(gap_and_head(replay), (true, Some(id(0))));
    }

    #[test]
    fn only_a_resume_from_before_a_topic_was_born_again_is_a_gap() {
        let reborn = || snapshot(None, Some(9), Some(6));
        assert!(reborn().subscribed(Since::After(id(4))).gap);
        assert!(!reborn().subscribed(Since::After(id(6))).gap);
        // A live subscription may sit at the synthetic start of a topic that had no event.
        assert!(!reborn().caught_up(Some(id(4))).gap);
    }

    #[test]
    fn a_value_topic_gives_its_current_value_never_a_gap() {
        // The current value is 9, read after 7 (the id before it).
        let value = || Snapshot {
            kind: Some(TopicKind::Value),
            before: Some(at(7)),
            ..snapshot(Some(7), Some(9), None)
        };
        for since in [
            Since::Now,
            Since::Beginning,
            Since::After(id(4)),
            Since::After(EventId::new(EPOCH + 1, 4, 0)),
            Since::After(id(12)),
        ] {
            assert_eq!(
                gap_and_head(value().subscribed(since)),
                (false, Some(id(7))),
                "{since:?}"
            );
        }
        // A resume at the current value waits for the next.
        assert_eq!(
            gap_and_head(value().subscribed(Since::After(id(9)))),
            (false, Some(id(9)))
        );
        assert_eq!(
            gap_and_head(value().caught_up(Some(id(2)))),
            (false, Some(id(7)))
        );
    }

    #[test]
    fn a_newcomer_to_a_closed_log_topic_starts_before_its_final_event() {
        let closed = Snapshot {
            closed: true,
            before: Some(at(8)),
            ..snapshot(Some(2), Some(9), None)
        };
        assert_eq!(
            gap_and_head(closed.subscribed(Since::Now)),
            (false, Some(id(8)))
        );
    }

    #[test]
    fn new_subscriptions_start_at_the_end_or_the_start() {
        assert_eq!(
            gap_and_head(snapshot(Some(2), Some(9), None).subscribed(Since::Now)),
            (false, Some(id(9)))
        );
        assert_eq!(
            gap_and_head(snapshot(Some(2), Some(9), None).subscribed(Since::Beginning)),
            (false, Some(id(2)))
        );
        // A topic with no event yet starts at the history's origin.
        assert_eq!(snapshot(None, None, None).last_id(), Some(id(0)));
    }
}
