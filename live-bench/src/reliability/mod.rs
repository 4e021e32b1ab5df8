//! The reliability scenarios of RELIABILITY.md (churn, stalled clients, panics, shutdown):
//! the app under test ([`App`]), the clients ([`Clients`]), and each scenario's run, which
//! returns its figures.
//!
//! The `reliability` binary runs them at full size with the clients in a child process (the
//! binary re-run as `reliability client`), so the server's RSS is its own; this crate's tests
//! run them scaled down with the clients in-process. Both drive the clients through
//! [`Clients`], one command line at a time, so the scenarios are the same code either way.

mod app;
mod clients;
mod logs;
mod scenarios;

pub use app::{App, ReliabilityController, Seen};
pub use clients::{ClientState, Clients, client_child, field};
pub use logs::ErrorLogs;
pub use scenarios::{Churn, Panics, ShutdownRun, Stalled, churn, panics, shutdown, stalled};

use std::time::{Duration, Instant};

use crate::proc_stat::vm_rss_kib;
use crate::server::Limits;

/// How long the server waits on a socket that accepts no bytes before closing it (`serve_on`'s
/// write stall timeout): longer than the controller's `write_timeout_ms` (1 s), so that the
/// action ends by its write timeout, as documented, before its socket is closed.
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_millis(2000);
/// The flood's chunk: each a fresh allocation, as real payloads are.
pub const FLOOD_CHUNK: usize = 4096;
/// How long any one step may take before the scenario fails.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// The examples' limits but for the write stall timeout, [`WRITE_STALL_TIMEOUT`].
pub fn limits() -> Limits {
    Limits {
        write_stall: Some(WRITE_STALL_TIMEOUT),
        ..Limits::default()
    }
}

/// Waits until `condition` holds, checking every few milliseconds (for counters, which have
/// no event to wait on); panics after [`PATIENCE`].
pub async fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// This process's resident memory, in KiB.
pub fn rss_kib() -> u64 {
    vm_rss_kib(std::process::id()).expect("/proc/self/status")
}
