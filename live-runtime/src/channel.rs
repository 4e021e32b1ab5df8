//! The hand-off between an action and its response body: a bounded chunk queue, the commit,
//! and the disconnect signal.
//!
//! The action side writes through [`Shared`]; hyper polls the [`LiveBody`]. Both meet in one
//! small mutex-protected state, so every operation is one uncontended lock, and a stream that
//! holds nothing costs no allocation beyond the state itself. The state's phases are two
//! enums, one per side: the writer is open, closed or failed; the reader is reading, shutting
//! down, gone or aborted (with why). Every other module goes through the named operations here.

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use http_body::{Body, Frame, SizeHint};
use tokio::sync::{Notify, oneshot};
use tokio::task::AbortHandle;
use tokio::time::{Instant, Sleep};

use crate::config::Resolved;
use crate::error::{BoxError, Error, ErrorKind, Result};
use crate::head::{Committed, Head};
use crate::stats::ActionStats;

/// What [`LiveStream::on_error`](crate::LiveStream::on_error) stores: run with the error and
/// the last chunks to send (a tail's), after commit.
pub(crate) type OnError = Box<dyn FnOnce(&Error, &mut Vec<Bytes>) -> Result + Send>;

/// Chunks the body pulls by itself once the action handed them over
/// ([`Shared::hand_over`]): the body sends them as they come, with no task in between.
pub(crate) type Source = Pin<Box<dyn Stream<Item = Bytes> + Send>>;

/// State shared by the action (through `Live`/`LiveStream`), the runner and the body.
pub(crate) struct Shared {
    state: Mutex<State>,
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

/// The action's side of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writer {
    /// The action may write.
    Open,
    /// The action is done: the body ends cleanly once it has sent what is queued.
    Closed,
    /// The action failed after commit: the body sends what is queued (the `on_error` tail),
    /// then ends with an error, so the client sees an incomplete response, not a whole one.
    Failed,
}

/// The client's side of a stream: why it is ending, if it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
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

/// What a write queues: a chunk as it is, or bytes copied into the shared buffer.
pub(crate) enum Chunk<'a> {
    /// Queued as it is: no copy, whatever its size.
    Owned(Bytes),
    /// Copied after what is queued, into one buffer that the body takes whole: small encoded
    /// events cost no allocation each (the buffer's storage is reclaimed once the body has
    /// sent it), and events written while the body is busy go out together.
    Copied(&'a [u8]),
}

impl Chunk<'_> {
    pub(crate) fn len(&self) -> usize {
        match self {
            Chunk::Owned(bytes) => bytes.len(),
            Chunk::Copied(bytes) => bytes.len(),
        }
    }
}

/// A response's state: its two sides as phases, so only states that can happen are written
/// down, and what each operation may do follows from them.
struct State {
    /// Chunks to send, in order; then `pending`.
    queue: VecDeque<Queued>,
    /// The writes the queue holds, which count against the buffer's bound.
    queue_chunks: usize,
    /// Copied chunks after the queue's (see [`Chunk::Copied`]), at most the coalescing limit
    /// of bytes (or one chunk), and how many there are.
    pending: BytesMut,
    pending_chunks: usize,
    writer: Writer,
    reader: Reader,
    /// A download's declared length. Boxed: few streams have one, and every open stream
    /// holds this state.
    length: Option<Box<Length>>,
    writer_waiting: bool,
    /// The body's waker, while it waits for data.
    body_waker: Option<Waker>,
    /// Taken by the commit; `None` once the response head is on its way.
    commit: Option<oneshot::Sender<Committed>>,
    /// The response head, parked here once the `Live` handle has been turned into a stream or
    /// dropped, so whoever commits can send it.
    /// Boxed: a stream keeps this state for its whole life, and the head only until commit.
    head: Option<Box<Head>>,
    ignore_disconnect: bool,
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

/// A download's declared length, the bytes written so far, and those handed to hyper.
struct Length {
    expected: u64,
    written: u64,
    sent: u64,
}

/// Bytes in the queue, and how many writes they are: copied chunks join into one entry.
struct Queued {
    bytes: Bytes,
    chunks: usize,
}

impl State {
    fn new(commit: oneshot::Sender<Committed>) -> Self {
        State {
            queue: VecDeque::new(),
            queue_chunks: 0,
            pending: BytesMut::new(),
            pending_chunks: 0,
            writer: Writer::Open,
            reader: Reader::Reading,
            length: None,
            writer_waiting: false,
            body_waker: None,
            commit: Some(commit),
            head: None,
            ignore_disconnect: false,
            on_error: None,
            keep_alive: None,
            cancel: None,
            source: None,
            guard: None,
        }
    }

