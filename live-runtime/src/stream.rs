//! The stream a live action writes its body to (Rails' `response.stream`, a `Live::Buffer`).

use std::fmt;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::{Error, Result};
use crate::stream_state::{Chunk, StreamState, in_action_poll};

/// The body of a live response, written as the action goes.
///
/// The first [`write`](Self::write) (even of nothing) or [`close`](Self::close) commits the
/// response: status and headers go out, and from then on what is written reaches the client as it
/// is written. The stream ends when the action ends, however it ends (return, `?`, panic), so
/// forgetting to close never leaves a client hanging (in Rails it does). Dropping the stream
/// after it was committed ends it too.
///
/// Writes wait while the per-stream buffer is full (10 chunks unless configured, as in Rails); when
/// the client has gone they fail with
/// [`ErrorKind::ClientDisconnected`](crate::ErrorKind::ClientDisconnected), which `?` turns
/// into a quiet end of the action.
pub struct LiveStream {
    state: Arc<StreamState>,
}

impl LiveStream {
    pub(crate) fn new(state: Arc<StreamState>) -> Self {
        LiveStream { state }
    }

    /// Writes one chunk and returns its length in bytes (as Rails `main` does). Waits while the
    /// buffer is full.
    ///
    /// # Errors
    /// - [`Closed`](crate::ErrorKind::Closed) after [`close`](Self::close) (Rails' `IOError:
    ///   closed stream`).
    /// - [`ClientDisconnected`](crate::ErrorKind::ClientDisconnected) once the client is gone;
    ///   the chunk and anything still queued are dropped. With
    ///   [`set_ignore_disconnect`](Self::set_ignore_disconnect) the write returns `Ok` instead.
    /// - [`WriteTimeout`](crate::ErrorKind::WriteTimeout) if the buffer stayed full past the
    ///   write timeout; the connection is then aborted.
    /// - [`ShuttingDown`](crate::ErrorKind::ShuttingDown) once the app's
    ///   [`Shutdown`](crate::Shutdown) has begun, even with `ignore_disconnect`: the action
    ///   should end so the server can stop.
    pub async fn write(&mut self, chunk: impl Into<Bytes>) -> Result<usize> {
        self.write_chunk(Chunk::Owned(chunk.into())).await
    }

    /// Writes a copy of `bytes` into the stream's shared buffer (see [`Chunk::Copied`]): for
    /// small encoded chunks, such as SSE events, that would otherwise each need a `Bytes`.
    pub(crate) async fn write_copied(&mut self, bytes: &[u8]) -> Result<usize> {
        self.write_chunk(Chunk::Copied(bytes)).await
    }

    async fn write_chunk(&mut self, chunk: Chunk<'_>) -> Result<usize> {
        let len = chunk.len();
        self.state.write(chunk).await?;
        self.state.stats.written(len);
        Ok(len)
    }

    /// Writes `line`, adding `\n` unless it already ends with one. Returns the bytes
    /// written.
    pub async fn writeln(&mut self, line: impl Into<Bytes>) -> Result<usize> {
        self.write(with_newline(line.into())).await
    }

    /// Writes `first` without waiting (a few bytes; past the buffer's bound if it is full) and
    /// hands `source` to the response body, which sends its chunks after what was written, as
    /// they come, until it ends, the client leaves or the server shuts down. The action may
    /// end meanwhile: no task waits per stream.
    pub(crate) fn hand_over(
        &mut self,
        first: Bytes,
        source: impl futures_util::Stream<Item = Bytes> + Send + 'static,
    ) -> Result {
        self.state.hand_over(first, source)
    }

    /// Commits if nothing was written, and ends the body. Later writes are
    /// [`Closed`](crate::ErrorKind::Closed). Closing twice is harmless.
    pub fn close(&mut self) {
        self.state.close();
    }

    /// Whether [`close`](Self::close) was called (or the action already answered).
    pub fn is_closed(&self) -> bool {
        self.state.is_closed()
    }

    /// Whether status and headers are on their way to the client.
    pub fn is_committed(&self) -> bool {
        self.state.is_committed()
    }

    /// `false` once the client is known to be gone (Rails' `connected?`). Unlike Rails,
    /// it turns `false` while the action is idle too, as soon as hyper notices the closed
    /// connection. `false` too once the app's [`Shutdown`](crate::Shutdown) has begun.
    pub fn is_connected(&self) -> bool {
        self.state.is_connected()
    }

