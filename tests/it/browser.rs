//! The stocks page in a real browser: headless Chromium, driven over WebDriver, opens
//! `/stocks`, shows prices as they arrive, and after the server process is stopped (Ctrl-C)
//! and started again it reconnects by itself and carries on from the next id, with no gap and
//! no duplicate (the new server recomputes the ticks published while it was down). It runs
//! the stocks example freshly built by `cargo build`. Needs Debian's `chromium` and
//! `chromium-driver` (`scripts/test` installs them); without them the test fails, it never
//! skips. Every test here has `browser` in its name: `cargo test -- --skip browser` leaves
//! them out.
//!
//! `UPDATE_SCREENSHOT=1` also writes the page's screenshot to `docs/stocks.png` (the README's).

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};

// Shared with the other browser tests (`browser_chat`).
pub(super) const CHROMIUM: &str = "/usr/bin/chromium";
pub(super) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub(super) const PATIENCE: Duration = Duration::from_secs(30);

/// A child process killed when the test ends, however it ends.
pub(super) struct Process(pub(super) Child);

impl Process {
    /// Ctrl-C, as a user stops the example: waits for the process to exit by itself.
    pub(super) async fn interrupt(&mut self) -> std::process::ExitStatus {
        let status = Command::new("sh")
            .args(["-c", &format!("kill -INT {}", self.0.id())])
            .status()
            .expect("sh runs");
        assert!(status.success(), "kill -INT failed");
        let mut exit = None;
        wait_until("the example exits after Ctrl-C", || {
            exit = self.0.try_wait().expect("the child can be waited on");
            std::future::ready(exit.is_some())
        })
        .await;
        exit.unwrap()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(super) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits for something outside this process (a server, the browser), which offers no event
/// to wait on: asks again every 50 ms, fails after [`PATIENCE`].
pub(super) async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while !check().await {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(super) async fn accepts(port: u16) -> bool {
    tokio::net::TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .is_ok()
}

/// An example's executable, freshly built: `cargo build --example <name>` (a no-op when it is
/// up to date), its path taken from cargo's JSON messages, so a test never runs a stale
/// binary left by an earlier build. Built once per test process and example.
pub(super) fn example_binary(name: &str) -> PathBuf {
    static BUILT: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let output = Command::new(env!("CARGO"))
        .args(["build", "--example", name, "--message-format=json"])
        .arg("--manifest-path")
        .arg(&manifest)
        .stdin(Stdio::null())
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "building the {name} example failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("cargo's messages are UTF-8");
    let executable = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact"
                && message["target"]["name"] == name
                && message["target"]["kind"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|kind| kind == "example"))
        })
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo names the {name} example's executable"));
    assert!(executable.exists(), "{} is missing", executable.display());
    built.insert(name.to_owned(), executable.clone());
    executable
}

pub(super) async fn start_stocks(port: u16) -> Process {
    let child = Command::new(example_binary("stocks"))
        .env("PORT", port.to_string())
        .env("STOCKS_INTERVAL_MS", "200")
        .stdout(Stdio::null())
        .spawn()
        .expect("the stocks example starts");
    let process = Process(child);
    wait_until("the stocks server accepts connections", || accepts(port)).await;
    process
}

/// Writes the page's screenshot next to the test binary, and to `docs/<name>` (the README's)
/// with `UPDATE_SCREENSHOT=1`.
pub(super) async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let target = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .join(name);
    std::fs::write(&target, &png).unwrap();
    if std::env::var_os("UPDATE_SCREENSHOT").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join(name), &png).unwrap();
    }
}

/// chromedriver, on a port of its own.
pub(super) async fn chromedriver() -> (Process, u16) {
    for tool in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is missing: install Debian's chromium and chromium-driver (scripts/test does)"
        );
    }
    let port = free_port();
    let driver = Process(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    wait_until("chromedriver accepts connections", || accepts(port)).await;
    (driver, port)
}

/// chromedriver and a headless Chromium session on it (shared with `browser_jobs`).
pub(super) async fn browser() -> (Process, Client) {
    let (driver, port) = chromedriver().await;
    let profile = std::env::temp_dir().join(format!("live-chromium-{}-{port}", std::process::id()));
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=720,520",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session");
    (driver, client)
}

