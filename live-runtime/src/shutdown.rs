//! Ending every open live stream when the server shuts down.
//!
//! axum's graceful shutdown waits for open connections to finish, and a live stream (an SSE
//! feed, a long download) may never finish by itself: without help, the shutdown waits
//! forever, or the process is killed mid-event. A [`Shutdown`] installed on the router
//! tracks every live action it serves; [`Shutdown::begin`] ends their streams at once:
//!
//! - what each action had queued is still delivered, then its body ends cleanly, so an
//!   `EventSource` reconnects (to the next server) after its `retry`, with its last event id;
//! - [`LiveStream::disconnected`](crate::LiveStream::disconnected) resolves, and every write
//!   returns `Err` of kind [`ShuttingDown`](crate::ErrorKind::ShuttingDown), which `?` turns
//!   into the end of the action (logged at `debug`, like a disconnect);
//! - an action that had not committed yet answers `503 Service Unavailable` if it writes
//!   (an SSE stream is committed empty instead, so its `EventSource` reconnects rather than
//!   give up for good), and actions that start after the shutdown began end the same way.
//!
//! An action that neither writes nor awaits `disconnected()` keeps running after its stream
//! ended; it is cancelled with the tokio runtime.
//!
//! ```no_run
//! use live_runtime::prelude::*;
//!
//! # struct StocksController;
//! # #[live_controller]
//! # impl StocksController {
//! #     pub async fn prices(&self, live: Live) -> live_runtime::Result { Ok(()) }
//! # }
//! # async fn run() -> std::io::Result<()> {
//! let shutdown = Shutdown::new();
//! // After every controller is merged: a layer only reaches the routes it is added to.
//! let app = StocksController.into_router().layer(shutdown.layer());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app)
//!     .with_graceful_shutdown(shutdown.begin_after(async {
//!         let _ = tokio::signal::ctrl_c().await;
//!     }))
//!     .await
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use axum::Extension;
use tokio::sync::watch;

use crate::stream_state::StreamState;

/// The shutdown of one app's live streams: install it with [`layer`](Self::layer), end the
/// streams with [`begin`](Self::begin). Clones share the same state. See the
/// [module docs](self).
#[derive(Clone, Default)]
pub struct Shutdown(Arc<Registry>);

#[derive(Default)]
struct Registry {
    state: Mutex<RegistryState>,
    /// Whether the shutdown has begun, and how many actions are tracked, for those who wait
    /// on either. Updated under `state`'s lock, so it never runs behind it.
    phase: watch::Sender<Phase>,
}

#[derive(Clone, Copy, Default)]
struct Phase {
    begun: bool,
    live_actions: usize,
}

#[derive(Default)]
struct RegistryState {
    /// Set under this lock, so a stream registering concurrently with `begin` is either in
    /// the map `begin` walks or sees the flag.
    begun: bool,
    next_id: u64,
    streams: HashMap<u64, Weak<StreamState>>,
}

impl Shutdown {
    /// A shutdown that has not begun.
    pub fn new() -> Self {
        Self::default()
    }

    /// The layer that makes the live actions of a router known to this shutdown:
    /// `router.layer(shutdown.layer())`.
    pub fn layer(&self) -> Extension<Shutdown> {
        Extension(self.clone())
    }

    /// Ends every live stream open now, and every one started later. Idempotent.
    pub fn begin(&self) {
        let streams: Vec<_> = {
            let mut state = self.0.lock();
            if state.begun {
                return;
            }
            state.begun = true;
            self.0.publish(&state);
            state.streams.values().cloned().collect()
        };
        tracing::info!(
            live_actions = streams.len(),
            "live: shutting down, ending open streams"
        );
        // Outside the registry lock: each stream takes its own.
        for stream in streams.iter().filter_map(Weak::upgrade) {
            stream.shut_down();
        }
    }

    /// A future that waits for `trigger` (Ctrl-C, a signal, a message), then
    /// [`begin`](Self::begin)s the shutdown: what axum's `with_graceful_shutdown` takes.
    pub fn begin_after<F>(&self, trigger: F) -> impl Future<Output = ()> + Send + 'static
    where
        F: Future + Send + 'static,
    {
        let shutdown = self.clone();
        async move {
            trigger.await;
            shutdown.begin();
        }
    }

