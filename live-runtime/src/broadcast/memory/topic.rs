//! One topic of the in-process engine: its ids, its history, and its queue to the subscribers
//! while it has any.

use std::collections::VecDeque;
use std::mem::size_of;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;
// tokio's clock: the history's age follows `tokio::time::pause` in tests.
use tokio::time::Instant;

use super::expiry::Expiry;
use super::is_roomy;
use crate::broadcast::engine::{Replay, Signal};
use crate::broadcast::event::BroadcastEvent;
use crate::broadcast::id::{EventId, new_epoch};
use crate::broadcast::{HubConfig, Since};

pub(super) struct Topic {
    /// Chosen at random when the topic is created: the epoch of its ids. An id of another
    /// topic, or of this one before it was forgotten, is then of another history (a gap).
    epoch: u32,
    /// The position of the newest event published; positions count this topic's events only,
    /// so an id tells nothing about other topics.
    last: u64,
    history: VecDeque<(Instant, Arc<BroadcastEvent>)>,
    /// The newest position dropped from the history, by count or by age (0: none).
    trimmed_through: u64,
    /// Only while the topic has subscribers: its `subscriber_queue` slots take kilobytes.
    sender: Option<broadcast::Sender<Signal>>,
    subscribers: usize,
    /// Whether the engine will look at the topic again for its events to age out: set while
    /// it holds events, so a topic is never left holding aged-out events unseen.
    pub(super) queued: bool,
    /// Set under the topic's lock when the engine forgets it, so a call that found it just
    /// before looks it up again instead of using a forgotten topic.
    pub(super) removed: bool,
}

impl Topic {
    pub(super) fn new() -> Self {
        Topic {
            epoch: new_epoch(),
            last: 0,
            history: VecDeque::new(),
            trimmed_through: 0,
            sender: None,
            subscribers: 0,
            queued: false,
            removed: false,
        }
    }

    /// Roughly the bytes a topic named `name` takes besides its events: its name, itself, its
    /// table entry and its expiry entry, with their reference counts.
    pub(super) fn fixed_bytes(name: &str) -> usize {
        name.len()
            + size_of::<Mutex<Topic>>()
            + size_of::<(Arc<str>, Arc<Mutex<Topic>>)>()
            + size_of::<Expiry>()
            + 4 * size_of::<usize>()
    }

    /// Publishes an event; returns its id, and whether the topic must now be queued for its
    /// events to age out.
    pub(super) fn publish(
        &mut self,
        event: Option<Box<str>>,
        data: Box<str>,
        now: Instant,
        config: &HubConfig,
        retained: &AtomicUsize,
    ) -> (EventId, bool) {
        self.last += 1;
        let id = EventId::new(self.epoch, self.last, 0);
        let event = BroadcastEvent::new(id, event, data);
        retained.fetch_add(event_bytes(&event), Ordering::Relaxed);
        self.history.push_back((now, event.clone()));
        self.trim(config, now, retained);
        if let Some(sender) = &self.sender {
            // No receiver is not an error: history keeps it for those who resume.
            let _ = sender.send(Signal::Event(event));
        }
        (id, !std::mem::replace(&mut self.queued, true))
    }

    /// A new subscriber: its receiver, created with the topic's queue if it is the first, and
    /// its replay.
    pub(super) fn subscribe(
        &mut self,
        since: Since,
        now: Instant,
        config: &HubConfig,
        retained: &AtomicUsize,
    ) -> (broadcast::Receiver<Signal>, Replay) {
        self.trim(config, now, retained);
        self.subscribers += 1;
        let receiver = match &self.sender {
            Some(sender) => sender.subscribe(),
            None => {
                retained.fetch_add(queue_bytes(config), Ordering::Relaxed);
                let (sender, receiver) = broadcast::channel(config.subscriber_queue.max(1));
                self.sender = Some(sender);
                receiver
            }
        };
        let replay = match since {
            Since::Now => Replay {
                gap: false,
                events: Vec::new(),
                head: Some(EventId::new(self.epoch, self.last, 0)),
            },
            Since::Beginning => self.after(None),
            Since::After(id) => self.after(Some(id)),
        };
        (receiver, replay)
    }

