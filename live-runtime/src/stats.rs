//! Counters of what is alive right now, to watch for leaks in production and in tests.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

pub(crate) static LIVE_ACTIONS: AtomicUsize = AtomicUsize::new(0);
pub(crate) static OPEN_STREAMS: AtomicUsize = AtomicUsize::new(0);
pub(crate) static SUBSCRIBERS: AtomicUsize = AtomicUsize::new(0);
pub(crate) static PUBLISHED: AtomicU64 = AtomicU64::new(0);
pub(crate) static DELIVERED: AtomicU64 = AtomicU64::new(0);
pub(crate) static GAPS: AtomicU64 = AtomicU64::new(0);
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) static REDIS_RECONNECTS: AtomicU64 = AtomicU64::new(0);

/// A snapshot of [`stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Spawned action tasks that have not finished.
    pub live_actions: usize,
    /// Live response bodies that hyper still holds: streams being sent, or waiting to be.
    pub open_streams: usize,
    /// Broadcast [`Subscription`](crate::broadcast::Subscription)s alive now.
    pub subscribers: usize,
    /// Events published through any [`Hub`](crate::broadcast::Hub) of this process, since
    /// it started.
    pub published: u64,
    /// Events handed to subscribers (one per subscriber per event), since start.
    pub delivered: u64,
    /// [`Gap`](crate::broadcast::Gap)s handed to subscribers, since start.
    pub gaps: u64,
    /// Connections to Redis made again after one was lost, since start.
    pub redis_reconnects: u64,
}

/// How many live actions run and how many live bodies are open in this process (both go back
/// to zero once every client is gone and every action has ended; anything else is a leak),
/// and the broadcast counters.
///
/// ```
/// let now = live_runtime::stats();
/// println!("{} actions, {} streams", now.live_actions, now.open_streams);
/// ```
pub fn stats() -> Stats {
    Stats {
        live_actions: LIVE_ACTIONS.load(Ordering::Relaxed),
        open_streams: OPEN_STREAMS.load(Ordering::Relaxed),
        subscribers: SUBSCRIBERS.load(Ordering::Relaxed),
        published: PUBLISHED.load(Ordering::Relaxed),
        delivered: DELIVERED.load(Ordering::Relaxed),
        gaps: GAPS.load(Ordering::Relaxed),
        redis_reconnects: REDIS_RECONNECTS.load(Ordering::Relaxed),
    }
}

/// Counts itself in a counter for as long as it lives.
#[derive(Debug)]
pub(crate) struct Counted(&'static AtomicUsize);

impl Counted {
    pub(crate) fn new(counter: &'static AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Counted(counter)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
