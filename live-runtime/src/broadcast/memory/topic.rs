//! One topic of the in-process engine: its ids, its kind, its history (a log topic's events,
//! a value topic's current value), whether it was closed, and its queue to the subscribers
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
use crate::broadcast::kind::{TopicKind, Write};
use crate::broadcast::{HubConfig, Since};
use crate::error::{Error, Result};

pub(super) struct Topic {
    /// Chosen at random when the topic is created: the epoch of its ids. An id of another
    /// topic, or of this one before it was forgotten, is then of another history (a gap).
    epoch: u32,
    /// The position of the newest event published; positions count this topic's events only,
    /// so an id tells nothing about other topics.
    last: u64,
    /// Set by the first publish.
    kind: Option<TopicKind>,
    /// Closed by a final event: then `due` is when the topic is forgotten.
    closed: bool,
    history: VecDeque<(Instant, Arc<BroadcastEvent>)>,
    /// The newest position dropped from the history, by count or by age (0: none).
    trimmed_through: u64,
    /// Only while the topic has subscribers: its `subscriber_queue` slots take kilobytes.
    sender: Option<broadcast::Sender<Signal>>,
    subscribers: usize,
    /// When the engine looks at the topic again, for its events to age out or, once closed,
    /// to forget it: set while it holds events, so a topic is never left holding aged-out
    /// events unseen. An expiry queued for another time is stale.
    pub(super) due: Option<Instant>,
    /// Set under the topic's lock when the engine forgets it, so a call that found it just
    /// before looks it up again instead of using a forgotten topic.
    pub(super) removed: bool,
}

impl Topic {
    pub(super) fn new() -> Self {
        Topic {
            epoch: new_epoch(),
            last: 0,
            kind: None,
            closed: false,
            history: VecDeque::new(),
            trimmed_through: 0,
            sender: None,
            subscribers: 0,
            due: None,
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

    /// Publishes an event to the topic named `name`, as `write` says; returns its id, and
    /// when the engine must look at the topic, if that is news to it.
    #[expect(
        clippy::too_many_arguments,
        reason = "the event, and the engine's state"
    )]
    pub(super) fn publish(
        &mut self,
        name: &str,
        write: Write,
        event: Option<Box<str>>,
        data: Box<str>,
        now: Instant,
        config: &HubConfig,
        retained: &AtomicUsize,
    ) -> Result<(EventId, Option<Instant>)> {
        if self.closed {
            return Err(Error::topic_closed(name));
        }
        self.kind = Some(write.kind(name, self.kind)?);
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
        let due = if write == Write::Close {
            let at = aged(now, config.closed_topic_age);
            self.closed = true;
            // The subscribers read the final event, then the end of the queue.
            self.drop_queue(config, retained);
            Some(at)
        } else {
            self.due.is_none().then(|| expiry(now, config))
        };
        if due.is_some() {
            self.due = due;
        }
        Ok((id, due))
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
            // Nothing more comes: the subscription ends after its replay.
            None if self.closed => broadcast::channel(1).1,
            None => {
                retained.fetch_add(queue_bytes(config), Ordering::Relaxed);
                let (sender, receiver) = broadcast::channel(config.subscriber_queue.max(1));
                self.sender = Some(sender);
                receiver
            }
        };
        let replay = match since {
            // A value topic's current value, a closed topic's final event: what a newcomer
            // needs.
            Since::Now if self.kind == Some(TopicKind::Value) || self.closed => self.newest(),
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
            self.drop_queue(config, retained);
        }
    }

    fn drop_queue(&mut self, config: &HubConfig, retained: &AtomicUsize) {
        if self.sender.take().is_some() {
            retained.fetch_sub(queue_bytes(config), Ordering::Relaxed);
        }
    }

    /// The engine's look at a queued topic: drops what aged out (everything, once a closed
    /// topic's time is up), and gives back the ring's spare room (a burst long gone should
    /// not keep its buffer). Returns when to look again, if it still holds events or is
    /// closed and not yet due to be forgotten.
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
        let again = if self.closed {
            self.due.filter(|at| *at > now)
        } else {
            self.history.back().map(|(at, _)| expiry(*at, config))
        };
        self.due = again;
        again
    }

    /// Whether nothing holds the topic: no subscriber and no event, or closed and due to be
    /// forgotten (its subscribers' streams ended at the close).
    pub(super) fn is_unused(&self) -> bool {
        self.due.is_none() && (self.subscribers == 0 || self.closed)
    }

    /// Whether the topic is closed and due to be forgotten, though not looked at yet.
    pub(super) fn is_forgotten(&self, now: Instant) -> bool {
        self.closed && self.due.is_none_or(|at| at <= now)
    }

    pub(super) fn subscribers(&self) -> usize {
        self.subscribers
    }

    fn trim(&mut self, config: &HubConfig, now: Instant, retained: &AtomicUsize) {
        let limit = match self.kind {
            Some(TopicKind::Value) => 1,
            _ => config.history_events.max(1),
        };
        // A closed topic keeps its final event while it is kept itself.
        let forgotten = self.is_forgotten(now);
        let keep = usize::from(self.closed && !forgotten);
        let mut freed = 0;
        while let Some((at, event)) = self.history.front() {
            let too_many = self.history.len() > limit;
            let too_old = self.history.len() > keep && now.duration_since(*at) > config.history_age;
            if !(too_many || too_old || forgotten) {
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
    /// the history reaches is a gap. A value topic has no gap: its current value, unless
    /// `after` is it.
    fn after(&self, after: Option<EventId>) -> Replay {
        if self.kind == Some(TopicKind::Value) {
            return match after {
                Some(id) if id == EventId::new(self.epoch, self.last, 0) => Replay {
                    gap: false,
                    events: Vec::new(),
                    head: Some(id),
                },
                _ => self.newest(),
            };
        }
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

    /// The newest event alone (a value topic's current value, a closed topic's final
    /// event), without a gap whatever came before it.
    fn newest(&self) -> Replay {
        let newest = self.history.back().map(|(_, e)| e.clone());
        let before = self.last - u64::from(newest.is_some());
        Replay {
            gap: false,
            events: newest.into_iter().collect(),
            head: Some(EventId::new(self.epoch, before, 0)),
        }
    }
}

/// When an event published at `at` has aged out.
fn expiry(at: Instant, config: &HubConfig) -> Instant {
    aged(at, config.history_age)
}

/// The first millisecond (tokio's timers count them) at which what happened at `at` is older
/// than `age`.
fn aged(at: Instant, age: std::time::Duration) -> Instant {
    // An age too long for the clock is a century, as good as forever.
    const CENTURY: std::time::Duration = std::time::Duration::from_secs(100 * 365 * 24 * 3600);
    at + age.min(CENTURY) + std::time::Duration::from_millis(1)
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
