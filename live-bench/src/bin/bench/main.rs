//! Benchmarks a live action against hand-written axum over real loopback HTTP.
//!
//! 1. Throughput: one response of 200,000 small SSE events (`data: {"n":12345}\n\n`) written
//!    as fast as possible, by a live action (`LiveStream::write`) and by two baselines that
//!    feed a tokio `mpsc` channel of capacity 10 from a producer task: axum's `Sse` over a
//!    stream of `Event`s, and `Body::from_stream` over a stream of `Bytes`. The server runs on
//!    a 2-worker multi-thread runtime; the client (reqwest, reading with `chunk()`) runs on
//!    its own thread and runtime. Rounds are interleaved; the median is reported. CPU times
//!    come from `/proc/.../schedstat`, in nanoseconds.
//! 2. SSE encoding, in the same run and the same rounds: the same 200,000 events, encoded per
//!    event from a `#[derive(Serialize)] struct Tick { n: u64 }`, by live's SSE writer
//!    (`sse.write(&Tick { n })`) and by axum's `Sse` (`Event::default().json_data(Tick { n })`
//!    through an mpsc(10)); then the same with an `id` per event. Both sides must send
//!    byte-identical bodies: the warm-up request of every variant compares the whole body with
//!    the expected bytes, the timed ones compare its length.
//! 3. Memory: 10,000 idle streams that got their first event and then wait. Each variant is
//!    served by a fresh child process (this binary re-run as `serve-idle live|baseline`, same
//!    allocator and runtime), so its `VmRSS` holds only the server side; the parent opens the
//!    connections with raw TCP.
//!
//! Extra rows run the same live action with coalescing off, without the write timeout, and
//! with a 64-chunk buffer, to show where its time goes. Results are in `BENCHMARKS.md`. The
//! allocations per event of the SSE variants are counted by `sse_allocs`, not
//! here: a counting allocator would slow every variant of this benchmark.
//!
//! 4. Cross-process (`--cross-process`, instead of the above): one stream of 400,000 events
//!    `event: tick\nid: <i>\ndata: {"i":<i>}\n\n`, the server and the client each in a
//!    process of its own (this binary re-run as `serve <variant> <events>` and `client <port>
//!    <events>`), server CPU from `/proc/<pid>/stat`. See `cross_process/mod.rs`.
//!
//! ```sh
//! cargo run --release -p live-bench --bin bench            # full run, about 25 s on 2 cores
//! cargo run --release -p live-bench --bin bench -- --quick # a smoke test: small, noisy numbers
//! cargo run --release -p live-bench --bin bench -- --cross-process          # about 2.5 min, quiet machine
//! cargo run --release -p live-bench --bin bench -- --cross-process --quick  # a smoke test
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

mod cross_process;

use axum::Router;
use axum::body::Body;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use live_bench::BoxResult;
use live_bench::child::{ChildGuard, child_runtime};
use live_bench::proc_stat::vm_rss_kib;
use live_bench::sse_routes::{
    CHANNEL_CAPACITY, SSE_VARIANTS, Variant, Wire, concat, event_bytes, expected_body, live_events,
    live_scratch, live_sse, live_sse_id, sse_json, sse_json_id,
};
use live_runtime::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// The sizes of one run.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    events: u64,
    rounds: usize,
    idle_streams: usize,
    memory_rounds: usize,
}

const FULL: Sizes = Sizes {
    events: 200_000,
    rounds: 5,
    idle_streams: 10_000,
    memory_rounds: 3,
};

const QUICK: Sizes = Sizes {
    events: 20_000,
    rounds: 3,
    idle_streams: 1_000,
    memory_rounds: 1,
};

/// Tokio's defaults, written out so that the parent's server and both children match.
const SERVER_WORKERS: usize = 2;

/// Rows of the extra analysis: the same live action with one cost removed at a time.
static NO_COALESCE: LazyLock<LiveConfig> = LazyLock::new(|| LiveConfig::new().coalesce_bytes(0));
static NO_TIMEOUT: LazyLock<LiveConfig> = LazyLock::new(|| LiveConfig::new().write_timeout(None));
static CHUNKS_64: LazyLock<LiveConfig> =
    LazyLock::new(|| LiveConfig::new().buffer(Buffer::Chunks(64)));
