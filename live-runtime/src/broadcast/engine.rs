//! What the engines tell subscriptions, and the engine a [`Hub`](super::Hub) runs on.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::broadcast::Receiver;

use super::event::BroadcastEvent;
use super::id::EventId;
use super::kind::Write;
use super::memory::MemoryEngine;
use super::{HubUsage, Since};
use crate::error::Result;

/// What the engine hands a subscription: events to replay, whether some were lost before
/// them, and the position they follow (what to count as already seen).
pub(crate) struct Replay {
    pub(crate) gap: bool,
    pub(crate) events: Vec<Arc<BroadcastEvent>>,
    pub(crate) head: Option<EventId>,
}

/// What the engine sends each subscriber of a topic on this node.
#[derive(Clone)]
// Only the Redis engine misses events or loses its history.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) enum Signal {
    Event(Arc<BroadcastEvent>),
    /// This node did not see some events (trimmed before its reader got to them): every
    /// subscriber re-reads the history after its last event, which tells whether it lost any.
    Missed,
    /// The history was replaced: every subscriber re-reads it after a gap.
    Reset,
}

#[cfg_attr(
    feature = "redis",
    expect(
        clippy::large_enum_variant,
        reason = "one per hub, inside the hub's Arc: a box would only add a hop per call"
    )
)]
pub(super) enum Engine {
    Memory(MemoryEngine),
    #[cfg(feature = "redis")]
    Redis(super::redis::RedisEngine),
}

impl Engine {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Engine::Memory(_) => "memory",
            #[cfg(feature = "redis")]
            Engine::Redis(_) => "redis",
        }
    }

    pub(super) async fn publish(
        &self,
        topic: &str,
        write: Write,
        event: Option<Box<str>>,
        data: Box<str>,
    ) -> Result<EventId> {
        match self {
            Engine::Memory(engine) => engine.publish(topic, write, event, data),
            // The Redis engine's futures are boxed (here and below) so the futures of
            // in-process users stay small with the feature on.
            #[cfg(feature = "redis")]
            Engine::Redis(engine) => Box::pin(engine.publish(topic, write, event, data)).await,
        }
    }

    /// The receiver, the replay, and the topic's name as the engine keeps it (shared, not
    /// copied per subscriber). The topic is created if missing and `create`, else the call
    /// is [`NotFound`](crate::ErrorKind::NotFound).
    pub(super) async fn subscribe(
        &self,
        topic: &str,
        since: Since,
        create: bool,
    ) -> Result<(Receiver<Signal>, Replay, Arc<str>)> {
        match self {
            Engine::Memory(engine) => engine.subscribe(topic, since, create),
            #[cfg(feature = "redis")]
            Engine::Redis(engine) => Box::pin(engine.subscribe(topic, since, create)).await,
        }
    }

    /// A subscription of `topic` (the name as the engine gave it) on this node ended.
    pub(super) fn left(&self, topic: &Arc<str>) {
        match self {
            Engine::Memory(engine) => engine.left(topic),
            // Its reader drops a topic once no receiver is left.
            #[cfg(feature = "redis")]
            Engine::Redis(_) => {}
        }
    }

    pub(super) fn usage(&self) -> HubUsage {
        match self {
            Engine::Memory(engine) => engine.usage(),
            // The topics and their events are in Redis.
            #[cfg(feature = "redis")]
            Engine::Redis(_) => HubUsage::default(),
        }
    }

    pub(super) fn subscribers(&self, topic: &str) -> usize {
        match self {
            Engine::Memory(engine) => engine.subscribers(topic),
            #[cfg(feature = "redis")]
            Engine::Redis(engine) => engine.subscribers(topic),
        }
    }

    /// The retained events after `after`, for a subscriber that fell behind or whose history
    /// was replaced. If the engine cannot read its history, a gap: the subscriber goes on
    /// with the live events.
    pub(super) async fn recover(&self, topic: &str, after: Option<EventId>) -> Replay {
        match self {
            Engine::Memory(engine) => engine.recover(topic, after),
            #[cfg(feature = "redis")]
            Engine::Redis(engine) => Box::pin(engine.recover(topic, after)).await,
        }
    }
}

/// Locks an engine's table. A panic elsewhere cannot leave the tables half-updated in a way
/// that matters more than stopping delivery for good, so a poisoned lock is used as it is.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
