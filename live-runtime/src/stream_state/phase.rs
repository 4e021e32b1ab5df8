//! Where a stream is: its commit, and each side's phase. Every change of phase is one of the
//! transitions here, so only phases that can happen are written down.

use tokio::sync::oneshot;

use crate::error::ErrorKind;
use crate::head::{Committed, Head};

/// Whether the response head (or a whole response) has gone to the handler.
pub(super) enum Commit {
    /// Nothing sent yet: the handler waits on `handler`.
    Pending {
        handler: oneshot::Sender<Committed>,
        /// The head the `Live` handle left when it was turned into a stream or dropped.
        /// Boxed: a stream keeps this state for its whole life, and the head only until commit.
        head: Option<Box<Head>>,
    },
    /// Sent, or given up (the handler then answers by itself).
    Done,
}

impl Commit {
    pub(super) fn new(handler: oneshot::Sender<Committed>) -> Self {
        Commit::Pending {
            handler,
            head: None,
        }
    }

    pub(super) fn is_pending(&self) -> bool {
        matches!(self, Commit::Pending { .. })
    }

    /// The parked head, until commit.
    pub(super) fn head_mut(&mut self) -> Option<&mut Head> {
        match self {
            Commit::Pending { head, .. } => head.as_deref_mut(),
            Commit::Done => None,
        }
    }

    /// Whether the response is not committed yet and will be a Server-Sent Events stream.
    pub(super) fn is_pending_event_stream(&self) -> bool {
        matches!(self, Commit::Pending { head: Some(head), .. } if head.is_event_stream())
    }

    /// Keeps `head` for the commit; dropped if the response was committed already.
    pub(super) fn park_head(&mut self, parked: Box<Head>) {
        if let Commit::Pending { head, .. } = self {
            *head = Some(parked);
        }
    }

    /// Sends the parked head (or the default one) as a stream's, unless the response was
    /// committed already. `false` if the handler is gone: the client left before commit.
    pub(super) fn send_stream(&mut self) -> bool {
        let Commit::Pending { handler, head } = std::mem::replace(self, Commit::Done) else {
            return true;
        };
        let head = head.map_or_else(Head::default, |head| *head);
        handler
            .send(Committed::Stream(head.into_stream_parts()))
            .is_ok()
    }

    /// The handler, to send it a whole response, unless the response was committed already.
    pub(super) fn take_for_full(&mut self) -> Option<oneshot::Sender<Committed>> {
        match std::mem::replace(self, Commit::Done) {
            Commit::Pending { handler, .. } => Some(handler),
            Commit::Done => None,
        }
    }

    /// Gives up the commit: the handler learns that no response head will come.
    pub(super) fn abandon(&mut self) {
        *self = Commit::Done;
    }
}

/// The action's side of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Writer {
    /// The action may write.
    Open,
    /// The action is done: the body ends cleanly once it has sent what is queued.
    Closed,
    /// The action failed after commit: the body sends what is queued (the `on_error` tail),
    /// then ends with an error, so the client sees an incomplete response, not a whole one.
    Failed,
}

impl Writer {
    pub(super) fn is_open(self) -> bool {
        self == Writer::Open
    }

    /// The action is done writing; `false` if it was already.
    pub(super) fn close(&mut self) -> bool {
        let was_open = self.is_open();
        if was_open {
            *self = Writer::Closed;
        }
        was_open
    }

    /// The action failed: this outranks a close, since the action's stream is closed when the
    /// action drops it, before its error reaches the runner. `false` if it was done already.
    pub(super) fn fail(&mut self) -> bool {
        let was_open = self.is_open();
        *self = Writer::Failed;
        was_open
    }
}

/// The client's side of a stream: why it is ending, if it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reader {
    /// The body is being sent.
    Reading,
    /// The server is shutting down: writes fail, and the body sends what is queued, then
    /// ends cleanly. Stays so once the body is dropped: writers still learn why.
    ShuttingDown,
    /// The body was dropped: the client is gone. Nothing more is sent.
    Gone,
    /// The stream was aborted (a write timeout, a length mismatch): the body ends with an
    /// error, so hyper aborts the connection instead of ending it as complete.
    Aborted(ErrorKind),
}

impl Reader {
    /// The client is gone or the server is shutting down: the stream is on its way out.
    pub(super) fn is_ending(self) -> bool {
        self != Reader::Reading
    }

    pub(super) fn is_shutting_down(self) -> bool {
        self == Reader::ShuttingDown
    }

    /// The body is gone or aborted (not only shutting down).
    pub(super) fn is_disconnected(self) -> bool {
        matches!(self, Reader::Gone | Reader::Aborted(_))
    }

    /// The client is gone, unless the stream was ending already for another reason.
    pub(super) fn client_gone(&mut self) {
        if *self == Reader::Reading {
            *self = Reader::Gone;
        }
    }

    /// The server is shutting down; `false` if the stream was ending already.
    pub(super) fn shut_down(&mut self) -> bool {
        if self.is_ending() {
            return false;
        }
        *self = Reader::ShuttingDown;
        true
    }

    /// The body is to end with an error, whatever the phase was.
    pub(super) fn abort(&mut self, why: ErrorKind) {
        *self = Reader::Aborted(why);
    }
}