static DEFAULT: LazyLock<LiveConfig> = LazyLock::new(LiveConfig::new);

fn main() -> BoxResult<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Both sides need an fd per connection; the soft limit is often 1024.
    let nofile = rlimit::increase_nofile_limit(u64::MAX)?;
    match args.first().map(String::as_str) {
        Some("serve-idle") => return serve_idle(args.get(1).map_or("", String::as_str)),
        Some("serve") => return cross_process::server::serve(&args[1..]),
        Some("client") => return cross_process::client::run(&args[1..]),
        _ => {}
    }
    let quick = args.iter().any(|a| a == "--quick");
    if args.iter().any(|a| a == "--cross-process") {
        return cross_process::orchestrate(quick);
    }
    let sizes = if quick { QUICK } else { FULL };
    if nofile < sizes.idle_streams as u64 + 100 {
        return Err(format!(
            "fd limit {nofile} is too low for {} streams",
            sizes.idle_streams
        )
        .into());
    }
    println!(
        "live bench: {} events x {} rounds, {} idle streams; {} cpus",
        sizes.events,
        sizes.rounds,
        sizes.idle_streams,
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    // `--idle-only`: the memory rounds alone (each line printed as it is measured), to compare
    // builds on the per-stream bytes without the throughput rounds' minutes.
    if args.iter().any(|a| a == "--idle-only") {
        for _ in 0..sizes.memory_rounds {
            idle_memory("live", sizes.idle_streams)?;
            idle_memory("baseline", sizes.idle_streams)?;
        }
        return Ok(());
    }
    let throughput = throughput(sizes)?;
    let (mut live, mut baseline) = (Vec::new(), Vec::new());
    for _ in 0..sizes.memory_rounds {
        live.push(idle_memory("live", sizes.idle_streams)?);
        baseline.push(idle_memory("baseline", sizes.idle_streams)?);
    }
    let memory = [median_memory(live), median_memory(baseline)];
    print_tables(sizes, &throughput, &memory);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Throughput

/// The rows of the first table: the same pre-encoded events, written several ways.
const STREAM_VARIANTS: [Variant; 6] = [
    Variant {
        name: "live (defaults)",
        path: "/live",
        wire: Wire::Data,
    },
    Variant {
        name: "live, coalesce_bytes(0)",
        path: "/live-nocoalesce",
        wire: Wire::Data,
    },
    Variant {
        name: "live, write_timeout(None)",
        path: "/live-notimeout",
        wire: Wire::Data,
    },
    Variant {
        name: "live, buffer(Chunks(64))",
        path: "/live-chunks64",
        wire: Wire::Data,
    },
    Variant {
        name: "baseline A: Sse + mpsc(10)",
        path: "/sse",
        wire: Wire::Data,
    },
    Variant {
        name: "baseline B: Body::from_stream + mpsc(10)",
        path: "/body",
        wire: Wire::Data,
    },
];

/// Every route measured: the stream rows, then the SSE-encoding rows.
const VARIANTS: [Variant; 12] = concat(STREAM_VARIANTS, SSE_VARIANTS);
const LIVE: usize = 0;
const SSE: usize = 4;
const BODY: usize = 5;
/// The rows of the first table: pre-encoded events.
const STREAM_ROWS: std::ops::Range<usize> = 0..6;
/// The rows of the second table: events encoded by the SSE writers.
const SSE_ROWS: std::ops::Range<usize> = 6..12;
const LIVE_SSE: usize = 6;
const AXUM_SSE: usize = 9;
const LIVE_SSE_ID: usize = 10;
const AXUM_SSE_ID: usize = 11;

/// What one request measured.
#[derive(Debug, Clone, Copy)]
struct Sample {
    wall: Duration,
    /// CPU time of the whole process (server and client) during the request.
    process_cpu: Duration,
    /// CPU time of the client's thread alone.
    client_cpu: Duration,
    /// Body chunks reqwest handed out: one per HTTP/1 chunk, so about one per body frame the
    /// server sent. Fewer means coalesced events.
    frames: usize,
}

/// The medians of one variant.
#[derive(Debug, Clone, Copy)]
struct Summary {
    events_per_sec: f64,
    /// The slowest and the fastest round.
    range: (f64, f64),
    wall: Duration,
    server_cpu: Duration,
    client_cpu: Duration,
    frames: usize,
}

/// The same bytes as [`event_bytes`] once axum has framed it.
fn sse_event(n: u64) -> Event {
    Event::default().data(format!("{{\"n\":{n}}}"))
}

fn throughput_app(events: u64) -> Router {
    Router::new()
        .route(
            "/live",
            get(move |request: LiveRequest| live_events(request, events, &DEFAULT)),
        )
        .route(
            "/live-nocoalesce",
            get(move |request: LiveRequest| live_events(request, events, &NO_COALESCE)),
        )
        .route(
            "/live-notimeout",
            get(move |request: LiveRequest| live_events(request, events, &NO_TIMEOUT)),
        )
        .route(
            "/live-chunks64",
            get(move |request: LiveRequest| live_events(request, events, &CHUNKS_64)),
        )
        .route("/sse", get(move || sse_events(events)))
        .route("/body", get(move || body_events(events)))
        .route(
            "/live-sse",
            get(move |request: LiveRequest| live_sse(request, events, &DEFAULT)),
        )
        .route(
            "/live-sse-nocoalesce",
            get(move |request: LiveRequest| live_sse(request, events, &NO_COALESCE)),
        )
        .route(
            "/live-scratch",
            get(move |request: LiveRequest| live_scratch(request, events, &DEFAULT)),
        )
        .route("/sse-json", get(move || sse_json(events)))
        .route(
            "/live-sse-id",
            get(move |request: LiveRequest| live_sse_id(request, events, &DEFAULT)),
        )
        .route("/sse-json-id", get(move || sse_json_id(events)))
}

/// The idiomatic hand-written SSE endpoint: a producer task feeds a bounded channel.
async fn sse_events(events: u64) -> Response {
    let rx = produce(CHANNEL_CAPACITY, events, |n| {
        Ok::<_, Infallible>(sse_event(n))
    });
    Sse::new(rx).into_response()
}

async fn body_events(events: u64) -> Response {
    let rx = produce(CHANNEL_CAPACITY, events, |n| Ok(event_bytes(n)));
    event_stream_body(rx)
}

/// The baselines' producer: a task that sends `item(0)`, `item(1)`, ... `item(events - 1)`
/// into a tokio `mpsc` channel of `capacity`, and stops early if the receiver is dropped.
fn produce<T: Send + 'static>(
    capacity: usize,
    events: u64,
    item: impl Fn(u64) -> T + Send + 'static,
) -> ReceiverStream<T> {
    let (tx, rx) = mpsc::channel(capacity);
    tokio::spawn(async move {
        for i in 0..events {
            if tx.send(item(i)).await.is_err() {
                return;
            }
        }
    });
    ReceiverStream::new(rx)
}

