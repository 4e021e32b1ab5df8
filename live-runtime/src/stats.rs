//! Counters of what is alive right now, to watch for leaks in production and in tests, and,
//! with the `metrics` feature, the same figures emitted through the
//! [`metrics`](https://docs.rs/metrics) facade for whatever recorder the app installs
//! (`docs/metrics.md` has the table). Every update of a counter goes through here and emits
//! its metric, so the two cannot disagree.
//!
//! Labels are the controller and action names only, fixed at compile time, so a metric has a
//! bounded number of series. Handles are registered once per action (shared by its streams)
//! and once for all subscriptions (again if the recorder changes), so the per-event path is a
//! call on a handle: without a recorder, a check of an empty handle.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::error::{ErrorKind, Result};

pub(crate) static LIVE_ACTIONS: AtomicUsize = AtomicUsize::new(0);
pub(crate) static OPEN_STREAMS: AtomicUsize = AtomicUsize::new(0);
pub(crate) static SUBSCRIBERS: AtomicUsize = AtomicUsize::new(0);
static PUBLISHED: AtomicU64 = AtomicU64::new(0);
static DELIVERED: AtomicU64 = AtomicU64::new(0);
static GAPS: AtomicU64 = AtomicU64::new(0);
static REDIS_RECONNECTS: AtomicU64 = AtomicU64::new(0);

/// The metric names, as in `docs/metrics.md`.
mod name {
    pub(super) const STREAMS_OPEN: &str = "live_streams_open";
    pub(super) const SUBSCRIBERS: &str = "live_broadcast_subscribers";
    pub(super) const STARTED: &str = "live_actions_started_total";
    pub(super) const ENDED: &str = "live_actions_ended_total";
    pub(super) const EVENTS: &str = "live_events_written_total";
    pub(super) const BYTES: &str = "live_bytes_written_total";
    pub(super) const KEEP_ALIVES: &str = "live_sse_keep_alives_total";
    pub(super) const COMMIT: &str = "live_commit_seconds";
    pub(super) const PUBLISHED: &str = "live_broadcast_published_total";
    pub(super) const DELIVERED: &str = "live_broadcast_delivered_total";
    pub(super) const GAPS: &str = "live_broadcast_gaps_total";
    pub(super) const REDIS_RECONNECTS: &str = "live_redis_reconnects_total";
}

#[cfg(feature = "metrics")]
use metrics::{Counter, Gauge, Histogram};
#[cfg(not(feature = "metrics"))]
use off::{Counter, Gauge, Histogram};

/// Stand-ins for the `metrics` handles when the feature is off: they do nothing.
#[cfg(not(feature = "metrics"))]
mod off {
    #[derive(Default)]
    pub(super) struct Counter;
    impl Counter {
        pub(super) fn increment(&self, _: u64) {}
    }
    #[derive(Default, Clone)]
    pub(super) struct Gauge;
    impl Gauge {
        pub(super) fn increment(&self, _: f64) {}
        pub(super) fn decrement(&self, _: f64) {}
    }
    #[derive(Default)]
    pub(super) struct Histogram;
    impl Histogram {
        pub(super) fn record(&self, _: f64) {}
    }
}

/// Registers the metric `$name` of kind `$kind` (`counter`, `gauge`, `histogram`) with the
/// recorder installed now, or makes its stand-in without the feature.
macro_rules! handle {
    ($kind:ident, $name:expr $(, $label:literal => $value:expr)* $(,)?) => {{
        #[cfg(feature = "metrics")]
        let handle = metrics::$kind!($name $(, $label => $value)*);
        #[cfg(not(feature = "metrics"))]
        let handle = {
            let _ = $name;
            $(let _ = $value;)*
            Default::default()
        };
        handle
    }};
}

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

/// Describes every metric live emits (type, unit, meaning) to the recorder installed now, so
/// an exporter can print its help text: call it once, after installing the recorder.
#[cfg(feature = "metrics")]
pub fn describe_metrics() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_gauge!(name::STREAMS_OPEN, "Live response bodies open now");
    describe_gauge!(name::SUBSCRIBERS, "Broadcast subscriptions alive now");
    describe_counter!(name::STARTED, "Live actions started");
    describe_counter!(name::ENDED, "Live actions ended, by outcome");
    describe_counter!(name::EVENTS, "Chunks and SSE events queued for clients");
    describe_counter!(name::BYTES, Unit::Bytes, "Bytes queued for clients");
    describe_counter!(name::KEEP_ALIVES, "SSE keep-alive comments sent");
    describe_histogram!(
        name::COMMIT,
        Unit::Seconds,
        "Time from a live action's start to its response head"
    );
    describe_counter!(name::PUBLISHED, "Events published to a broadcast hub");
    describe_counter!(
        name::DELIVERED,
        "Events handed to broadcast subscribers, one per subscriber"
    );
    describe_counter!(name::GAPS, "Gaps announced to broadcast subscribers");
    describe_counter!(
        name::REDIS_RECONNECTS,
        "Redis connections made again after a loss"
    );
}