/// The ids the page has seen, in order.
async fn seen_ids(client: &Client) -> Vec<u64> {
    let value = client
        .execute("return window.seenIds || [];", vec![])
        .await
        .expect("the page answers");
    match value {
        Value::Array(ids) => ids
            .iter()
            .map(|id| id.as_u64().expect("numeric ids"))
            .collect(),
        other => panic!("seenIds is not an array: {other}"),
    }
}

async fn state(client: &Client) -> String {
    let value = client
        .execute(
            "return document.getElementById('state').textContent;",
            vec![],
        )
        .await
        .unwrap();
    value.as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_stocks_page_shows_prices_and_survives_a_server_restart() {
    let port = free_port();
    let server = start_stocks(port).await;
    let (_driver, client) = browser().await;
    client
        .goto(&format!("http://127.0.0.1:{port}/stocks"))
        .await
        .expect("the page loads");

    wait_until("three prices on the page", || async {
        seen_ids(&client).await.len() >= 3
    })
    .await;
    let price = client
        .execute(
            "return document.querySelector('#row-ACME .price').textContent;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        price.as_str().is_some_and(|p| p.parse::<f64>().is_ok()),
        "{price}"
    );
    assert_eq!(state(&client).await, "open");

    // Ctrl-C with the page's stream open: the graceful shutdown ends the stream (the runtime's
    // `Shutdown`) instead of waiting on it, and the process exits cleanly.
    let mut server = server;
    let exit = server.interrupt().await;
    assert!(exit.success(), "the stocks example exited with {exit}");
    // Down for five intervals (the page retries meanwhile): no process publishes the ticks of
    // that second, so the page gets them only if the new server recomputes them.
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Restart the server process: the page must reconnect on its own and resume after the
    // last id it saw.
    let before = seen_ids(&client).await.len();
    let _server = start_stocks(port).await;
    wait_until("three more prices after the restart", || async {
        seen_ids(&client).await.len() >= before + 3
    })
    .await;
    // Tick numbers count intervals since the UNIX epoch, so they go on across the restart:
    // consecutive from the first the page saw.
    let ids = seen_ids(&client).await;
    let expected: Vec<u64> = (ids[0]..ids[0] + ids.len() as u64).collect();
    assert_eq!(ids, expected, "a gap or a duplicate across the restart");
    assert_eq!(state(&client).await, "open");

    screenshot(&client, "stocks.png").await;
    client.close().await.unwrap();
}

/// A page with an `EventSource` on `/feed/unicode_id`: it records each event's id and data,
/// and stops after two events, or when the browser gives up (a refused reconnection).
const UNICODE_ID_PAGE: &str = r#"<!doctype html><meta charset="utf-8"><script>
window.seen = [];
const source = new EventSource("/feed/unicode_id");
source.onmessage = (e) => {
  window.seen.push([e.lastEventId, e.data]);
  if (window.seen.length == 2) { source.close(); window.over = true; }
};
source.onerror = () => { if (source.readyState == EventSource.CLOSED) window.over = true; };
</script>"#;

/// A non-ASCII event id through a real `EventSource`: the first event carries it, the stream
/// ends, the browser reconnects with it as `Last-Event-ID`, and the second event's data (the
/// id the server read) shows it arrived intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_event_source_sends_a_unicode_id_back() {
    use super::sse::{FeedController, UNICODE_ID};
    use crate::support::Server;
    use live_runtime::prelude::Controller;

    let page = || async { axum::response::Html(UNICODE_ID_PAGE) };
    let app = FeedController
        .into_router()
        .route("/", axum::routing::get(page));
    let server = Server::start(app).await;
    let (_driver, client) = browser().await;
    client.goto(&server.url("/")).await.expect("the page loads");
    wait_until("two events, or the browser gives up", || async {
        client
            .execute("return window.over === true;", vec![])
            .await
            .unwrap()
            == json!(true)
    })
    .await;
    let seen = client.execute("return window.seen;", vec![]).await.unwrap();
    assert_eq!(
        seen,
        json!([[UNICODE_ID, "none"], [UNICODE_ID, UNICODE_ID]])
    );
    client.close().await.unwrap();
}
