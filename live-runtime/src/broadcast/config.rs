//! A hub's settings.

use std::time::Duration;

/// Settings of a [`Hub`](super::Hub), the same for both engines.
///
/// ```
/// use std::time::Duration;
/// use live_runtime::broadcast::HubConfig;
/// let config = HubConfig::default().history_events(100).history_age(Duration::from_secs(600));
/// assert_eq!(config.max_payload_bytes, 64 * 1024);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HubConfig {
    /// Events kept per topic for replay (default 1,000). At least 1.
    pub history_events: usize,
    /// How long an event is kept for replay (default 24 h).
    pub history_age: Duration,
    /// Events a subscriber may be behind before it catches up from the history (default
    /// 256). At least 1. It is allocated up front, once per topic on each node while the topic
    /// has subscribers there (about 40 bytes a slot).
    pub subscriber_queue: usize,
    /// The most topics the hub holds at once (default 100,000). At least 1. A topic is held
    /// while it retains events or has subscribers; past the limit, a publish or subscribe that
    /// would create one fails with [`TooManyTopics`](crate::ErrorKind::TooManyTopics), and the
    /// topics held keep working. So no client can grow the server's memory without bound by
    /// naming ever new topics. The Redis engine keeps topics in Redis (a quiet topic's keys
    /// expire): there it bounds the topics each node follows for its subscribers, and a
    /// subscribe to one more fails the same way.
    pub max_topics: usize,
    /// How long a closed topic ([`Hub::close_with`](super::Hub::close_with)) is kept after
    /// its close (default 1 hour): until then a subscriber arriving or resuming gets its
    /// final event and the end, after it the topic is unknown
    /// ([`NotFound`](crate::ErrorKind::NotFound) to
    /// [`subscribe_existing`](super::Hub::subscribe_existing)) and its name free again. With
    /// Redis, the close sets the topic's keys to expire after it.
    pub closed_topic_age: Duration,
    /// The largest payload, in bytes once encoded (default 64 KiB).
    pub max_payload_bytes: usize,
    /// The prefix of every Redis key the hub uses (default `live`): topics are
    /// `<prefix>:topic:<name>` streams, each with a `<prefix>:meta:<name>` hash (the last id
    /// added and the newest trimmed), the history's epoch is `<prefix>:epoch`. A quiet topic's
    /// keys expire after [`history_age`](Self::history_age) (the stream) and twice that (the
    /// meta hash).
    pub redis_prefix: String,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            history_events: 1000,
            history_age: Duration::from_secs(24 * 60 * 60),
            subscriber_queue: 256,
            max_topics: 100_000,
            closed_topic_age: Duration::from_secs(60 * 60),
            max_payload_bytes: 64 * 1024,
            redis_prefix: "live".into(),
        }
    }
}

impl HubConfig {
    /// Sets [`history_events`](Self::history_events) (at least 1).
    #[must_use]
    pub fn history_events(mut self, events: usize) -> Self {
        self.history_events = events.max(1);
        self
    }

    /// Sets [`history_age`](Self::history_age).
    #[must_use]
    pub fn history_age(mut self, age: Duration) -> Self {
        self.history_age = age;
        self
    }

    /// Sets [`subscriber_queue`](Self::subscriber_queue) (at least 1).
    #[must_use]
    pub fn subscriber_queue(mut self, events: usize) -> Self {
        self.subscriber_queue = events.max(1);
        self
    }

    /// Sets [`max_topics`](Self::max_topics) (at least 1).
    #[must_use]
    pub fn max_topics(mut self, topics: usize) -> Self {
        self.max_topics = topics.max(1);
        self
    }

    /// Sets [`closed_topic_age`](Self::closed_topic_age).
    #[must_use]
    pub fn closed_topic_age(mut self, age: Duration) -> Self {
        self.closed_topic_age = age;
        self
    }

    /// Sets [`max_payload_bytes`](Self::max_payload_bytes).
    #[must_use]
    pub fn max_payload_bytes(mut self, bytes: usize) -> Self {
        self.max_payload_bytes = bytes;
        self
    }

    /// Sets [`redis_prefix`](Self::redis_prefix).
    #[must_use]
    pub fn redis_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.redis_prefix = prefix.into();
        self
    }
}
