//! What the body asks of the stream: the next frame, what to do once everything queued is
//! out, the keep-alive, and what its drop means.

use std::sync::MutexGuard;
use std::task::Waker;
use std::time::Duration;

use bytes::Bytes;

use super::declared_length::DeclaredLength;
use super::phase::{Reader, Writer};
use super::{Locked, Source, StreamState};
use crate::error::ErrorKind;

/// What the body does once it has sent everything queued.
pub(crate) enum Drained {
    /// Waits: the action may write more, or its source yield more.
    Wait,
    /// Ends cleanly.
    End,
    /// Ends with an error once the `on_error` tail is out: the action failed after commit.
    Fail,
    /// Ends with an error at once, which makes hyper abort the connection.
    Abort(ErrorKind),
}

impl StreamState {
    /// The body took a frame, so a writer waiting for room may go on. Releases the lock.
    pub(crate) fn frame_taken(&self, mut locked: MutexGuard<'_, Locked>) {
        let writer_waiting = std::mem::take(&mut locked.writer_waiting);
        drop(locked);
        if writer_waiting {
            self.wake.notify_waiters();
        }
    }

    /// hyper dropped the body: the connection is gone, or the response is complete.
    pub(crate) fn body_dropped(&self) {
        let mut locked = self.lock();
        // Not closed by the action: the client is gone, or the server shutting down.
        let action = locked.cancel.take().filter(|_| locked.writer.is_open());
        self.mark_disconnected(locked);
        if let Some(action) = action {
            tracing::debug!("live: client gone, action cancelled (cancel_on_disconnect)");
            action.abort();
        }
    }
}

impl Locked {
    /// The next frame for the body: queued chunks joined up to `limit` bytes. A download's
    /// last declared byte waits until the action closes the stream: sent earlier, it would let
    /// hyper end a complete-looking response that a later write past the length could no
    /// longer abort.
    pub(crate) fn take_frame(&mut self, limit: usize) -> Option<Bytes> {
        let sendable = (self.length.as_deref())
            .filter(|_| self.writer.is_open())
            .map(DeclaredLength::sendable_before_close);
        if sendable == Some(0) {
            return None;
        }
        let mut frame = self.queue.next_frame(limit)?;
        if let Some(sendable) = sendable {
            let sendable = usize::try_from(sendable).unwrap_or(usize::MAX);
            if frame.len() > sendable {
                self.queue.unsend(frame.split_off(sendable));
            }
            if let Some(length) = self.length.as_deref_mut() {
                length.sent(frame.len());
            }
        }
        Some(frame)
    }

    /// What the body does with nothing queued; a source handed over moves into
    /// `body_source`, to be polled without the lock.
    pub(crate) fn when_drained(&mut self, body_source: &mut Option<Source>) -> Drained {
        if let Reader::Aborted(why) = self.reader {
            return Drained::Abort(why);
        }
        if self.reader.is_shutting_down() {
            return Drained::End;
        }
        if let Some(source) = self.source.take() {
            *body_source = Some(source);
        }
        match self.writer {
            _ if body_source.is_some() => Drained::Wait,
            Writer::Open => Drained::Wait,
            Writer::Closed => Drained::End,
            Writer::Failed => Drained::Fail,
        }
    }

    /// Wakes `waker` when the action writes, closes or goes away.
    pub(crate) fn wake_body_on_change(&mut self, waker: &Waker) {
        match &mut self.body_waker {
            Some(body_waker) => body_waker.clone_from(waker),
            None => self.body_waker = Some(waker.clone()),
        }
    }

    /// The keep-alive's interval, if the stream has one.
    pub(crate) fn keep_alive_interval(&self) -> Option<Duration> {
        self.keep_alive.as_ref().map(|(interval, _)| *interval)
    }

    /// The keep-alive's bytes, if the stream has one.
    pub(crate) fn keep_alive_bytes(&self) -> Option<Bytes> {
        self.keep_alive.as_ref().map(|(_, bytes)| bytes.clone())
    }

    /// Whether the body has nothing more to send: the server is shutting down or the action
    /// closed the stream with no source left (`body_has_source`: the body's own), everything
    /// queued is out, and the stream was not aborted.
    pub(crate) fn is_end_of_body(&self, body_has_source: bool) -> bool {
        let done = self.reader.is_shutting_down()
            || (self.writer == Writer::Closed && self.source.is_none() && !body_has_source);
        done && self.queue.is_empty() && !matches!(self.reader, Reader::Aborted(_))
    }
}
