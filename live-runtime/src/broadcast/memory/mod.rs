//! The in-process engine: one node, history in a ring per topic, each topic held only while
//! it retains events or has subscribers, or was closed and is not yet forgotten.

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
use super::kind::Write;
use super::{HubConfig, HubUsage, Since};
use crate::error::{Error, Result};
use crate::stream_state::timers_enabled;
use expiry::{Expiry, sweep};
use topic::Topic;

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

    /// Runs `f` on the topic, locked, with its name as the engine keeps it; created if
    /// missing and `create`, else [`NotFound`](crate::ErrorKind::NotFound).
    fn with_topic<R>(
        &self,
        name: &str,
        now: Instant,
        create: bool,
        f: impl FnOnce(&mut Topic, &Arc<str>) -> R,
    ) -> Result<R> {
        loop {
            let (key, topic) = self.shared.find_or_create(name, now, create)?;
            let mut locked = lock(&topic);
            if locked.is_forgotten(now) {
                // Closed and past its age, but not looked at yet (no timer, or not yet run).
                drop(locked);
                self.shared.forget(&key, now);
            } else if !locked.removed {
                return Ok(f(&mut locked, &key));
            }
        }
    }

    pub(crate) fn publish(
        &self,
        name: &str,
        write: Write,
        event: Option<Box<str>>,
        data: Box<str>,
    ) -> Result<EventId> {
        let shared = &*self.shared;
        let now = Instant::now();
        let (id, due) = self.with_topic(name, now, true, |topic, key| {
            let (id, due) = topic.publish(
                name,
                write,
                event,
                data,
                now,
                &shared.config,
                &shared.retained,
            )?;
            Ok::<_, Error>((
                id,
                due.map(|at| Expiry {
                    at,
                    topic: key.clone(),
                }),
            ))
        })??;
        // Outside the topic's lock, which is never held while taking the table's.
        if let Some(expiry) = due {
            self.queue(expiry);
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
    /// copied per subscriber); the topic is created if missing and `create`. The
    /// subscription must call [`left`](Self::left) when it ends.
    pub(crate) fn subscribe(
        &self,
        name: &str,
        since: Since,
        create: bool,
    ) -> Result<(broadcast::Receiver<Signal>, Replay, Arc<str>)> {
        let shared = &*self.shared;
        let now = Instant::now();
        self.with_topic(name, now, create, |topic, key| {
            let (receiver, replay) = topic.subscribe(since, now, &shared.config, &shared.retained);
            (receiver, replay, key.clone())
        })
    }

    /// A subscription of `key` (the name as the engine gave it) ended: its queue goes with
    /// the last subscriber, and the topic too if it holds no events. A closed topic may have
    /// been forgotten before its subscribers left, and its name taken by a new topic, which
    /// the key tells apart.
    pub(crate) fn left(&self, key: &Arc<str>) {
        let mut table = lock(&self.shared.table);
        let Some(topic) = table
            .topics
            .get_key_value(&**key)
            .filter(|(held, _)| Arc::ptr_eq(held, key))
            .map(|(_, topic)| topic.clone())
        else {
            return;
        };
        let mut topic = lock(&topic);
        topic.left(&self.shared.config, &self.shared.retained);
        if topic.is_unused() {
            self.shared.remove(&mut table, key, &mut topic);
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
    /// The topic named `name`, created if missing, `create` and the table has room.
    fn find_or_create(
        &self,
        name: &str,
        now: Instant,
        create: bool,
    ) -> Result<(Arc<str>, Arc<Mutex<Topic>>)> {
        let mut table = lock(&self.table);
        if let Some((key, topic)) = table.topics.get_key_value(name) {
            return Ok((key.clone(), topic.clone()));
        }
        if !create {
            return Err(Error::not_found(name));
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
            let Expiry {
                topic: name,
                at: due_at,
            } = PeekMut::pop(due);
            // Gone already (a closed topic forgotten as it was found), or queued again for
            // another time (closed since).
            let Some(topic) = table.topics.get(&name).cloned() else {
                continue;
            };
            let mut topic = lock(&topic);
            if topic.due != Some(due_at) {
                continue;
            }
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

    /// Forgets the closed topic `key` once its time is up, if nothing did yet.
    fn forget(&self, key: &Arc<str>, now: Instant) {
        let mut table = lock(&self.table);
        let Some(topic) = table.topics.get(&**key).cloned() else {
            return;
        };
        let mut topic = lock(&topic);
        if topic.is_forgotten(now) {
            topic.expire(now, &self.config, &self.retained);
            self.remove(&mut table, key, &mut topic);
        }
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