    /// Whether [`begin`](Self::begin) was called.
    pub fn is_begun(&self) -> bool {
        self.0.lock().begun
    }

    /// Resolves once the shutdown has begun: for the app's own background work.
    pub async fn begun(&self) {
        self.wait_for(|phase| phase.begun).await;
    }

    /// Resolves once the shutdown has begun and every live action it tracks has ended, by
    /// return, error, panic or cancellation, and so has its stream: await it after
    /// `axum::serve` returns (under a timeout of your choice) to let actions finish their own
    /// cleanup before the process exits.
    pub async fn finished(&self) {
        self.wait_for(|phase| phase.begun && phase.live_actions == 0)
            .await;
    }

    /// How many live actions this shutdown tracks right now: started under its layer, and not
    /// yet ended or with a stream still open (a stream handed over to its body, such as a
    /// [`forward`](crate::sse::Sse::forward)ed subscription, outlives its action).
    pub fn live_actions(&self) -> usize {
        self.0.lock().streams.len()
    }

    async fn wait_for(&self, done: impl Fn(&Phase) -> bool) {
        let mut phase = self.0.phase.subscribe();
        // The sender lives in `self`, so `wait_for` cannot fail.
        let _ = phase.wait_for(done).await;
    }

    /// Tracks `stream` until it is dropped, once its action has ended and hyper has let go of
    /// its body; a stream that starts after the shutdown began is ended at once.
    pub(crate) fn register(&self, stream: &Arc<StreamState>) {
        let mut state = self.0.lock();
        if state.begun {
            drop(state);
            stream.shut_down();
            return;
        }
        let id = state.next_id;
        state.next_id += 1;
        state.streams.insert(id, Arc::downgrade(stream));
        self.0.publish(&state);
        drop(state);
        stream.keep_until_dropped(Box::new(Registration {
            registry: self.0.clone(),
            id,
        }));
    }
}

impl fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.0.lock();
        f.debug_struct("Shutdown")
            .field("begun", &state.begun)
            .field("live_actions", &state.streams.len())
            .finish()
    }
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, RegistryState> {
        // No user code runs under this lock, so a poisoned lock still holds consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn publish(&self, state: &RegistryState) {
        self.phase.send_replace(Phase {
            begun: state.begun,
            live_actions: state.streams.len(),
        });
    }
}

/// A live stream known to a [`Shutdown`]; forgotten when dropped.
struct Registration {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut state = self.registry.lock();
        state.streams.remove(&self.id);
        self.registry.publish(&state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LiveConfig;
    use crate::stats::{ActionName, ActionStats};

    /// The stream state of an unnamed action.
    fn new_stream() -> (
        Arc<StreamState>,
        tokio::sync::oneshot::Receiver<crate::head::Committed>,
    ) {
        StreamState::new(
            LiveConfig::global().resolve(),
            ActionStats::start(ActionName::default()),
        )
    }

    #[tokio::test]
    async fn begins_once_and_tracks_streams_until_they_end() {
        let shutdown = Shutdown::new();
        let (stream, _committed) = new_stream();
        shutdown.register(&stream);
        assert_eq!(shutdown.live_actions(), 1);
        assert!(stream.is_connected());

        shutdown.begin();
        shutdown.begin();
        assert!(shutdown.is_begun());
        shutdown.begun().await;
        assert!(!stream.is_connected(), "the stream saw the shutdown");
        assert_eq!(
            format!("{shutdown:?}"),
            "Shutdown { begun: true, live_actions: 1 }"
        );

        let finished = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { shutdown.finished().await }
        });
        drop(stream);
        finished.await.unwrap();
        assert_eq!(shutdown.live_actions(), 0);

        // Too late to be tracked: ended at once.
        let (late, _committed) = new_stream();
        shutdown.register(&late);
        assert_eq!(shutdown.live_actions(), 0);
        assert!(!late.is_connected());
    }
}
