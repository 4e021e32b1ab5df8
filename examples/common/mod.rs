//! What every example app does at start: logs, `127.0.0.1:$PORT` (3000 by default), its URL
//! and route table printed, and a clean stop on Ctrl-C that ends open streams.

mod server;

use std::io;

use axum::Router;
use live_runtime::prelude::*;
use server::{Limits, serve_on};
use tokio::net::TcpListener;

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
        Limits::default(),
        signal,
    )
    .await;
    Ok(())
}