/// A `text/event-stream` response, not cached, whose body's chunks are `chunks`.
fn event_stream_body(chunks: ReceiverStream<Result<Bytes, Infallible>>) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(chunks))
        .expect("static headers are valid")
}

fn throughput(sizes: Sizes) -> BoxResult<Vec<Summary>> {
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(SERVER_WORKERS)
        .enable_all()
        .build()?;
    let listener = server_rt.block_on(TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    server_rt.spawn(async move {
        axum::serve(listener, throughput_app(sizes.events))
            .await
            .expect("server failed");
    });
    // The client gets its own thread, so the server's two workers serve only the server.
    let client = std::thread::spawn(move || -> BoxResult<Vec<Vec<Sample>>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(run_rounds(addr, sizes))
    });
    let samples = client.join().map_err(|_| "client thread panicked")??;
    server_rt.shutdown_timeout(Duration::from_secs(1));
    Ok(samples
        .iter()
        .map(|runs| summarize(runs, sizes.events))
        .collect())
}

async fn run_rounds(addr: SocketAddr, sizes: Sizes) -> BoxResult<Vec<Vec<Sample>>> {
    let client = reqwest::Client::builder().build()?;
    let data = expected_body(Wire::Data, sizes.events);
    let id_data = expected_body(Wire::IdData, sizes.events);
    let expected = |wire| match wire {
        Wire::Data => &data[..],
        Wire::IdData => &id_data[..],
    };
    // Warm-up: connections, allocator and the code paths of every variant. It also checks
    // that every variant sends exactly the expected bytes.
    for variant in VARIANTS {
        fetch(&client, addr, variant.path, expected(variant.wire), true).await?;
    }
    let mut samples = vec![Vec::new(); VARIANTS.len()];
    for round in 0..sizes.rounds {
        // Interleaved so that a slow moment of the machine hits every variant alike.
        for (i, variant) in VARIANTS.iter().enumerate() {
            let sample = fetch(&client, addr, variant.path, expected(variant.wire), false).await?;
            eprintln!(
                "  round {} {:<42} {:>8.0} events/s",
                round + 1,
                variant.name,
                sizes.events as f64 / sample.wall.as_secs_f64()
            );
            samples[i].push(sample);
        }
    }
    Ok(samples)
}

