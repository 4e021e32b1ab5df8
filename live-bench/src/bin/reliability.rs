//! The full-size reliability runs of RELIABILITY.md, one scenario per run, the server in this
//! process and the clients in a child (this binary re-run as `reliability client <addr>`), so
//! the server's RSS is its own:
//!
//! ```sh
//! cargo run --release -p live-bench --bin reliability -- churn [clients]        # 10,000
//! cargo run --release -p live-bench --bin reliability -- stalled [clients]      # 1,000
//! cargo run --release -p live-bench --bin reliability -- stalled-no-fix [clients]
//! cargo run --release -p live-bench --bin reliability -- stalled-small-buf [clients]
//! cargo run --release -p live-bench --bin reliability -- panics [requests]      # 10,000
//! cargo run --release -p live-bench --bin reliability -- shutdown [streams]     # 10,000
//! ```
//!
//! `stalled-no-fix` serves without the examples' write stall timeout, to show what it fixes;
//! `stalled-small-buf` with hyper's `max_buf_size` at 16 KiB, to show what its buffer holds.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use live_bench::BoxResult;
use live_bench::child::ChildGuard;
use live_bench::reliability::{self, App, Clients, ErrorLogs, rss_kib};
use live_bench::server::Limits;

fn main() -> BoxResult<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Every client and every stream is a file descriptor; the soft limit is often 1024.
    let nofile = rlimit::increase_nofile_limit(u64::MAX)?;
    let scenario = args.first().map_or("", String::as_str);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if scenario == "client" {
        let addr = args.get(1).ok_or("client <addr>")?.parse()?;
        runtime.block_on(reliability::client_child(addr));
        return Ok(());
    }
    let default = match scenario {
        "churn" | "panics" | "shutdown" => 10_000,
        "stalled" | "stalled-no-fix" | "stalled-small-buf" => 1_000,
        _ => {
            return Err(
                "usage: reliability churn|stalled|stalled-no-fix|stalled-small-buf|panics|shutdown [n]".into(),
            );
        }
    };
    let n: usize = args.get(1).map_or(Ok(default), |n| n.parse())?;
    // Churn and panics hold 100 connections at a time; the others all of theirs.
    let held = if matches!(scenario, "churn" | "panics") {
        100
    } else {
        n
    };
    if nofile < held as u64 + 100 {
        return Err(format!("fd limit {nofile} is too low for {held} clients").into());
    }
    let panics = Arc::new(AtomicUsize::new(0));
    let logged = ErrorLogs::capture();
    // Counted, not printed: 10,000 panic messages would drown the figures.
    {
        let panics = panics.clone();
        std::panic::set_hook(Box::new(move |_| {
            panics.fetch_add(1, Ordering::Relaxed);
        }));
    }
    runtime.block_on(async {
        let limits = match scenario {
            "stalled-no-fix" => Limits {
                write_stall: None,
                ..reliability::limits()
            },
            "stalled-small-buf" => Limits {
                max_buf_size: Some(16 * 1024),
                ..reliability::limits()
            },
            _ => reliability::limits(),
        };
        let app = App::start(limits).await;
        let child = ChildGuard::spawn(
            std::process::Command::new(std::env::current_exe()?)
                .args(["client", &app.addr.to_string()]),
        )?;
        let mut clients = Clients::Child(child);
        println!("reliability {scenario}: {n}; server RSS at start {} KiB", rss_kib());
        match scenario {
            "churn" => println!("{:#?}", reliability::churn(&app, &mut clients, n).await),
            "stalled" | "stalled-no-fix" | "stalled-small-buf" => {
                let run = reliability::stalled(&app, &mut clients, n).await;
                let per_client = (run.rss_stalled_kib as f64 - run.rss_before_kib as f64) * 1024.0
                    / n as f64;
                println!("{run:#?}\nper stalled client: {per_client:.0} bytes");
            }
            "panics" => {
                let run = reliability::panics(&app, &mut clients, n).await;
                let workers = tokio::runtime::Handle::current().metrics().num_workers();
                println!(
                    "{run:#?}\npanics caught: {}; error lines naming panic_before: {}, panic_after: {}; workers: {workers}",
                    panics.load(Ordering::Relaxed),
                    logged.lines_with("action=\"panic_before\"").len(),
                    logged.lines_with("action=\"panic_after\"").len(),
                );
            }
            _ => println!("{:#?}", reliability::shutdown(app, &mut clients, n).await),
        }
        BoxResult::Ok(())
    })?;
    // The process ends here, with the runtime: the shutdown run's deadline includes this.
    Ok(())
}
