//! Broadcast: one event to every subscriber of a topic, on one node or many, resumable by
//! `Last-Event-ID`.
//!
//! A [`Hub`] is what a controller holds: [`publish`](Hub::publish) sends an event to a topic
//! (a chat room, a price feed, a user's notifications) and returns its [`EventId`];
//! [`subscribe`](Hub::subscribe) replays the retained events after an id, then delivers live
//! ones, with no gap and no duplicate at the seam. [`Sse::forward`](crate::sse::Sse::forward)
//! sends a subscription to a browser as Server-Sent Events, each with its id, so an
//! `EventSource` that reconnects (to this node or another) resumes exactly where it was:
//!
//! ```
//! use axum::extract::Path;
//! use live_runtime::broadcast::{EventId, Hub, HubConfig};
//! use live_runtime::prelude::*;
//!
//! pub struct RoomsController { hub: Hub }
//!
//! #[live_controller]
//! impl RoomsController {
//!     /// `POST /rooms/{id}/say`: publish, answer the event's id.
//!     #[post("/{id}/say")]
//!     pub async fn say(&self, Path(room): Path<String>, text: String) -> live_runtime::Result<String> {
//!         Ok(self.hub.publish_event(&room, "message", &text).await?.to_string())
//!     }
//!
//!     /// `GET /rooms/{id}`: the room's messages, resumed after `Last-Event-ID`.
//!     pub async fn show(
//!         &self,
//!         Path(room): Path<String>,
//!         last: LastEventId<EventId>,
//!         live: Live,
//!     ) -> live_runtime::Result {
//!         let sse = live.sse(SseOptions::new());
//!         match self.hub.subscribe(&room, last).await {
//!             Ok(messages) => sse.forward(messages).await,
//!             // Not `?`: with Redis down, the stream ends for the browser to retry.
//!             Err(error) => sse.retry_later(error),
//!         }
//!     }
//! }
//!
//! let app = RoomsController { hub: Hub::memory(HubConfig::default()) }.into_router();
//! # let _: axum::Router = app;
//! ```
//!
//! # Engines
//!
//! The semantics below hold for both; choose one at start-up.
//! - [`Hub::memory`]: in-process, one node, nothing to run.
//! - `Hub::redis` (cargo feature `redis`): any number of nodes share topics and history
//!   through one Redis 7 server. See its docs for the connection lifecycle.
//!
//! # Semantics
//!
//! - **Ids** are totally ordered per topic and opaque strings on the wire (see [`EventId`]).
//!   They parse with `LastEventId<EventId>`; a malformed `Last-Event-ID` is a `400`. An id
//!   reveals nothing about other topics: with the in-process engine, only how many events its
//!   own topic got since it was created; with Redis, what Redis' stream ids do (the publish
//!   time in milliseconds). An id of another topic given to `subscribe` is a gap, never a
//!   position in the wrong history.
//! - **Replay.** `subscribe(topic, Since::After(id))` first yields the retained events after
//!   `id`, in order, then live ones. An event published while the subscription is being set
//!   up appears exactly once.
//! - **Gaps are never silent.** If `id` is older than the retained history, or belongs to
//!   another history (an in-process hub of an earlier process, a Redis whose data was wiped),
//!   the subscription yields [`Delivery::Gap`] first, then the oldest retained event on. The
//!   SSE bridge sends a gap as `event: reset` with data `{"after":"<id>"}`: a page should
//!   reload its state.
//! - **Subscriptions are streams.** A [`Subscription`] is a `Stream` of [`Delivery`] items
//!   (replay, then live events, gaps in their place), so `StreamExt` combinators apply and
//!   [`Sse::forward`](crate::sse::Sse::forward) takes the result: `take_while` to end at an
//!   event, `map`, `filter`, `select`, a timeout. Whatever ends a stream or a loop of your
//!   own must not end it on a gap: the browser would reconnect into the same gap for ever
//!   (see [the gap rule](Subscription#the-gap-rule)).
//! - **Bounded history**: per topic, the newest [`HubConfig::history_events`] events (default
//!   1,000) no older than [`HubConfig::history_age`] (default 24 h).
//! - **Bounded queues**: each subscriber's queue holds [`HubConfig::subscriber_queue`] events
//!   (default 256; the queue is per topic and node, allocated while the topic has subscribers
//!   there, so it is kept small: catching up from the history is cheap). One that falls
//!   further behind never slows the publisher or the other subscribers: it catches up from
//!   the history, seamlessly while the history still reaches back to its last event, after a
//!   gap otherwise. Memory never grows with a slow reader.
//! - **Bounded topics.** A topic is held while it retains events or has subscribers (or was
//!   closed, for [`closed_topic_age`](HubConfig::closed_topic_age)); one with neither is
//!   freed (its events age out even if nothing is published again), so a topic costs a few
//!   hundred bytes plus its events, and its queue while it has subscribers.
//!   At most [`HubConfig::max_topics`] are held (default 100,000): past it, a publish or
//!   subscribe that would create a topic fails with
//!   [`TooManyTopics`](crate::ErrorKind::TooManyTopics) (a `503` before commit), and the
//!   topics held keep working. [`Hub::usage`] counts them and their bytes.
//! - **Publishing never waits on subscribers.** It fails with an [`Error`] of kind
//!   [`PayloadTooLarge`](crate::ErrorKind::PayloadTooLarge) (over
//!   [`HubConfig::max_payload_bytes`], default 64 KiB),
//!   [`InvalidTopic`](crate::ErrorKind::InvalidTopic) (empty, or over 1,024 bytes),
//!   [`InvalidEvent`](crate::ErrorKind::InvalidEvent) (an event name with a line break),
//!   [`TooManyTopics`](crate::ErrorKind::TooManyTopics) (a new topic past the limit),
//!   [`TopicClosed`](crate::ErrorKind::TopicClosed) (a topic closed with
//!   [`close_with`](Hub::close_with)) or
//!   [`Unavailable`](crate::ErrorKind::Unavailable) (Redis unreachable); each answers a
//!   fitting 4xx/5xx if returned from an action before commit.
//!   `Unavailable` after Redis stopped answering in the middle of a publish (a 2 s timeout)
//!   means the outcome is unknown: Redis may have stored the event before the reply was lost.
//!   When it could not be reached at all, nothing was published.
//!
//! [`stats()`](crate::stats) counts subscribers, events published and delivered, gaps and
//! Redis reconnects.
//!
//! # Topic kinds and lifecycle
//!
//! A topic's kind is set by its first publish: [`publish`](Hub::publish) and
//! [`publish_event`](Hub::publish_event) make a *log topic* (a chat room: a history,
//! replayed), [`publish_value`](Hub::publish_value) a *value topic* (a job's progress, a
//! price: only its current value). Publishing the other kind to it is an
//! [`InvalidTopic`](crate::ErrorKind::InvalidTopic) error. Either kind can be closed with a
//! final event ([`close_with`](Hub::close_with)); a closed topic is kept for
//! [`HubConfig::closed_topic_age`] (default 1 hour), then forgotten.
//!
//! What a subscription yields, by where it starts (`id`: its `Last-Event-ID`):
//!
//! | topic | no id ([`Since::Now`]) | after `id` |
//! | --- | --- | --- |
//! | log, open | the events published from now | the retained events after `id` (a [`Gap`] first if `id` is older than the history or of another), then live ones |
//! | value, open | the current value, then changes | the current value if it changed since `id` (never a gap, never the values in between; an old, trimmed or foreign `id` gets the current value), then changes; nothing before the changes if `id` is the current value |
//! | log, closed | the final event, then the end | the retained events after `id`, then the final event, then the end |
//! | value, closed | the final event, then the end | the final event, then the end |
//! | closed, after `id` = the final event | | nothing: the subscription [is finished](Subscription::is_finished) from the start |
//! | unknown (never published to, or forgotten) | [`subscribe`](Hub::subscribe) creates a log topic; [`subscribe_existing`](Hub::subscribe_existing) is [`NotFound`](crate::ErrorKind::NotFound) (`404`) | the same |
//!
//! Live subscribers of a topic that is closed receive its final event, then their stream
//! ends (`None`), and [`Sse::forward`](crate::sse::Sse::forward) ends the response cleanly:
//! nothing is sent after the final event. A publish to a closed topic is a
//! [`TopicClosed`](crate::ErrorKind::TopicClosed) error (`409` before commit). A topic that
//! exists with no events yet (it has subscribers) is not unknown.
//!
//! So an action that follows a topic with a lifecycle answers, before it commits: unknown →
//! `404`; [finished](Subscription::is_finished) → `204`
//! ([`stop_reconnecting`](crate::Live::stop_reconnecting): the `EventSource` stops for good);
//! else `live.sse(..).forward(subscription)`. [`Live::follow`](crate::Live::follow) does it
//! in one call.
//!
//! Both engines have the same semantics. With Redis, a close seen by one node is seen by all,
//! including a node whose connection was down at the time (it reads on from its last
//! position when it reconnects); a topic exists for
//! [`subscribe_existing`](Hub::subscribe_existing) once published to, or while the node
//! asking has subscribers for it.

