//! The stocks and export examples, tested with the in-process test client.

#[allow(dead_code)]
#[path = "../examples/stocks.rs"]
mod stocks;

// Both examples load `examples/common`; each copy is only their `main`'s, unused here.
#[allow(dead_code, clippy::duplicate_mod)]
#[path = "../examples/export.rs"]
mod export;

use std::time::Duration;

use live_runtime::prelude::*;
use live_runtime::test_client::TestClient;

/// The stocks app as its `main` serves it: with a [`Shutdown`] layer.
fn stocks_app() -> (TestClient, Shutdown) {
    let controller = stocks::StocksController {
        feed: stocks::PriceFeed,
        interval: Duration::from_secs(1),
    };
    let shutdown = Shutdown::new();
    let router = controller.into_router().layer(shutdown.layer());
    (TestClient::new(router), shutdown)
}

#[tokio::test]
async fn stocks_page_opens_an_event_source() {
    let (client, _) = stocks_app();
    let mut page = client.get("/stocks").send().await.unwrap();
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("new EventSource('/stocks/prices')")
    );
}

/// One `prices` event a second (virtual), ids 0, 1, 2..., the feed's prices as JSON.
#[tokio::test(start_paused = true)]
async fn stocks_prices_are_the_feed() {
    let (client, _) = stocks_app();
    let started = tokio::time::Instant::now();
    let mut response = client.get("/stocks/prices").send().await.unwrap();
    for n in 0..3 {
        let event = response.next_event().await.unwrap().unwrap();
        assert_eq!(event.event, "prices");
        assert_eq!(event.id, Some(n.to_string()));
        assert_eq!(event.retry, Some(500));
        let expected = serde_json::to_string(&stocks::PriceFeed.tick(n)).unwrap();
        assert_eq!(event.data, expected);
    }
    assert_eq!(started.elapsed().as_secs(), 2);
}

/// A reconnecting client resumes right after its last id: no gap, no duplicate.
#[tokio::test(start_paused = true)]
async fn stocks_resume_after_last_event_id() {
    let (client, _) = stocks_app();
    let mut response = client
        .get("/stocks/prices")
        .header("last-event-id", "41")
        .send()
        .await
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(response.next_event().await.unwrap().unwrap().id.unwrap());
    }
    assert_eq!(seen, ["42", "43", "44"]);
}

/// Shutting down ends the open streams, so a graceful shutdown does not wait on them.
#[tokio::test(start_paused = true)]
async fn stocks_streams_end_at_shutdown() {
    let (client, shutdown) = stocks_app();
    let mut response = client.get("/stocks/prices").send().await.unwrap();
    assert!(response.next_event().await.unwrap().is_some());
    assert_eq!(shutdown.live_actions(), 1);
    shutdown.begin();
    assert_eq!(response.events().await.unwrap().len(), 0);
    // The action saw the shutdown and ended.
    tokio::time::timeout(Duration::from_secs(5), shutdown.finished())
        .await
        .expect("the stocks action ends at shutdown");
    assert_eq!(shutdown.live_actions(), 0);
}

#[tokio::test]
async fn export_streams_every_row_as_csv() {
    let client = TestClient::new(export::SubscribersController { rows: 5_000 }.into_router());
    let mut response = client.get("/subscribers/export").send().await.unwrap();
    assert_eq!(response.header("content-type"), Some("text/csv"));
    assert_eq!(
        response.header("content-disposition"),
        Some("attachment; filename=\"subscribers.csv\"; filename*=UTF-8''subscribers.csv")
    );
    let first = response.next_chunk().await.unwrap().unwrap();
    assert!(first.starts_with(
        b"id,name,email,plan,joined\n1,Subscriber 1,subscriber1@example.com,pro,2026-02-02\n"
    ));
    // Several chunks of about 32 KiB: the file is never built whole.
    assert!(first.len() < 40 * 1024, "{}", first.len());
    let rest = response.text().await.unwrap();
    let lines = String::from_utf8(first.to_vec()).unwrap() + &rest;
    assert_eq!(lines.lines().count(), 5_001);
    let mut last = String::new();
    export::write_row(&mut last, 5_000);
    assert!(lines.ends_with(&last));
}