    /// Chunks waiting to be sent.
    fn queued(&self) -> usize {
        self.queue_chunks + self.pending_chunks
    }

    fn is_drained(&self) -> bool {
        self.queue.is_empty() && self.pending.is_empty()
    }

    /// Queues `chunk` after everything queued.
    fn push(&mut self, chunk: Bytes) {
        self.push_pending();
        self.queue.push_back(Queued {
            bytes: chunk,
            chunks: 1,
        });
        self.queue_chunks += 1;
    }

    /// Copies `bytes` after everything queued, joined with the copied chunks before them up
    /// to `limit` bytes, as the body would join queued chunks into one frame.
    fn push_copied(&mut self, bytes: &[u8], limit: usize) {
        if self.pending.len() + bytes.len() > limit {
            self.push_pending();
        }
        self.pending.extend_from_slice(bytes);
        self.pending_chunks += 1;
    }

    /// Moves the copied chunks into the queue, as one entry, to keep the order.
    fn push_pending(&mut self) {
        if !self.pending.is_empty() {
            let bytes = self.pending.split().freeze();
            let chunks = std::mem::take(&mut self.pending_chunks);
            self.queue.push_back(Queued { bytes, chunks });
            self.queue_chunks += chunks;
        }
    }

    /// The next frame: the first queued entry (or else the copied chunks) and the entries
    /// behind it, joined up to `limit` bytes: one socket write for many small events when the
    /// writer is ahead of the client.
    fn next_frame(&mut self, limit: usize) -> Option<Bytes> {
        let Some(first) = self.queue.pop_front() else {
            if self.pending.is_empty() {
                return None;
            }
            self.pending_chunks = 0;
            return Some(self.pending.split().freeze());
        };
        self.queue_chunks -= first.chunks;
        let mut total = first.bytes.len();
        let mut joined = 0;
        for next in &self.queue {
            if total + next.bytes.len() > limit {
                break;
            }
            total += next.bytes.len();
            joined += 1;
        }
        if joined == 0 {
            return Some(first.bytes);
        }
        let mut frame = BytesMut::with_capacity(total);
        frame.extend_from_slice(&first.bytes);
        for next in self.queue.drain(..joined) {
            self.queue_chunks -= next.chunks;
            frame.extend_from_slice(&next.bytes);
        }
        Some(frame.freeze())
    }

    /// Puts back the part of a frame that may not be sent yet, first in line.
    fn unsend(&mut self, bytes: Bytes) {
        self.queue.push_front(Queued { bytes, chunks: 1 });
        self.queue_chunks += 1;
    }

    /// The action is done writing.
    fn is_closed(&self) -> bool {
        self.writer != Writer::Open
    }

    /// The client is gone or the server is shutting down: the stream is on its way out.
    fn is_ending(&self) -> bool {
        self.reader != Reader::Reading
    }

    fn is_shutting_down(&self) -> bool {
        self.reader == Reader::ShuttingDown
    }