/// Counts itself in a counter for as long as it lives.
pub(crate) struct Counted {
    counter: &'static AtomicUsize,
}

impl Counted {
    pub(crate) fn new(counter: &'static AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Counted { counter }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Which action a metric is about: the labels of every per-action metric.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct ActionName {
    pub(crate) controller: &'static str,
    pub(crate) action: &'static str,
}

/// How a live action ended: the `outcome` label of `live_actions_ended_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Completed,
    ClientGone,
    WriteTimeout,
    Error,
    Panic,
    Shutdown,
}

impl Outcome {
    /// Every outcome, in declaration order (`outcome as usize` indexes it).
    const ALL: [Outcome; 6] = [
        Outcome::Completed,
        Outcome::ClientGone,
        Outcome::WriteTimeout,
        Outcome::Error,
        Outcome::Panic,
        Outcome::Shutdown,
    ];

    /// The outcome of an action that returned `result`.
    pub(crate) fn of(result: &Result) -> Self {
        match result.as_ref().map_err(crate::Error::kind) {
            Ok(()) => Outcome::Completed,
            Err(ErrorKind::ClientDisconnected) => Outcome::ClientGone,
            Err(ErrorKind::WriteTimeout) => Outcome::WriteTimeout,
            Err(ErrorKind::Panic) => Outcome::Panic,
            Err(ErrorKind::ShuttingDown) => Outcome::Shutdown,
            Err(_) => Outcome::Error,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::ClientGone => "client_gone",
            Outcome::WriteTimeout => "write_timeout",
            Outcome::Error => "error",
            Outcome::Panic => "panic",
            Outcome::Shutdown => "shutdown",
        }
    }
}

/// The figures of one live action, from its start to the end of its stream: its action's
/// metric handles, shared by every stream of that action (an `Arc` clone per stream, no
/// allocation), so writing an event costs a call on a handle.
#[derive(Clone)]
pub(crate) struct ActionStats(Arc<ActionHandles>);

/// Every metric handle of one (controller, action), registered once with one recorder.
struct ActionHandles {
    started: Counter,
    events: Counter,
    bytes: Counter,
    keep_alives: Counter,
    streams_open: Gauge,
    commit: Histogram,
    /// By [`Outcome`], in its order.
    ended: [Counter; 6],
}

impl ActionHandles {
    fn register(name: ActionName) -> Self {
        let ActionName { controller, action } = name;
        let ended = Outcome::ALL.map(|outcome| {
            handle!(
                counter,
                name::ENDED,
                "controller" => controller,
                "action" => action,
                "outcome" => outcome.label(),
            )
        });
        ActionHandles {
            started: handle!(counter, name::STARTED, "controller" => controller, "action" => action),
            events: handle!(counter, name::EVENTS, "controller" => controller, "action" => action),
            bytes: handle!(counter, name::BYTES, "controller" => controller, "action" => action),
            keep_alives: handle!(counter, name::KEEP_ALIVES, "controller" => controller, "action" => action),
            streams_open: handle!(gauge, name::STREAMS_OPEN, "controller" => controller, "action" => action),
            commit: handle!(histogram, name::COMMIT, "controller" => controller, "action" => action),
            ended,
        }
    }
}

/// Which recorder `metrics` hands out now (the global one, a thread's local one, or its no-op
/// one): its address. Cached handles registered with another recorder are registered again,
/// so a recorder installed after the first requests still gets every action.
#[cfg(feature = "metrics")]
fn recorder_id() -> usize {
    metrics::with_recorder(|recorder| std::ptr::from_ref(recorder).cast::<()>() as usize)
}

#[cfg(not(feature = "metrics"))]
fn recorder_id() -> usize {
    0
}

/// Handles cached with the recorder they were registered with.
type Registered<T> = Option<(usize, Arc<T>)>;

/// The handles in `slot` if they were registered with the recorder in use, else new ones from
/// `register`, kept in `slot`.
fn registered<T>(slot: &mut Registered<T>, register: impl FnOnce() -> T) -> Arc<T> {
    let recorder = recorder_id();
    match slot {
        Some((with, handles)) if *with == recorder => handles.clone(),
        _ => slot.insert((recorder, Arc::new(register()))).1.clone(),
    }
}

