//! A subscriber's view of a topic: replay, then live events, deduplicated at the seam.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use tokio::sync::broadcast::{Receiver, error::RecvError};

use super::Hub;
use super::engine::{Replay, Signal};
use super::event::{Delivery, Gap};
use super::id::EventId;
use crate::stats::SubscriberStats;

/// The events of one topic, for one subscriber: the retained ones it asked to replay, then
/// live ones as they are published. Get one with [`Hub::subscribe`].
///
/// Each event comes once and in order: an event published while the subscription was being
/// set up appears exactly once, after the replay. When events were lost to this subscriber,
/// a [`Delivery::Gap`] says so before the next event.
///
/// The queue between the publisher and a subscriber is bounded
/// ([`HubConfig::subscriber_queue`](super::HubConfig::subscriber_queue)); a subscriber that
/// falls further behind never slows the publisher or the others: it catches up from the
/// history, seamlessly if the history still holds what it missed, after a gap otherwise.
pub struct Subscription {
    hub: Hub,
    topic: Arc<str>,
    /// What a replay queued, in order. Boxed, and dropped once empty: most subscribers have
    /// nothing queued most of the time, and each holds this for as long as it is open.
    #[expect(
        clippy::box_collection,
        reason = "8 bytes inline instead of 32, in every open subscription"
    )]
    pending: Option<Box<VecDeque<Delivery>>>,
    receiver: Receiver<Signal>,
    /// The last event handed out (or the position the subscription started at): anything at
    /// or before it is a duplicate.
    last: Option<EventId>,
    /// A catch-up from the history that is due: kept here until it is queued, so a `next()`
    /// cancelled while reading the history does not lose it.
    catch_up: Option<CatchUp>,
    stats: SubscriberStats,
}

/// Why a subscription must read the history before it goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CatchUp {
    /// It fell behind, or its node missed events: what follows its last event.
    Behind,
    /// The history was replaced (Redis lost its data): all of the new one, after a gap.
    Reset,
}

impl Subscription {
    /// `since` is the id the subscriber asked to resume after: what a gap found by `replay`
    /// is reported after.
    pub(crate) fn new(
        hub: Hub,
        topic: Arc<str>,
        receiver: Receiver<Signal>,
        since: Option<EventId>,
        replay: Replay,
    ) -> Self {
        let mut subscription = Subscription {
            hub,
            topic,
            pending: None,
            receiver,
            last: since,
            catch_up: None,
            stats: SubscriberStats::new(),
        };
        subscription.queue(replay, false);
        subscription
    }

    /// The topic subscribed to.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The id of the last event this subscription handed out, or where it started.
    pub fn last_id(&self) -> Option<EventId> {
        self.last
    }

    /// The next delivery. Waits for the next publish when the replay is done. A subscription
    /// keeps its hub's engine alive, so it lasts until dropped: end it with your own signal
    /// (the client leaving, [`Shutdown`](crate::Shutdown)), as
    /// [`Sse::forward`](crate::sse::Sse::forward) does. `None` is reserved for an engine that
    /// stopped. Cancel-safe, for `tokio::select!`.
    pub async fn next(&mut self) -> Option<Delivery> {
        loop {
            if let Some(pending) = &mut self.pending {
                let delivery = pending.pop_front();
                if pending.is_empty() {
                    self.pending = None;
                }
                if let Some(delivery) = delivery {
                    return Some(self.handed_out(delivery));
                }
            }
            if let Some(catch_up) = self.catch_up {
                let after = match catch_up {
                    CatchUp::Behind => self.last,
                    CatchUp::Reset => None,
                };
                // Boxed: rare, and the Redis engine's read inlined here would make every
                // subscriber's future kilobytes larger.
                let replay = Box::pin(self.hub.recover(&self.topic, after)).await;
                self.queue(replay, catch_up == CatchUp::Reset);
                self.catch_up = None;
                continue;
            }
            match self.receiver.recv().await {
                Ok(Signal::Event(event)) => {
                    if is_news(self.last, event.id()) {
                        return Some(self.handed_out(Delivery::Event(event)));
                    }
                }
                Ok(Signal::Missed) | Err(RecvError::Lagged(_)) => {
                    self.catch_up = Some(CatchUp::Behind);
                }
                Ok(Signal::Reset) => self.catch_up = Some(CatchUp::Reset),
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// Queues a replay: the gap first if it found one (or `force_gap`), then its events that
    /// are news to this subscriber.
    fn queue(&mut self, replay: Replay, force_gap: bool) {
        let before = std::mem::replace(&mut self.last, replay.head);
        let gap = (replay.gap || force_gap).then_some(Delivery::Gap(Gap { after: before }));
        let last = self.last;
        let fresh = replay.events.into_iter().filter(|e| is_news(last, e.id()));
        let mut queued = gap.into_iter().chain(fresh.map(Delivery::Event)).peekable();
        if queued.peek().is_some() {
            self.pending.get_or_insert_default().extend(queued);
        }
    }

    fn handed_out(&mut self, delivery: Delivery) -> Delivery {
        match &delivery {
            Delivery::Event(event) => {
                self.last = Some(event.id());
                self.stats.delivered();
            }
            Delivery::Gap(_) => self.stats.gap(),
        }
        delivery
    }
}

/// Whether an event is past the subscriber's position: later in the same history, or of a
/// new history (after a reset, everything is).
fn is_news(last: Option<EventId>, id: EventId) -> bool {
    last.is_none_or(|last| id.is_after(&last) || id.epoch != last.epoch)
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("topic", &self.topic)
            .field("last", &self.last)
            .field("pending", &self.pending.as_ref().map_or(0, |p| p.len()))
            .finish_non_exhaustive()
    }
}

/// Tells the engine, which frees a topic's queue with its last subscriber.
impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.left(&self.topic);
    }
}

#[cfg(test)]
mod tests {
    use crate::broadcast::{Delivery, HubConfig, Since};

    use super::*;

    #[tokio::test]
    async fn knows_its_topic_and_where_it_is() {
        let hub = Hub::memory(HubConfig::default());
        let first = hub.publish("news", "a").await.unwrap();
        let second = hub.publish("news", "b").await.unwrap();
        let mut news = hub.subscribe("news", Since::After(first)).await.unwrap();
        assert_eq!(news.topic(), "news");
        // Where it resumed, until it hands out the event queued for replay.
        assert_eq!(news.last_id(), Some(first));
        assert_eq!(
            format!("{news:?}"),
            format!(r#"Subscription {{ topic: "news", last: Some({first:?}), pending: 1, .. }}"#)
        );
        let Some(Delivery::Event(event)) = news.next().await else {
            panic!("the replayed event")
        };
        assert_eq!(event.id(), second);
        assert_eq!(news.last_id(), Some(second));
    }
}
