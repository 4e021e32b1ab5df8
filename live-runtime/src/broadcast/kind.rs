//! A topic's kind, set by its first publish, and what a publish does to it.

use crate::error::{Error, Result};

/// What a topic keeps: set by the topic's first publish, fixed until the topic is forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TopicKind {
    /// A history of events, replayed after `Last-Event-ID` (`publish`, `publish_event`).
    Log,
    /// Only its current value (`publish_value`).
    Value,
}

/// What a publish does to its topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    /// Appends an event to a log topic.
    Append,
    /// Replaces a value topic's current value.
    Replace,
    /// Publishes the final event, in the topic's own kind (a log topic if it is new), and
    /// closes the topic.
    Close,
}

impl Write {
    /// The kind of topic `self` leaves behind on a topic of kind `kind` (`None`: never
    /// published to), or the error if it would change it: a topic's kind says how a
    /// resume is answered, so mixing them would answer it wrongly.
    pub(crate) fn kind(self, topic: &str, kind: Option<TopicKind>) -> Result<TopicKind> {
        let wanted = match self {
            Write::Append => TopicKind::Log,
            Write::Replace => TopicKind::Value,
            Write::Close => return Ok(kind.unwrap_or(TopicKind::Log)),
        };
        match kind {
            Some(kind) if kind != wanted => Err(Error::invalid_topic(format!(
                "topic {topic:?} is a {} topic: publish to it with {}",
                kind.name(),
                kind.publisher()
            ))),
            _ => Ok(wanted),
        }
    }
}

impl TopicKind {
    fn name(self) -> &'static str {
        match self {
            TopicKind::Log => "log",
            TopicKind::Value => "value",
        }
    }

    fn publisher(self) -> &'static str {
        match self {
            TopicKind::Log => "`publish` or `publish_event`",
            TopicKind::Value => "`publish_value`",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_publish_sets_the_kind_and_close_keeps_it() {
        assert_eq!(Write::Append.kind("t", None).unwrap(), TopicKind::Log);
        assert_eq!(Write::Replace.kind("t", None).unwrap(), TopicKind::Value);
        assert_eq!(Write::Close.kind("t", None).unwrap(), TopicKind::Log);
        let value = Some(TopicKind::Value);
        assert_eq!(Write::Close.kind("t", value).unwrap(), TopicKind::Value);
        let error = Write::Append.kind("job", value).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid broadcast topic: topic \"job\" is a value topic: publish to it with `publish_value`"
        );
        assert!(Write::Replace.kind("t", Some(TopicKind::Log)).is_err());
    }
}
