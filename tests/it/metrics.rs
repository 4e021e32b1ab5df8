//! The stocks example's `GET /metrics`, scraped over HTTP from the example's own process (so
//! no other test's streams count): the figures move as price streams open and close.

use std::collections::BTreeMap;

use crate::browser::{free_port, start_stocks, wait_until};
use crate::support::{client, next_chunk};

const PRICES: &str = r#"{action="prices",controller="StocksController"}"#;

/// One scrape: every sample of the Prometheus text format, by name and labels.
async fn scrape(port: u16) -> BTreeMap<String, f64> {
    let text = client()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("a body");
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            (sorted_labels(series), value.parse().expect("a number"))
        })
        .collect()
}

/// `name{b="1",a="2"}` as `name{a="2",b="1"}`: the exporter keeps the labels' order of
/// registration, the test looks them up sorted (no value here has a comma).
fn sorted_labels(series: &str) -> String {
    let Some((name, labels)) = series.split_once('{') else {
        return series.to_owned();
    };
    let mut labels: Vec<_> = labels.trim_end_matches('}').split(',').collect();
    labels.sort_unstable();
    format!("{name}{{{}}}", labels.join(","))
}

fn value(scrape: &BTreeMap<String, f64>, name: &str, labels: &str) -> f64 {
    scrape
        .get(&format!("{name}{labels}"))
        .copied()
        .unwrap_or(0.0)
}

/// Waits until the scraped `name{labels}` is `expected`.
async fn wait_for(port: u16, name: &str, labels: &str, expected: f64) {
    wait_until(&format!("{name}{labels} = {expected}"), || async {
        value(&scrape(port).await, name, labels) == expected
    })
    .await;
}

#[tokio::test]
async fn stocks_metrics_move_as_streams_open_and_close() {
    let port = free_port();
    let _server = start_stocks(port).await;
    let before = scrape(port).await;
    assert_eq!(value(&before, "live_streams_open", PRICES), 0.0);
    assert!(
        before.keys().all(|series| !series.contains("prices")),
        "no price stream yet: {before:?}"
    );

    let client = client();
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut response = client
            .get(format!("http://127.0.0.1:{port}/stocks/prices"))
            .send()
            .await
            .expect("the price stream opens");
        next_chunk(&mut response).await.expect("a first event");
        streams.push(response);
    }
    wait_for(port, "live_streams_open", PRICES, 3.0).await;
    let open = scrape(port).await;
    assert_eq!(value(&open, "live_broadcast_subscribers", ""), 3.0);
    assert_eq!(value(&open, "live_actions_started_total", PRICES), 3.0);
    assert_eq!(value(&open, "live_commit_seconds_count", PRICES), 3.0);
    assert!(value(&open, "live_events_written_total", PRICES) >= 3.0);
    assert!(value(&open, "live_bytes_written_total", PRICES) > 0.0);
    assert!(value(&open, "live_broadcast_published_total", "") >= 1.0);
    // The ticks keep coming: the counters go up while the streams are open.
    let events = value(&open, "live_events_written_total", PRICES);
    wait_until("more events written", || async {
        value(&scrape(port).await, "live_events_written_total", PRICES) > events
    })
    .await;

    drop(streams);
    wait_for(port, "live_streams_open", PRICES, 0.0).await;
    let closed = scrape(port).await;
    assert_eq!(value(&closed, "live_broadcast_subscribers", ""), 0.0);
    // The action returns when it sees its client gone, or fails its next write.
    let ended = |outcome: &str| {
        let labels =
            format!(r#"{{action="prices",controller="StocksController",outcome="{outcome}"}}"#);
        value(&closed, "live_actions_ended_total", &labels)
    };
    assert_eq!(ended("completed") + ended("client_gone"), 3.0, "{closed:?}");
}
