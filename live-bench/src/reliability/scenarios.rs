//! Each scenario's run, which returns its figures.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{App, Clients, PATIENCE, WRITE_STALL_TIMEOUT, field, rss_kib, wait_for};

/// What `churn` measured.
#[derive(Debug)]
pub struct Churn {
    pub clients: usize,
    pub failed: u64,
    pub seconds: f64,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    /// Actions that saw their client leave (warm-up included).
    pub actions_saw_gone: usize,
    /// `live_runtime::stats()` once every client was gone.
    pub stats_after: live_runtime::Stats,
    /// A fresh stream's first event after the churn, in microseconds.
    pub served_after_us: u64,
}

/// `n` clients that read the first event and leave (half reset, half FIN), after `n` more
/// of warm-up (the allocator's and the runtime's steady state).
pub async fn churn(app: &App, clients: &mut Clients, n: usize) -> Churn {
    clients.run(&format!("churn {n} 100")).await;
    app.nothing_left().await;
    let rss_before_kib = rss_kib();
    let start = Instant::now();
    let answer = clients.run(&format!("churn {n} 100")).await;
    app.nothing_left().await;
    let seconds = start.elapsed().as_secs_f64();
    let rss_after_kib = rss_kib();
    let stats_after = live_runtime::stats();
    // Read before the probe, whose own action may see its client go before or after this.
    let actions_saw_gone = app.seen.first_gone.load(Ordering::Relaxed);
    let probe = clients.run("probe 1").await;
    Churn {
        clients: n,
        failed: field(&answer, "failed"),
        seconds,
        rss_before_kib,
        rss_after_kib,
        actions_saw_gone,
        stats_after,
        served_after_us: field(&probe, "median"),
    }
}

/// What `stalled` measured.
#[derive(Debug)]
pub struct Stalled {
    pub clients: usize,
    pub rss_before_kib: u64,
    /// Once every flood action had ended by its write timeout.
    pub rss_stalled_kib: u64,
    /// Seconds from the last stalled client's head to every action ended.
    pub timeouts_seconds: f64,
    pub write_timeouts: usize,
    /// A fresh stream's first event while the stalled clients were held: min, median, max, in
    /// microseconds (of 20).
    pub probe_us: [u64; 3],
    /// Bodies (connections) the server still held once every action had ended, and after how
    /// long they were all gone (`None`: still held after the stall timeout and a second).
    pub bodies_held_at_timeouts: usize,
    pub bodies_gone_seconds: Option<f64>,
    pub rss_after_kib: u64,
}

/// `n` clients that stop reading an endless stream; fresh streams meanwhile.
pub async fn stalled(app: &App, clients: &mut Clients, n: usize) -> Stalled {
    let rss_before_kib = rss_kib();
    clients.run(&format!("stall {n}")).await;
    let stalled_at = Instant::now();
    let probe = clients.run("probe 20").await;
    wait_for("every flood action ended by its write timeout", || {
        app.seen.flood_timeouts.load(Ordering::Relaxed) == n
    })
    .await;
    let timeouts_seconds = stalled_at.elapsed().as_secs_f64();
    let rss_stalled_kib = rss_kib();
    let bodies_held_at_timeouts = app.shutdown.live_actions();
    // Bodies go once hyper gives up on their sockets: the stall timeout, if the server has
    // one, after the last write that went through.
    let ended_at = Instant::now();
    let limit = WRITE_STALL_TIMEOUT + Duration::from_secs(1);
    while app.shutdown.live_actions() > 0 && ended_at.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let bodies_gone_seconds =
        (app.shutdown.live_actions() == 0).then(|| stalled_at.elapsed().as_secs_f64());
    clients.run("release").await;
    app.nothing_left().await;
    Stalled {
        clients: n,
        rss_before_kib,
        rss_stalled_kib,
        timeouts_seconds,
        write_timeouts: app.seen.flood_timeouts.load(Ordering::Relaxed),
        probe_us: ["min", "median", "max"].map(|key| field(&probe, key)),
        bodies_held_at_timeouts,
        bodies_gone_seconds,
        rss_after_kib: rss_kib(),
    }
}

/// What `panics` measured.
#[derive(Debug)]
pub struct Panics {
    pub requests: usize,
    pub status_500: u64,
    pub cut: u64,
    pub complete: u64,
    pub unanswered: u64,
    pub seconds: f64,
    /// A fresh stream's first event afterwards, in microseconds.
    pub served_after_us: u64,
}

/// `n` requests, half to an action that panics before it answers, half after.
pub async fn panics(app: &App, clients: &mut Clients, n: usize) -> Panics {
    let start = Instant::now();
    let answer = clients.run(&format!("panic {n} 100")).await;
    let seconds = start.elapsed().as_secs_f64();
    app.nothing_left().await;
    let probe = clients.run("probe 1").await;
    Panics {
        requests: n,
        status_500: field(&answer, "500"),
        cut: field(&answer, "cut"),
        complete: field(&answer, "complete"),
        unanswered: field(&answer, "failed"),
        seconds,
        served_after_us: field(&probe, "median"),
    }
}

/// What `shutdown` measured.
#[derive(Debug)]
pub struct ShutdownRun {
    pub streams: usize,
    /// Seconds to open them all.
    pub open_seconds: f64,
    /// From `Shutdown::begin` to the server's return (every connection closed), and to
    /// `Shutdown::finished` (every action ended).
    pub served_seconds: f64,
    pub finished_seconds: f64,
    pub ended_clean: u64,
    pub got_queued: u64,
    pub saw_disconnected: usize,
}

/// `n` open streams (half SSE with keep-alives, half raw) each with an event queued, then a
/// graceful shutdown.
pub async fn shutdown(mut app: App, clients: &mut Clients, n: usize) -> ShutdownRun {
    let start = Instant::now();
    clients.run(&format!("open {n}")).await;
    let open_seconds = start.elapsed().as_secs_f64();
    app.seen.queue.send_replace(true);
    wait_for("every stream queued its event", || {
        app.seen.queued.load(Ordering::Relaxed) == n
    })
    .await;
    let begun = Instant::now();
    let _ = app.stop.take().unwrap().send(());
    tokio::time::timeout(PATIENCE, &mut app.served)
        .await
        .expect("the server stops")
        .unwrap();
    let served_seconds = begun.elapsed().as_secs_f64();
    tokio::time::timeout(PATIENCE, app.shutdown.finished())
        .await
        .expect("every action ends");
    let finished_seconds = begun.elapsed().as_secs_f64();
    let ends = clients.run("ends").await;
    ShutdownRun {
        streams: n,
        open_seconds,
        served_seconds,
        finished_seconds,
        ended_clean: field(&ends, "clean"),
        got_queued: field(&ends, "queued"),
        saw_disconnected: app.seen.disconnected.load(Ordering::Relaxed),
    }
}
