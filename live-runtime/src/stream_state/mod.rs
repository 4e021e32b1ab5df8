//! A live response's stream: what its action, the action's runner and its body share.
//!
//! The action writes through [`StreamState`]; hyper polls the [`LiveBody`](crate::body::LiveBody).
//! Both meet in one small mutex-protected state, so every operation is one uncontended lock, and
//! a stream that holds nothing costs no allocation beyond the state itself. Where the stream is
//! (its commit, its writer's and its reader's phase) is in [`phase`]; every other module goes
//! through the named operations here.

mod body_side;
mod commit;
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
use crate::head::Committed;
use crate::stats::ActionStats;
use declared_length::{DeclaredLength, Mismatch};
use phase::{Commit, Reader, Writer};
use queue::ChunkQueue;

pub(crate) use body_side::Drained;
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

    /// The action dropped its committed stream during its poll: closed once that poll is
    /// over, so an error it returns still gets its `on_error` tail out.
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
}

/// Wakes the body, if it waits for data, after releasing the lock.
fn wake_body(mut locked: MutexGuard<'_, Locked>) {
    let body = locked.body_waker.take();
    drop(locked);
    if let Some(body) = body {
        body.wake();
    }
}
