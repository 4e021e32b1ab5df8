//! The stocks and export examples, tested with the in-process test client.

use std::time::Duration;

use crate::apps::{export, stocks};
use live_runtime::broadcast::{Hub, HubConfig};
use live_runtime::prelude::*;
use live_runtime::test_client::{TestClient, TestResponse};
use stocks::{MAX_CATCH_UP, PriceFeed, StocksController, Ticker};

const INTERVAL: Duration = Duration::from_secs(1);

/// The stocks app as its `main` serves it (with a [`Shutdown`] layer), with a feed the test
/// drives by hand: nothing ticks unless the test calls [`Ticker::publish_tick`].
fn stocks_app() -> (TestClient, Ticker, Shutdown) {
    stocks_app_with(Ticker::new(PriceFeed, INTERVAL))
}

fn stocks_app_with(ticker: Ticker) -> (TestClient, Ticker, Shutdown) {
    let controller = StocksController::new(ticker.clone());
    let shutdown = Shutdown::new();
    let router = controller.into_router().layer(shutdown.layer());
    (TestClient::new(router), ticker, shutdown)
}

/// Opens the price stream, resuming after `last` if given. It returns once the response is
/// committed, which the action does after subscribing: every tick published from then on
/// reaches this client.
async fn open_prices(client: &TestClient, last: Option<u64>) -> TestResponse {
    let mut request = client.get("/stocks/prices");
    if let Some(last) = last {
        request = request.header("last-event-id", &last.to_string());
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    response
}

/// The next `count` events, each checked to be tick `id` of the feed on the wire: `event:
/// prices`, `id:` the tick number, the tick's JSON as data (and `retry: 500` if it is the
/// stream's first). Returns the ids.
async fn read_ticks(response: &mut TestResponse, count: usize) -> Vec<u64> {
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        let event = response.next_event().await.unwrap().expect("an event");
        assert_eq!(event.event, "prices");
        assert!(matches!(event.retry, None | Some(500)), "{event:?}");
        let n: u64 = event
            .id
            .expect("an id")
            .parse()
            .expect("a plain integer id");
        assert_eq!(
            event.data,
            serde_json::to_string(&PriceFeed.tick(n)).unwrap()
        );
        let tick: stocks::Tick = serde_json::from_str(&event.data).unwrap();
        assert_eq!(tick, PriceFeed.tick(n));
        ids.push(n);
    }
    ids
}

/// Publishes ticks `from..=through`, as the feed task does, one at a time.
async fn publish(ticker: &Ticker, ticks: std::ops::RangeInclusive<u64>) {
    for n in ticks {
        assert!(
            ticker.publish_tick(n).await.unwrap(),
            "tick {n} was left out"
        );
    }
}

