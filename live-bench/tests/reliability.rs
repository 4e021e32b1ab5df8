//! RELIABILITY.md's runs scaled down to 200 clients, with the clients in this process: the
//! same scenarios as the `reliability` binary, asserting the behaviour, and timings only
//! under generous bounds.

use live_bench::reliability::{self as scenarios, App, Clients, ErrorLogs, limits};
use live_bench::server::Limits;

const CLIENTS: usize = 200;

async fn start(limits: Limits) -> (App, Clients) {
    let app = App::start(limits).await;
    let clients = Clients::in_process(app.addr);
    (app, clients)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_leaves_nothing_behind_and_serves_on() {
    let (app, mut clients) = start(limits()).await;
    let run = scenarios::churn(&app, &mut clients, CLIENTS).await;
    assert_eq!(run.failed, 0, "{run:?}");
    // Every action saw its client leave, reset or closed (warm-up included), counted once
    // `nothing_left` saw every body gone and before the probe; the probe's goes too.
    assert_eq!(run.actions_saw_gone, 2 * CLIENTS, "{run:?}");
    app.nothing_left().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_clients_are_timed_out_and_their_connections_closed() {
    let (app, mut clients) = start(limits()).await;
    let run = scenarios::stalled(&app, &mut clients, CLIENTS).await;
    assert_eq!(run.write_timeouts, CLIENTS, "{run:?}");
    // Without the stall timeout the bodies would still be held here (the next test).
    assert!(run.bodies_gone_seconds.is_some(), "{run:?}");
    // Fresh streams kept being served; 10 ms is the full run's figure, 1 s a loaded CI's.
    assert!(run.probe_us[2] < 1_000_000, "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_stall_timeout_stalled_connections_are_held() {
    let (app, mut clients) = start(Limits {
        write_stall: None,
        ..limits()
    })
    .await;
    let run = scenarios::stalled(&app, &mut clients, 20).await;
    assert_eq!(run.write_timeouts, 20, "{run:?}");
    // Every action ended, yet hyper holds their bodies until the clients reset.
    assert_eq!(run.bodies_held_at_timeouts, 20, "{run:?}");
    assert_eq!(run.bodies_gone_seconds, None, "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_are_answered_and_logged_with_the_action_name() {
    let (app, mut clients) = start(limits()).await;
    let logs = ErrorLogs::capture();
    let run = scenarios::panics(&app, &mut clients, CLIENTS).await;
    assert_eq!(run.status_500, CLIENTS as u64 / 2, "{run:?}");
    assert_eq!(run.cut, CLIENTS as u64 / 2, "{run:?}");
    assert_eq!((run.complete, run.unanswered), (0, 0), "{run:?}");
    // Other tests' apps log too, with other actions' names.
    for action in ["panic_before", "panic_after"] {
        let lines = logs.lines_with(&format!("action=\"{action}\""));
        let panics = lines.iter().filter(|l| l.contains("ERROR")).count();
        assert!(panics >= CLIENTS / 2, "{action}: {panics} error lines");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_every_stream_cleanly_with_its_queued_event() {
    let (app, mut clients) = start(limits()).await;
    let run = scenarios::shutdown(app, &mut clients, CLIENTS).await;
    assert_eq!(run.ended_clean, CLIENTS as u64, "{run:?}");
    assert_eq!(run.got_queued, CLIENTS as u64, "{run:?}");
    assert_eq!(run.saw_disconnected, CLIENTS, "{run:?}");
    assert!(run.finished_seconds < 10.0, "{run:?}");
}