/// One request, timed from send to the end of the body. Checks that as many bytes as
/// `expected` arrived, and with `compare` that they are the same bytes (which costs the
/// client a copy of the body, so only the untimed warm-up does it).
async fn fetch(
    client: &reqwest::Client,
    addr: SocketAddr,
    path: &str,
    expected: &[u8],
    compare: bool,
) -> BoxResult<Sample> {
    let url = format!("http://{addr}{path}");
    let cpu_before = (process_cpu()?, thread_cpu()?);
    let start = Instant::now();
    let mut response = client.get(&url).send().await?.error_for_status()?;
    let (mut bytes, mut frames) = (0, 0);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        bytes += chunk.len();
        frames += 1;
        if compare {
            body.extend_from_slice(&chunk);
        }
    }
    let wall = start.elapsed();
    let cpu_after = (process_cpu()?, thread_cpu()?);
    if bytes != expected.len() {
        return Err(format!("{path}: got {bytes} bytes, expected {}", expected.len()).into());
    }
    if compare && body != expected {
        let at = body
            .iter()
            .zip(expected)
            .take_while(|(a, b)| a == b)
            .count();
        return Err(format!(
            "{path}: the body differs from the expected bytes at byte {at}: {:?}",
            String::from_utf8_lossy(&body[at..(at + 40).min(body.len())])
        )
        .into());
    }
    Ok(Sample {
        wall,
        process_cpu: cpu_after.0.saturating_sub(cpu_before.0),
        client_cpu: cpu_after.1.saturating_sub(cpu_before.1),
        frames,
    })
}

fn summarize(runs: &[Sample], events: u64) -> Summary {
    let wall = median(runs.iter().map(|s| s.wall).collect());
    let rate = |wall: Duration| events as f64 / wall.as_secs_f64();
    let slowest = runs.iter().map(|s| s.wall).max().unwrap_or_default();
    let fastest = runs.iter().map(|s| s.wall).min().unwrap_or_default();
    Summary {
        events_per_sec: rate(wall),
        range: (rate(slowest), rate(fastest)),
        wall,
        server_cpu: median(
            runs.iter()
                .map(|s| s.process_cpu.saturating_sub(s.client_cpu))
                .collect(),
        ),
        client_cpu: median(runs.iter().map(|s| s.client_cpu).collect()),
        frames: median(runs.iter().map(|s| s.frames).collect()),
    }
}

fn median<T: Ord + Copy>(mut values: Vec<T>) -> T {
    values.sort_unstable();
    values[values.len() / 2]
}

/// The CPU time a thread has run, in nanoseconds: the first field of its `schedstat`.
/// (`/proc/<pid>/stat` counts in 10 ms ticks, too coarse for runs of about 100 ms.)
fn schedstat(path: &std::path::Path) -> BoxResult<Duration> {
    let stat = std::fs::read_to_string(path)?;
    let ns = stat.split_whitespace().next().ok_or("empty schedstat")?;
    Ok(Duration::from_nanos(ns.parse()?))
}

