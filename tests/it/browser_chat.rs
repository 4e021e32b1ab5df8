//! The chat in real browsers: a redis-server, two chat nodes on it (two processes of the
//! example), and two headless Chromium sessions driven over WebDriver, page A on node 1 and
//! page B on node 2, in the same room. A message sent from either page's form shows on both
//! pages, in the same order; when node 1 is stopped and started again, page A reconnects by
//! itself and gets what was said meanwhile, once. Needs Debian's `chromium` and
//! `chromium-driver` and `redis-server` (`scripts/test` installs them); without them the test
//! fails, it never skips.
//!
//! `UPDATE_SCREENSHOT=1` also writes page A's screenshot to `docs/chat.png` (the README's).

use super::browser::{
    CHROMIUM, Process, accepts, chromedriver, example_binary, free_port, screenshot, wait_until,
};
use crate::redis_server;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use fantoccini::{Client, ClientBuilder, Locator};
use redis_server::RedisServer;
use serde_json::{Value, json};

const ROOM: &str = "lobby";

/// A node: an example's process (`binary`) on `port`, sharing `redis` (also `browser_jobs`').
pub(super) async fn start_node(binary: &Path, port: u16, redis: &RedisServer) -> Process {
    let child = Command::new(binary)
        .env("PORT", port.to_string())
        .env("REDIS_URL", redis.url())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("the example starts");
    let process = Process(child);
    wait_until("the node accepts connections", || accepts(port)).await;
    process
}

/// A directory removed when the test ends, however it ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A browser of its own (its own Chromium and profile): one user.
async fn browser(driver_port: u16, profile: &Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=720,560",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("a WebDriver session")
}

async fn run(client: &Client, script: &str) -> Value {
    client
        .execute(script, vec![])
        .await
        .expect("the page answers")
}

/// The ids the page has received, in order.
async fn seen_ids(client: &Client) -> Vec<String> {
    match run(client, "return window.seenIds || [];").await {
        Value::Array(ids) => ids
            .iter()
            .map(|id| id.as_str().expect("string ids").to_owned())
            .collect(),
        other => panic!("seenIds is not an array: {other}"),
    }
}

/// The messages the page shows, in order: `(author, text)`.
async fn shown(client: &Client) -> Vec<(String, String)> {
    let script = "return [...document.querySelectorAll('#messages li[data-id]')]
        .map((li) => [li.querySelector('.author').textContent, li.querySelector('.text').textContent]);";
    let value = run(client, script).await;
    serde_json::from_value(value).expect("pairs of strings")
}

async fn state(client: &Client) -> String {
    let value = run(
        client,
        "return document.getElementById('state').textContent;",
    )
    .await;
    value.as_str().unwrap_or_default().to_owned()
}

/// Types into the page's form and presses Send, as a user does; waits for the form to take it
/// (the text field is emptied on `201`).
async fn send(client: &Client, author: &str, text: &str) {
    let author_field = client.find(Locator::Css("#author")).await.unwrap();
    author_field.clear().await.unwrap();
    author_field.send_keys(author).await.unwrap();
    let text_field = client.find(Locator::Css("#text")).await.unwrap();
    text_field.send_keys(text).await.unwrap();
    client
        .find(Locator::Css("#send"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until("the message is taken", || async {
        let value = run(client, "return document.getElementById('text').value;").await;
        value.as_str() == Some("")
    })
    .await;
    let error = run(
        client,
        "return document.getElementById('error').textContent;",
    )
    .await;
    assert_eq!(error.as_str(), Some(""), "the page shows an error");
}

/// Waits until both pages show `n` messages.
async fn wait_for_messages(pages: [&Client; 2], n: usize) {
    for (page, name) in pages.into_iter().zip(["A", "B"]) {
        wait_until(&format!("{n} messages on page {name}"), || async {
            seen_ids(page).await.len() >= n
        })
        .await;
    }
}

/// Both pages show the same messages, with the same ids, in the same order: `expected`.
async fn assert_same_on_both(a: &Client, b: &Client, expected: &[(&str, &str)]) {
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(author, text)| ((*author).to_owned(), (*text).to_owned()))
        .collect();
    assert_eq!(shown(a).await, expected, "page A");
    assert_eq!(shown(b).await, expected, "page B");
    let ids = seen_ids(a).await;
    assert_eq!(ids.len(), expected.len(), "page A got a duplicate: {ids:?}");
    assert_eq!(seen_ids(b).await, ids, "the pages disagree on ids or order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_chat_two_pages_on_two_nodes() {
    let binary = example_binary("chat");
    let redis = RedisServer::start();
    let (port_1, port_2) = (free_port(), free_port());
    let mut node_1 = start_node(&binary, port_1, &redis).await;
    let _node_2 = start_node(&binary, port_2, &redis).await;
    let profiles = TempDir(std::env::temp_dir().join(format!(
        "live-chromium-chat-{}-{}",
        std::process::id(),
        free_port()
    )));
    let (_driver, driver_port) = chromedriver().await;
    let a = browser(driver_port, &profiles.0.join("a")).await;
    let b = browser(driver_port, &profiles.0.join("b")).await;
    a.goto(&format!("http://127.0.0.1:{port_1}/rooms/{ROOM}"))
        .await
        .expect("page A loads");
    b.goto(&format!("http://127.0.0.1:{port_2}/rooms/{ROOM}"))
        .await
        .expect("page B loads");
    for page in [&a, &b] {
        wait_until("the page's stream is open", || async {
            state(page).await == "open"
        })
        .await;
    }

    let from_a = ("Ada", "Hello from node 1");
    send(&a, from_a.0, from_a.1).await;
    wait_for_messages([&a, &b], 1).await;
    // Markup in a message is shown as text, never parsed.
    let from_b = ("Bea", "Hi Ada, node 2 here: <b>tags</b> & all stay text");
    send(&b, from_b.0, from_b.1).await;
    wait_for_messages([&a, &b], 2).await;
    assert_same_on_both(&a, &b, &[from_a, from_b]).await;
    let bold = run(
        &a,
        "return document.querySelectorAll('#messages b').length;",
    )
    .await;
    assert_eq!(bold, json!(0), "user text was parsed as HTML");

    // Node 1 stops (Ctrl-C ends its streams cleanly); page A retries while B talks on; node 1
    // comes back and page A resumes after its Last-Event-ID: the missed message, once.
    let exit = node_1.interrupt().await;
    assert!(exit.success(), "the chat node exited with {exit}");
    let meanwhile = ("Bea", "Ada, are you still there?");
    send(&b, meanwhile.0, meanwhile.1).await;
    let _node_1 = start_node(&binary, port_1, &redis).await;
    wait_for_messages([&a, &b], 3).await;
    let reply = ("Ada", "Back, and I missed nothing");
    send(&a, reply.0, reply.1).await;
    wait_for_messages([&a, &b], 4).await;
    assert_same_on_both(&a, &b, &[from_a, from_b, meanwhile, reply]).await;
    assert_eq!(state(&a).await, "open");

    screenshot(&a, "chat.png").await;
    a.close().await.unwrap();
    b.close().await.unwrap();
}