impl ActionStats {
    /// A live action named `name` starts: its handles, registered at the first start of that
    /// action (with this recorder), then shared. The names are fixed at compile time, so the
    /// map holds one entry per action of the app.
    pub(crate) fn start(name: ActionName) -> Self {
        static ACTIONS: Mutex<Option<HashMap<ActionName, Registered<ActionHandles>>>> =
            Mutex::new(None);
        let handles = {
            // No code of the app runs under this lock, so a poisoned one holds a valid map.
            let mut actions = ACTIONS.lock().unwrap_or_else(PoisonError::into_inner);
            let slot = actions
                .get_or_insert_with(HashMap::new)
                .entry(name)
                .or_default();
            registered(slot, || ActionHandles::register(name))
        };
        handles.started.increment(1);
        ActionStats(handles)
    }

    /// Counts the action's task while it runs (`live_actions`).
    pub(crate) fn running(&self) -> Counted {
        Counted::new(&LIVE_ACTIONS)
    }

    /// A response body is in hyper's hands (`open_streams`, `live_streams_open`), until
    /// [`stream_closed`](Self::stream_closed): the body calls both, and holds no guard of
    /// its own, to stay small.
    pub(crate) fn stream_opened(&self) {
        OPEN_STREAMS.fetch_add(1, Ordering::Relaxed);
        self.0.streams_open.increment(1.0);
    }

    /// The body of [`stream_opened`](Self::stream_opened) is gone.
    pub(crate) fn stream_closed(&self) {
        OPEN_STREAMS.fetch_sub(1, Ordering::Relaxed);
        self.0.streams_open.decrement(1.0);
    }

    /// A chunk (an SSE event, a forwarded delivery) of `len` bytes is queued for the client.
    pub(crate) fn written(&self, len: usize) {
        self.0.events.increment(1);
        self.0.bytes.increment(len as u64);
    }

    /// An SSE keep-alive comment went out.
    pub(crate) fn keep_alive(&self) {
        self.0.keep_alives.increment(1);
    }

    /// The response head went out `elapsed` after the action started.
    pub(crate) fn committed(&self, elapsed: Duration) {
        self.0.commit.record(elapsed.as_secs_f64());
    }

    /// The action ended so.
    pub(crate) fn ended(&self, outcome: Outcome) {
        self.0.ended[outcome as usize].increment(1);
    }
}

/// The figures of one broadcast subscription: counted in `subscribers` while it lives, its
/// deliveries and gaps counted through handles that every subscription shares (one `Arc`:
/// a subscription stays small).
pub(crate) struct SubscriberStats(Arc<SubscriberHandles>);

/// The broadcast handles, registered once with one recorder.
struct SubscriberHandles {
    subscribers: Gauge,
    delivered: Counter,
    gaps: Counter,
}

impl SubscriberStats {
    pub(crate) fn new() -> Self {
        static HANDLES: Mutex<Registered<SubscriberHandles>> = Mutex::new(None);
        let handles = {
            // No code of the app runs under this lock, so a poisoned one holds a valid value.
            let mut slot = HANDLES.lock().unwrap_or_else(PoisonError::into_inner);
            registered(&mut slot, || SubscriberHandles {
                subscribers: handle!(gauge, name::SUBSCRIBERS),
                delivered: handle!(counter, name::DELIVERED),
                gaps: handle!(counter, name::GAPS),
            })
        };
        SUBSCRIBERS.fetch_add(1, Ordering::Relaxed);
        handles.subscribers.increment(1.0);
        SubscriberStats(handles)
    }

    /// An event was handed to the subscriber.
    pub(crate) fn delivered(&self) {
        DELIVERED.fetch_add(1, Ordering::Relaxed);
        self.0.delivered.increment(1);
    }

    /// A gap was announced to the subscriber.
    pub(crate) fn gap(&self) {
        GAPS.fetch_add(1, Ordering::Relaxed);
        self.0.gaps.increment(1);
    }
}

impl Drop for SubscriberStats {
    fn drop(&mut self) {
        SUBSCRIBERS.fetch_sub(1, Ordering::Relaxed);
        self.0.subscribers.decrement(1.0);
    }
}

/// An event was published to a hub.
pub(crate) fn published() {
    PUBLISHED.fetch_add(1, Ordering::Relaxed);
    let published: Counter = handle!(counter, name::PUBLISHED);
    published.increment(1);
}