mod config;
mod engine;
mod event;
mod follow;
mod forward;
mod id;
mod kind;
mod memory;
#[cfg(feature = "redis")]
mod redis;
mod since;
mod subscription;
mod usage;

use std::sync::Arc;

use serde::Serialize;

pub use config::HubConfig;
pub use event::{BroadcastEvent, Delivery, Gap};
pub use id::{EventId, InvalidEventId};
pub use since::Since;
pub use subscription::Subscription;
pub use usage::HubUsage;

use crate::error::{Error, Result};
use crate::stats;
use engine::{Engine, Replay};
use event::{check_event_name, payload_text};
use kind::Write;
use memory::MemoryEngine;

/// The longest topic name, in bytes.
const MAX_TOPIC_BYTES: usize = 1024;

/// Publishes events to topics and subscribes to them. Cheap to clone: clones share one
/// engine, so a controller holds it as a field. See the [module docs](self).
#[derive(Clone)]
pub struct Hub {
    // One pointer: every subscription holds a clone.
    inner: Arc<HubInner>,
}

struct HubInner {
    engine: Engine,
    config: HubConfig,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("engine", &self.inner.engine.name())
            .field("config", &self.inner.config)
            .finish()
    }
}

impl Hub {
    /// The in-process engine: topics and their history live in this process, so subscribers
    /// of this node see what this node publishes. Each topic's ids carry an epoch chosen at
    /// random when the topic was created, so an id of an earlier process, of another topic or
    /// of a topic since forgotten resumes after a [`Gap`]. Aged-out topics are freed by a
    /// task on the tokio runtime of the first publish (on a runtime without a timer, when
    /// [`max_topics`](HubConfig::max_topics) is reached).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> live_runtime::Result {
    /// use live_runtime::broadcast::{Delivery, Hub, HubConfig, Since};
    /// let hub = Hub::memory(HubConfig::default());
    /// let first = hub.publish("news", "hello").await?;
    /// hub.publish("news", "world").await?;
    /// let mut news = hub.subscribe("news", Since::After(first)).await?;
    /// let Some(Delivery::Event(event)) = news.next().await else { unreachable!() };
    /// assert_eq!(event.data(), "world");
    /// # Ok(()) }
    /// ```
    pub fn memory(config: HubConfig) -> Hub {
        Hub {
            inner: Arc::new(HubInner {
                engine: Engine::Memory(MemoryEngine::new(config.clone())),
                config,
            }),
        }
    }

