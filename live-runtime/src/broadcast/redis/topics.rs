//! The topics this node has subscribers for: each one's channel to them and its cursor, the
//! last stream entry dispatched. A first subscriber starts a cursor; only the reader moves it
//! on, and only here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use redis::streams::StreamReadReply;
use tokio::sync::{Notify, broadcast};

use super::entry::{is_final, previous, to_event};
use super::keys::Keys;
use super::snapshot::Snapshot;
use super::stream_id::{parse_position, position_text};
use crate::broadcast::engine::{Signal, lock};
use crate::broadcast::id::{EventId, Position};
use crate::error::{Error, Result};

pub(super) struct Topics {
    /// One lock over the cursors and the epoch they are checked against.
    state: Mutex<State>,
    /// Signalled when a topic gets a cursor, for a reader with nothing to read.
    started: Notify,
    subscriber_queue: usize,
    /// The most topics this node follows at once ([`HubConfig::max_topics`]).
    ///
    /// [`HubConfig::max_topics`]: crate::broadcast::HubConfig::max_topics
    max_topics: usize,
}

struct State {
    topics: HashMap<Arc<str>, LocalTopic>,
    /// The epoch of the history Redis holds, as the reader last read it (or as the first
    /// entry it read says, when Redis had none at first).
    epoch: Option<u32>,
}

struct LocalTopic {
    sender: broadcast::Sender<Signal>,
    /// The last entry dispatched to this node's subscribers, in the history it belongs to;
    /// `None` until the first subscriber's history read says where to start. After Redis lost
    /// its data, ids start again and may be below it: its epoch tells.
    cursor: Option<EventId>,
}

/// What a first subscriber's history read means for where the node reads the topic from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Start {
    /// The node starts reading the topic after this read: the reader must be woken.
    New,
    /// The node already reads the topic from past this read (another first subscriber's
    /// newer read): what lies between was in neither read, nor is it coming.
    Ahead,
    /// The node reads on from within this read, or from another history (which the reader
    /// resets).
    Covered,
}

impl Topics {
    pub(super) fn new(subscriber_queue: usize, max_topics: usize) -> Self {
        Topics {
            state: Mutex::new(State {
                topics: HashMap::new(),
                epoch: None,
            }),
            started: Notify::new(),
            subscriber_queue: subscriber_queue.max(1),
            max_topics: max_topics.max(1),
        }
    }

    /// A receiver of `topic`'s signals, and the topic's name as kept here. A topic new to
    /// this node past [`max_topics`](Self::max_topics) is refused, once the topics nobody
    /// here listens to any more are let go: each holds a queue of its own.
    pub(super) fn subscribe(&self, topic: &str) -> Result<(broadcast::Receiver<Signal>, Arc<str>)> {
        let mut state = lock(&self.state);
        if let Some((key, local)) = state.topics.get_key_value(topic) {
            return Ok((local.sender.subscribe(), key.clone()));
        }
        if state.topics.len() >= self.max_topics {
            state
                .topics
                .retain(|_, local| local.sender.receiver_count() > 0);
            if state.topics.len() >= self.max_topics {
                return Err(Error::too_many_topics(self.max_topics));
            }
        }
        let key: Arc<str> = topic.into();
        let sender = broadcast::channel(self.subscriber_queue).0;
        let receiver = sender.subscribe();
        state.topics.insert(
            key.clone(),
            LocalTopic {
                sender,
                cursor: None,
            },
        );
        Ok((receiver, key))
    }

    /// Starts `topic`'s cursor at the end of `snapshot` unless it has one.
    pub(super) fn start(&self, topic: &str, snapshot: &Snapshot) -> Start {
        let start = match lock(&self.state).topics.get_mut(topic) {
            Some(local) => match local.cursor {
                None => {
                    local.cursor = Some(EventId {
                        epoch: snapshot.epoch.unwrap_or_default(),
                        position: snapshot.last.unwrap_or_default(),
                    });
                    Start::New
                }
                Some(cursor)
                    if Some(cursor.epoch) == snapshot.epoch
                        && Some(cursor.position) > snapshot.last =>
                {
                    Start::Ahead
                }
                Some(_) => Start::Covered,
            },
            None => Start::Covered,
        };
        if start == Start::New {
            self.started.notify_one();
        }
        start
    }

