//! Committing a response: its head as a stream's, or a whole response instead.

use super::{Locked, StreamState};
use crate::error::{Error, Result};
use crate::head::{Committed, Head};

impl StreamState {
    /// Parks the response head for whoever commits: the `Live` handle was turned into a stream
    /// or dropped.
    pub(crate) fn park_head(&self, head: Box<Head>) {
        self.lock().commit.park_head(head);
    }

    /// Commits the stream now, with nothing written yet.
    pub(crate) fn commit(&self) {
        self.lock().commit_stream();
    }

    /// Commits an SSE stream that was not committed yet, empty; `false` if the response is
    /// not an SSE stream or was committed already. For errors that a client should retry
    /// (see [`Locked::commit_event_stream`]).
    pub(crate) fn commit_pending_event_stream(&self) -> bool {
        let mut locked = self.lock();
        let pending = locked.commit.is_pending_event_stream();
        if pending {
            locked.commit_stream();
        }
        pending
    }

    /// Sends a complete response instead of a stream, if nothing was committed yet.
    pub(crate) fn commit_full(&self, response: axum::response::Response) -> Result {
        self.commit_full_or(response, |response| response)
            .map_err(|_| Error::closed())
    }

    /// Sends the response `respond(value)` builds if nothing was committed yet, and closes the
    /// stream; gives `value` back if the response was committed already.
    pub(crate) fn commit_full_or<T>(
        &self,
        value: T,
        respond: impl FnOnce(T) -> axum::response::Response,
    ) -> std::result::Result<(), T> {
        let mut locked = self.lock();
        let Some(handler) = locked.commit.take_for_full() else {
            return Err(value);
        };
        locked.writer.close();
        drop(locked);
        // If the handler is gone, so is the client; the response is simply dropped.
        let _ = handler.send(Committed::Full(respond(value)));
        Ok(())
    }

    pub(crate) fn is_committed(&self) -> bool {
        !self.lock().commit.is_pending()
    }
}

impl Locked {
    /// Sends the response head now, as a stream, unless it has been sent. A write (even
    /// empty), a close, or the end of the action commits (docs/rails-parity.md, L-06).
    pub(super) fn commit_stream(&mut self) {
        if !self.commit.send_stream() {
            // The handler is gone: the client left before the response was committed.
            self.reader.client_gone();
        }
    }

    /// At shutdown, an SSE stream not committed yet is committed empty: an `EventSource`
    /// reconnects after a clean end but gives up for good on an error status. Anything else
    /// uncommitted answers `503` through the action's error.
    pub(super) fn commit_event_stream(&mut self) {
        if self.commit.is_pending_event_stream() {
            self.commit_stream();
        }
    }
}
