//! The chunks a stream holds until its body sends them: a queue of owned chunks and, behind
//! it, one buffer of copied bytes, both joined into frames when the writer is ahead.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

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

/// Chunks to send, in order: the queue's entries, then the copied bytes behind them.
#[derive(Default)]
pub(super) struct ChunkQueue {
    queue: VecDeque<Queued>,
    /// The writes the queue holds, which count against the buffer's bound.
    queue_chunks: usize,
    /// Copied chunks after the queue's (see [`Chunk::Copied`]), at most the coalescing limit
    /// of bytes (or one chunk), and how many there are.
    pending: BytesMut,
    pending_chunks: usize,
}

/// Bytes in the queue, and how many writes they are: copied chunks join into one entry.
struct Queued {
    bytes: Bytes,
    chunks: usize,
}

impl ChunkQueue {
    /// Writes waiting to be sent.
    pub(super) fn len(&self) -> usize {
        self.queue_chunks + self.pending_chunks
    }

    pub(super) fn is_empty(&self) -> bool {
        self.queue.is_empty() && self.pending.is_empty()
    }

    /// Queues `chunk` after everything queued.
    pub(super) fn push(&mut self, chunk: Bytes) {
        self.push_pending();
        self.queue.push_back(Queued {
            bytes: chunk,
            chunks: 1,
        });
        self.queue_chunks += 1;
    }

    /// Copies `bytes` after everything queued, joined with the copied chunks before them up
    /// to `limit` bytes, as [`next_frame`](Self::next_frame) would join queued chunks.
    pub(super) fn push_copied(&mut self, bytes: &[u8], limit: usize) {
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
    pub(super) fn next_frame(&mut self, limit: usize) -> Option<Bytes> {
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
    pub(super) fn unsend(&mut self, bytes: Bytes) {
        self.queue.push_front(Queued { bytes, chunks: 1 });
        self.queue_chunks += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(queue: &mut ChunkQueue, limit: usize) -> Vec<Bytes> {
        std::iter::from_fn(|| queue.next_frame(limit)).collect()
    }

    #[test]
    fn queued_chunks_join_up_to_the_limit() {
        let mut queue = ChunkQueue::default();
        for chunk in ["aa", "bb", "cc", "dddd", "0123456789", "x"] {
            queue.push(Bytes::from_static(chunk.as_bytes()));
        }
        assert_eq!(queue.len(), 6);
        // A chunk larger than the limit still goes out, alone.
        assert_eq!(frames(&mut queue, 6), ["aabbcc", "dddd", "0123456789", "x"]);
        assert_eq!(queue.len(), 0);
        // Off: one chunk per frame.
        queue.push(Bytes::from_static(b"a"));
        queue.push(Bytes::from_static(b"b"));
        assert_eq!(frames(&mut queue, 0), ["a", "b"]);
    }

    #[test]
    fn copied_chunks_join_up_to_the_limit_and_keep_their_count() {
        let mut queue = ChunkQueue::default();
        for chunk in ["aa", "bb", "cc", "dd"] {
            queue.push_copied(chunk.as_bytes(), 6);
        }
        // Each write counts against the buffer's bound, joined or not.
        assert_eq!(queue.len(), 4);
        queue.push(Bytes::from_static(b"owned"));
        queue.push_copied(b"ee", 6);
        assert_eq!(queue.len(), 6);
        assert_eq!(frames(&mut queue, 6), ["aabbcc", "dd", "owned", "ee"]);
        assert_eq!(queue.len(), 0);
        // Off: each copied write is a frame of its own.
        for chunk in ["a", "b", "c"] {
            queue.push_copied(chunk.as_bytes(), 0);
        }
        assert_eq!(queue.len(), 3);
        assert_eq!(frames(&mut queue, 0), ["a", "b", "c"]);
        assert!(queue.is_empty());
    }
}