    /// Waits until a topic gets a cursor.
    pub(super) async fn started(&self) {
        self.started.notified().await;
    }

    pub(super) fn subscribers(&self, topic: &str) -> usize {
        lock(&self.state)
            .topics
            .get(topic)
            .map_or(0, |local| local.sender.receiver_count())
    }

    /// The streams to read and where from, this node's wake-up stream first; forgets topics
    /// nobody here listens to.
    pub(super) fn reading_set(&self, keys: &Keys) -> (Vec<String>, Vec<String>) {
        let mut state = lock(&self.state);
        state
            .topics
            .retain(|_, local| local.sender.receiver_count() > 0);
        let mut streams = vec![keys.wake.clone()];
        let mut ids = vec!["$".to_owned()];
        for (topic, local) in &state.topics {
            if let Some(cursor) = local.cursor {
                streams.push(keys.stream(topic));
                ids.push(position_text(cursor.position));
            }
        }
        (streams, ids)
    }

    /// Sends what was read to the node's subscribers, in order, and ends their queue after a
    /// closed topic's final event. An entry whose `p` (the id
    /// before it) is not the cursor means entries were trimmed before this node read them:
    /// the topic's subscribers are told to check the history.
    ///
    /// Stops, returning `false`, at an entry of another epoch than the one known, so that the
    /// reader reads the epoch from Redis (it changed, or the entry is stale) and reads the
    /// entry again; when `verified` (the epoch was just read), such entries are skipped.
    pub(super) fn dispatch(&self, reply: StreamReadReply, verified: bool, keys: &Keys) -> bool {
        let known = {
            let mut state = lock(&self.state);
            if state.epoch.is_none() {
                // Connected before Redis had an epoch: the first one seen is it.
                state.epoch = reply
                    .keys
                    .iter()
                    .flat_map(|stream| &stream.ids)
                    .find_map(to_event)
                    .map(|event| event.id().epoch);
            }
            state.epoch
        };
        for stream in reply.keys {
            let Some(topic) = keys.topic(&stream.key) else {
                continue;
            };
            let mut state = lock(&self.state);
            // Only topics with a cursor are read.
            let Some(LocalTopic {
                sender,
                cursor: Some(cursor),
            }) = state.topics.get_mut(topic)
            else {
                continue;
            };
            for entry in &stream.ids {
                let Some(position) = parse_position(&entry.id) else {
                    continue;
                };
                if cursor.position >= position {
                    continue;
                }
                let event = to_event(entry);
                if let Some(event) = &event {
                    let epoch = event.id().epoch;
                    if known.is_some_and(|known| known != epoch) {
                        if !verified {
                            return false;
                        }
                        cursor.position = position;
                        continue;
                    }
                    if cursor.epoch != epoch {
                        // The cursor belongs to a history Redis lost: every subscriber
                        // re-reads the new one after a gap.
                        *cursor = EventId {
                            epoch,
                            position: Position::default(),
                        };
                        let _ = sender.send(Signal::Reset);
                    }
                }
                if previous(entry).is_some_and(|previous| previous != cursor.position) {
                    let _ = sender.send(Signal::Missed);
                }
                cursor.position = position;
                // Anything else in the stream (written by another program) is skipped.
                if let Some(event) = event {
                    let _ = sender.send(Signal::Event(event));
                }
                if is_final(entry) {
                    // The subscribers read the final event, then the end of their queue; a
                    // later subscriber is told by its read that the topic is closed.
                    state.topics.remove(topic);
                    break;
                }
            }
        }
        true
    }

    /// Notes the epoch Redis holds now (read from its key). Every cursor of another history
    /// (Redis lost its data: ids start again, maybe below it) goes back to the start, and its
    /// subscribers are told to re-read the history after a gap.
    ///
    /// No epoch says nothing of the cursors: the key may have been read just before a
    /// subscriber's first read made it, and a history Redis lost shows by the epoch its next
    /// script makes, in an entry or in the key on a later quiet read.
    pub(super) fn adopt_epoch(&self, epoch: Option<u32>) {
        let mut reset = false;
        {
            let mut state = lock(&self.state);
            state.epoch = epoch;
            let Some(current) = epoch else {
                return;
            };
            for local in state.topics.values_mut() {
                if local.cursor.is_some_and(|cursor| cursor.epoch != current) {
                    local.cursor = Some(EventId {
                        epoch: current,
                        position: Position::default(),
                    });
                    let _ = local.sender.send(Signal::Reset);
                    reset = true;
                }
            }
        }
        if reset {
            tracing::warn!("broadcast: the Redis history was replaced; subscribers get a reset");
        }
    }
}

