//! The SSE bridge: a subscription sent to a browser as it arrives.

use bytes::Bytes;
use futures_util::stream::{empty, unfold};

use super::event::Delivery;
use super::subscription::Subscription;
use crate::error::{ErrorKind, Result};
use crate::sse::Sse;

/// Lets [`Sse::forward`] take what [`Hub::subscribe`](super::Hub::subscribe) returned, so an
/// unavailable engine ends the stream for the client to retry instead of answering an error.
impl From<Subscription> for Result<Subscription> {
    fn from(subscription: Subscription) -> Self {
        Ok(subscription)
    }
}

impl Sse {
    /// Sends every delivery of `subscription` as a Server-Sent Event until the client leaves
    /// or the server shuts down.
    ///
    /// It hands the subscription to the response body and returns: the body (polled by the
    /// connection's own task) sends each delivery as it comes, joining those that are ready
    /// into one write, so a subscriber costs no task of its own and one wake-up per event.
    /// The action may end, or go on with other work, while the stream runs.
    ///
    /// - The response is committed at once, with the writer's `retry` if set, so the client
    ///   gets its headers (and `open`) before the first event and the keep-alive runs from
    ///   the start.
    /// - Each event goes out as published: `event:` if it was named, `id:` its
    ///   [`EventId`](super::EventId) (so a reconnecting `EventSource` sends it back as
    ///   `Last-Event-ID`), the payload as `data:` lines. The writer's `event` and `id` do not
    ///   apply. The bytes are encoded once per event and shared by every subscriber.
    /// - A [`Gap`](super::Gap) goes out as `event: reset`, data `{"after":"<id>"}` (or
    ///   `{"after":null}`), without an `id:`: the page should reload its state.
    /// - `subscription` may be the `Result` of [`subscribe`](super::Hub::subscribe): if it is
    ///   an [`Unavailable`](crate::ErrorKind::Unavailable) error (Redis down), the stream is
    ///   committed with the `retry`, sends `event: unavailable` (data `{}`) and ends cleanly,
    ///   so the `EventSource` reconnects after `retry` and resumes. An error status would make
    ///   it give up for good. (The same happens to an `Unavailable` error returned with `?`
    ///   after [`Live::sse`](crate::Live::sse), without the event.) Other errors are returned,
    ///   after the commit that `live.sse()` made: the client sees a cut stream, and an
    ///   `EventSource` retries it. To answer a topic the hub refuses
    ///   ([`InvalidTopic`](crate::ErrorKind::InvalidTopic)) with a `400`, check what names it
    ///   before `live.sse()`, in an extractor (a room name's own type, say).
    /// - When the client leaves, the subscription is dropped with the body. When the server's
    ///   [`Shutdown`](crate::Shutdown) begins, the body ends cleanly after what it holds;
    ///   events not yet sent stay in the history, where the client's next connection resumes
    ///   from (on any node, with the Redis engine).
    /// - A client that stops reading holds its connection's buffers, not the hub's: its
    ///   subscription falls behind and catches up from the history when it reads again. The
    ///   write timeout does not apply (nothing writes and waits).
    ///
    /// ```
    /// # use live_runtime::prelude::*;
    /// # use live_runtime::broadcast::{EventId, Hub};
    /// # async fn f(hub: &Hub, last: LastEventId<EventId>, live: Live) -> live_runtime::Result {
    /// let feed = hub.subscribe("prices", last).await;
    /// live.sse(SseOptions::new().retry(std::time::Duration::from_secs(1))).forward(feed).await
    /// # }
    /// ```
    ///
    /// # Errors
    /// Those of [`LiveStream::write`](crate::LiveStream::write) for the first bytes (the
    /// client left already, the server is shutting down), and the subscription's own error
    /// other than [`Unavailable`](crate::ErrorKind::Unavailable).
    pub fn forward(
        mut self,
        subscription: impl Into<Result<Subscription>>,
    ) -> impl Future<Output = Result> + Send {
        // Nothing here waits (the opening is queued past the buffer's bound), so the work is
        // done in this call and the future only carries the result: the action's future,
        // allocated and written whole for every subscriber, does not hold the writer and the
        // subscription as it would for an `async fn`.
        std::future::ready(self.hand_over(subscription.into()))
    }

    fn hand_over(&mut self, subscription: Result<Subscription>) -> Result {
        let retry = self
            .retry_ms()
            .map_or_else(String::new, |ms| format!("retry: {ms}\n"));
        let stream = self.stream();
        let subscription = match subscription {
            Ok(subscription) => subscription,
            Err(error) if error.kind() == ErrorKind::Unavailable => {
                tracing::warn!(%error, "broadcast: cannot subscribe; the client will retry");
                let ending = format!("{retry}event: unavailable\ndata: {{}}\n\n");
                return stream.hand_over(Bytes::from(ending), empty());
            }
            Err(error) => return Err(error),
        };
        // A blank line after `retry:` sends it at once, as an event with no data.
        let opening = if retry.is_empty() {
            Bytes::new()
        } else {
            Bytes::from(retry + "\n")
        };
        let stats = stream.shared().stats.clone();
        let deliveries = unfold(subscription, move |mut subscription| {
            let stats = stats.clone();
            async move {
                let bytes = match subscription.next().await? {
                    Delivery::Event(event) => event.sse_bytes(),
                    Delivery::Gap(gap) => gap.sse_bytes(),
                };
                stats.written(bytes.len());
                Some((bytes, subscription))
            }
        });
        stream.hand_over(opening, deliveries)
    }
}
