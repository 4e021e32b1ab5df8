//! A subscriber's view of a topic: replay, then live events, deduplicated at the seam.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_util::Stream;
use futures_util::stream::unfold;
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
///
/// It is a [`Stream`] of deliveries, so `StreamExt` combinators apply, and
/// [`Sse::forward`](crate::sse::Sse::forward) takes the result: `take_while` to stop at an
/// event, `filter` or `map` to pick or change deliveries, `select` to merge two topics, a
/// timeout to end a stream that went quiet.
///
/// # The gap rule
///
/// A loop of your own must not end on a [`Delivery::Gap`]: the browser would reconnect with
/// the same `Last-Event-ID`, find the same gap, and loop for ever. Send the gap (an
/// `event: reset` tells the page to reload its state) and go on with the events after it,
/// as [`Sse::forward`](crate::sse::Sse::forward) does:
///
/// ```
/// # use live_runtime::prelude::*;
/// # use live_runtime::broadcast::{Delivery, EventId, Hub};
/// # async fn f(hub: &Hub, last: LastEventId<EventId>, live: Live) -> live_runtime::Result {
/// let mut sse = live.sse(SseOptions::new());
/// let mut messages = hub.subscribe("lobby", last).await?;
/// while let Some(delivery) = messages.next().await {
///     // A gap goes out as `event: reset`, and the loop goes on: never `break` on it.
///     sse.write_delivery(&delivery).await?;
///     if let Delivery::Event(event) = &delivery
///         && event.event() == Some("closed")
///     {
///         break;
///     }
/// }
/// Ok(())
/// # }
/// ```
pub struct Subscription {
    hub: Hub,
    topic: Arc<str>,
    /// Boxed, and dropped once done: most subscribers have no backlog most of the time, and
    /// each holds this for as long as it is open (8 bytes inline instead of 48).
    backlog: Option<Box<Backlog>>,
    signals: Signals,
    /// The last event handed out (or the position the subscription started at): anything at
    /// or before it is a duplicate.
    last: Option<EventId>,
    /// The engine will signal nothing more (the topic was closed): once the backlog is
    /// handed out, the subscription ends.
    closed: bool,
    stats: SubscriberStats,
}

/// What a subscription holds only while it replays or catches up from the history.
#[derive(Default)]
struct Backlog {
    /// What a replay queued, in order.
    queued: VecDeque<Delivery>,
    /// A read of the history under way: kept between polls, so a `next()` cancelled while
    /// reading the history does not lose it.
    reading: Option<Recovery>,
}

/// The engine's signals for this subscriber: its broadcast receiver, made pollable. The
/// receiver's `recv` future borrows it, so the two live together in one allocation made at
/// subscribe, which every later `recv` reuses in place.
type Signals = Pin<Box<dyn Stream<Item = Result<Signal, RecvError>> + Send>>;

/// A read of the history under way, and why. Boxed: rare, and the Redis engine's read inline
/// would make every subscription kilobytes larger.
type Recovery = Pin<Box<dyn Future<Output = (Replay, CatchUp)> + Send>>;

/// Why a subscription must read the history before it goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CatchUp {
    /// It fell behind, or its node missed events: what follows its last event.
    Behind,
    /// The history was replaced (Redis lost its data): all of the new one, after a gap.
    Reset,
}

