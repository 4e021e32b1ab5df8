//! A live response's stream: what its action, the action's runner and its body share.
//!
//! The action writes through [`StreamState`]; hyper polls the [`LiveBody`](crate::body::LiveBody).
//! Both meet in one small mutex-protected state, so every operation is one uncontended lock, and
//! a stream that holds nothing costs no allocation beyond the state itself. Where the stream is
//! (its commit, its writer's and its reader's phase) is in [`phase`]; every other module goes
//! through the named operations here.

mod declared_length;
mod in_action_poll;
mod phase;
mod queue;
mod runtime_timer;

use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::sync::{Notify, oneshot};
use tokio::task::AbortHandle;

use crate::config::Resolved;
use crate::error::{Error, ErrorKind, Result};
use crate::head::{Committed, Head};
use crate::stats::ActionStats;
use declared_length::{DeclaredLength, Mismatch};
use phase::{Commit, Reader, Writer};
use queue::ChunkQueue;

pub(crate) use in_action_poll::{Polling, in_action_poll};
pub(crate) use queue::Chunk;
pub(crate) use runtime_timer::timers_enabled;

/// What [`LiveStream::on_error`](crate::LiveStream::on_error) stores: run with the error and
/// the last chunks to send (a tail's), after commit.
pub(crate) type OnError = Box<dyn FnOnce(&Error, &mut Vec<Bytes>) -> Result + Send>;

/// Chunks the body pulls by itself once the action handed them over
/// ([`StreamState::hand_over`]): the body sends them as they come, with no task in between.
pub(crate) type Source = Pin<Box<dyn Stream<Item = Bytes> + Send>>;

/// A response's stream, shared by the action (through `Live`/`LiveStream`), the runner and
/// the body.
pub(crate) struct StreamState {
    locked: Mutex<Locked>,
    /// Wakes writers waiting for room in a full queue, and `disconnected()` futures: each
    /// checks the state again, so one wakes the others for nothing at worst (one `Notify`
    /// fewer in every stream).
    wake: Notify,
    /// The action dropped its committed stream during its poll; closed after that poll.
    dropped: AtomicBool,
    pub(crate) settings: Resolved,
    /// The action's figures (`stats()` and metrics), shared with what it hands over.
    pub(crate) stats: ActionStats,
}