    /// Resolves when the client is gone, also while the action is not writing (Rails never
    /// notices an idle disconnect), or when the app's [`Shutdown`](crate::Shutdown) begins.
    /// Cancel-safe, for `tokio::select!`:
    ///
    /// ```
    /// # async fn f(mut stream: live_runtime::LiveStream) -> live_runtime::Result {
    /// let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    /// loop {
    ///     tokio::select! {
    ///         _ = stream.disconnected() => return Ok(()),
    ///         _ = tick.tick() => { stream.write("tick\n").await?; }
    ///     }
    /// }
    /// # }
    /// ```
    pub async fn disconnected(&self) {
        self.state.disconnected().await;
    }

    /// With `true`, writes after the client left return `Ok` and drop their chunk instead of
    /// failing (Rails' `ignore_disconnect = true`).
    pub fn set_ignore_disconnect(&mut self, ignore: bool) {
        self.state.set_ignore_disconnect(ignore);
    }

    /// Sets the callback run when the action fails after commit (Rails' `on_error`). It
    /// receives the error (Rails passes nothing) and a [`Tail`] for the last bytes of the
    /// stream, an SSE `event: error` say, sent before the response is cut (see
    /// [`LiveConfig::clean_end_on_error`](crate::LiveConfig::clean_end_on_error)). If it fails,
    /// both errors are logged. It also runs when the action ends with a disconnect error, with
    /// nowhere left to write. Replaces any earlier callback.
    ///
    /// ```
    /// # fn f(stream: &mut live_runtime::LiveStream) {
    /// stream.on_error(|error, tail| {
    ///     tail.write(format!("event: error\ndata: {}\n\n", error.status_code()));
    ///     Ok(())
    /// });
    /// # }
    /// ```
    pub fn on_error<F>(&mut self, callback: F)
    where
        F: FnOnce(&Error, &mut Tail) -> Result + Send + 'static,
    {
        self.state.set_on_error(Box::new(move |error, chunks| {
            let mut tail = Tail {
                chunks: std::mem::take(chunks),
            };
            let result = callback(error, &mut tail);
            *chunks = tail.chunks;
            result
        }));
    }
}

impl LiveStream {
    /// The state this stream shares with its body, for what outlives the stream.
    pub(crate) fn shared(&self) -> Arc<StreamState> {
        self.state.clone()
    }

    pub(crate) fn expect_length(&mut self, length: Option<u64>) {
        self.state.expect_length(length);
    }

    /// Sends the response head now, with nothing written yet.
    pub(crate) fn commit(&self) {
        self.state.commit();
    }

    /// Keep-alive bytes sent by the body after this much silence (SSE).
    pub(crate) fn set_keep_alive(&self, keep_alive: Option<(std::time::Duration, Bytes)>) {
        self.state.set_keep_alive(keep_alive);
    }
}

impl Drop for LiveStream {
    fn drop(&mut self) {
        // Uncommitted, the end of the action decides (an error then still becomes its own
        // response). Committed, dropping the stream ends it: at once when it happens outside
        // the action (in a task the stream was moved to), else when the action's current poll
        // is over, so an action returning an error still gets its `on_error` tail out.
        if !self.state.is_committed() {
            return;
        }
        if in_action_poll(&self.state) {
            self.state.mark_dropped();
        } else {
            self.state.close();
        }
    }
}

impl fmt::Debug for LiveStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveStream")
            .field("closed", &self.is_closed())
            .field("connected", &self.is_connected())
            .finish()
    }
}

/// The last bytes of a stream whose action failed after commit, written by the
/// [`on_error`](LiveStream::on_error) callback. They are sent even when the buffer is full.
#[derive(Debug, Default)]
pub struct Tail {
    chunks: Vec<Bytes>,
}

impl Tail {
    /// Appends a chunk; returns its length.
    pub fn write(&mut self, chunk: impl Into<Bytes>) -> usize {
        let chunk = chunk.into();
        let len = chunk.len();
        self.chunks.push(chunk);
        len
    }

    /// Appends `line` and a `\n` unless it ends with one; returns the bytes appended.
    pub fn writeln(&mut self, line: impl Into<Bytes>) -> usize {
        self.write(with_newline(line.into()))
    }
}

fn with_newline(line: Bytes) -> Bytes {
    if line.ends_with(b"\n") {
        return line;
    }
    let mut out = BytesMut::with_capacity(line.len() + 1);
    out.put_slice(&line);
    out.put_u8(b'\n');
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newline_added_only_when_missing() {
        assert_eq!(with_newline(Bytes::from_static(b"hello\n")), "hello\n");
        assert_eq!(with_newline(Bytes::from_static(b"world")), "world\n");
        assert_eq!(with_newline(Bytes::new()), "\n");
    }
}
