//! The SSE bridge: deliveries sent to a browser as they arrive.

use bytes::Bytes;
use futures_util::{Stream, StreamExt, stream::empty};

use super::event::Delivery;
use crate::error::{Error, ErrorKind, Result};
use crate::sse::Sse;
use crate::sse::encode::with_retry;

impl Sse {
    /// Sends every delivery of `deliveries` as a Server-Sent Event until it ends, the client
    /// leaves or the server shuts down.
    ///
    /// `deliveries` is a [`Subscription`](super::Subscription), or any stream made from one
    /// with `StreamExt`: `take_while` ends the response at an event, `filter` and `map` pick
    /// or change deliveries, `select` merges two topics, a timeout ends a stream that went
    /// quiet. Whatever ends the stream, keep [the gap rule](super::Subscription#the-gap-rule):
    /// never end it on a [`Gap`](super::Gap).
    ///
    /// It hands the stream to the response body and returns: the body (polled by the
    /// connection's own task) sends each delivery as it comes, joining those that are ready
    /// into one write, so a subscriber costs no task of its own and one wake-up per event.
    /// The action may end, or go on with other work, while the stream runs.
    ///
    /// - The response is committed at once, so the client gets its headers (and `open`)
    ///   before the first event and the keep-alive runs from the start. The writer's `retry`
    ///   goes with the first event, if no earlier one carried it (see
    ///   [Retry](crate::sse#retry)).
    /// - Each event goes out as published: `event:` if it was named, `id:` its
    ///   [`EventId`](super::EventId) (so a reconnecting `EventSource` sends it back as
    ///   `Last-Event-ID`), the payload as `data:` lines. The writer's `event` and `id` do not
    ///   apply. The bytes are encoded once per event and shared by every subscriber.
    /// - A [`Gap`](super::Gap) goes out as `event: reset`, data `{"after":"<id>"}` (or
    ///   `{"after":null}`), without an `id:`: the page should reload its state.
    /// - When the stream ends, so does the response, cleanly. When the client leaves, the
    ///   stream is dropped with the body. When the server's [`Shutdown`](crate::Shutdown)
    ///   begins, the body ends cleanly after what it holds; events not yet sent stay in the
    ///   history, where the client's next connection resumes from (on any node, with the
    ///   Redis engine).
    /// - A client that stops reading holds its connection's buffers, not the hub's: its
    ///   subscription falls behind and catches up from the history when it reads again. The
    ///   write timeout does not apply (nothing writes and waits).
    ///
    /// When [`subscribe`](super::Hub::subscribe) fails, hand its error to
    /// [`retry_later`](Self::retry_later): Redis being down must not answer an error status,
    /// which makes an `EventSource` give up for good.
    ///
    /// A topic with a lifecycle (a job that finishes: [`Hub::close_with`](super::Hub::close_with))
    /// ends the stream after its final event. Its action answers, before `live.sse()`
    /// commits: an unknown topic ([`subscribe_existing`](super::Hub::subscribe_existing)'s
    /// [`NotFound`](crate::ErrorKind::NotFound)) `404`; a
    /// [finished](super::Subscription::is_finished) subscription (a reconnect after the final
    /// event) `204` with [`stop_reconnecting`](crate::Live::stop_reconnecting), or the
    /// browser would reconnect for ever; anything else `live.sse(..).forward(subscription)`.
    /// [`Live::follow`](crate::Live::follow) is that in one call.
    ///
    /// ```
    /// # use live_runtime::prelude::*;
    /// # use live_runtime::broadcast::{Delivery, EventId, Hub};
    /// use futures_util::{StreamExt, future::ready};
    ///
    /// # async fn f(hub: &Hub, last: LastEventId<EventId>, live: Live) -> live_runtime::Result {
    /// let sse = live.sse(SseOptions::new().retry(std::time::Duration::from_secs(1)));
    /// match hub.subscribe("job-7", last).await {
    ///     // Up to the job's `done` event, which goes out too; then the response ends.
    ///     Ok(job) => {
    ///         let mut done = false;
    ///         let until_done = job.take_while(move |delivery| {
    ///             let more = !done;
    ///             done = matches!(delivery, Delivery::Event(e) if e.event() == Some("done"));
    ///             ready(more)
    ///         });
    ///         sse.forward(until_done).await
    ///     }
    ///     Err(error) => sse.retry_later(error),
    /// }
    /// # }
    /// ```
    ///
    /// # Errors
    /// Those of [`LiveStream::write`](crate::LiveStream::write) for the first bytes (the
    /// client left already, the server is shutting down).
    pub fn forward(
        mut self,
        deliveries: impl Stream<Item = Delivery> + Send + 'static,
    ) -> impl Future<Output = Result> + Send {
        // Nothing here waits, so the work is done in this call and the future only carries
        // the result: the action's future, allocated and written whole for every subscriber,
        // does not hold the writer and the stream as it would for an `async fn`.
        std::future::ready(self.hand_over(deliveries))
    }

    /// Ends the stream so that the client comes back later, for a
    /// [`subscribe`](super::Hub::subscribe) that failed with
    /// [`Unavailable`](crate::ErrorKind::Unavailable) (Redis down): the stream is committed,
    /// sends `event: unavailable` (data `{}`, with the writer's `retry`) and ends cleanly, so
    /// the `EventSource` reconnects after `retry` and resumes. An error status would make it
    /// give up for good. The error is logged as a warning.
    ///
    /// Any other error is returned as it is, after the commit that
    /// [`Live::sse`](crate::Live::sse) made: the client sees a cut stream, which an
    /// `EventSource` retries too. To answer a topic the hub refuses
    /// ([`InvalidTopic`](crate::ErrorKind::InvalidTopic)) with a `400`, check what names it
    /// before `live.sse()`, in an extractor (a room name's own type, say). (`?` on the error
    /// after `live.sse()` also keeps an `EventSource` retrying, without the event and the
    /// `retry`.)
    ///
    /// # Errors
    /// `error` if it is not `Unavailable`, and those of
    /// [`LiveStream::write`](crate::LiveStream::write) for the ending.
    pub fn retry_later(mut self, error: Error) -> Result {
        if error.kind() != ErrorKind::Unavailable {
            return Err(error);
        }
        let error = error.chain();
        tracing::warn!(%error, "broadcast: cannot subscribe; the client will retry");
        let ending = Bytes::from_static(b"event: unavailable\ndata: {}\n\n");
        let ending = with_retry(self.take_retry(), ending);
        self.stream().hand_over(ending, empty())
    }

    /// Writes one delivery as [`forward`](Self::forward) sends it (the writer's `event` and
    /// `id` do not apply; its `retry` goes with the first event), for a loop of your own.
    /// Mind [the gap rule](super::Subscription#the-gap-rule): a gap is written as
    /// `event: reset`, and the loop goes on.
    ///
    /// # Errors
    /// Those of [`LiveStream::write`](crate::LiveStream::write).
    pub async fn write_delivery(&mut self, delivery: &Delivery) -> Result<usize> {
        let bytes = with_retry(self.take_retry(), delivery.sse_bytes());
        self.stream().write(bytes).await
    }

    pub(super) fn hand_over(
        &mut self,
        deliveries: impl Stream<Item = Delivery> + Send + 'static,
    ) -> Result {
        let mut retry = self.take_retry();
        let stream = self.stream();
        let stats = stream.shared().stats.clone();
        let bytes = deliveries.map(move |delivery| {
            let bytes = with_retry(retry.take(), delivery.sse_bytes());
            stats.written(bytes.len());
            bytes
        });
        stream.hand_over(Bytes::new(), bytes)
    }
}