/// A Redis connection was made again after one was lost.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) fn redis_reconnected() {
    REDIS_RECONNECTS.fetch_add(1, Ordering::Relaxed);
    let reconnects: Counter = handle!(counter, name::REDIS_RECONNECTS);
    reconnects.increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_of_one_action_share_its_handles() {
        let name = ActionName {
            controller: "StatsTest",
            action: "shared",
        };
        let other = ActionName {
            controller: "StatsTest",
            action: "other",
        };
        let (first, second) = (ActionStats::start(name), ActionStats::start(name));
        assert!(Arc::ptr_eq(&first.0, &second.0));
        assert!(!Arc::ptr_eq(&first.0, &ActionStats::start(other).0));
    }

    #[cfg(feature = "metrics")]
    mod recorded {
        use metrics::{Key, KeyName, Metadata, Recorder, SharedString, Unit};

        use super::*;

        /// A recorder that keeps what it is told: each description as (name, kind, unit), and
        /// the counters registered with it, by name and labels.
        #[derive(Default)]
        struct Recording {
            described: Mutex<Vec<(String, &'static str, Option<Unit>)>>,
            counters: Mutex<HashMap<String, Arc<AtomicU64>>>,
        }

        impl Recording {
            fn describe(&self, name: KeyName, kind: &'static str, unit: Option<Unit>) {
                let mut described = self.described.lock().unwrap();
                described.push((name.as_str().to_owned(), kind, unit));
            }

            fn counter(&self, series: &str) -> u64 {
                self.counters.lock().unwrap()[series].load(Ordering::Relaxed)
            }
        }

        impl Recorder for Recording {
            fn describe_counter(&self, name: KeyName, unit: Option<Unit>, _: SharedString) {
                self.describe(name, "counter", unit);
            }
            fn describe_gauge(&self, name: KeyName, unit: Option<Unit>, _: SharedString) {
                self.describe(name, "gauge", unit);
            }
            fn describe_histogram(&self, name: KeyName, unit: Option<Unit>, _: SharedString) {
                self.describe(name, "histogram", unit);
            }
            fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
                let labels: Vec<String> = key
                    .labels()
                    .map(|label| format!("{}={}", label.key(), label.value()))
                    .collect();
                let series = format!("{}{{{}}}", key.name(), labels.join(","));
                let mut counters = self.counters.lock().unwrap();
                Counter::from_arc(counters.entry(series).or_default().clone())
            }
            fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
                Gauge::noop()
            }
            fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
                Histogram::noop()
            }
        }

        /// `describe_metrics` describes exactly the metrics of the table in `docs/metrics.md`,
        /// each as the kind the table says, and gives the units of bytes and seconds.
        #[test]
        fn every_documented_metric_is_described_as_documented() {
            let recording = Recording::default();
            metrics::with_local_recorder(&recording, describe_metrics);
            let described = recording.described.into_inner().unwrap();
            let mut kinds: Vec<(String, &str)> = described
                .iter()
                .map(|(name, kind, _)| (name.clone(), *kind))
                .collect();
            kinds.sort_unstable();
            let mut documented: Vec<(String, &str)> = include_str!("../../docs/metrics.md")
                .lines()
                .filter_map(|row| {
                    let mut cells = row.strip_prefix("| `live_")?.split(" | ");
                    let name = format!("live_{}", cells.next()?.trim_end_matches('`'));
                    Some((name, cells.next()?))
                })
                .collect();
            documented.sort_unstable();
            assert_eq!(kinds, documented);
            let unit = |name: &str| described.iter().find(|d| d.0 == name).unwrap().2;
            assert_eq!(unit(name::BYTES), Some(Unit::Bytes));
            assert_eq!(unit(name::COMMIT), Some(Unit::Seconds));
        }

        /// An app that installs its recorder after the first requests still gets the actions
        /// that started before: their handles are registered again with the new recorder.
        #[test]
        fn a_recorder_installed_later_gets_the_actions_started_before() {
            let name = ActionName {
                controller: "StatsTest",
                action: "late_recorder",
            };
            ActionStats::start(name);
            let recording = Recording::default();
            metrics::with_local_recorder(&recording, || {
                ActionStats::start(name).ended(Outcome::Completed);
                ActionStats::start(name);
            });
            assert_eq!(
                recording.counter(&format!(
                    "{}{{controller=StatsTest,action=late_recorder}}",
                    name::STARTED
                )),
                2
            );
            assert_eq!(
                recording.counter(&format!(
                    "{}{{controller=StatsTest,action=late_recorder,outcome=completed}}",
                    name::ENDED
                )),
                1
            );
        }
    }
}
