//! What every example app does at start: logs, `127.0.0.1:$PORT` (3000 by default), its URL
//! and route table printed, and a clean stop on Ctrl-C.

use std::io;

use axum::Router;
use live_runtime::prelude::*;

/// Serves `router` until Ctrl-C; `on_shutdown` runs then, before the graceful shutdown waits
/// for open connections (to end open streams, say).
pub async fn serve(
    name: &str,
    path: &str,
    router: Router,
    routes: RouteTable,
    on_shutdown: impl FnOnce() + Send + 'static,
) -> io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!(
        "{name}: listening on http://{}{path}",
        listener.local_addr()?
    );
    print!("{routes}");
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            on_shutdown();
        })
        .await
}
