//! Counts the heap allocations per event of the SSE rows of the throughput benchmark
//! (`bench`), server side: live's SSE writer (`sse.write(&Tick { n })`) against
//! axum's `Sse` (`Event::default().json_data(Tick { n })` through an mpsc(10)), with and
//! without an `id` per event, and live's raw `stream.write(Bytes)` for reference.
//!
//! The whole process runs on a counting global allocator (`stats_alloc`, whose counters are
//! process-wide), so the client must not allocate per event: it is a raw TCP reader that reads
//! the response into a buffer reserved before the count starts, and decodes it afterwards.
//! Each variant runs with two event counts; the allocations of the difference divided by the
//! difference of events are the allocations per event, so what a request costs once
//! (connection, headers, the action's task) cancels out. The server is the benchmark's: a
//! multi-thread runtime with 2 workers; the client has its own thread and runtime.
//!
//! This is not part of `bench` because the counting allocator's atomic counters, shared by
//! all threads, would slow every variant there.
//!
//! ```sh
//! cargo run --release -p live-bench --bin sse_allocs
//! cargo run --release -p live-bench --bin sse_allocs -- /live-sse-id # only the variants of that path
//! ```

use std::alloc::System;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use live_bench::BoxResult;
use live_bench::sse_routes::{
    SSE_VARIANTS, Variant, Wire, concat, expected_body, live_events, live_scratch, live_sse,
    live_sse_id, sse_json, sse_json_id,
};
use live_runtime::prelude::*;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, Stats, StatsAlloc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The two event counts of each variant; the per-event figure is their difference's.
const SMALL: usize = 10_000;
const LARGE: usize = 210_000;
/// Measured pairs per variant; the table gives the median and the range.
const REPEATS: usize = 5;

static NO_COALESCE: std::sync::LazyLock<LiveConfig> =
    std::sync::LazyLock::new(|| LiveConfig::new().coalesce_bytes(0));
static DEFAULT: std::sync::LazyLock<LiveConfig> = std::sync::LazyLock::new(LiveConfig::new);

/// Live's raw stream, then the SSE rows of `bench`.
const VARIANTS: [Variant; 7] = concat(
    [Variant {
        name: "live stream.write(Bytes) (pre-encoded)",
        path: "/live-raw",
        wire: Wire::Data,
    }],
    SSE_VARIANTS,
);

fn app() -> Router {
    Router::new()
        .route(
            "/live-raw/{events}",
            get(|Path(events): Path<u64>, request: LiveRequest| {
                live_events(request, events, &DEFAULT)
            }),
        )
        .route(
            "/live-sse/{events}",
            get(|Path(events): Path<u64>, request: LiveRequest| {
                live_sse(request, events, &DEFAULT)
            }),
        )
        .route(
            "/live-sse-nocoalesce/{events}",
            get(|Path(events): Path<u64>, request: LiveRequest| {
                live_sse(request, events, &NO_COALESCE)
            }),
        )
        .route(
            "/live-scratch/{events}",
            get(|Path(events): Path<u64>, request: LiveRequest| {
                live_scratch(request, events, &DEFAULT)
            }),
        )
        .route(
            "/sse-json/{events}",
            get(|Path(events): Path<u64>| sse_json(events)),
        )
        .route(
            "/live-sse-id/{events}",
            get(|Path(events): Path<u64>, request: LiveRequest| {
                live_sse_id(request, events, &DEFAULT)
            }),
        )
        .route(
            "/sse-json-id/{events}",
            get(|Path(events): Path<u64>| sse_json_id(events)),
        )
}

fn main() -> BoxResult<()> {
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let listener = server_rt.block_on(TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    server_rt.spawn(async move {
        axum::serve(listener, app()).await.expect("server failed");
    });
    let client = std::thread::spawn(move || -> BoxResult<Vec<Vec<PerEvent>>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(measure_all(addr))
    });
    let results = client.join().map_err(|_| "client thread panicked")??;
    server_rt.shutdown_timeout(std::time::Duration::from_secs(1));
    print_table(&results);
    Ok(())
}

/// The marginal cost of one event, from a pair of requests.
#[derive(Debug, Clone, Copy)]
struct PerEvent {
    allocations: f64,
    reallocations: f64,
    bytes: f64,
    /// HTTP/1 chunks per event: below 1 when live coalesced events into one frame.
    frames: f64,
}

/// The variants to run: those whose path is the first argument, or all.
fn selected(variant: &Variant) -> bool {
    std::env::args()
        .nth(1)
        .is_none_or(|path| path == variant.path)
}

