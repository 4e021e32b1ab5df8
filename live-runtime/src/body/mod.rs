//! The response body of a live stream, as hyper polls it: the frames the action queued (or
//! its handed-over source yields), keep-alives in silences, and the end the stream calls for.

mod keep_alive;
mod source;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use crate::error::BoxError;
use crate::stream_state::{Drained, Source, StreamState, timers_enabled};
use keep_alive::KeepAlive;

/// What a poll of the body yields.
type Polled = Poll<Option<Result<Frame<Bytes>, BoxError>>>;

pin_project_lite::pin_project! {
    /// The response body of a live stream, polled by hyper.
    pub(crate) struct LiveBody {
        state: Arc<StreamState>,
        // Started at the first idle poll of a stream that has a keep-alive.
        #[pin]
        keep_alive: Option<KeepAlive>,
        // The source handed over by the action, taken out of the stream's state at the first
        // poll after the hand-over, so it is polled without the lock.
        source: Option<Source>,
        // The action failed: the body yielded once to let the tail out, and now fails.
        tail_flushed: bool,
    }

    impl PinnedDrop for LiveBody {
        fn drop(this: Pin<&mut Self>) {
            // hyper drops the body when the connection is gone (or the response is complete).
            let state = &*this.project().state;
            state.body_dropped();
            state.stats.stream_closed();
        }
    }
}

impl LiveBody {
    pub(crate) fn new(state: Arc<StreamState>) -> Self {
        state.stats.stream_opened();
        LiveBody {
            state,
            keep_alive: None,
            source: None,
            tail_flushed: false,
        }
    }
}

impl Body for LiveBody {
    type Data = Bytes;
    type Error = BoxError;

    /// What is queued first; with nothing queued, the end if the stream calls for it, else
    /// what the source has, else a keep-alive if one is due.
    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Polled {
        let this = self.project();
        let state = &**this.state;
        let limit = state.settings.coalesce_bytes;
        let mut locked = state.lock();
        // The keep-alive's interval; its bytes are cloned only when one is due.
        let silence = locked.keep_alive_interval();
        if let Some(frame) = locked.take_frame(limit) {
            state.frame_taken(locked);
            return sent(this.keep_alive, frame, silence);
        }
        match locked.when_drained(this.source) {
            Drained::Wait => {}
            Drained::End => return Poll::Ready(None),
            Drained::Fail => return fail_after_tail(this.tail_flushed, cx),
            Drained::Abort(why) => {
                return Poll::Ready(Some(Err(format!("live stream aborted: {why:?}").into())));
            }
        }
        locked.wake_body_on_change(cx.waker());
        drop(locked);
        match source::pull(this.source, cx, limit) {
            Poll::Ready(Some(frame)) => return sent(this.keep_alive, frame, silence),
            Poll::Ready(None) => {
                // The source ended: so does the stream, once the action closed it.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Pending => {}
        }
        keep_alive_if_due(this.keep_alive, state, cx, silence)
    }

    fn is_end_stream(&self) -> bool {
        self.state.lock().is_end_of_body(self.source.is_some())
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// A data frame out: the keep-alive's silence starts again.
fn sent(
    keep_alive: Pin<&mut Option<KeepAlive>>,
    frame: Bytes,
    silence: Option<Duration>,
) -> Polled {
    if let Some(interval) = silence {
        KeepAlive::frame_sent(keep_alive, interval);
    }
    Poll::Ready(Some(Ok(Frame::data(frame))))
}

/// The end of a stream whose action failed after commit. hyper drops what it has buffered
/// when a body fails: one pending poll first lets it flush the `on_error` tail (the socket
/// permitting).
fn fail_after_tail(tail_flushed: &mut bool, cx: &mut Context<'_>) -> Polled {
    if !std::mem::replace(tail_flushed, true) {
        cx.waker().wake_by_ref();
        return Poll::Pending;
    }
    Poll::Ready(Some(Err("live action failed after commit".into())))
}

/// The keep-alive's bytes if the stream has been silent for its interval; else `Pending`, with
/// `cx` woken when one may be due.
fn keep_alive_if_due(
    keep_alive: Pin<&mut Option<KeepAlive>>,
    state: &StreamState,
    cx: &mut Context<'_>,
    silence: Option<Duration>,
) -> Polled {
    let Some(interval) = silence.filter(|_| timers_enabled()) else {
        return Poll::Pending;
    };
    if !KeepAlive::poll_due(keep_alive, cx, interval) {
        return Poll::Pending;
    }
    let Some(bytes) = state.lock().keep_alive_bytes() else {
        return Poll::Pending;
    };
    state.stats.keep_alive();
    Poll::Ready(Some(Ok(Frame::data(bytes))))
}