    /// The Redis engine (cargo feature `redis`): every node that uses the same Redis server
    /// (and [`HubConfig::redis_prefix`]) shares topics and their history, so a client may
    /// resume on any node. `url` is a `redis://` URL; nothing is connected until the first
    /// publish or subscribe, so an app starts while Redis is down and its calls fail with
    /// [`Unavailable`](crate::ErrorKind::Unavailable) (within about 3 s) until Redis is back.
    ///
    /// The hub owns its connections: a Redis restart or a network blip does not stop
    /// delivery. It reconnects forever (backoff from 50 ms to 2 s) and goes on reading each
    /// topic from the last event it delivered, so no event that Redis accepted is lost to a
    /// subscriber of this node. A Redis that lost its data (a new epoch) gives every
    /// subscriber a [`Gap`], then the new history.
    ///
    /// Needs Redis 6.2 or later (`XTRIM MINID`, exclusive `XRANGE`); tested with 7.0.
    ///
    /// # Errors
    /// [`Unavailable`](crate::ErrorKind::Unavailable) if `url` is not a Redis URL.
    #[cfg(feature = "redis")]
    pub fn redis(url: &str, config: HubConfig) -> Result<Hub> {
        Ok(Hub {
            inner: Arc::new(HubInner {
                engine: Engine::Redis(redis::RedisEngine::new(url, config.clone())?),
                config,
            }),
        })
    }