    /// The body is gone or aborted (not only shutting down).
    fn is_disconnected(&self) -> bool {
        matches!(self.reader, Reader::Gone | Reader::Aborted(_))
    }
}

impl Shared {
    pub(crate) fn new(
        settings: Resolved,
        stats: ActionStats,
    ) -> (Arc<Self>, oneshot::Receiver<Committed>) {
        let (commit, committed) = oneshot::channel();
        let shared = Shared {
            state: Mutex::new(State::new(commit)),
            wake: Notify::new(),
            dropped: AtomicBool::new(false),
            settings,
            stats,
        };
        (Arc::new(shared), committed)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No user code runs under this lock, so a poisoned lock still holds consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Parks the response head for whoever commits: the `Live` handle was turned into a stream
    /// or dropped.
    pub(crate) fn park_head(&self, head: Box<Head>) {
        self.lock().head = Some(head);
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

    /// Sends the response head now, as a stream, unless it has been sent. A write (even
    /// empty), a close, or the end of the action commits (docs/rails-parity.md, L-06).
    fn commit_stream(state: &mut State) {
        if let Some(commit) = state.commit.take() {
            let head = state.head.take().map_or_else(Head::default, |head| *head);
            if commit
                .send(Committed::Stream(head.into_stream_parts()))
                .is_err()
            {
                // The handler is gone: the client left before the response was committed.
                if state.reader == Reader::Reading {
                    state.reader = Reader::Gone;
                }
            }
        }
    }

    /// Commits the stream now, with nothing written yet.
    pub(crate) fn commit(&self) {
        let mut state = self.lock();
        Self::commit_stream(&mut state);
    }

    /// At shutdown, an SSE stream not committed yet is committed empty: an `EventSource`
    /// reconnects after a clean end but gives up for good on an error status. Anything else
    /// uncommitted answers `503` through the action's error.
    fn commit_event_stream(state: &mut State) {
        if state.head.as_deref().is_some_and(Head::is_event_stream) {
            Self::commit_stream(state);
        }
    }

    /// Commits an SSE stream that was not committed yet, empty; `false` if the response is
    /// not an SSE stream or was committed already. For errors that a client should retry
    /// (see [`commit_event_stream`](Self::commit_event_stream)).
    pub(crate) fn commit_pending_event_stream(&self) -> bool {
        let mut state = self.lock();
        let pending =
            state.commit.is_some() && state.head.as_deref().is_some_and(Head::is_event_stream);
        if pending {
            Self::commit_stream(&mut state);
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
        let mut state = self.lock();
        let Some(commit) = state.commit.take() else {
            return Err(value);
        };
        state.writer = Writer::Closed;
        drop(state);
        // If the handler is gone, so is the client; the response is simply dropped.
        let _ = commit.send(Committed::Full(respond(value)));
        Ok(())
    }

    pub(crate) fn is_committed(&self) -> bool {
        self.lock().commit.is_none()
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
                let mut state = self.lock();
                if !Self::ready_to_write(&mut state)? {
                    return Ok(());
                }
                if chunk.len() == 0 {
                    return Ok(());
                }
                if let Some(&Length {
                    expected, written, ..
                }) = state.length.as_deref()
                {
                    let total = written + chunk.len() as u64;
                    if total > expected {
                        self.abort(state, ErrorKind::LengthMismatch);
                        return Err(Error::length_mismatch(expected, total));
                    }
                }
                if state.queued() < self.settings.capacity {
                    match (chunk, state.length.as_deref_mut()) {
                        (Chunk::Owned(chunk), Some(Length { written, .. })) => {
                            *written += chunk.len() as u64;
                            state.push(chunk);
                        }
                        // A download's bytes are counted and held back chunk by chunk.
                        (Chunk::Copied(bytes), Some(Length { written, .. })) => {
                            *written += bytes.len() as u64;
                            state.push(Bytes::copy_from_slice(bytes));
                        }
                        (Chunk::Owned(chunk), None) => state.push(chunk),
                        (Chunk::Copied(bytes), None) => {
                            state.push_copied(bytes, self.settings.coalesce_bytes);
                        }
                    }
                    wake_reader(state);
                    return Ok(());
                }
                state.writer_waiting = true;
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

    /// Whether the action may queue bytes now; commits the stream first (at shutdown, only an
    /// SSE stream, empty). `Ok(false)`: the client is gone and the action ignores it.
    fn ready_to_write(state: &mut State) -> Result<bool> {
        if state.is_closed() {
            return Err(Error::closed());
        }
        if state.is_shutting_down() {
            Self::commit_event_stream(state);
            return Err(Error::shutting_down());
        }
        Self::commit_stream(state);
        if state.is_disconnected() {
            return Self::disconnect_result(state).map(|()| false);
        }
        Ok(true)
    }

    fn disconnect_result(state: &State) -> Result {
        match state.reader {
            _ if state.ignore_disconnect => Ok(()),
            Reader::Aborted(ErrorKind::WriteTimeout) => Err(Error::write_timeout()),
            Reader::Aborted(_) => Err(Error::closed()),
            _ => Err(Error::client_disconnected()),
        }
    }

    /// Queues chunks past the buffer's bound: the last words of a failed action (`on_error`).
    pub(crate) fn write_tail(&self, chunks: Vec<Bytes>) {
        let mut state = self.lock();
        if state.is_closed() || state.is_ending() || chunks.is_empty() {
            return;
        }
        for chunk in chunks.into_iter().filter(|c| !c.is_empty()) {
            state.push(chunk);
        }
        wake_reader(state);
    }

    /// Ends the stream: commits if nothing was, and lets the body finish once drained; a
    /// download that is short of its declared length is aborted instead.
    pub(crate) fn close(&self) {
        self.end_writing(Writer::Closed);
    }

    /// Ends the stream of an action that failed after commit: what is queued goes out, then
    /// the body ends with an error instead of cleanly.
    pub(crate) fn fail(&self) {
        self.end_writing(Writer::Failed);
    }

    /// The writer is done, as `end` says. A failure outranks a close: the action's stream is
    /// closed when the action drops it, before the action's error reaches the runner.
    fn end_writing(&self, end: Writer) {
        let mut state = self.lock();
        Self::commit_stream(&mut state);
        if state.is_closed() {
            if end == Writer::Failed {
                state.writer = end;
            }
            return wake_reader(state);
        }
        state.writer = end;
        if let Some(&Length {
            expected, written, ..
        }) = state.length.as_deref().filter(|l| l.written < l.expected)
        {
            tracing::error!(
                expected,
                written,
                "live: download ended short of its declared length"
            );
            self.abort(state, ErrorKind::LengthMismatch);
            return;
        }
        wake_reader(state);
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
        let mut state = self.lock();
        state.commit = None;
        if state.writer == Writer::Open {
            state.writer = Writer::Closed;
        }
        wake_reader(state);
    }

    /// The server is shutting down ([`crate::Shutdown`]): what is queued goes out, then the body
    /// ends cleanly; writes fail and `disconnected()` resolves, so the action ends too.
    pub(crate) fn shut_down(&self) {
        let mut state = self.lock();
        if state.is_ending() {
            // The stream is ending already.
            return;
        }
        // Closed by its action, a stream may still be sending a source it was handed: it
        // ends too.
        state.reader = Reader::ShuttingDown;
        state.writer_waiting = false;
        Self::commit_event_stream(&mut state);
        wake_reader(state);
        self.wake.notify_waiters();
    }

    /// Ends the body with an error, which makes hyper abort the connection.
    fn abort(&self, mut state: MutexGuard<'_, State>, why: ErrorKind) {
        state.reader = Reader::Aborted(why);
        let reader = state.body_waker.take();
        self.mark_disconnected(state);
        if let Some(reader) = reader {
            reader.wake();
        }
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
        let mut state = self.lock();
        if !Self::ready_to_write(&mut state)? {
            return Ok(());
        }
        if !first.is_empty() {
            state.push(first);
        }
        // Fused: the body may poll it once more after its end while joining chunks.
        state.source = Some(Box::pin(source.fuse()));
        wake_reader(state);
        Ok(())
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
        let mut state = self.lock();
        state.length = length.map(|expected| {
            Box::new(Length {
                expected,
                written: 0,
                sent: 0,
            })
        });
        if let Some(head) = &mut state.head {
            head.length = length;
        }
    }

    /// The client is gone: drop what is queued (docs/rails-parity.md, D-06) and wake everyone who
    /// waits.
    fn mark_disconnected(&self, mut state: MutexGuard<'_, State>) {
        if state.reader == Reader::Reading {
            state.reader = Reader::Gone;
        }
        state.queue = VecDeque::new();
        state.queue_chunks = 0;
        state.pending = BytesMut::new();
        state.pending_chunks = 0;
        state.writer_waiting = false;
        // A source the body never took (it was dropped before its first poll) goes too.
        let source = state.source.take();
        drop(state);
        drop(source);
        self.wake.notify_waiters();
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().is_closed()
    }

    pub(crate) fn is_connected(&self) -> bool {
        !self.lock().is_ending()
    }

    pub(crate) async fn disconnected(&self) {
        loop {
            let mut gone = pin!(self.wake.notified());
            gone.as_mut().enable();
            if self.lock().is_ending() {
                return;
            }
            gone.await;
        }
    }
}

thread_local! {
    /// The stream state of the action being polled on this thread, by address.
    static POLLING: Cell<usize> = const { Cell::new(0) };
}

/// Marks `shared` as the state of the action being polled on this thread, until dropped.
pub(crate) struct Polling(usize);

impl Polling {
    pub(crate) fn enter(shared: &Arc<Shared>) -> Self {
        Polling(POLLING.replace(Arc::as_ptr(shared).addr()))
    }
}

impl Drop for Polling {
    fn drop(&mut self) {
        POLLING.set(self.0);
    }
}

/// Whether the action that owns `shared` is being polled right now, on this thread: a stream
/// dropped then is dropped by the action itself, maybe on its way out with an error, so its
/// close waits until the poll is over and `on_error` has had its say.
pub(crate) fn in_action_poll(shared: &Arc<Shared>) -> bool {
    POLLING.get() == Arc::as_ptr(shared).addr()
}

/// Whether the runtime has a timer, as a write timeout needs. A runtime built without
/// `enable_time` makes tokio panic at the first timer; checked once, and then writes simply
/// wait without a timeout, with a warning instead of a cut-off stream.
fn timers_enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| {
        let enabled = std::panic::catch_unwind(|| drop(tokio::time::sleep(Duration::ZERO))).is_ok();
        if !enabled {
            tracing::warn!(
                "live: the tokio runtime has no timer (built without `enable_time`): \
                 write timeouts are off; build it with `enable_all()` to have them"
            );
        }
        enabled
    })
}

pin_project_lite::pin_project! {
    /// The response body of a live stream, polled by hyper.
    pub(crate) struct LiveBody {
        shared: Arc<Shared>,
        // The keep-alive timer, started at the first idle poll of a stream that has a
        // keep-alive. Inline (axum boxes the body, which pins it): every open stream holds
        // one, and a heap block of its own costs a subscriber more than its bytes.
        #[pin]
        keep_alive: Option<KeepAlive>,
        // The source handed over by the action, taken out of the shared state at the first
        // poll after the hand-over, so it is polled without the lock.
        source: Option<Source>,
        // The action failed: the body yielded once to let the tail out, and now fails.
        tail_flushed: bool,
    }

    impl PinnedDrop for LiveBody {
        fn drop(this: Pin<&mut Self>) {
            // hyper drops the body when the connection is gone (or the response is complete).
            let shared = &*this.project().shared;
            let mut state = shared.lock();
            // Not closed by the action: the client is gone, or the server shutting down.
            let action = state.cancel.take().filter(|_| !state.is_closed());
            shared.mark_disconnected(state);
            if let Some(action) = action {
                tracing::debug!("live: client gone, action cancelled (cancel_on_disconnect)");
                action.abort();
            }
            shared.stats.stream_closed();
        }
    }
}

impl LiveBody {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        shared.stats.stream_opened();
        LiveBody {
            shared,
            keep_alive: None,
            source: None,
            tail_flushed: false,
        }
    }
}

pin_project_lite::pin_project! {
    /// When a stream's keep-alive is due: `interval` after its last data frame. A frame only
    /// notes its time; the timer is moved when it fires. (Moving it on every frame took a
    /// lock in tokio's timer driver each time: a fifth of the server's CPU per event.)
    struct KeepAlive {
        #[pin]
        timer: Sleep,
        // The last frame's time since the timer's start (its deadline less the interval), in
        // milliseconds rounded up; 0 if none went out since.
        last_frame_ms: u32,
    }
}

impl KeepAlive {
    fn new(interval: Duration) -> Self {
        KeepAlive {
            timer: tokio::time::sleep(interval),
            last_frame_ms: 0,
        }
    }

