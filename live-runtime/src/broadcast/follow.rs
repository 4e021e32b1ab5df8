//! One call that answers a request for a topic with a lifecycle: `404`, `204` or the stream.

use super::subscription::Subscription;
use crate::error::{ErrorKind, Result};
use crate::response::Live;
use crate::sse::SseOptions;

impl Live {
    /// Answers with `subscription` (the result of [`Hub::subscribe_existing`] or
    /// [`Hub::subscribe`]) as a browser's `EventSource` needs it, before anything is
    /// committed:
    ///
    /// | `subscription` | answer |
    /// | --- | --- |
    /// | [`NotFound`](ErrorKind::NotFound) (unknown topic) | `404`: the `EventSource` gives up |
    /// | [finished](Subscription::is_finished) (resumed after a closed topic's final event) | `204` ([`stop_reconnecting`](Live::stop_reconnecting)): it stops for good |
    /// | [`Unavailable`](ErrorKind::Unavailable) (Redis down) | [`retry_later`](crate::sse::Sse::retry_later): it comes back |
    /// | another error | the error's status (`400`, `503`, ...) |
    /// | anything else | [`live.sse(options).forward(subscription)`](crate::sse::Sse::forward): the events, and the end after a final one |
    ///
    /// ```
    /// use axum::extract::Path;
    /// use live_runtime::broadcast::{EventId, Hub};
    /// use live_runtime::prelude::*;
    ///
    /// pub struct JobsController { hub: Hub }
    ///
    /// #[live_controller]
    /// impl JobsController {
    ///     /// `GET /jobs/{id}/progress`: the job's progress, then its `done` event and the end.
    ///     #[get("/{id}/progress")]
    ///     pub async fn progress(
    ///         &self,
    ///         Path(id): Path<String>,
    ///         last: LastEventId<EventId>,
    ///         live: Live,
    ///     ) -> live_runtime::Result {
    ///         let job = self.hub.subscribe_existing(&id, last).await;
    ///         live.follow(SseOptions::new(), job).await
    ///     }
    /// }
    /// ```
    ///
    /// [`Hub::subscribe_existing`]: super::Hub::subscribe_existing
    /// [`Hub::subscribe`]: super::Hub::subscribe
    ///
    /// # Errors
    /// Those of `subscription`, but `Unavailable`; those of
    /// [`Sse::forward`](crate::sse::Sse::forward).
    pub fn follow(
        self,
        options: SseOptions,
        subscription: Result<Subscription>,
    ) -> impl Future<Output = Result> + Send {
        // Nothing here waits: as with `forward`, the future only carries the result.
        std::future::ready(match subscription {
            Ok(subscription) if subscription.is_finished() => self.stop_reconnecting(),
            Ok(subscription) => self.sse(options).hand_over(subscription),
            Err(error) if error.kind() == ErrorKind::Unavailable => {
                self.sse(options).retry_later(error)
            }
            Err(error) => Err(error),
        })
    }
}
