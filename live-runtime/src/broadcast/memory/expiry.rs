//! When the in-process engine looks again at a topic that holds events, and the task that
//! does it while nothing else happens, so topics nobody uses go without any publish.

use std::cmp::Ordering;
use std::sync::{Arc, Weak};

use tokio::time::Instant;

use super::Shared;
use crate::broadcast::engine::lock;

/// A topic to look at again at `at`. Ordered soonest first, for a `BinaryHeap`.
pub(super) struct Expiry {
    pub(super) at: Instant,
    pub(super) topic: Arc<str>,
}

impl Ord for Expiry {
    fn cmp(&self, other: &Self) -> Ordering {
        other.at.cmp(&self.at)
    }
}

impl PartialOrd for Expiry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Expiry {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}

impl Eq for Expiry {}

/// Looks at each topic when its expiry is due, until none is queued. It holds the engine
/// weakly, so a dropped hub is freed (and the task aborted) at once.
pub(super) async fn sweep(shared: Weak<Shared>) {
    loop {
        let next = {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let mut table = lock(&shared.table);
            let next = shared.expire_due(&mut table, Instant::now());
            if next.is_none() {
                // Under the lock that queues: the next topic queued starts a new task.
                table.sweeper = None;
            }
            next
        };
        let Some(at) = next else {
            return;
        };
        tokio::time::sleep_until(at).await;
        // A batch at a time: a mass expiry does not hold the table for long.
        tokio::task::yield_now().await;
    }
}
