//! The in-process engine: one node, history in a ring per topic, each topic held only while
//! it retains events or has subscribers.

mod expiry;
mod topic;

use std::collections::binary_heap::PeekMut;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;
use tokio::task::AbortHandle;
// tokio's clock: the history's age follows `tokio::time::pause` in tests.
use tokio::time::Instant;

use super::engine::{Replay, Signal, lock};
use super::id::EventId;
use super::{HubConfig, HubUsage, Since};
use crate::error::{Error, Result};
use crate::stream_state::timers_enabled;
use expiry::{Expiry, sweep};
use topic::{Topic, expiry};

/// Topics looked at per hold of the table's lock when their events age out.
const BATCH: usize = 1024;

pub(crate) struct MemoryEngine {
    shared: Arc<Shared>,
}

/// What the engine shares with its sweeper task.
struct Shared {
    config: HubConfig,
    table: Mutex<Table>,
    /// [`HubUsage::retained_bytes`], kept up to date by every change to a topic.
    retained: AtomicUsize,
}

struct Table {
    topics: HashMap<Arc<str>, Arc<Mutex<Topic>>>,
    /// One entry per topic that holds events (`queued`): when to look at it again.
    expiries: BinaryHeap<Expiry>,
    /// The task that looks at topics as their expiries fall due, while any is queued.
    sweeper: Option<AbortHandle>,
}

impl MemoryEngine {
    pub(crate) fn new(config: HubConfig) -> Self {
        MemoryEngine {
            shared: Arc::new(Shared {
                config,
                table: Mutex::new(Table {
                    topics: HashMap::new(),
                    expiries: BinaryHeap::new(),
                    sweeper: None,
                }),
                retained: AtomicUsize::new(0),
            }),
        }
    }

    /// Runs `f` on the topic, locked, created if missing, with its name as the engine keeps it.
    fn with_topic<R>(
        &self,
        name: &str,
        now: Instant,
        f: impl FnOnce(&mut Topic, &Arc<str>) -> R,
    ) -> Result<R> {
        loop {
            let (key, topic) = self.shared.find_or_create(name, now)?;
            let mut topic = lock(&topic);
            if !topic.removed {
                return Ok(f(&mut topic, &key));
            }
        }
    }

    pub(crate) fn publish(
        &self,
        name: &str,
        event: Option<Box<str>>,
        data: Box<str>,
    ) -> Result<EventId> {
        let shared = &*self.shared;
        let now = Instant::now();
        let (id, first) = self.with_topic(name, now, |topic, key| {
            let (id, first) = topic.publish(event, data, now, &shared.config, &shared.retained);
            (id, first.then(|| key.clone()))
        })?;
        // Outside the topic's lock, which is never held while taking the table's.
        if let Some(topic) = first {
            self.queue(Expiry {
                at: expiry(now, &shared.config),
                topic,
            });
        }
        Ok(id)
    }

    /// Queues a topic that now holds events, and starts the sweeper if it is not running and
    /// the runtime has a timer (without one, topics are looked at when room is needed).
    fn queue(&self, expiry: Expiry) {
        let mut table = lock(&self.shared.table);
        table.expiries.push(expiry);
        let running = table
            .sweeper
            .as_ref()
            .is_some_and(|task| !task.is_finished());
        if !running && tokio::runtime::Handle::try_current().is_ok() && timers_enabled() {
            let task = tokio::spawn(sweep(Arc::downgrade(&self.shared)));
            table.sweeper = Some(task.abort_handle());
        }
    }

    /// The receiver, the replay, and the topic's name as the engine keeps it (shared, not
    /// copied per subscriber). The subscription must call [`left`](Self::left) when it ends.
    pub(crate) fn subscribe(
        &self,
        name: &str,
        since: Since,
    ) -> Result<(broadcast::Receiver<Signal>, Replay, Arc<str>)> {
        let shared = &*self.shared;
        let now = Instant::now();
        self.with_topic(name, now, |topic, key| {
            let (receiver, replay) = topic.subscribe(since, now, &shared.config, &shared.retained);
            (receiver, replay, key.clone())
        })
    }

