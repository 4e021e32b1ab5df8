//! Pulling the chunks of a source the action handed over, with no task in between.

use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;

use crate::stream_state::Source;

/// The chunks `source` has ready, joined up to `limit` bytes as queued chunks are;
/// `Ready(None)` once it ended with nothing ready (it is then dropped), `Pending` with no
/// source.
pub(super) fn pull(
    source: &mut Option<Source>,
    cx: &mut Context<'_>,
    limit: usize,
) -> Poll<Option<Bytes>> {
    let Some(stream) = source.as_mut() else {
        return Poll::Pending;
    };
    let first = match stream.poll_next_unpin(cx) {
        Poll::Ready(Some(first)) => first,
        Poll::Ready(None) => {
            *source = None;
            return Poll::Ready(None);
        }
        Poll::Pending => return Poll::Pending,
    };
    let mut frame: Option<BytesMut> = None;
    let mut total = first.len();
    while total < limit {
        let Poll::Ready(Some(next)) = stream.poll_next_unpin(cx) else {
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
