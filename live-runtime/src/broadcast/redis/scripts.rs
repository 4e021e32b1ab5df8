//! The Lua scripts that keep a topic's stream, its meta hash and the epoch consistent (each
//! runs atomically, in one round trip), and how they are called.

use std::time::Duration;

use redis::streams::StreamRangeReply;
use redis::{Script, ScriptInvocation};

use super::connection::{Commands, Retry};
use super::entry::{previous, to_event};
use super::keys::Keys;
use super::snapshot::Snapshot;
use super::stream_id::{epoch_text, event_id, parse_epoch, parse_position};
use crate::broadcast::HubConfig;
use crate::broadcast::id::{EventId, new_epoch};
use crate::broadcast::kind::{TopicKind, Write};
use crate::error::{Error, Result};

/// What `read.lua` returns: the epoch, the newest id trimmed, the last id, the first id of a
/// topic born again, the entries, the kind, the final event's id and whether the topic exists.
type ReadReply = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    StreamRangeReply,
    Option<String>,
    Option<String>,
    bool,
);

pub(super) struct Scripts {
    publish: Script,
    read: Script,
    /// The history's bounds, the first two arguments of both scripts.
    max_events: usize,
    age_ms: u64,
    closed_age_ms: u64,
}

impl Scripts {
    pub(super) fn new(config: &HubConfig) -> Self {
        Scripts {
            publish: Script::new(concat!(
                include_str!("prelude.lua"),
                include_str!("publish.lua")
            )),
            read: Script::new(concat!(
                include_str!("prelude.lua"),
                include_str!("read.lua")
            )),
            max_events: config.history_events.max(1),
            age_ms: age_ms(config.history_age),
            closed_age_ms: age_ms(config.closed_topic_age),
        }
    }

    /// Adds an event to `topic`'s stream as `write` says; returns its id.
    pub(super) async fn publish(
        &self,
        commands: &Commands,
        keys: &Keys,
        topic: &str,
        write: Write,
        event: Option<&str>,
        data: &str,
    ) -> Result<EventId> {
        let wanted = match write {
            Write::Append => "log",
            Write::Replace => "value",
            Write::Close => "",
        };
        let mut invocation = self.invocation(&self.publish, keys, topic);
        invocation
            .arg(epoch_text(new_epoch()))
            .arg(event.unwrap_or(""))
            .arg(data)
            .arg(wanted)
            .arg(if write == Write::Close { "1" } else { "" })
            .arg(self.closed_age_ms);
        // Never sent twice: a publish whose reply was lost may have been stored.
        let reply: Vec<String> = commands.invoke(&invocation, Retry::Never).await?;
        let unexpected = || Error::msg(format!("unexpected Redis reply {reply:?}"));
        match reply.as_slice() {
            [closed] if closed == "closed" => Err(Error::topic_closed(topic)),
            // The kind's error, which says what the topic is.
            [refused, kind] if refused == "kind" => Err(write
                .kind(topic, Some(parse_kind(kind)))
                .err()
                .unwrap_or_else(unexpected)),
            [epoch, id] => event_id(epoch, id).ok_or_else(unexpected),
            _ => Err(unexpected()),
        }
    }

    /// Reads `topic`'s history from `start` (an XRANGE start, or `""` for no entries), where
    /// `after` is the id `start` follows.
    pub(super) async fn read(
        &self,
        commands: &Commands,
        keys: &Keys,
        topic: &str,
        start: &str,
        after: Option<EventId>,
    ) -> Result<Snapshot> {
        let expected = after.map_or_else(String::new, |id| epoch_text(id.epoch));
        let mut invocation = self.invocation(&self.read, keys, topic);
        invocation
            .arg(start)
            .arg(expected)
            .arg(epoch_text(new_epoch()));
        let (epoch, trimmed, last, born, entries, kind, closed, exists): ReadReply =
            commands.invoke(&invocation, Retry::Once).await?;
        Ok(Snapshot {
            epoch: epoch.as_deref().and_then(parse_epoch),
            trimmed: trimmed.as_deref().and_then(parse_position),
            last: last.as_deref().and_then(parse_position),
            born: born.as_deref().and_then(parse_position),
            before: entries.ids.first().and_then(previous),
            events: entries.ids.iter().filter_map(to_event).collect(),
            kind: kind.as_deref().map(parse_kind),
            closed: closed.is_some(),
            exists,
        })
    }

    /// A call of `script` on `topic`: its keys (the stream, its meta hash, the epoch) and the
    /// history's bounds.
    fn invocation<'a>(&self, script: &'a Script, keys: &Keys, topic: &str) -> ScriptInvocation<'a> {
        let mut invocation = script.key(keys.stream(topic));
        invocation
            .key(keys.meta(topic))
            .key(&keys.epoch)
            .arg(self.max_events)
            .arg(self.age_ms);
        invocation
    }
}

/// A topic's kind as the publish script stores it.
fn parse_kind(kind: &str) -> TopicKind {
    if kind == "value" {
        TopicKind::Value
    } else {
        TopicKind::Log
    }
}

/// The history's age in ms, at most about a century: the scripts count in Lua numbers.
fn age_ms(age: Duration) -> u64 {
    const CENTURY_MS: u64 = 100 * 366 * 24 * 60 * 60 * 1000;
    u64::try_from(age.as_millis())
        .unwrap_or(u64::MAX)
        .clamp(1, CENTURY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_age_fits_a_lua_number_and_is_never_zero() {
        assert_eq!(age_ms(Duration::from_secs(600)), 600_000);
        assert_eq!(age_ms(Duration::ZERO), 1);
        assert_eq!(age_ms(Duration::MAX), 100 * 366 * 24 * 60 * 60 * 1000);
    }
}
