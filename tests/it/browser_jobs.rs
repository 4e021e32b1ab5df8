//! The jobs page in a real browser: headless Chromium, driven over WebDriver, starts a job
//! from the form at `/jobs`, watches the job's progress bar fill, then its result. Then the
//! server (the example's process, on a redis-server) is stopped with Ctrl-C while a second job
//! runs, and started again: the running job's page shows that the job was stopped, by itself,
//! and the finished job's page shows its result at once. Needs Debian's `chromium`,
//! `chromium-driver` and `redis-server` (`scripts/test` installs them); without them the test
//! fails, it never skips.

use super::browser::{browser, example_binary, free_port, wait_until};
use super::browser_chat::start_node;
use crate::redis_server;
use crate::support::{client, within};

use fantoccini::{Client, Locator};
use redis_server::RedisServer;
use serde_json::Value;

async fn run(page: &Client, script: &str) -> Value {
    page.execute(script, vec![])
        .await
        .expect("the page answers")
}

/// The page's state (`running`, `done`, `failed`, ...), result text, bar value and the
/// percents it received; all empty before the job's page has loaded.
async fn shown(page: &Client) -> (String, String, u64, Vec<u64>) {
    let script = "if (!document.getElementById('bar')) return ['', '', 0, []];
        return [document.getElementById('state').textContent,
        document.getElementById('result').textContent,
        document.getElementById('bar').value, window.percents];";
    serde_json::from_value(run(page, script).await).expect("the page's state")
}

/// Waits until the page's state is `state`: what it shows then.
async fn wait_for_state(page: &Client, state: &str) -> (String, String, u64, Vec<u64>) {
    wait_until(&format!("the page is {state}"), || async {
        shown(page).await.0 == state
    })
    .await;
    shown(page).await
}

/// Types `value` into the form's field `id`.
async fn fill(page: &Client, id: &str, value: &str) {
    let field = page.find(Locator::Id(id)).await.expect("the field");
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_jobs_progress_bar_fills_then_shows_the_result() {
    let binary = example_binary("jobs");
    let redis = RedisServer::start();
    let port = free_port();
    let mut node = start_node(&binary, port, &redis).await;
    let (_driver, page) = browser().await;
    let base = format!("http://127.0.0.1:{port}");

    // The form starts a job and opens its page, where the bar fills step by step.
    page.goto(&format!("{base}/jobs"))
        .await
        .expect("the index loads");
    fill(&page, "steps", "10").await;
    fill(&page, "step_ms", "200").await;
    page.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let (_, result, bar, percents) = wait_for_state(&page, "done").await;
    let finished = page.current_url().await.unwrap().to_string();
    assert!(finished.starts_with(&format!("{base}/jobs/")), "{finished}");
    assert_eq!(result, "finished 10 steps");
    assert_eq!(bar, 100);
    assert!(
        percents.len() > 1,
        "the bar did not fill step by step: {percents:?}"
    );
    assert!(percents.is_sorted(), "{percents:?}");

    // A long job runs when its server stops: after the restart its page says it was stopped.
    let request = client()
        .post(format!("{base}/jobs"))
        .header("content-type", "application/json")
        .body(r#"{"steps": 100, "step_ms": 10000}"#);
    let started = within(request.send()).await.unwrap();
    let answer: Value = serde_json::from_str(&started.text().await.unwrap()).unwrap();
    let running = format!("{base}/jobs/{}", answer["id"].as_str().unwrap());
    page.goto(&running).await.unwrap();
    let (_, _, _, percents) = wait_for_state(&page, "running").await;
    assert!(percents.len() <= 1, "{percents:?}");
    let exit = node.interrupt().await;
    assert!(exit.success(), "the jobs node exited with {exit}");
    let _node = start_node(&binary, port, &redis).await;
    let (_, result, _, _) = wait_for_state(&page, "failed").await;
    assert_eq!(result, "the server stopped before the job finished");

    // The finished job, after the restart: its result at once, no progress replayed.
    page.goto(&finished).await.unwrap();
    let (_, result, bar, percents) = wait_for_state(&page, "done").await;
    assert_eq!((result.as_str(), bar), ("finished 10 steps", 100));
    assert_eq!(percents, Vec::<u64>::new());
    page.close().await.unwrap();
}
