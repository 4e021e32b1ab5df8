//! The names of a hub's Redis keys, all under its
//! [`redis_prefix`](crate::broadcast::HubConfig::redis_prefix).

use crate::broadcast::id::new_epoch;

/// Each topic is a stream with a meta hash beside it; the history's epoch is one key; each
/// node has a wake-up stream of its own.
#[derive(Clone)]
pub(super) struct Keys {
    pub(super) epoch: String,
    /// This node's wake-up stream: an entry in it ends the reader's blocking read early.
    pub(super) wake: String,
    topic_prefix: String,
    meta_prefix: String,
}

impl Keys {
    pub(super) fn new(prefix: &str) -> Self {
        Keys {
            epoch: format!("{prefix}:epoch"),
            wake: format!("{prefix}:wake:{:08x}", new_epoch()),
            topic_prefix: format!("{prefix}:topic:"),
            meta_prefix: format!("{prefix}:meta:"),
        }
    }

    /// The stream of a topic's events.
    pub(super) fn stream(&self, topic: &str) -> String {
        format!("{}{topic}", self.topic_prefix)
    }

    /// The hash of what a topic's stream does not tell: the last id added, the newest trimmed.
    pub(super) fn meta(&self, topic: &str) -> String {
        format!("{}{topic}", self.meta_prefix)
    }

    /// The topic whose events `stream` holds; `None` for any other key.
    pub(super) fn topic<'a>(&self, stream: &'a str) -> Option<&'a str> {
        stream.strip_prefix(&self.topic_prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_live_under_the_prefix() {
        let keys = Keys::new("app");
        assert_eq!(keys.epoch, "app:epoch");
        assert_eq!(keys.stream("room:1"), "app:topic:room:1");
        assert_eq!(keys.meta("room:1"), "app:meta:room:1");
        assert_eq!(keys.topic("app:topic:room:1"), Some("room:1"));
        assert_eq!(keys.topic(&keys.wake), None);
        // Each node wakes its own reader.
        assert!(keys.wake.starts_with("app:wake:"));
        assert_ne!(keys.wake, Keys::new("app").wake);
    }
}