/// The CPU time of every thread of the process, server and client. Threads that ended are not
/// counted, but none ends during a request: the runtimes' threads live for the whole run.
fn process_cpu() -> BoxResult<Duration> {
    let mut total = Duration::ZERO;
    for task in std::fs::read_dir("/proc/self/task")? {
        // A thread may end between the listing and the read.
        if let Ok(cpu) = schedstat(&task?.path().join("schedstat")) {
            total += cpu;
        }
    }
    Ok(total)
}

fn thread_cpu() -> BoxResult<Duration> {
    schedstat(std::path::Path::new("/proc/thread-self/schedstat"))
}

// ---------------------------------------------------------------------------------------------
// Memory of idle streams

/// The child: serves `GET /idle` with one event and then holds the stream, until stdin closes.
fn serve_idle(variant: &str) -> BoxResult<()> {
    let app = match variant {
        "live" => Router::new().route("/idle", get(live_idle)),
        "baseline" => Router::new().route("/idle", get(sse_idle)),
        other => return Err(format!("unknown variant {other:?}: live or baseline").into()),
    };
    // Lets the parent check that every live action and body ends once its client has left.
    let app = app.route(
        "/stats",
        get(|| async {
            let stats = live_runtime::stats();
            format!("{} {}", stats.live_actions, stats.open_streams)
        }),
    );
    serve_child(app)
}

/// A server child: serves `app` on `127.0.0.1` on a runtime of [`SERVER_WORKERS`] workers,
/// prints `port <n>` once it listens, and exits when its stdin closes.
fn serve_child(app: Router) -> BoxResult<()> {
    let rt = child_runtime(SERVER_WORKERS)?;
    rt.block_on(async {
        // `TcpListener::bind` listens with a backlog of 128; a burst of connections overflows
        // it and each dropped SYN costs its client a one-second retransmit.
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let listener = socket.listen(1024)?;
        println!("port {}", listener.local_addr()?.port());
        axum::serve(listener, app).await?;
        Ok(())
    })
}

async fn live_idle(request: LiveRequest) -> Response {
    request
        .spawn(|mut live: Live| async move {
            live.set_content_type("text/event-stream")?;
            let mut stream = live.stream();
            stream.write(event_bytes(0)).await?;
            // Idle until the client leaves, as a real feed between its events.
            stream.disconnected().await;
            Ok::<_, Error>(())
        })
        .await
}

/// The hand-written equivalent: a producer task that holds its sender until the client leaves.
async fn sse_idle() -> Response {
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    tokio::spawn(async move {
        if tx.send(Ok::<_, Infallible>(sse_event(0))).await.is_ok() {
            tx.closed().await;
        }
    });
    Sse::new(ReceiverStream::new(rx)).into_response()
}

/// What one child measured.
#[derive(Debug, Clone, Copy)]
struct Memory {
    variant: &'static str,
    before_kib: u64,
    after_kib: u64,
    streams: usize,
    drained: Drain,
}

/// Whether every live action and body ended once the clients had closed.
#[derive(Debug, Clone, Copy)]
enum Drain {
    /// The baseline keeps no counts.
    NotCounted,
    /// All ended within this long.
    After(Duration),
    /// Some were still alive after [`DRAIN_PATIENCE`]: a leak.
    Leaked,
}

const DRAIN_PATIENCE: Duration = Duration::from_secs(10);

/// The round whose bytes per stream is the median.
fn median_memory(mut rounds: Vec<Memory>) -> Memory {
    rounds.sort_by(|a, b| a.bytes_per_stream().total_cmp(&b.bytes_per_stream()));
    rounds[rounds.len() / 2]
}

impl Memory {
    fn bytes_per_stream(&self) -> f64 {
        (self.after_kib as f64 - self.before_kib as f64) * 1024.0 / self.streams as f64
    }
}