#[cfg(test)]
mod tests {
    use redis::streams::{StreamId, StreamKey};

    use super::super::entry::tests::entry;
    use super::*;

    const EPOCH: u32 = 0x2a;

    fn at(major: u64) -> Position {
        Position { major, minor: 0 }
    }

    fn snapshot(epoch: u32, last: u64) -> Snapshot {
        Snapshot {
            epoch: Some(epoch),
            trimmed: None,
            last: Some(at(last)),
            born: None,
            before: None,
            events: Vec::new(),
            kind: None,
            closed: false,
            exists: true,
        }
    }

    /// A node with one subscriber to `t`, whose cursor starts at `1-0` of [`EPOCH`].
    fn node() -> (Topics, Keys, broadcast::Receiver<Signal>) {
        let topics = Topics::new(16, 100);
        let keys = Keys::new("test");
        let (receiver, _) = topics.subscribe("t").unwrap();
        assert_eq!(topics.start("t", &snapshot(EPOCH, 1)), Start::New);
        (topics, keys, receiver)
    }

    fn published(epoch: u32, id: &str, previous: &str, data: &str) -> StreamId {
        let epoch = format!("{epoch:08x}");
        entry(id, &[("h", &epoch), ("p", previous), ("d", data)])
    }

    fn reply(keys: &Keys, entries: Vec<StreamId>) -> StreamReadReply {
        StreamReadReply {
            keys: vec![StreamKey {
                key: keys.stream("t"),
                ids: entries,
            }],
        }
    }

    fn received(receiver: &mut broadcast::Receiver<Signal>) -> Vec<String> {
        std::iter::from_fn(|| receiver.try_recv().ok())
            .map(|signal| match signal {
                Signal::Event(event) => event.data().to_owned(),
                Signal::Missed => "missed".to_owned(),
                Signal::Reset => "reset".to_owned(),
            })
            .collect()
    }

    fn cursor(topics: &Topics, keys: &Keys) -> Vec<String> {
        topics.reading_set(keys).1.split_off(1)
    }

    #[test]
    fn dispatches_in_order_what_is_past_the_cursor() {
        let (topics, keys, mut receiver) = node();
        let entries = vec![
            published(EPOCH, "1-0", "0-0", "had it"),
            published(EPOCH, "2-0", "1-0", "b"),
            published(EPOCH, "3-0", "2-0", "c"),
        ];
        assert!(topics.dispatch(reply(&keys, entries), false, &keys));
        assert_eq!(received(&mut receiver), ["b", "c"]);
        let (streams, ids) = topics.reading_set(&keys);
        assert_eq!(streams, [keys.wake.clone(), keys.stream("t")]);
        assert_eq!(ids, ["$", "3-0"]);
    }

    #[test]
    fn an_entry_after_a_hole_tells_subscribers_to_check_the_history() {
        let (topics, keys, mut receiver) = node();
        let entries = vec![published(EPOCH, "5-0", "3-0", "e")];
        assert!(topics.dispatch(reply(&keys, entries), false, &keys));
        assert_eq!(received(&mut receiver), ["missed", "e"]);
    }

    #[test]
    fn an_entry_of_another_epoch_is_news_only_once_redis_confirms_it() {
        let (topics, keys, mut receiver) = node();
        topics.adopt_epoch(Some(EPOCH));
        let stale = || reply(&keys, vec![published(0x63, "2-0", "1-0", "stale")]);
        // Not verified: stop, so the reader reads the epoch and this entry again.
        assert!(!topics.dispatch(stale(), false, &keys));
        assert_eq!(cursor(&topics, &keys), ["1-0"]);
        // Verified: the entry is stale, skipped.
        assert!(topics.dispatch(stale(), true, &keys));
        assert_eq!(cursor(&topics, &keys), ["2-0"]);
        assert!(received(&mut receiver).is_empty());
    }

