//! Which action is being polled on this thread: a stream dropped during its action's poll is
//! dropped by the action itself, maybe on its way out with an error.

use std::cell::Cell;
use std::sync::Arc;

use super::StreamState;

thread_local! {
    /// The stream state of the action being polled on this thread, by address.
    static POLLING: Cell<usize> = const { Cell::new(0) };
}

/// Marks `state` as the state of the action being polled on this thread, until dropped.
pub(crate) struct Polling(usize);

impl Polling {
    pub(crate) fn enter(state: &Arc<StreamState>) -> Self {
        Polling(POLLING.replace(Arc::as_ptr(state).addr()))
    }
}

impl Drop for Polling {
    fn drop(&mut self) {
        POLLING.set(self.0);
    }
}

/// Whether the action that owns `state` is being polled right now, on this thread: a stream
/// dropped then waits to close until the poll is over and `on_error` has had its say.
pub(crate) fn in_action_poll(state: &Arc<StreamState>) -> bool {
    POLLING.get() == Arc::as_ptr(state).addr()
}
