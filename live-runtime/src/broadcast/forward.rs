//! The SSE bridge: a subscription sent to a browser as it arrives.

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
    /// or the server shuts down (both an `Ok` end), or a write fails.
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
    ///   after [`Live::sse`](crate::Live::sse), without the event.) Other errors are returned.
    /// - When the client leaves or the server's [`Shutdown`](crate::Shutdown) begins, it
    ///   returns at once; events not yet written stay in the history, where the client's next
    ///   connection resumes from (on any node, with the Redis engine).
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
    /// Those of [`LiveStream::write`](crate::LiveStream::write), such as a write timeout when
    /// the client stopped reading.
    pub async fn forward(mut self, subscription: impl Into<Result<Subscription>>) -> Result {
        let retry = self
            .retry_ms()
            .map_or_else(String::new, |ms| format!("retry: {ms}\n"));
        let stream = self.stream();
        let mut subscription = match subscription.into() {
            Ok(subscription) => subscription,
            Err(error) if error.kind() == ErrorKind::Unavailable => {
                tracing::warn!(%error, "broadcast: cannot subscribe; the client will retry");
                stream
                    .write(format!("{retry}event: unavailable\ndata: {{}}\n\n"))
                    .await?;
                return Ok(());
            }
            Err(error) => return Err(error),
        };
        let opening = if retry.is_empty() {
            retry
        } else {
            retry + "\n"
        };
        stream.write(opening).await?;
        loop {
            let delivery = tokio::select! {
                biased;
                () = stream.disconnected() => return Ok(()),
                delivery = subscription.next() => delivery,
            };
            let bytes = match delivery {
                Some(Delivery::Event(event)) => event.sse_bytes(),
                Some(Delivery::Gap(gap)) => gap.sse_bytes(),
                None => return Ok(()),
            };
            stream.write(bytes).await?;
        }
    }
}
