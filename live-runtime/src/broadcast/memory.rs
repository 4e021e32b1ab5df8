//! The in-process engine: one node, history in a ring per topic.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;
// tokio's clock: the history's age follows `tokio::time::pause` in tests.
use tokio::time::Instant;

use super::engine::{Replay, Signal, lock};
use super::event::BroadcastEvent;
use super::id::{EventId, new_epoch};
use super::{HubConfig, Since};

/// How often `publish` looks for topics whose history aged out and that nobody listens to.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

pub(crate) struct MemoryEngine {
    config: HubConfig,
    epoch: u32,
    /// Positions come from one counter for all topics, so a topic forgotten and created again
    /// never reuses an id a client may still hold.
    next: AtomicU64,
    topics: Mutex<Topics>,
}

struct Topics {
    map: HashMap<Arc<str>, Arc<Mutex<Topic>>>,
    /// The highest position of any event of a forgotten topic: a resume on a topic that is
    /// not here, after an id below this, may have missed events.
    forgotten_through: u64,
    last_sweep: Instant,
}

struct Topic {
    history: VecDeque<(Instant, Arc<BroadcastEvent>)>,
    /// The highest position dropped from the history, by count or by age.
    trimmed_through: Option<u64>,
    sender: broadcast::Sender<Signal>,
    /// Set under the topic's lock when the sweep removes it, so a publisher that found it
    /// just before looks it up again instead of publishing into a forgotten topic.
    removed: bool,
}

impl MemoryEngine {
    pub(crate) fn new(config: HubConfig) -> Self {
        MemoryEngine {
            config,
            epoch: new_epoch(),
            next: AtomicU64::new(1),
            topics: Mutex::new(Topics {
                map: HashMap::new(),
                forgotten_through: 0,
                last_sweep: Instant::now(),
            }),
        }
    }

    /// Runs `f` on the topic, locked, created if missing, with its name as the engine keeps it.
    fn with_topic<R>(&self, name: &str, f: impl FnOnce(&mut Topic, &Arc<str>) -> R) -> R {
        loop {
            let (key, topic) = {
                let mut topics = lock(&self.topics);
                let forgotten = topics.forgotten_through;
                match topics.map.get_key_value(name) {
                    Some((key, topic)) => (key.clone(), topic.clone()),
                    None => {
                        // A topic created again after it was forgotten must not hide what was
                        // lost with it: it starts as if trimmed through every forgotten event.
                        let topic = Arc::new(Mutex::new(Topic {
                            history: VecDeque::new(),
                            trimmed_through: (forgotten > 0).then_some(forgotten),
                            sender: broadcast::channel(self.config.subscriber_queue.max(1)).0,
                            removed: false,
                        }));
                        let key: Arc<str> = name.into();
                        topics.map.insert(key.clone(), topic.clone());
                        (key, topic)
                    }
                }
            };
            let mut topic = lock(&topic);
            if !topic.removed {
                return f(&mut topic, &key);
            }
        }
    }

    pub(crate) fn publish(&self, name: &str, event: Option<Box<str>>, data: Box<str>) -> EventId {
        let now = Instant::now();
        let id = self.with_topic(name, |topic, _| {
            // Taken under the topic's lock, so positions reach subscribers in order.
            let major = self.next.fetch_add(1, Ordering::Relaxed);
            let id = EventId::new(self.epoch, major, 0);
            let event = BroadcastEvent::new(id, event, data);
            topic.history.push_back((now, event.clone()));
            topic.trim(&self.config, now);
            // No receiver is not an error: history keeps it for those who resume.
            let _ = topic.sender.send(Signal::Event(event));
            id
        });
        self.sweep(now);
        id
    }

    /// Forgets topics whose history aged out and that have no subscriber, at most once per
    /// [`SWEEP_EVERY`], so a server with many short-lived topics does not keep them all.
    fn sweep(&self, now: Instant) {
        let mut topics = lock(&self.topics);
        if now.duration_since(topics.last_sweep) < SWEEP_EVERY {
            return;
        }
        topics.last_sweep = now;
        let mut forgotten = topics.forgotten_through;
        topics.map.retain(|_, topic| {
            let mut topic = lock(topic);
            topic.trim(&self.config, now);
            if topic.history.is_empty() && topic.sender.receiver_count() == 0 {
                forgotten = forgotten.max(topic.trimmed_through.unwrap_or(0));
                topic.removed = true;
                return false;
            }
            true
        });
        topics.forgotten_through = forgotten;
    }

    /// The receiver, the replay, and the topic's name as the engine keeps it (shared, not
    /// copied per subscriber).
    pub(crate) fn subscribe(
        &self,
        name: &str,
        since: Since,
    ) -> (broadcast::Receiver<Signal>, Replay, Arc<str>) {
        let now = Instant::now();
        let subscribed = self.with_topic(name, |topic, key| {
            topic.trim(&self.config, now);
            let receiver = topic.sender.subscribe();
            let replay = match since {
                // Everything after the newest position handed out so far is news; that this
                // position may belong to another topic does not matter, positions are global.
                Since::Now => Replay {
                    gap: false,
                    events: Vec::new(),
                    head: Some(EventId::new(
                        self.epoch,
                        self.next.load(Ordering::Relaxed) - 1,
                        0,
                    )),
                },
                Since::Beginning => topic.after(self.epoch, None, false),
                Since::After(id) => {
                    let gap = id.epoch != self.epoch
                        || id.position.major >= self.next.load(Ordering::Relaxed)
                        || topic.trimmed_through.is_some_and(|t| t > id.position.major);
                    topic.after(self.epoch, if gap { None } else { Some(id) }, gap)
                }
            };
            (receiver, replay, key.clone())
        });
        // Subscribing creates topics too: forget those left behind, or a client asking for
        // ever new names would make them pile up.
        self.sweep(now);
        subscribed
    }

    pub(crate) fn subscribers(&self, name: &str) -> usize {
        let topic = lock(&self.topics).map.get(name).cloned();
        topic.map_or(0, |topic| lock(&topic).sender.receiver_count())
    }

    /// The retained events after `after`, for a subscriber that fell behind.
    pub(crate) fn recover(&self, name: &str, after: Option<EventId>) -> Replay {
        let now = Instant::now();
        self.with_topic(name, |topic, _| {
            topic.trim(&self.config, now);
            let gap = match after {
                Some(id) => topic.trimmed_through.is_some_and(|t| t > id.position.major),
                None => false,
            };
            topic.after(self.epoch, if gap { None } else { after }, gap)
        })
    }
}

impl Topic {
    fn trim(&mut self, config: &HubConfig, now: Instant) {
        while let Some((at, event)) = self.history.front() {
            let too_many = self.history.len() > config.history_events.max(1);
            let too_old = now.duration_since(*at) > config.history_age;
            if !(too_many || too_old) {
                break;
            }
            self.trimmed_through = Some(event.id().position.major);
            self.history.pop_front();
        }
    }

    /// The retained events after `after` (all of them if `None`). They follow `after`, or
    /// else the newest event trimmed.
    fn after(&self, epoch: u32, after: Option<EventId>, gap: bool) -> Replay {
        let start = match after {
            Some(id) => self
                .history
                .partition_point(|(_, e)| e.id().position <= id.position),
            None => 0,
        };
        Replay {
            gap,
            events: self
                .history
                .range(start..)
                .map(|(_, e)| e.clone())
                .collect(),
            head: after.or(Some(EventId::new(
                epoch,
                self.trimmed_through.unwrap_or(0),
                0,
            ))),
        }
    }
}