#[tokio::test]
async fn stocks_page_opens_an_event_source() {
    let (client, _, _) = stocks_app();
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

/// A first connection gets the current tick at once, then each tick as the feed publishes it:
/// `event: prices`, the tick number as id, `retry: 500`, the feed's prices as JSON.
#[tokio::test]
async fn stocks_prices_are_the_feed() {
    let (client, ticker, _) = stocks_app();
    publish(&ticker, 7..=7).await;
    let mut response = open_prices(&client, None).await;
    assert_eq!(read_ticks(&mut response, 1).await, [7]);
    publish(&ticker, 8..=9).await;
    assert_eq!(read_ticks(&mut response, 2).await, [8, 9]);
    // Before the feed's first tick, a first connection waits for it.
    let (client, ticker, _) = stocks_app();
    let mut response = open_prices(&client, None).await;
    publish(&ticker, 3..=4).await;
    assert_eq!(read_ticks(&mut response, 2).await, [3, 4]);
}

/// Two clients receive the same events from the one feed, which computes each tick once
/// whatever the number of clients.
#[tokio::test]
async fn stocks_clients_share_one_feed() {
    let (client, ticker, _) = stocks_app();
    let mut first = open_prices(&client, None).await;
    let mut second = open_prices(&client, None).await;
    publish(&ticker, 100..=104).await;
    let mut events = Vec::new();
    for response in [&mut first, &mut second] {
        let mut received = Vec::new();
        for _ in 0..5 {
            received.push(response.next_event().await.unwrap().unwrap());
        }
        events.push(received);
    }
    assert_eq!(events[0], events[1]);
    // The `retry` goes with the first event only.
    let retries: Vec<_> = events[0].iter().map(|e| e.retry).collect();
    assert_eq!(retries, [Some(500), None, None, None, None]);
    let ids: Vec<_> = events[0].iter().map(|e| e.id.clone().unwrap()).collect();
    assert_eq!(ids, ["100", "101", "102", "103", "104"]);
    assert_eq!(ticker.published(), 5);
    // A tick not after the current one is never published again.
    assert!(!ticker.publish_tick(104).await.unwrap());
    assert!(!ticker.publish_tick(50).await.unwrap());
    assert_eq!(ticker.published(), 5);
}

/// A reconnecting client resumes right after its last id: the ticks it missed (recomputed),
/// then the live ones, with no gap and no duplicate at the seam.
#[tokio::test]
async fn stocks_resume_after_last_event_id() {
    let (client, ticker, _) = stocks_app();
    publish(&ticker, 40..=44).await;
    let mut response = open_prices(&client, Some(41)).await;
    assert_eq!(read_ticks(&mut response, 3).await, [42, 43, 44]);
    publish(&ticker, 45..=46).await;
    assert_eq!(read_ticks(&mut response, 2).await, [45, 46]);
    // A client already at the current tick gets only what comes next.
    let mut response = open_prices(&client, Some(46)).await;
    publish(&ticker, 47..=47).await;
    assert_eq!(read_ticks(&mut response, 1).await, [47]);
}

/// After a server restart the feed starts again (tick numbers come from the wall clock) with
/// a new hub that never saw the client's ticks: those it missed are recomputed, even before
/// the new feed's first tick.
#[tokio::test]
async fn stocks_resume_on_a_restarted_server() {
    let (client, ticker, _) = stocks_app();
    let mut response = open_prices(&client, Some(41)).await;
    publish(&ticker, 44..=45).await;
    assert_eq!(read_ticks(&mut response, 4).await, [42, 43, 44, 45]);
}

/// A client far behind gets the newest [`MAX_CATCH_UP`] ticks; one with an id far ahead of the
/// feed (another numbering) starts over at the current tick instead of waiting for it.
#[tokio::test]
async fn stocks_catch_up_is_capped() {
    let (client, ticker, _) = stocks_app();
    publish(&ticker, 5_000..=5_000).await;
    let mut response = open_prices(&client, Some(5)).await;
    let ids = read_ticks(&mut response, MAX_CATCH_UP as usize).await;
    let expected: Vec<u64> = (5_001 - MAX_CATCH_UP..=5_000).collect();
    assert_eq!(ids, expected);
    publish(&ticker, 5_001..=5_001).await;
    assert_eq!(read_ticks(&mut response, 1).await, [5_001]);

    let mut response = open_prices(&client, Some(5_001 + MAX_CATCH_UP + 1)).await;
    assert_eq!(read_ticks(&mut response, 1).await, [5_001]);
    let mut waiting = open_prices(&client, Some(5_003)).await;
    publish(&ticker, 5_002..=5_004).await;
    assert_eq!(read_ticks(&mut response, 3).await, [5_002, 5_003, 5_004]);
    assert_eq!(read_ticks(&mut waiting, 1).await, [5_004]);
}

/// A stream that falls behind by more than the hub's queue and history gets a gap from its
/// subscription, and recomputes the ticks it lost: the client sees no gap.
#[tokio::test]
async fn stocks_stream_recovers_from_a_gap() {
    let hub = Hub::memory(HubConfig::default().subscriber_queue(1).history_events(1));
    let (client, ticker, _) = stocks_app_with(Ticker::with_hub(PriceFeed, INTERVAL, hub));
    let mut response = open_prices(&client, None).await;
    publish(&ticker, 1..=1).await;
    assert_eq!(read_ticks(&mut response, 1).await, [1]);
    let gaps = live_runtime::stats().gaps;
    // The in-process hub publishes without yielding, so the action cannot read a tick before
    // the last: 38 ticks are lost to its queue of 1 and its history of 1.
    publish(&ticker, 2..=40).await;
    let expected: Vec<u64> = (2..=40).collect();
    assert_eq!(read_ticks(&mut response, expected.len()).await, expected);
    assert!(live_runtime::stats().gaps > gaps, "no gap was delivered");
    publish(&ticker, 41..=41).await;
    assert_eq!(read_ticks(&mut response, 1).await, [41]);
}

/// `StocksController::start` runs the feed on the wall clock: a tick at once, then one per
/// interval, numbered from the epoch; the task stops when the controller is dropped.
#[tokio::test(start_paused = true)]
async fn stocks_feed_task_ticks_each_interval_until_dropped() {
    // A long interval, so the real time this test takes never crosses two tick boundaries.
    let interval = Duration::from_secs(3600);
    let controller = StocksController::start(PriceFeed, interval);
    let ticker = controller.ticker().clone();
    let first = ticker.wall_tick();
    let shutdown = Shutdown::new();
    let client = TestClient::new(controller.into_router().layer(shutdown.layer()));
    let started = tokio::time::Instant::now();
    let mut response = client
        .get("/stocks/prices")
        .timeout(2 * interval)
        .send()
        .await
        .unwrap();
    let ids = read_ticks(&mut response, 3).await;
    assert!(
        ids[0] == first || ids[0] == first + 1,
        "{ids:?} from {first}"
    );
    assert_eq!(ids, [ids[0], ids[0] + 1, ids[0] + 2]);
    // The first at once, the next at the wall clock's next boundary, the third an interval on.
    let elapsed = started.elapsed();
    assert!(interval < elapsed && elapsed <= 2 * interval, "{elapsed:?}");
    let published = ticker.published();
    assert_eq!(ticker.current(), Some(ids[2]));

    // The client leaves, its action ends, the router and the controller go: so does the task.
    drop(response);
    drop(client);
    tokio::time::timeout(Duration::from_secs(5), async {
        shutdown.begin();
        shutdown.finished().await;
    })
    .await
    .expect("the action ends");
    tokio::time::sleep(10 * interval).await;
    assert_eq!(
        ticker.published(),
        published,
        "the feed task outlived its controller"
    );
}

/// Shutting down ends the open streams, so a graceful shutdown does not wait on them.
#[tokio::test]
async fn stocks_streams_end_at_shutdown() {
    let (client, ticker, shutdown) = stocks_app();
    publish(&ticker, 1..=1).await;
    let mut response = open_prices(&client, None).await;
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
