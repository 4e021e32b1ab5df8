//! What every example app does at start: logs, `127.0.0.1:$PORT` (3000 by default), its URL
//! and route table printed, and a clean stop on Ctrl-C that ends open streams.

use std::future::Future;
use std::io;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use live_runtime::prelude::*;
use tokio::net::TcpListener;

/// How long a client may take to send its request head before its connection is closed:
/// hyper's own default, which `axum::serve` leaves off by giving hyper no timer (a client
/// sending its head a byte at a time could then hold a connection forever).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `router` until Ctrl-C, then ends its open live streams, so the graceful shutdown
/// does not wait on them.
pub async fn serve(name: &str, path: &str, router: Router, routes: RouteTable) -> io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!(
        "{name}: listening on http://{}{path}",
        listener.local_addr()?
    );
    print!("{routes}");
    let shutdown = Shutdown::new();
    let signal = shutdown.begin_after(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    serve_on(
        listener,
        router.layer(shutdown.layer()),
        HEADER_READ_TIMEOUT,
        signal,
    )
    .await;
    Ok(())
}

/// Serves `router` on `listener` as `axum::serve(..).with_graceful_shutdown(signal)` does
/// (HTTP/1.1 and HTTP/2, a task per connection, open connections finished after `signal`),
/// plus the timer `axum::serve` leaves out: a request head that takes longer than
/// `header_read_timeout` gets its connection closed.
pub async fn serve_on(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    signal: impl Future<Output = ()>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let graceful = GracefulShutdown::new();
    let mut signal = pin!(signal);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors, most likely: as axum::serve, give open
                    // connections time to end instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let service = TowerToHyperService::new(router.clone());
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        tokio::spawn(graceful.watch(connection));
    }
    drop(listener);
    graceful.shutdown().await;
}