    /// The hub's settings.
    pub fn config(&self) -> &HubConfig {
        &self.inner.config
    }

    /// Publishes `payload` to `topic`: a string as it is, anything else as JSON. Returns the
    /// event's id. Never waits on subscribers. See the [module docs](self) for the errors.
    pub async fn publish<T: Serialize + ?Sized>(
        &self,
        topic: &str,
        payload: &T,
    ) -> Result<EventId> {
        self.send(topic, Write::Append, None, payload).await
    }

    /// Publishes `payload` as an SSE event named `event` (the `event:` field; an
    /// `EventSource` dispatches it to `addEventListener(event, ..)`).
    pub async fn publish_event<T: Serialize + ?Sized>(
        &self,
        topic: &str,
        event: &str,
        payload: &T,
    ) -> Result<EventId> {
        self.send(topic, Write::Append, Some(event), payload).await
    }

    /// Publishes `payload` as the new current value of the *value topic* `topic`, as an SSE
    /// event named `event`: the topic keeps this value only, not a history. A new subscriber
    /// gets the current value first, then the changes; one resuming after `Last-Event-ID`
    /// gets the current value if it changed since that id (none of the values in between,
    /// and never a [`Gap`]: an old, trimmed or foreign id just gets the current value), and
    /// nothing if that id is the current value. For a job's progress, a price, a counter.
    ///
    /// A topic's kind is set by its first publish: `publish` and `publish_event` make a log
    /// topic, `publish_value` a value topic. The current value ages out like an event, after
    /// [`history_age`](HubConfig::history_age).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> live_runtime::Result {
    /// use live_runtime::broadcast::{Delivery, Hub, HubConfig, Since};
    /// let hub = Hub::memory(HubConfig::default());
    /// let first = hub.publish_value("job-7", "progress", &serde_json::json!({"percent": 10})).await?;
    /// hub.publish_value("job-7", "progress", &serde_json::json!({"percent": 20})).await?;
    /// hub.publish_value("job-7", "progress", &serde_json::json!({"percent": 30})).await?;
    /// // A page that resumes after the first value gets the current one, not the 20.
    /// let mut progress = hub.subscribe("job-7", Since::After(first)).await?;
    /// let Some(Delivery::Event(event)) = progress.next().await else { unreachable!() };
    /// assert_eq!(event.data(), r#"{"percent":30}"#);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Those of [`publish`](Self::publish);
    /// [`InvalidTopic`](crate::ErrorKind::InvalidTopic) if `topic` is a log topic;
    /// [`TopicClosed`](crate::ErrorKind::TopicClosed) if it was closed.
    pub async fn publish_value<T: Serialize + ?Sized>(
        &self,
        topic: &str,
        event: &str,
        payload: &T,
    ) -> Result<EventId> {
        self.send(topic, Write::Replace, Some(event), payload).await
    }