fn idle_memory(variant: &'static str, streams: usize) -> BoxResult<Memory> {
    let mut child =
        ChildGuard::spawn(Command::new(std::env::current_exe()?).args(["serve-idle", variant]))?;
    let line = child.expect_line(Duration::from_secs(30))?;
    let port: u16 = line
        .trim()
        .strip_prefix("port ")
        .ok_or_else(|| format!("child said {line:?}"))?
        .parse()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let pid = child.child.id();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        // Warm-up: the runtime's threads, allocator arenas and buffers exist before "before".
        drop(open_streams(addr, 200).await?);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before_kib = vm_rss_kib(pid)?;
        let held = open_streams(addr, streams).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after_kib = vm_rss_kib(pid)?;
        drop(held);
        let drained = if variant == "live" {
            drain_time(addr).await?
        } else {
            Drain::NotCounted
        };
        let memory = Memory {
            variant,
            before_kib,
            after_kib,
            streams,
            drained,
        };
        eprintln!(
            "  idle {variant:<8} {streams} streams: VmRSS {before_kib} -> {after_kib} KiB, \
             {:.0} bytes/stream",
            memory.bytes_per_stream(),
        );
        Ok(memory)
    })
}

/// Opens `count` streams, each read up to the end of its first event, and keeps them open.
async fn open_streams(addr: SocketAddr, count: usize) -> BoxResult<Vec<TcpStream>> {
    // In batches well below the child's listen backlog (1024), so no SYN is dropped.
    const BATCH: usize = 250;
    let mut held = Vec::with_capacity(count);
    while held.len() < count {
        let batch = BATCH.min(count - held.len());
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..batch {
            tasks.spawn(tokio::time::timeout(
                Duration::from_secs(10),
                first_event(addr),
            ));
        }
        while let Some(joined) = tasks.join_next().await {
            held.push(joined?.map_err(|_| "timed out waiting for the first event")??);
        }
    }
    Ok(held)
}

async fn first_event(addr: SocketAddr) -> BoxResult<TcpStream> {
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(b"GET /idle HTTP/1.1\r\nHost: x\r\n\r\n")
        .await?;
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    // The event is `data: ...\n\n`, inside one chunk of the chunked body.
    while !seen
        .windows(6)
        .position(|w| w == b"data: ")
        .is_some_and(|at| seen[at..].windows(2).any(|w| w == b"\n\n"))
    {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err("closed before the first event".into());
        }
        seen.extend_from_slice(&buf[..n]);
    }
    Ok(stream)
}

