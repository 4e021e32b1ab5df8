//! The hello example, tested with the in-process test client under paused time: its
//! one-second pauses take no time.

use crate::apps::hello as app;
use live_runtime::prelude::*;
use live_runtime::test_client::TestClient;

#[tokio::test(start_paused = true)]
async fn hello_streams_n_lines_one_per_interval() {
    let client = TestClient::new(app::HelloController.into_router());
    let started = tokio::time::Instant::now();
    let mut response = client
        .get("/hello/stream")
        .query(&[("n", "3")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    assert_eq!(
        response.next_chunk().await.unwrap().unwrap(),
        "hello world\n"
    );
    assert_eq!(response.text().await.unwrap(), "hello world\nhello world\n");
    // Three lines, one second apart (default interval): two seconds of virtual time.
    assert_eq!(started.elapsed().as_secs(), 2);
}

#[tokio::test(start_paused = true)]
async fn hello_defaults_to_100_lines() {
    let client = TestClient::new(app::HelloController.into_router());
    let mut response = client
        .get("/hello/stream")
        .query(&[("interval_ms", "10")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "hello world\n".repeat(100));
}