    /// Publishes a final event named `event` to `topic` and closes it: a job that finished, a
    /// room that was shut. Works on either kind of topic (a new one is a log topic); on a
    /// value topic the final event becomes its current value.
    ///
    /// Live subscribers receive the final event, then their stream ends (`None`), so
    /// [`Sse::forward`](crate::sse::Sse::forward) ends the response cleanly after it. A
    /// subscriber arriving or resuming after the close gets what it missed (a log topic: the
    /// retained events after its id, then the final event; a value topic: the final event;
    /// a newcomer without an id: the final event) and then the end, at once. One resuming
    /// after the final event gets nothing: its subscription
    /// [`is_finished`](Subscription::is_finished), for the action to answer `204`.
    ///
    /// The closed topic is kept for [`closed_topic_age`](HubConfig::closed_topic_age)
    /// (default 1 hour); after that it is unknown, and a publish would create it anew.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> live_runtime::Result {
    /// use live_runtime::broadcast::{Delivery, Hub, HubConfig, Since};
    /// let hub = Hub::memory(HubConfig::default());
    /// let mut job = hub.subscribe("job-7", Since::Now).await?;
    /// let done = hub.close_with("job-7", "done", "42").await?;
    /// let Some(Delivery::Event(event)) = job.next().await else { unreachable!() };
    /// assert_eq!(event.id(), done);
    /// assert!(job.next().await.is_none(), "the end");
    /// assert!(hub.publish_event("job-7", "progress", "more").await.is_err());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Those of [`publish`](Self::publish);
    /// [`TopicClosed`](crate::ErrorKind::TopicClosed) if it was closed already.
    pub async fn close_with<T: Serialize + ?Sized>(
        &self,
        topic: &str,
        event: &str,
        payload: &T,
    ) -> Result<EventId> {
        self.send(topic, Write::Close, Some(event), payload).await
    }

    async fn send<T: Serialize + ?Sized>(
        &self,
        topic: &str,
        write: Write,
        event: Option<&str>,
        payload: &T,
    ) -> Result<EventId> {
        check_topic(topic)?;
        if let Some(event) = event {
            check_event_name(event)?;
        }
        let data = payload_text(payload, self.inner.config.max_payload_bytes)?;
        let id = self
            .inner
            .engine
            .publish(topic, write, event.map(Box::from), data)
            .await?;
        stats::published();
        Ok(id)
    }

    /// Subscribes to `topic` from `since`: [`Since::Now`], [`Since::Beginning`],
    /// [`Since::After`] an id, or straight from a `LastEventId<EventId>` (none: now; see
    /// [`Since::after_or`] for another start on a first visit).
    ///
    /// # Errors
    /// [`InvalidTopic`](crate::ErrorKind::InvalidTopic),
    /// [`TooManyTopics`](crate::ErrorKind::TooManyTopics) for a new topic past
    /// [`max_topics`](HubConfig::max_topics), or
    /// [`Unavailable`](crate::ErrorKind::Unavailable) when the Redis engine cannot read the
    /// history.
    pub async fn subscribe(&self, topic: &str, since: impl Into<Since>) -> Result<Subscription> {
        self.subscribe_to(topic, since.into(), true).await
    }

    /// Like [`subscribe`](Self::subscribe), but a topic that does not exist (never published
    /// to, or a closed topic past its [`closed_topic_age`](HubConfig::closed_topic_age)) is
    /// an error that answers `404` before commit, where `subscribe` would create it. A topic
    /// that exists with no events yet (one with subscribers) is found; with Redis, one with
    /// subscribers on this node (Redis keeps no record of another node's subscribers).
    ///
    /// An action that follows one job answers: an unknown topic `404`, a
    /// [finished](Subscription::is_finished) subscription `204` (an `EventSource` stops
    /// reconnecting), anything else as a stream. [`Live::follow`](crate::Live::follow) does
    /// all three.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> live_runtime::Result {
    /// use live_runtime::ErrorKind;
    /// use live_runtime::broadcast::{Hub, HubConfig, Since};
    /// let hub = Hub::memory(HubConfig::default());
    /// let unknown = hub.subscribe_existing("job-7", Since::Now).await.unwrap_err();
    /// assert_eq!(unknown.kind(), ErrorKind::NotFound);
    /// hub.publish_value("job-7", "progress", "0").await?;
    /// assert!(hub.subscribe_existing("job-7", Since::Now).await.is_ok());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Those of [`subscribe`](Self::subscribe) but
    /// [`TooManyTopics`](crate::ErrorKind::TooManyTopics);
    /// [`NotFound`](crate::ErrorKind::NotFound) for a topic that does not exist.
    pub async fn subscribe_existing(
        &self,
        topic: &str,
        since: impl Into<Since>,
    ) -> Result<Subscription> {
        self.subscribe_to(topic, since.into(), false).await
    }

