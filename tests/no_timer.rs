//! A runtime built without timers (`enable_io` only): writes that wait for a full buffer still
//! work, without a write timeout, instead of panicking inside tokio, and a broadcast hub frees
//! aged-out topics without its sweeper task. A test binary of its own, as the check is made
//! once per process.

mod support;

use std::io::{Read, Write};
use std::sync::LazyLock;

use axum::Router;
use axum::routing::get;
use live_runtime::broadcast::{Hub, HubConfig, HubUsage, Since};
use live_runtime::prelude::*;

static ONE_CHUNK: LazyLock<LiveConfig> =
    LazyLock::new(|| LiveConfig::new().buffer(Buffer::Chunks(1)));

async fn many(request: LiveRequest) -> axum::response::Response {
    request
        .with_config(&ONE_CHUNK)
        .spawn(|live: Live| async move {
            let mut stream = live.stream();
            for _ in 0..2_000 {
                stream.write(vec![b'x'; 1024]).await?;
            }
            stream.write("END").await?;
            Ok::<_, Error>(())
        })
        .await
}

#[test]
fn full_buffer_on_a_runtime_without_timers() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .build()
        .unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"));
    let listener = listener.unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move {
        axum::serve(listener, Router::new().route("/t", get(many)))
            .await
            .unwrap()
    });
    // The client is a blocking socket on this thread, with a read timeout: the runtime has no
    // timer to bound the wait, and a regression must fail here instead of hanging.
    let mut socket = std::net::TcpStream::connect(addr).unwrap();
    socket.set_read_timeout(Some(support::PATIENCE)).unwrap();
    socket.write_all(b"GET /t HTTP/1.0\r\n\r\n").unwrap();
    let mut out = Vec::new();
    socket
        .read_to_end(&mut out)
        .expect("the whole body, each read within PATIENCE");
    let body = String::from_utf8(out).unwrap();
    assert!(body.starts_with("HTTP/1.0 200 OK"), "{}", &body[..80]);
    let (_head, body) = body.split_once("\r\n\r\n").unwrap();
    assert_eq!(body.len(), 2_000 * 1024 + 3);
    assert!(body.ends_with("END"));
}

/// No timer, so no task frees topics as their events age out: those that did make room when
/// the hub reaches its cap, instead of the hub refusing new topics for good.
#[test]
fn aged_out_topics_make_room_at_the_cap() {
    without_timer(async {
        let age = std::time::Duration::from_millis(1);
        let hub = Hub::memory(HubConfig::default().max_topics(1).history_age(age));
        hub.publish("a", "1").await.unwrap();
        // Real time, as nothing can pause a runtime without a timer: "a" ages out.
        std::thread::sleep(3 * age);
        hub.publish("b", "1").await.unwrap();
        assert_eq!(hub.usage().topics, 1);
    });
}

/// No timer, so no task forgets closed topics: one past its age is forgotten when it is next
/// looked up, and is unknown from then on.
#[test]
fn closed_topics_are_forgotten_when_looked_up() {
    without_timer(async {
        let age = std::time::Duration::from_millis(1);
        let hub = Hub::memory(HubConfig::default().closed_topic_age(age));
        hub.close_with("job", "done", "1").await.unwrap();
        // Real time, as nothing can pause a runtime without a timer: "job" is past its age.
        std::thread::sleep(3 * age);
        assert_eq!(hub.usage().topics, 1, "not looked at yet");
        let unknown = hub.subscribe_existing("job", Since::Now).await.unwrap_err();
        assert_eq!(unknown.kind(), ErrorKind::NotFound);
        assert_eq!(hub.usage(), HubUsage::default());
    });
}

/// Runs `test` on a runtime of one thread without a timer (nor IO).
fn without_timer(test: impl Future<Output = ()>) {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(test);
}