    fn frame_sent(self: Pin<&mut Self>, interval: Duration) {
        let this = self.project();
        let since_start = this
            .timer
            .deadline()
            .checked_sub(interval)
            .map_or(Duration::ZERO, |start| {
                Instant::now().saturating_duration_since(start)
            });
        *this.last_frame_ms =
            u32::try_from(since_start.as_nanos().div_ceil(1_000_000)).unwrap_or(u32::MAX);
    }

    /// Whether the stream has been silent for `interval`; if not, `cx` is woken when it may be.
    fn poll_due(self: Pin<&mut Self>, cx: &mut Context<'_>, interval: Duration) -> bool {
        let mut this = self.project();
        while this.timer.as_mut().poll(cx).is_ready() {
            let last_frame = std::mem::take(this.last_frame_ms);
            let silence_began = (last_frame > 0)
                .then(|| this.timer.deadline().checked_sub(interval))
                .flatten()
                .map(|start| start + Duration::from_millis(last_frame.into()));
            match silence_began {
                // A frame went out since: the silence is shorter than it looked.
                Some(began) => this.timer.as_mut().reset(began + interval),
                None => {
                    this.timer.as_mut().reset(Instant::now() + interval);
                    return true;
                }
            }
        }
        false
    }
}

/// A data frame out: the keep-alive's silence starts again.
fn sent(
    keep_alive: Pin<&mut Option<KeepAlive>>,
    frame: Bytes,
    silence: Option<Duration>,
) -> Poll<Option<std::result::Result<Frame<Bytes>, BoxError>>> {
    if let (Some(timer), Some(interval)) = (keep_alive.as_pin_mut(), silence) {
        timer.frame_sent(interval);
    }
    Poll::Ready(Some(Ok(Frame::data(frame))))
}

/// The chunks `source` has ready, joined up to `limit` bytes as [`State::next_frame`] joins queued
/// ones; `Ready(None)` once it ended with nothing ready.
fn pull(source: &mut Source, cx: &mut Context<'_>, limit: usize) -> Poll<Option<Bytes>> {
    let first = match source.poll_next_unpin(cx) {
        Poll::Ready(Some(first)) => first,
        other => return other,
    };
    let mut frame: Option<BytesMut> = None;
    let mut total = first.len();
    while total < limit {
        let Poll::Ready(Some(next)) = source.poll_next_unpin(cx) else {
            break;
        };
        total += next.len();
        frame
            .get_or_insert_with(|| {
                let mut frame = BytesMut::with_capacity(limit.min(total.max(4096)));
                frame.extend_from_slice(&first);
                frame
            })
            .extend_from_slice(&next);
    }
    Poll::Ready(Some(frame.map_or(first, BytesMut::freeze)))
}

impl Body for LiveBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        let shared = &**this.shared;
        let mut state = shared.lock();
        // A download's last declared byte waits until the action closes the stream: sent
        // earlier, it would let hyper end a complete-looking response that a later write past
        // the length could no longer abort.
        let sendable = (state.length.as_deref())
            .filter(|_| !state.is_closed())
            .map(|l| l.expected.saturating_sub(1).saturating_sub(l.sent));
        let frame = match sendable {
            Some(0) => None,
            _ => state.next_frame(shared.settings.coalesce_bytes),
        };
        // The keep-alive's interval; its bytes are cloned only when one is due.
        let silence = state.keep_alive.as_ref().map(|(interval, _)| *interval);
        if let Some(mut frame) = frame {
            if let Some(sendable) = sendable {
                let sendable = usize::try_from(sendable).unwrap_or(usize::MAX);
                if frame.len() > sendable {
                    state.unsend(frame.split_off(sendable));
                }
                if let Some(length) = state.length.as_deref_mut() {
                    length.sent += frame.len() as u64;
                }
            }
            let writer_waiting = std::mem::take(&mut state.writer_waiting);
            drop(state);
            if writer_waiting {
                shared.wake.notify_waiters();
            }
            return sent(this.keep_alive, frame, silence);
        }
        if let Reader::Aborted(why) = state.reader {
            return Poll::Ready(Some(Err(format!("live stream aborted: {why:?}").into())));
        }
        if state.is_shutting_down() {
            return Poll::Ready(None);
        }
        if let Some(source) = state.source.take() {
            *this.source = Some(source);
        }
        if state.is_closed() && this.source.is_none() {
            if state.writer == Writer::Failed {
                // hyper drops what it has buffered when a body fails: one pending poll first
                // lets it flush the `on_error` tail (the socket permitting).
                if !std::mem::replace(this.tail_flushed, true) {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                return Poll::Ready(Some(Err("live action failed after commit".into())));
            }
            return Poll::Ready(None);
        }
        match &mut state.body_waker {
            Some(waker) => waker.clone_from(cx.waker()),
            None => state.body_waker = Some(cx.waker().clone()),
        }
        drop(state);
        if let Some(source) = this.source.as_mut() {
            match pull(source, cx, shared.settings.coalesce_bytes) {
                Poll::Ready(Some(frame)) => return sent(this.keep_alive, frame, silence),
                Poll::Ready(None) => {
                    *this.source = None;
                    // The source ended: so does the stream, once the action closed it.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Poll::Pending => {}
            }
        }
        if let Some(interval) = silence.filter(|_| timers_enabled()) {
            if this.keep_alive.is_none() {
                this.keep_alive.set(Some(KeepAlive::new(interval)));
            }
            let timer = this.keep_alive.as_pin_mut().expect("set above");
            if timer.poll_due(cx, interval) {
                let bytes = shared
                    .lock()
                    .keep_alive
                    .as_ref()
                    .map(|(_, bytes)| bytes.clone());
                if let Some(bytes) = bytes {
                    shared.stats.keep_alive();
                    return Poll::Ready(Some(Ok(Frame::data(bytes))));
                }
            }
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        let state = self.shared.lock();
        let done = state.is_shutting_down()
            || (state.writer == Writer::Closed && state.source.is_none() && self.source.is_none());
        done && state.is_drained() && !matches!(state.reader, Reader::Aborted(_))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// Wakes the body, if it waits for data, after releasing the lock.
fn wake_reader(mut state: MutexGuard<'_, State>) {
    let reader = state.body_waker.take();
    drop(state);
    if let Some(reader) = reader {
        reader.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        State::new(oneshot::channel().0)
    }

    fn frames(state: &mut State, limit: usize) -> Vec<Bytes> {
        std::iter::from_fn(|| state.next_frame(limit)).collect()
    }

    #[test]
    fn queued_chunks_join_up_to_the_limit() {
        let mut state = state();
        for chunk in ["aa", "bb", "cc", "dddd", "0123456789", "x"] {
            state.push(Bytes::from_static(chunk.as_bytes()));
        }
        assert_eq!(state.queued(), 6);
        // A chunk larger than the limit still goes out, alone.
        assert_eq!(frames(&mut state, 6), ["aabbcc", "dddd", "0123456789", "x"]);
        assert_eq!(state.queued(), 0);
        // Off: one chunk per frame.
        state.push(Bytes::from_static(b"a"));
        state.push(Bytes::from_static(b"b"));
        assert_eq!(frames(&mut state, 0), ["a", "b"]);
    }

    #[test]
    fn copied_chunks_join_up_to_the_limit_and_keep_their_count() {
        let mut state = state();
        for chunk in ["aa", "bb", "cc", "dd"] {
            state.push_copied(chunk.as_bytes(), 6);
        }
        // Each write counts against the buffer's bound, joined or not.
        assert_eq!(state.queued(), 4);
        state.push(Bytes::from_static(b"owned"));
        state.push_copied(b"ee", 6);
        assert_eq!(state.queued(), 6);
        assert_eq!(frames(&mut state, 6), ["aabbcc", "dd", "owned", "ee"]);
        assert_eq!(state.queued(), 0);
        // Off: each copied write is a frame of its own.
        for chunk in ["a", "b", "c"] {
            state.push_copied(chunk.as_bytes(), 0);
        }
        assert_eq!(state.queued(), 3);
        assert_eq!(frames(&mut state, 0), ["a", "b", "c"]);
        assert!(state.is_drained());
    }
}