    async fn subscribe_to(&self, topic: &str, since: Since, create: bool) -> Result<Subscription> {
        check_topic(topic)?;
        let (receiver, replay, topic) = self.inner.engine.subscribe(topic, since, create).await?;
        let after = match since {
            Since::After(id) => Some(id),
            Since::Now | Since::Beginning => None,
        };
        Ok(Subscription::new(
            self.clone(),
            topic,
            receiver,
            after,
            replay,
        ))
    }

    /// How many subscribers `topic` has on this node (this process) now.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> live_runtime::Result {
    /// use live_runtime::broadcast::{Hub, HubConfig, Since};
    /// let hub = Hub::memory(HubConfig::default());
    /// let subscription = hub.subscribe("news", Since::Now).await?;
    /// assert_eq!(hub.subscribers("news"), 1);
    /// drop(subscription);
    /// assert_eq!(hub.subscribers("news"), 0);
    /// # Ok(()) }
    /// ```
    pub fn subscribers(&self, topic: &str) -> usize {
        self.inner.engine.subscribers(topic)
    }

    /// The topics the in-process engine holds and roughly the bytes they take, to watch
    /// memory in production and in tests. Topics nobody uses are freed, so both go back to
    /// where they were once the clients left and the events aged out. A Redis hub keeps its
    /// topics in Redis and reports zero.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> live_runtime::Result {
    /// use live_runtime::broadcast::{Hub, HubConfig, Since};
    /// let hub = Hub::memory(HubConfig::default());
    /// let subscription = hub.subscribe("room 1", Since::Now).await?;
    /// assert_eq!(hub.usage().topics, 1);
    /// drop(subscription); // no subscriber, no event: the topic is freed
    /// assert_eq!(hub.usage().topics, 0);
    /// assert_eq!(hub.usage().retained_bytes, 0);
    /// # Ok(()) }
    /// ```
    pub fn usage(&self) -> HubUsage {
        self.inner.engine.usage()
    }

    /// A subscription of `topic` (the name as the engine gave it) ended.
    pub(crate) fn left(&self, topic: &Arc<str>) {
        self.inner.engine.left(topic);
    }

    /// The retained events after `after`, for a subscriber that fell behind or whose history
    /// was replaced.
    pub(crate) async fn recover(&self, topic: &str, after: Option<EventId>) -> Replay {
        self.inner.engine.recover(topic, after).await
    }
}

fn check_topic(topic: &str) -> Result {
    if topic.is_empty() || topic.len() > MAX_TOPIC_BYTES {
        return Err(Error::invalid_topic(format!(
            "a topic is 1 to {MAX_TOPIC_BYTES} bytes, not {}",
            topic.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hub_shows_its_engine_and_settings() {
        let hub = Hub::memory(
            HubConfig::default()
                .history_events(0)
                .subscriber_queue(0)
                .redis_prefix("app"),
        );
        // Zero would keep no history and queue nothing: each is raised to 1.
        assert_eq!(hub.config().history_events, 1);
        assert_eq!(hub.config().subscriber_queue, 1);
        assert_eq!(hub.config().redis_prefix, "app");
        let debug = format!("{hub:?}");
        assert!(
            debug.starts_with(r#"Hub { engine: "memory", config: HubConfig { history_events: 1,"#),
            "{debug}"
        );
    }
}