    /// A subscription of `name` ended: its queue goes with the last subscriber, and the topic
    /// too if it holds no events.
    pub(crate) fn left(&self, name: &str) {
        let mut table = lock(&self.shared.table);
        let Some(topic) = table.topics.get(name).cloned() else {
            return;
        };
        let mut topic = lock(&topic);
        topic.left(&self.shared.config, &self.shared.retained);
        if topic.is_unused() {
            self.shared.remove(&mut table, name, &mut topic);
        }
    }

    pub(crate) fn subscribers(&self, name: &str) -> usize {
        let topic = lock(&self.shared.table).topics.get(name).cloned();
        topic.map_or(0, |topic| lock(&topic).subscribers())
    }

    /// The retained events after `after`, for a subscriber that fell behind.
    pub(crate) fn recover(&self, name: &str, after: Option<EventId>) -> Replay {
        let shared = &*self.shared;
        let topic = lock(&shared.table).topics.get(name).cloned();
        match topic {
            Some(topic) => {
                lock(&topic).recover(after, Instant::now(), &shared.config, &shared.retained)
            }
            // Not reached: a topic stays while it has subscribers. Whatever it held is gone.
            None => Replay {
                gap: true,
                events: Vec::new(),
                head: after,
            },
        }
    }

    pub(crate) fn usage(&self) -> HubUsage {
        HubUsage {
            topics: lock(&self.shared.table).topics.len(),
            retained_bytes: self.shared.retained.load(Ordering::Relaxed),
        }
    }
}

impl Drop for MemoryEngine {
    fn drop(&mut self) {
        if let Some(task) = lock(&self.shared.table).sweeper.take() {
            task.abort();
        }
    }
}

impl Shared {
    /// The topic named `name`, created if missing and the table has room.
    fn find_or_create(&self, name: &str, now: Instant) -> Result<(Arc<str>, Arc<Mutex<Topic>>)> {
        let mut table = lock(&self.table);
        if let Some((key, topic)) = table.topics.get_key_value(name) {
            return Ok((key.clone(), topic.clone()));
        }
        if table.topics.len() >= self.config.max_topics {
            // Topics whose events aged out may not have been looked at yet (there is no
            // sweeper on a runtime without a timer): they make room first.
            self.expire_due(&mut table, now);
            if table.topics.len() >= self.config.max_topics {
                return Err(Error::too_many_topics(self.config.max_topics));
            }
        }
        let key: Arc<str> = name.into();
        let topic = Arc::new(Mutex::new(Topic::new()));
        table.topics.insert(key.clone(), topic.clone());
        self.retained
            .fetch_add(Topic::fixed_bytes(name), Ordering::Relaxed);
        Ok((key, topic))
    }

    /// Looks at the topics whose expiry is due at `now`, a batch at most: each drops the
    /// events that aged out, and is forgotten if nothing holds it any more. Returns when the
    /// next one is due.
    fn expire_due(&self, table: &mut Table, now: Instant) -> Option<Instant> {
        for _ in 0..BATCH {
            let Some(due) = table.expiries.peek_mut().filter(|e| e.at <= now) else {
                break;
            };
            let Expiry { topic: name, .. } = PeekMut::pop(due);
            // A queued topic is forgotten only here, so it is in the table.
            let Some(topic) = table.topics.get(&name).cloned() else {
                continue;
            };
            let mut topic = lock(&topic);
            match topic.expire(now, &self.config, &self.retained) {
                Some(at) => table.expiries.push(Expiry { at, topic: name }),
                None if topic.is_unused() => self.remove(table, &name, &mut topic),
                None => {}
            }
        }
        if is_roomy(table.expiries.len(), table.expiries.capacity()) {
            table.expiries.shrink_to(table.expiries.len() * 2);
        }
        table.expiries.peek().map(|e| e.at)
    }

    /// Forgets a topic that nothing holds.
    fn remove(&self, table: &mut Table, name: &str, topic: &mut Topic) {
        topic.removed = true;
        table.topics.remove(name);
        if is_roomy(table.topics.len(), table.topics.capacity()) {
            table.topics.shrink_to(table.topics.len() * 2);
        }
        self.retained
            .fetch_sub(Topic::fixed_bytes(name), Ordering::Relaxed);
    }
}

/// Whether a table that once held many more is worth shrinking: it keeps its largest size
/// otherwise. Shrinking to twice what is left makes it rare (amortised by the removals).
fn is_roomy(len: usize, capacity: usize) -> bool {
    capacity > 64 && len < capacity / 4
}