async fn measure_all(addr: SocketAddr) -> BoxResult<Vec<Vec<PerEvent>>> {
    let mut results = vec![Vec::new(); VARIANTS.len()];
    // Warm-up: the runtime's pools, hyper's buffers, the allocator.
    for variant in VARIANTS.iter().filter(|v| selected(v)) {
        measure(addr, *variant, SMALL).await?;
    }
    for _ in 0..REPEATS {
        for (i, variant) in VARIANTS.iter().enumerate() {
            if !selected(variant) {
                continue;
            }
            let small = measure(addr, *variant, SMALL).await?;
            let large = measure(addr, *variant, LARGE).await?;
            let events = (LARGE - SMALL) as f64;
            let per = |f: fn(&Count) -> f64| (f(&large) - f(&small)) / events;
            let per_event = PerEvent {
                allocations: per(|c| c.stats.allocations as f64),
                reallocations: per(|c| c.stats.reallocations as f64),
                bytes: per(|c| c.stats.bytes_allocated as f64),
                frames: per(|c| c.frames as f64),
            };
            eprintln!(
                "  {:<44} {:>5.2} allocs + {:>5.2} reallocs, {:>6.1} bytes per event; \
                 {:.3} frames per event",
                variant.name,
                per_event.allocations,
                per_event.reallocations,
                per_event.bytes,
                per_event.frames
            );
            results[i].push(per_event);
        }
    }
    Ok(results)
}

/// What one request cost the whole process.
struct Count {
    stats: Stats,
    frames: usize,
}

/// One request of `events` events on a fresh connection, counted from before the connect to
/// the end of the response; then checks the body, byte for byte.
async fn measure(addr: SocketAddr, variant: Variant, events: usize) -> BoxResult<Count> {
    let expected = expected_body(variant.wire, events as u64);
    let request = format!(
        "GET {}/{events} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        variant.path
    );
    // Room for the body and its chunked framing (at most about 8 bytes per event), so that
    // reading never grows the buffer.
    let mut response = Vec::with_capacity(expected.len() + events * 16 + 64 * 1024);
    let capacity = response.capacity();

    let region = Region::new(GLOBAL);
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(request.as_bytes()).await?;
    while stream.read_buf(&mut response).await? != 0 {
        if response.len() == capacity {
            return Err("the response buffer is too small".into());
        }
    }
    let stats = region.change();

    if response.capacity() != capacity {
        return Err("the response buffer grew while counting".into());
    }
    let (body, frames) = decode_chunked(&response)?;
    if body != expected {
        return Err(format!("{}: the body differs from the expected bytes", variant.path).into());
    }
    Ok(Count { stats, frames })
}

/// The body of a chunked HTTP/1.1 `200` response, and its number of chunks.
fn decode_chunked(response: &[u8]) -> BoxResult<(Vec<u8>, usize)> {
    let end = find(response, b"\r\n\r\n").ok_or("no end of headers")?;
    let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
    if !head.starts_with("http/1.1 200") || !head.contains("transfer-encoding: chunked") {
        return Err(format!("unexpected response head: {head}").into());
    }
    let mut rest = &response[end + 4..];
    let (mut body, mut frames) = (Vec::new(), 0);
    loop {
        let line = find(rest, b"\r\n").ok_or("truncated chunk size")?;
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..line])?, 16)?;
        rest = &rest[line + 2..];
        if size == 0 {
            return Ok((body, frames));
        }
        if rest.len() < size + 2 || &rest[size..size + 2] != b"\r\n" {
            return Err("truncated chunk".into());
        }
        body.extend_from_slice(&rest[..size]);
        frames += 1;
        rest = &rest[size + 2..];
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn print_table(results: &[Vec<PerEvent>]) {
    println!();
    println!(
        "Heap allocations per event, server side: ({LARGE} - {SMALL} events) of {REPEATS} \
         request pairs, median (range)"
    );
    println!(
        "| {:<44} | {:>17} | {:>17} | {:>19} | {:>19} |",
        "variant", "allocs/event", "reallocs/event", "bytes/event", "frames/event"
    );
    println!(
        "|{:-<46}|{:->19}|{:->19}|{:->21}|{:->21}|",
        "", "", "", "", ""
    );
    for (variant, runs) in VARIANTS.iter().zip(results) {
        if runs.is_empty() {
            continue;
        }
        let cell = |f: fn(&PerEvent) -> f64, digits: usize| {
            // A pair's difference can be a hair below zero: shown as 0.
            let mut values: Vec<f64> = runs.iter().map(|p| f(p).max(0.0)).collect();
            values.sort_by(f64::total_cmp);
            format!(
                "{:.digits$} ({:.digits$}-{:.digits$})",
                values[values.len() / 2],
                values[0],
                values[values.len() - 1]
            )
        };
        println!(
            "| {:<44} | {:>17} | {:>17} | {:>19} | {:>19} |",
            variant.name,
            cell(|p| p.allocations, 2),
            cell(|p| p.reallocations, 2),
            cell(|p| p.bytes, 1),
            cell(|p| p.frames, 3),
        );
    }
}