/// The part of a stream's state behind its lock.
pub(crate) struct Locked {
    queue: ChunkQueue,
    commit: Commit,
    writer: Writer,
    reader: Reader,
    /// A writer waits for room in the full queue: the body wakes it when it takes a frame.
    writer_waiting: bool,
    ignore_disconnect: bool,
    /// A download's declared length. Boxed: few streams have one, and every open stream
    /// holds this state.
    length: Option<Box<DeclaredLength>>,
    /// The body's waker, while it waits for data.
    body_waker: Option<Waker>,
    on_error: Option<OnError>,
    /// Bytes the body sends after this much silence (SSE keep-alive comments).
    keep_alive: Option<(Duration, Bytes)>,
    /// Cancels the action when the body is dropped before the stream ended
    /// (`cancel_on_disconnect`).
    cancel: Option<AbortHandle>,
    /// Handed over by the action, on its way to the body; the stream ends when it does.
    source: Option<Source>,
    /// Dropped with this state, after the action and its body: how a [`crate::Shutdown`]
    /// tracks the stream without this module knowing it.
    guard: Option<Box<dyn Send>>,
}

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
    pub(crate) fn new(
        settings: Resolved,
        stats: ActionStats,
    ) -> (Arc<Self>, oneshot::Receiver<Committed>) {
        let (handler, committed) = oneshot::channel();
        let state = StreamState {
            locked: Mutex::new(Locked::new(handler)),
            wake: Notify::new(),
            dropped: AtomicBool::new(false),
            settings,
            stats,
        };
        (Arc::new(state), committed)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Locked> {
        // No user code runs under this lock, so a poisoned lock still holds consistent state.
        self.locked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Parks the response head for whoever commits: the `Live` handle was turned into a stream
    /// or dropped.
    pub(crate) fn park_head(&self, head: Box<Head>) {
        self.lock().commit.park_head(head);
    }

    /// See [`LiveStream::set_ignore_disconnect`](crate::LiveStream::set_ignore_disconnect).
    pub(crate) fn set_ignore_disconnect(&self, ignore: bool) {
        self.lock().ignore_disconnect = ignore;
    }

    /// Replaces the callback run when the action fails after commit.
    pub(crate) fn set_on_error(&self, callback: OnError) {
        self.lock().on_error = Some(callback);
    }

    /// The callback run when the action fails after commit, if one was set.
    pub(crate) fn take_on_error(&self) -> Option<OnError> {
        self.lock().on_error.take()
    }

    /// Keep-alive bytes the body sends after this much silence (SSE).
    pub(crate) fn set_keep_alive(&self, keep_alive: Option<(Duration, Bytes)>) {
        self.lock().keep_alive = keep_alive;
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

    /// Queues one chunk, waiting while the queue is full.
    pub(crate) async fn write(&self, chunk: Chunk<'_>) -> Result {
        // A writer that never finds the queue full (an unbounded buffer, a fast client) still
        // yields now and then, as tokio's own channels make their users do: its first poll
        // runs in the request's task, which answers the client only once that poll is over.
        tokio::task::consume_budget().await;
        loop {
            let mut room = pin!(self.wake.notified());
            {
                let mut locked = self.lock();
                if !locked.ready_to_write()? {
                    return Ok(());
                }
                if chunk.len() == 0 {
                    return Ok(());
                }
                let checked = locked.length.as_deref().map(|l| l.check(chunk.len()));
                if let Some(Err(Mismatch { expected, total })) = checked {
                    self.abort(locked, ErrorKind::LengthMismatch);
                    return Err(Error::length_mismatch(expected, total));
                }
                if locked.queue.len() < self.settings.capacity {
                    locked.queue_write(chunk, self.settings.coalesce_bytes);
                    wake_body(locked);
                    return Ok(());
                }
                locked.writer_waiting = true;
                // Registered before the lock is released, so a reader that frees room after
                // this point cannot be missed.
                room.as_mut().enable();
            }
            match self.settings.write_timeout.filter(|_| timers_enabled()) {
                None => room.await,
                Some(timeout) => {
                    if tokio::time::timeout(timeout, room).await.is_err() {
                        self.abort(self.lock(), ErrorKind::WriteTimeout);
                        return Err(Error::write_timeout());
                    }
                }
            }
        }
    }

    /// Queues chunks past the buffer's bound: the last words of a failed action (`on_error`).
    pub(crate) fn write_tail(&self, chunks: Vec<Bytes>) {
        let mut locked = self.lock();
        if !locked.writer.is_open() || locked.reader.is_ending() || chunks.is_empty() {
            return;
        }
        for chunk in chunks.into_iter().filter(|c| !c.is_empty()) {
            locked.queue.push(chunk);
        }
        wake_body(locked);
    }

    /// Queues `first` (past the buffer's bound: a few bytes, an opening) and hands `source`
    /// to the body, which sends its chunks after what is queued, as they come, until it ends,
    /// the client leaves or the server shuts down; the action can end meanwhile. Commits the
    /// stream if needed; fails as a write would, without waiting.
    pub(crate) fn hand_over(
        &self,
        first: Bytes,
        source: impl Stream<Item = Bytes> + Send + 'static,
    ) -> Result {
        let mut locked = self.lock();
        if !locked.ready_to_write()? {
            return Ok(());
        }
        if !first.is_empty() {
            locked.queue.push(first);
        }
        // Fused: the body may poll it once more after its end while joining chunks.
        locked.source = Some(Box::pin(source.fuse()));
        wake_body(locked);
        Ok(())
    }

    /// Ends the stream: commits if nothing was, and lets the body finish once drained; a
    /// download that is short of its declared length is aborted instead.
    pub(crate) fn close(&self) {
        self.end_writing(Writer::close);
    }

    /// Ends the stream of an action that failed after commit: what is queued goes out, then
    /// the body ends with an error instead of cleanly.
    pub(crate) fn fail(&self) {
        self.end_writing(Writer::fail);
    }

    /// The writer is done, as `end` says; `end` tells whether it was open until then.
    fn end_writing(&self, end: fn(&mut Writer) -> bool) {
        let mut locked = self.lock();
        locked.commit_stream();
        if !end(&mut locked.writer) {
            return wake_body(locked);
        }
        let checked = locked.length.as_deref().map(DeclaredLength::check_end);
        if let Some(Err(Mismatch { expected, total })) = checked {
            tracing::error!(
                expected,
                written = total,
                "live: download ended short of its declared length"
            );
            self.abort(locked, ErrorKind::LengthMismatch);
            return;
        }
        wake_body(locked);
    }

    pub(crate) fn mark_dropped(&self) {
        self.dropped.store(true, Ordering::Relaxed);
    }

    /// Whether the action dropped its stream since the last call.
    pub(crate) fn take_dropped(&self) -> bool {
        self.dropped.load(Ordering::Relaxed) && self.dropped.swap(false, Ordering::Relaxed)
    }

    /// Ends the stream without committing: the action task was cancelled before it could
    /// answer, so the handler gets no response head and answers 503 itself.
    pub(crate) fn abandon(&self) {
        let mut locked = self.lock();
        locked.commit.abandon();
        locked.writer.close();
        wake_body(locked);
    }

    /// The server is shutting down ([`crate::Shutdown`]): what is queued goes out, then the body
    /// ends cleanly; writes fail and `disconnected()` resolves, so the action ends too.
    pub(crate) fn shut_down(&self) {
        let mut locked = self.lock();
        // Closed by its action, a stream may still be sending a source it was handed: it
        // ends too, unless it is ending already.
        if !locked.reader.shut_down() {
            return;
        }
        locked.writer_waiting = false;
        locked.commit_event_stream();
        wake_body(locked);
        self.wake.notify_waiters();
    }

    /// Ends the body with an error, which makes hyper abort the connection.
    fn abort(&self, mut locked: MutexGuard<'_, Locked>, why: ErrorKind) {
        locked.reader.abort(why);
        let body = locked.body_waker.take();
        self.mark_disconnected(locked);
        if let Some(body) = body {
            body.wake();
        }
    }

    /// Keeps `guard` until this state is dropped: after the action and its body.
    pub(crate) fn keep_until_dropped(&self, guard: Box<dyn Send>) {
        self.lock().guard = Some(guard);
    }

    /// Cancels the action's task if its body is dropped before the stream ended. Called by
    /// the handler, which still owns the body, so no drop can have happened yet.
    pub(crate) fn cancel_on_disconnect(&self, action: AbortHandle) {
        self.lock().cancel = Some(action);
    }

    /// Declares the length of the body: sent as `Content-Length`, and checked.
    pub(crate) fn expect_length(&self, length: Option<u64>) {
        let mut locked = self.lock();
        locked.length = length.map(|expected| Box::new(DeclaredLength::new(expected)));
        if let Some(head) = locked.commit.head_mut() {
            head.length = length;
        }
    }

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

    /// The client is gone: drop what is queued (docs/rails-parity.md, D-06) and wake everyone
    /// who waits.
    fn mark_disconnected(&self, mut locked: MutexGuard<'_, Locked>) {
        locked.reader.client_gone();
        locked.queue = ChunkQueue::default();
        locked.writer_waiting = false;
        // A source the body never took (it was dropped before its first poll) goes too.
        let source = locked.source.take();
        drop(locked);
        drop(source);
        self.wake.notify_waiters();
    }

    pub(crate) fn is_closed(&self) -> bool {
        !self.lock().writer.is_open()
    }

    pub(crate) fn is_connected(&self) -> bool {
        !self.lock().reader.is_ending()
    }

    pub(crate) async fn disconnected(&self) {
        loop {
            let mut gone = pin!(self.wake.notified());
            gone.as_mut().enable();
            if self.lock().reader.is_ending() {
                return;
            }
            gone.await;
        }
    }
}

impl Locked {
    fn new(handler: oneshot::Sender<Committed>) -> Self {
        Locked {
            queue: ChunkQueue::default(),
            commit: Commit::new(handler),
            writer: Writer::Open,
            reader: Reader::Reading,
            writer_waiting: false,
            ignore_disconnect: false,
            length: None,
            body_waker: None,
            on_error: None,
            keep_alive: None,
            cancel: None,
            source: None,
            guard: None,
        }
    }

    /// Sends the response head now, as a stream, unless it has been sent. A write (even
    /// empty), a close, or the end of the action commits (docs/rails-parity.md, L-06).
    fn commit_stream(&mut self) {
        if !self.commit.send_stream() {
            // The handler is gone: the client left before the response was committed.
            self.reader.client_gone();
        }
    }

    /// At shutdown, an SSE stream not committed yet is committed empty: an `EventSource`
    /// reconnects after a clean end but gives up for good on an error status. Anything else
    /// uncommitted answers `503` through the action's error.
    fn commit_event_stream(&mut self) {
        if self.commit.is_pending_event_stream() {
            self.commit_stream();
        }
    }

    /// Whether the action may queue bytes now; commits the stream first (at shutdown, only an
    /// SSE stream, empty). `Ok(false)`: the client is gone and the action ignores it.
    fn ready_to_write(&mut self) -> Result<bool> {
        if !self.writer.is_open() {
            return Err(Error::closed());
        }
        if self.reader.is_shutting_down() {
            self.commit_event_stream();
            return Err(Error::shutting_down());
        }
        self.commit_stream();
        if self.reader.is_disconnected() {
            return self.disconnect_result().map(|()| false);
        }
        Ok(true)
    }

    fn disconnect_result(&self) -> Result {
        match self.reader {
            _ if self.ignore_disconnect => Ok(()),
            Reader::Aborted(ErrorKind::WriteTimeout) => Err(Error::write_timeout()),
            Reader::Aborted(_) => Err(Error::closed()),
            _ => Err(Error::client_disconnected()),
        }
    }

    /// Queues a write that fits the buffer: a download's bytes are counted, and queued chunk
    /// by chunk so that each can be held back; other copied bytes join the shared buffer.
    fn queue_write(&mut self, chunk: Chunk<'_>, coalesce_bytes: usize) {
        match (chunk, self.length.as_deref_mut()) {
            (Chunk::Owned(chunk), Some(length)) => {
                length.written(chunk.len());
                self.queue.push(chunk);
            }
            (Chunk::Copied(bytes), Some(length)) => {
                length.written(bytes.len());
                self.queue.push(Bytes::copy_from_slice(bytes));
            }
            (Chunk::Owned(chunk), None) => self.queue.push(chunk),
            (Chunk::Copied(bytes), None) => self.queue.push_copied(bytes, coalesce_bytes),
        }
    }

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

/// Wakes the body, if it waits for data, after releasing the lock.
fn wake_body(mut locked: MutexGuard<'_, Locked>) {
    let body = locked.body_waker.take();
    drop(locked);
    if let Some(body) = body {
        body.wake();
    }
}
