//! Where a subscription starts.

use super::id::EventId;
use crate::sse::LastEventId;

/// Where a subscription starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Since {
    /// Only events published from now on.
    #[default]
    Now,
    /// Every retained event, then live ones.
    Beginning,
    /// The retained events after this id, then live ones; a [`Gap`](super::Gap) first if the history no
    /// longer reaches back to it.
    After(EventId),
}

impl Since {
    /// After `last` if there is one, else `first_visit`: `Since::after_or(last.0,
    /// Since::Beginning)` shows a chat's recent history on a first visit and resumes after
    /// `Last-Event-ID` on a reconnection.
    pub fn after_or(last: Option<EventId>, first_visit: Since) -> Since {
        last.map_or(first_visit, Since::After)
    }
}

/// `None` (a first connection) is [`Since::Now`].
impl From<Option<EventId>> for Since {
    fn from(id: Option<EventId>) -> Self {
        id.map_or(Since::Now, Since::After)
    }
}

/// A browser's `Last-Event-ID`: resume after it, or start now on a first connection.
impl From<LastEventId<EventId>> for Since {
    fn from(last: LastEventId<EventId>) -> Self {
        last.0.into()
    }
}

impl From<EventId> for Since {
    fn from(id: EventId) -> Self {
        Since::After(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_from_what_a_request_carries() {
        let id = EventId::new(1, 2, 0);
        assert_eq!(Since::from(id), Since::After(id));
        assert_eq!(Since::from(LastEventId(Some(id))), Since::After(id));
        // A first connection: only what comes next, unless the app asks for more.
        assert_eq!(Since::from(LastEventId(None)), Since::Now);
        assert_eq!(Since::after_or(None, Since::Beginning), Since::Beginning);
        assert_eq!(
            Since::after_or(Some(id), Since::Beginning),
            Since::After(id)
        );
    }
}