    #[test]
    fn a_replaced_history_resets_every_cursor() {
        let (topics, keys, mut receiver) = node();
        topics.adopt_epoch(Some(EPOCH));
        assert!(received(&mut receiver).is_empty());
        topics.adopt_epoch(Some(0x63));
        assert_eq!(received(&mut receiver), ["reset"]);
        assert_eq!(cursor(&topics, &keys), ["0-0"]);
        // An entry of the new history that the cursor's epoch did not know yet resets it too.
        let (topics, keys, mut receiver) = node();
        let entries = vec![published(0x63, "2-0", "0-0", "new")];
        assert!(topics.dispatch(reply(&keys, entries), false, &keys));
        assert_eq!(received(&mut receiver), ["reset", "new"]);
    }

    #[test]
    fn a_missing_epoch_replaces_no_history() {
        // The reader read the key before the first subscriber's read made the epoch, and
        // learns it only after that subscriber started the cursor.
        let (topics, keys, mut receiver) = node();
        topics.adopt_epoch(None);
        assert!(received(&mut receiver).is_empty());
        assert_eq!(cursor(&topics, &keys), ["1-0"]);
        let entries = vec![published(EPOCH, "2-0", "1-0", "b")];
        assert!(topics.dispatch(reply(&keys, entries), false, &keys));
        assert_eq!(received(&mut receiver), ["b"]);
        // A wiped Redis shows by the epoch of its new history, once the key confirms it.
        let wiped = || reply(&keys, vec![published(0x63, "3-0", "0-0", "new")]);
        assert!(!topics.dispatch(wiped(), false, &keys));
        topics.adopt_epoch(Some(0x63));
        assert!(topics.dispatch(wiped(), true, &keys));
        assert_eq!(received(&mut receiver), ["reset", "new"]);
    }

    #[test]
    fn a_final_event_ends_the_queue_and_the_reading() {
        let (topics, keys, mut receiver) = node();
        let epoch = format!("{EPOCH:08x}");
        let entries = vec![
            published(EPOCH, "2-0", "1-0", "b"),
            entry(
                "3-0",
                &[("h", &epoch), ("p", "2-0"), ("d", "end"), ("f", "1")],
            ),
        ];
        assert!(topics.dispatch(reply(&keys, entries), false, &keys));
        assert_eq!(received(&mut receiver), ["b", "end"]);
        assert!(matches!(
            receiver.try_recv(),
            Err(broadcast::error::TryRecvError::Closed)
        ));
        assert!(cursor(&topics, &keys).is_empty());
    }

    #[test]
    fn a_later_first_read_says_whether_it_missed_what_the_node_reads_from() {
        let (topics, _keys, _receiver) = node();
        assert_eq!(topics.start("t", &snapshot(EPOCH, 0)), Start::Ahead);
        assert_eq!(topics.start("t", &snapshot(EPOCH, 1)), Start::Covered);
        assert_eq!(topics.start("t", &snapshot(0x63, 0)), Start::Covered);
        assert_eq!(topics.start("unknown", &snapshot(EPOCH, 0)), Start::Covered);
        assert_eq!(topics.subscribers("t"), 1);
    }

    #[test]
    fn topics_nobody_listens_to_are_forgotten() {
        let (topics, keys, receiver) = node();
        drop(receiver);
        assert_eq!(
            topics.reading_set(&keys).0,
            std::slice::from_ref(&keys.wake)
        );
        assert_eq!(topics.subscribers("t"), 0);
    }

    #[test]
    fn a_node_follows_at_most_max_topics() {
        let topics = Topics::new(16, 2);
        let (a, _) = topics.subscribe("a").unwrap();
        let _b = topics.subscribe("b").unwrap();
        let refused = topics.subscribe("c").unwrap_err();
        assert_eq!(refused.kind(), crate::ErrorKind::TooManyTopics);
        // A topic followed already takes more subscribers; one nobody listens to makes room.
        let _a2 = topics.subscribe("a").unwrap();
        assert!(topics.subscribe("c").is_err());
        drop((a, _a2));
        assert!(topics.subscribe("c").is_ok());
    }
}