fn signals(receiver: Receiver<Signal>) -> Signals {
    Box::pin(unfold(receiver, |mut receiver| async move {
        let signal = receiver.recv().await;
        Some((signal, receiver))
    }))
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
            backlog: None,
            closed: receiver.is_closed(),
            signals: signals(receiver),
            last: since,
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

    /// Whether the subscription will yield nothing more: its topic was closed
    /// ([`Hub::close_with`]) and everything owed after its starting point was handed out (for
    /// one subscribed before the close, known once it yielded `None`). A subscription that
    /// resumes after a closed topic's final event is finished from the start: answer it with
    /// [`Live::stop_reconnecting`](crate::Live::stop_reconnecting) (`204`, an `EventSource`
    /// stops for good) rather than a stream that ends at once, which the browser would
    /// reconnect to for ever. [`Live::follow`](crate::Live::follow) does it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> live_runtime::Result {
    /// use live_runtime::broadcast::{Hub, HubConfig, Since};
    /// let hub = Hub::memory(HubConfig::default());
    /// let done = hub.close_with("job-7", "done", "42").await?;
    /// assert!(!hub.subscribe("job-7", Since::Now).await?.is_finished(), "owed the final event");
    /// assert!(hub.subscribe("job-7", Since::After(done)).await?.is_finished());
    /// # Ok(()) }
    /// ```
    pub fn is_finished(&self) -> bool {
        self.closed && self.backlog.is_none()
    }

    /// The next delivery, as [`StreamExt::next`](futures_util::StreamExt::next) gives it.
    /// Waits for the next publish when the replay is done. `None` after a closed topic's
    /// final event ([`Hub::close_with`]); otherwise a subscription keeps its hub's engine
    /// alive, so it lasts until dropped: end it with your own signal (the client leaving,
    /// [`Shutdown`](crate::Shutdown)), as [`Sse::forward`](crate::sse::Sse::forward) does.
    /// Cancel-safe, for `tokio::select!`. In a loop of your own, mind
    /// [the gap rule](Subscription#the-gap-rule).
    pub async fn next(&mut self) -> Option<Delivery> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// Starts reading the history, as `catch_up` says.
    fn catch_up(&mut self, catch_up: CatchUp) {
        let after = match catch_up {
            CatchUp::Behind => self.last,
            CatchUp::Reset => None,
        };
        let (hub, topic) = (self.hub.clone(), self.topic.clone());
        let reading: Recovery =
            Box::pin(async move { (hub.recover(&topic, after).await, catch_up) });
        self.backlog.get_or_insert_default().reading = Some(reading);
    }

    /// The backlog's next step: a queued delivery, or the history read once it is done (then
    /// queued); `None` when there is no backlog (any more).
    fn poll_backlog(&mut self, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        loop {
            let Some(backlog) = &mut self.backlog else {
                return Poll::Ready(None);
            };
            if let Some(delivery) = backlog.queued.pop_front() {
                if backlog.queued.is_empty() && backlog.reading.is_none() {
                    self.backlog = None;
                }
                return Poll::Ready(Some(self.handed_out(delivery)));
            }
            let Some(reading) = &mut backlog.reading else {
                self.backlog = None;
                return Poll::Ready(None);
            };
            let (replay, catch_up) = ready!(reading.as_mut().poll(cx));
            backlog.reading = None;
            self.queue(replay, catch_up == CatchUp::Reset);
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
            self.backlog.get_or_insert_default().queued.extend(queued);
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

/// Replay, then live events, with the state kept in the subscription between polls: dropping
/// a `next()` loses nothing.
impl Stream for Subscription {
    type Item = Delivery;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        let this = self.get_mut();
        loop {
            if let Some(delivery) = ready!(this.poll_backlog(cx)) {
                return Poll::Ready(Some(delivery));
            }
            match ready!(this.signals.as_mut().poll_next(cx)) {
                Some(Ok(Signal::Event(event))) => {
                    if is_news(this.last, event.id()) {
                        return Poll::Ready(Some(this.handed_out(Delivery::Event(event))));
                    }
                }
                Some(Ok(Signal::Missed) | Err(RecvError::Lagged(_))) => {
                    this.catch_up(CatchUp::Behind);
                }
                Some(Ok(Signal::Reset)) => this.catch_up(CatchUp::Reset),
                Some(Err(RecvError::Closed)) | None => {
                    this.closed = true;
                    return Poll::Ready(None);
                }
            }
        }
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
            .field(
                "pending",
                &self.backlog.as_ref().map_or(0, |b| b.queued.len()),
            )
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
