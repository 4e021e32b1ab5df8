//! The Redis engine: topics are Redis Streams shared by every node; each node reads them once
//! and fans out to its own subscribers.
//!
//! - **Publish** is one script call (one round trip, whatever the number of subscribers): it
//!   creates the history's epoch if Redis has none, `XADD`s the event with the epoch in it,
//!   trims the stream to the configured count and age (a value topic to its latest entry),
//!   and sets the key to expire when the topic is quiet for longer than the age. The topic's
//!   kind and whether it is closed live in its meta hash, checked and set by the same script.
//! - **Close** is a publish whose entry is flagged final: every node's reader dispatches it
//!   in order, then ends that topic's local subscribers, including a node that reconnects
//!   and reads on from its last id; the keys expire after the closed topic's age.
//! - **Fan-out**: one reader task per hub does `XREAD BLOCK` on every topic this node has
//!   subscribers for, from the last id it dispatched, and hands each entry to the node's
//!   subscribers through a bounded per-topic channel.
//! - **Subscribe** registers with the fan-out first, then reads the history in one script
//!   (epoch, trimmed-through id, last id and the entries, atomically), so an event is either in
//!   that read or after it in the fan-out; the subscription drops the overlap by id.
//! - **Connections** are the hub's own: commands share one connection, made again on the next
//!   call after it failed; the reader reconnects forever, with a backoff from 50 ms doubling
//!   to 2 s, and goes on from the last id it dispatched, so what Redis accepted during an
//!   outage still reaches every subscriber. Pub/sub is not used: it drops what is published
//!   while a node is reconnecting.

mod connection;
mod entry;
mod keys;
mod reader;
mod scripts;
mod snapshot;
mod stream_id;
mod topics;

use std::sync::{Arc, Once};

use redis::Client;
use tokio::sync::broadcast;

use crate::broadcast::engine::{Replay, Signal};
use crate::broadcast::id::EventId;
use crate::broadcast::kind::Write;
use crate::broadcast::{HubConfig, Since};
use crate::error::{Error, Result};
use connection::Commands;
use keys::Keys;
use reader::Reader;
use scripts::Scripts;
use snapshot::Snapshot;
use stream_id::exclusive;
use topics::{Start, Topics};

pub(crate) struct RedisEngine {
    keys: Keys,
    commands: Commands,
    scripts: Scripts,
    /// Shared with the reader task, which holds it weakly.
    topics: Arc<Topics>,
    reader_started: Once,
}

impl RedisEngine {
    pub(crate) fn new(url: &str, config: HubConfig) -> Result<Self> {
        let client = Client::open(url).map_err(|e| {
            Error::unavailable(e).with_status(http::StatusCode::INTERNAL_SERVER_ERROR)
        })?;
        Ok(RedisEngine {
            keys: Keys::new(&config.redis_prefix),
            commands: Commands::new(client),
            scripts: Scripts::new(&config),
            topics: Arc::new(Topics::new(config.subscriber_queue, config.max_topics)),
            reader_started: Once::new(),
        })
    }

    pub(crate) async fn publish(
        &self,
        topic: &str,
        write: Write,
        event: Option<Box<str>>,
        data: Box<str>,
    ) -> Result<EventId> {
        self.scripts
            .publish(
                &self.commands,
                &self.keys,
                topic,
                write,
                event.as_deref(),
                &data,
            )
            .await
    }

    /// As [`Engine::subscribe`](crate::broadcast::engine::Engine::subscribe): a topic
    /// exists if Redis has its meta hash or this node has subscribers for it.
    pub(crate) async fn subscribe(
        &self,
        topic: &str,
        since: Since,
        create: bool,
    ) -> Result<(broadcast::Receiver<Signal>, Replay, Arc<str>)> {
        let known_here = self.topics.subscribers(topic) > 0;
        if !self.reader_started.is_completed() {
            self.reader_started.call_once(|| {
                Reader::spawn(
                    Arc::downgrade(&self.topics),
                    self.commands.client().clone(),
                    self.keys.clone(),
                );
            });
        }
        // Registered before the history is read: whatever is published after the read reaches
        // this receiver.
        let (receiver, key) = self.topics.subscribe(topic)?;
        let (start, after) = match since {
            Since::Now => (String::new(), None),
            Since::Beginning => ("-".to_owned(), None),
            Since::After(id) => (exclusive(id.position), Some(id)),
        };
        let mut snapshot = self.read(topic, &start, after).await?;
        if !create && !known_here && !snapshot.exists {
            return Err(Error::not_found(topic));
        }
        if snapshot.closed {
            // Nothing more comes: the subscription ends after its replay.
            let ended = broadcast::channel(1).1;
            return Ok((ended, snapshot.subscribed(since), key));
        }
        match self.topics.start(topic, &snapshot) {
            Start::New => reader::wake(&self.commands, &self.keys).await,
            Start::Ahead => {
                if let Some(last) = snapshot.last_id() {
                    let more = self
                        .read(topic, &exclusive(last.position), Some(last))
                        .await?;
                    snapshot.events.extend(more.events);
                }
            }
            Start::Covered => {}
        }
        Ok((receiver, snapshot.subscribed(since), key))
    }

    pub(crate) fn subscribers(&self, topic: &str) -> usize {
        self.topics.subscribers(topic)
    }

    pub(crate) async fn recover(&self, topic: &str, after: Option<EventId>) -> Replay {
        let start = after.map_or_else(|| "-".to_owned(), |id| exclusive(id.position));
        match self.read(topic, &start, after).await {
            Ok(snapshot) => snapshot.caught_up(after),
            Err(error) => {
                tracing::warn!(topic, %error, "broadcast: could not read the history to catch a subscriber up");
                Replay {
                    gap: true,
                    events: Vec::new(),
                    head: after,
                }
            }
        }
    }

    async fn read(&self, topic: &str, start: &str, after: Option<EventId>) -> Result<Snapshot> {
        self.scripts
            .read(&self.commands, &self.keys, topic, start, after)
            .await
    }
}