/// Polls the child's `/stats` until no live action or body is left.
async fn drain_time(addr: SocketAddr) -> BoxResult<Drain> {
    let start = Instant::now();
    while start.elapsed() < DRAIN_PATIENCE {
        let mut stream = TcpStream::connect(addr).await?;
        stream
            .write_all(b"GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        if response.ends_with("\r\n\r\n0 0") {
            return Ok(Drain::After(start.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(Drain::Leaked)
}

// ---------------------------------------------------------------------------------------------
// Report

fn print_tables(sizes: Sizes, throughput: &[Summary], memory: &[Memory; 2]) {
    println!();
    println!(
        "Throughput: one stream of {} events, median of {} interleaved rounds",
        sizes.events, sizes.rounds
    );
    println!(
        "| {:<42} | {:>10} | {:>17} | {:>8} | {:>10} | {:>10} | {:>9} | {:>6} | {:>6} |",
        "variant",
        "events/s",
        "range (k/s)",
        "wall ms",
        "server cpu",
        "client cpu",
        "frames",
        "vs A",
        "vs B"
    );
    println!(
        "|{:-<44}|{:->12}|{:->19}|{:->10}|{:->12}|{:->12}|{:->11}|{:->8}|{:->8}|",
        "", "", "", "", "", "", "", "", ""
    );
    for (variant, s) in VARIANTS[STREAM_ROWS].iter().zip(&throughput[STREAM_ROWS]) {
        println!(
            "| {:<42} | {:>10.0} | {:>17} | {:>8.1} | {:>7.1} ms | {:>7.1} ms | {:>9} | {:>6.2} | {:>6.2} |",
            variant.name,
            s.events_per_sec,
            format!("{:.0}-{:.0}", s.range.0 / 1e3, s.range.1 / 1e3),
            s.wall.as_secs_f64() * 1e3,
            s.server_cpu.as_secs_f64() * 1e3,
            s.client_cpu.as_secs_f64() * 1e3,
            s.frames,
            s.events_per_sec / throughput[SSE].events_per_sec,
            s.events_per_sec / throughput[BODY].events_per_sec,
        );
    }
    let live = throughput[LIVE].events_per_sec;
    let worst = live
        / throughput[SSE]
            .events_per_sec
            .max(throughput[BODY].events_per_sec);
    println!(
        "target live/baseline >= 1.00: {:.2} against the faster baseline: {}",
        worst,
        if worst >= 1.0 { "met" } else { "MISSED" }
    );

    print_sse_table(sizes, throughput);

    println!();
    println!(
        "Memory: {} idle streams, server child's VmRSS, median of {} rounds",
        memory[0].streams, sizes.memory_rounds
    );
    println!(
        "| {:<10} | {:>12} | {:>12} | {:>14} | {:>26} |",
        "variant", "before KiB", "after KiB", "bytes/stream", "all ended after close in"
    );
    println!(
        "|{:-<12}|{:->14}|{:->14}|{:->16}|{:->28}|",
        "", "", "", "", ""
    );
    for m in memory {
        let drained = match m.drained {
            Drain::NotCounted => "n/a".to_owned(),
            Drain::After(d) => format!("{d:.1?}"),
            Drain::Leaked => format!("LEAK: some alive after {DRAIN_PATIENCE:?}"),
        };
        println!(
            "| {:<10} | {:>12} | {:>12} | {:>14.0} | {:>26} |",
            m.variant,
            m.before_kib,
            m.after_kib,
            m.bytes_per_stream(),
            drained
        );
    }
    let diff = memory[0].bytes_per_stream() - memory[1].bytes_per_stream();
    println!(
        "target live - baseline <= 2048 bytes/stream: {diff:+.0}: {}",
        if diff <= 2048.0 { "met" } else { "MISSED" }
    );
}

fn print_sse_table(sizes: Sizes, throughput: &[Summary]) {
    println!();
    println!(
        "SSE encoding: one stream of {} events from a `Tick {{ n }}`, same rounds",
        sizes.events
    );
    println!(
        "| {:<42} | {:>10} | {:>17} | {:>8} | {:>10} | {:>12} | {:>10} | {:>9} | {:>11} | {:>11} |",
        "variant",
        "events/s",
        "range (k/s)",
        "wall ms",
        "server cpu",
        "server ns/ev",
        "client cpu",
        "frames",
        "vs axum Sse",
        "vs live raw"
    );
    println!(
        "|{:-<44}|{:->12}|{:->19}|{:->10}|{:->12}|{:->14}|{:->12}|{:->11}|{:->13}|{:->13}|",
        "", "", "", "", "", "", "", "", "", ""
    );
    for (i, s) in SSE_ROWS.zip(&throughput[SSE_ROWS]) {
        let variant = VARIANTS[i];
        let axum = match variant.wire {
            Wire::Data => AXUM_SSE,
            Wire::IdData => AXUM_SSE_ID,
        };
        println!(
            "| {:<42} | {:>10.0} | {:>17} | {:>8.1} | {:>7.1} ms | {:>12.0} | {:>7.1} ms | {:>9} | {:>11.2} | {:>11.2} |",
            variant.name,
            s.events_per_sec,
            format!("{:.0}-{:.0}", s.range.0 / 1e3, s.range.1 / 1e3),
            s.wall.as_secs_f64() * 1e3,
            s.server_cpu.as_secs_f64() * 1e3,
            s.server_cpu.as_secs_f64() * 1e9 / sizes.events as f64,
            s.client_cpu.as_secs_f64() * 1e3,
            s.frames,
            s.events_per_sec / throughput[axum].events_per_sec,
            s.events_per_sec / throughput[LIVE].events_per_sec,
        );
    }
    for (live, axum) in [(LIVE_SSE, AXUM_SSE), (LIVE_SSE_ID, AXUM_SSE_ID)] {
        let ratio = throughput[live].events_per_sec / throughput[axum].events_per_sec;
        println!(
            "target {} / {} >= 1.00: {ratio:.2}: {}",
            VARIANTS[live].name,
            VARIANTS[axum].name,
            if ratio >= 1.0 { "met" } else { "MISSED" }
        );
    }
}