    /// The retained events after `after`, for a subscriber that fell behind.
    pub(super) fn recover(
        &mut self,
        after: Option<EventId>,
        now: Instant,
        config: &HubConfig,
        retained: &AtomicUsize,
    ) -> Replay {
        self.trim(config, now, retained);
        self.after(after)
    }

    /// A subscriber left: the queue goes with the last one.
    pub(super) fn left(&mut self, config: &HubConfig, retained: &AtomicUsize) {
        self.subscribers -= 1;
        if self.subscribers == 0 {
            self.sender = None;
            retained.fetch_sub(queue_bytes(config), Ordering::Relaxed);
        }
    }

    /// The engine's look at a queued topic: drops what aged out, and gives back the ring's
    /// spare room (a burst long gone should not keep its buffer). Returns when to look again,
    /// if it still holds events.
    pub(super) fn expire(
        &mut self,
        now: Instant,
        config: &HubConfig,
        retained: &AtomicUsize,
    ) -> Option<Instant> {
        self.trim(config, now, retained);
        if is_roomy(self.history.len(), self.history.capacity()) {
            self.history.shrink_to(self.history.len() * 2);
        }
        let again = self.history.back().map(|(at, _)| expiry(*at, config));
        self.queued = again.is_some();
        again
    }

    /// Whether nothing holds the topic: no subscriber, no event.
    pub(super) fn is_unused(&self) -> bool {
        self.subscribers == 0 && !self.queued
    }

    pub(super) fn subscribers(&self) -> usize {
        self.subscribers
    }

    fn trim(&mut self, config: &HubConfig, now: Instant, retained: &AtomicUsize) {
        let mut freed = 0;
        while let Some((at, event)) = self.history.front() {
            let too_many = self.history.len() > config.history_events.max(1);
            let too_old = now.duration_since(*at) > config.history_age;
            if !(too_many || too_old) {
                break;
            }
            self.trimmed_through = event.id().position.major;
            freed += event_bytes(event);
            self.history.pop_front();
        }
        if freed > 0 {
            retained.fetch_sub(freed, Ordering::Relaxed);
        }
    }

    /// The retained events after `after` (all of them if `None`). They follow `after`, or,
    /// after a gap, the newest event trimmed. An id of another history (another topic, this
    /// one before it was forgotten, an earlier process), past the newest event or older than
    /// the history reaches is a gap.
    fn after(&self, after: Option<EventId>) -> Replay {
        let known = after.filter(|id| {
            id.epoch == self.epoch
                && (self.trimmed_through..=self.last).contains(&id.position.major)
        });
        let start = known.map_or(0, |id| {
            self.history
                .partition_point(|(_, e)| e.id().position <= id.position)
        });
        Replay {
            gap: after.is_some() && known.is_none(),
            events: self
                .history
                .range(start..)
                .map(|(_, e)| e.clone())
                .collect(),
            head: known.or(Some(EventId::new(self.epoch, self.trimmed_through, 0))),
        }
    }
}

/// When an event published at `at` has aged out: the first millisecond (tokio's timers count
/// them) at which it is older than the history's age.
pub(super) fn expiry(at: Instant, config: &HubConfig) -> Instant {
    // An age too long for the clock keeps events for a century, as good as forever.
    const CENTURY: std::time::Duration = std::time::Duration::from_secs(100 * 365 * 24 * 3600);
    at + config.history_age.min(CENTURY) + std::time::Duration::from_millis(1)
}

/// Roughly the bytes of a topic's queue to its subscribers: per slot, a `Signal`, its
/// position, its count of readers yet to read it and its lock.
fn queue_bytes(config: &HubConfig) -> usize {
    config.subscriber_queue.max(1) * (size_of::<Signal>() + 3 * size_of::<usize>())
}

/// Roughly the bytes an event takes in the history: its payload, its name, itself and its
/// slot in the ring, with its reference counts.
fn event_bytes(event: &BroadcastEvent) -> usize {
    event.data().len()
        + event.event().map_or(0, str::len)
        + size_of::<BroadcastEvent>()
        + size_of::<(Instant, Arc<BroadcastEvent>)>()
        + 2 * size_of::<usize>()
}
