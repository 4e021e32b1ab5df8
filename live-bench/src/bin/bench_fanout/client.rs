//! The client child of `bench_fanout`: `bench_fanout client <url> <subscribers>
//! <duration s>`.
//!
//! One current-thread tokio runtime holds every subscriber: a raw `TcpStream` that sends
//! `GET <path> HTTP/1.1`, checks the `200` and the chunked body, then decodes the chunks and
//! the SSE frames as bytes arrive, without allocating per event. Each `data:` line is a
//! `{"seq":n,"ts_us":t}`; the latency of a delivery is the time of the `read` that brought it
//! minus `t`. Each subscriber checks that its seqs run 0, 1, 2, ... with none missing or
//! repeated.
//!
//! Protocol with the parent, by lines: the client prints `ready` once every subscriber got
//! its response headers; the parent writes `end <messages>` once the publisher is done; the
//! client then waits for each subscriber to reach seq `messages − 1` (at most [`GRACE`]),
//! and prints one line of JSON, a [`Report`]. If no `end` comes within `duration` + 60 s, it
//! reports what it has.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::{BoxResult, Msg, now_us};
use live_bench::chunked::Chunked;

/// How long the subscribers may take to get the last message once the publisher is done.
const GRACE: Duration = Duration::from_secs(10);

/// Connections opened at once: well below the server's listen backlog (1024).
const BATCH: usize = 250;

/// What the client measured, over all its subscribers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    /// Messages received in order (each seq once per subscriber).
    pub deliveries: u64,
    /// Seqs that never arrived, summed over subscribers (skipped ones and a missing tail).
    pub missing: u64,
    /// Subscribers that missed at least one seq.
    pub subscribers_with_gaps: u64,
    /// Seqs that arrived again or out of order.
    pub duplicates: u64,
    /// Subscribers whose stream ended, or that were still short when the grace ran out.
    pub cut_short: u64,
    /// From the publish time of the first message to the last arrival, in µs.
    pub window_us: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub mean_us: f64,
}

pub fn run(args: &[String]) -> BoxResult<()> {
    let [url, subscribers, duration] = args else {
        return Err("usage: bench_fanout client <url> <subscribers> <duration s>".into());
    };
    let (addr, path) = parse_url(url)?;
    let subscribers: usize = subscribers.parse()?;
    let duration = Duration::from_secs_f64(duration.parse()?);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = rt.block_on(client(addr, path, subscribers, duration))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string(&report)?)?;
    out.flush()?;
    Ok(())
}

/// `http://host:port/path` into the address and the path.
fn parse_url(url: &str) -> BoxResult<(SocketAddr, Arc<str>)> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("the url must start with http://")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    Ok((authority.parse()?, path.into()))
}

async fn client(
    addr: SocketAddr,
    path: Arc<str>,
    subscribers: usize,
    duration: Duration,
) -> BoxResult<Report> {
    let (end_tx, end_rx) = watch::channel(None::<u64>);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if let Some(messages) = line.trim().strip_prefix("end ") {
                let _ = end_tx.send(messages.parse().ok());
            }
        }
        // The parent is gone before it said `end`: nothing to report to.
        if end_tx.borrow().is_none() {
            std::process::exit(2);
        }
    });
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let mut tasks = tokio::task::JoinSet::new();
    let mut opened = 0;
    while opened < subscribers {
        let batch = BATCH.min(subscribers - opened);
        for _ in 0..batch {
            tasks.spawn(subscriber(
                addr,
                path.clone(),
                ready_tx.clone(),
                end_rx.clone(),
            ));
        }
        for _ in 0..batch {
            let ready = tokio::time::timeout(Duration::from_secs(30), ready_rx.recv())
                .await
                .map_err(|_| "timed out waiting for response headers")?;
            ready.ok_or("a subscriber ended")??;
        }
        opened += batch;
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "ready")?;
        out.flush()?;
    }
    // The parent says `end` within the window plus some slack, or something went wrong.
    let cap = Instant::now() + duration + Duration::from_secs(60);
    let mut end_rx = end_rx;
    if tokio::time::timeout_at(cap, end_rx.wait_for(Option::is_some))
        .await
        .is_err()
    {
        return Err("no `end` from the parent within the duration + 60 s".into());
    }
    let mut total = Totals::default();
    while let Some(joined) = tasks.join_next().await {
        total.add(joined?);
    }
    Ok(total.report())
}

/// One subscriber's tally.
#[derive(Debug, Default)]
struct Tally {
    next: u64,
    deliveries: u64,
    missing: u64,
    duplicates: u64,
    cut_short: bool,
    first_ts_us: Option<u64>,
    last_arrival_us: u64,
    latencies_us: Vec<u32>,
}

impl Tally {
    fn record(&mut self, msg: Msg, arrival_us: u64) {
        if msg.seq < self.next {
            self.duplicates += 1;
            return;
        }
        self.missing += msg.seq - self.next;
        self.next = msg.seq + 1;
        self.deliveries += 1;
        if msg.seq == 0 {
            self.first_ts_us = Some(msg.ts_us);
        }
        self.last_arrival_us = arrival_us;
        let latency = arrival_us.saturating_sub(msg.ts_us);
        self.latencies_us
            .push(u32::try_from(latency).unwrap_or(u32::MAX));
    }
}

/// Opens one subscription, says so on `ready`, and reads it until the end is announced and
/// reached (or the grace runs out, or the stream ends).
async fn subscriber(
    addr: SocketAddr,
    path: Arc<str>,
    ready: mpsc::UnboundedSender<Result<(), String>>,
    mut end: watch::Receiver<Option<u64>>,
) -> Tally {
    let mut tally = Tally::default();
    let (mut stream, mut decoder) = match open(addr, &path).await {
        Ok(opened) => opened,
        Err(error) => {
            let _ = ready.send(Err(error.to_string()));
            tally.cut_short = true;
            return tally;
        }
    };
    let _ = ready.send(Ok(()));
    drop(ready);
    let mut buf = vec![0u8; 4096];
    let mut messages = None;
    // Far away until the end is announced, then the grace.
    let deadline = tokio::time::sleep(Duration::from_secs(24 * 3600));
    tokio::pin!(deadline);
    let mut failed = decoder.events(|msg| tally.record(msg, now_us())).is_err();
    while !failed {
        if messages.is_some_and(|m| tally.next >= m) {
            break;
        }
        tokio::select! {
            read = stream.read(&mut buf) => {
                let n = match read {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let arrival = now_us();
                failed = decoder.push(&buf[..n]).is_err()
                    || decoder.events(|msg| tally.record(msg, arrival)).is_err();
            }
            changed = end.changed(), if messages.is_none() => {
                if changed.is_err() {
                    break;
                }
                messages = *end.borrow_and_update();
                if messages.is_some() {
                    deadline.as_mut().reset(Instant::now() + GRACE);
                }
            }
            () = &mut deadline => break,
        }
    }
    let messages = messages.or(*end.borrow());
    match messages {
        Some(m) if tally.next < m => {
            tally.missing += m - tally.next;
            tally.cut_short = true;
        }
        Some(_) => {}
        None => tally.cut_short = true,
    }
    tally.cut_short |= failed;
    tally
}

/// Connects, sends the request, and reads the response head. The decoder holds what came
/// after it.
async fn open(addr: SocketAddr, path: &str) -> BoxResult<(TcpStream, Decoder)> {
    let mut stream = TcpStream::connect(addr).await?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 512];
    let end = loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err("closed before the response head".into());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if head.len() > 16 * 1024 {
            return Err("response head too long".into());
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    if !text.starts_with("http/1.1 200") {
        let status = text.lines().next().unwrap_or_default();
        return Err(format!("{path}: {status}").into());
    }
    if !text.contains("transfer-encoding: chunked") {
        return Err(format!("{path}: the body is not chunked").into());
    }
    if !text.contains("content-type: text/event-stream") {
        return Err(format!("{path}: not text/event-stream").into());
    }
    let mut decoder = Decoder::default();
    decoder.push(&head[end..])?;
    Ok((stream, decoder))
}

/// Decodes a chunked HTTP/1.1 body and the SSE events in it, incrementally.
#[derive(Debug, Default)]
struct Decoder {
    chunked: Chunked,
    /// Decoded body bytes not yet parsed as events.
    body: Vec<u8>,
}

impl Decoder {
    /// Decodes `input` into the body buffer.
    fn push(&mut self, input: &[u8]) -> Result<(), &'static str> {
        self.chunked.push(input, &mut self.body)
    }

    /// Hands every complete event's message to `each`, and drops those events.
    fn events(&mut self, mut each: impl FnMut(Msg)) -> Result<(), &'static str> {
        let mut start = 0;
        while let Some(len) = find_blank_line(&self.body[start..]) {
            let event = &self.body[start..start + len];
            start += len + 2;
            let data = event
                .split(|&b| b == b'\n')
                .filter_map(|line| line.strip_prefix(b"data:"))
                .next_back();
            // No data: a keep-alive comment.
            if let Some(data) = data {
                let data = data.strip_prefix(b" ").unwrap_or(data);
                each(serde_json::from_slice(data).map_err(|_| "data is not a message")?);
            }
        }
        self.body.drain(..start);
        if self.chunked.is_last() {
            return Err("the stream ended");
        }
        Ok(())
    }
}

/// Where the first `\n\n` of `bytes` starts.
fn find_blank_line(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|w| w == b"\n\n")
}

/// The subscribers' tallies, merged.
#[derive(Debug, Default)]
struct Totals {
    report: Report,
    first_ts_us: Option<u64>,
    last_arrival_us: u64,
    latencies_us: Vec<u32>,
}

impl Totals {
    fn add(&mut self, tally: Tally) {
        let report = &mut self.report;
        report.deliveries += tally.deliveries;
        report.missing += tally.missing;
        report.subscribers_with_gaps += u64::from(tally.missing > 0);
        report.duplicates += tally.duplicates;
        report.cut_short += u64::from(tally.cut_short);
        self.first_ts_us = match (self.first_ts_us, tally.first_ts_us) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_arrival_us = self.last_arrival_us.max(tally.last_arrival_us);
        self.latencies_us.extend_from_slice(&tally.latencies_us);
    }

    fn report(mut self) -> Report {
        let mut report = self.report;
        report.window_us = self
            .first_ts_us
            .map_or(0, |first| self.last_arrival_us.saturating_sub(first));
        let latencies = &mut self.latencies_us;
        if !latencies.is_empty() {
            let sum: u64 = latencies.iter().map(|&l| u64::from(l)).sum();
            report.mean_us = sum as f64 / latencies.len() as f64;
            latencies.sort_unstable();
            let at = |q: f64| u64::from(latencies[((latencies.len() - 1) as f64 * q) as usize]);
            report.p50_us = at(0.50);
            report.p99_us = at(0.99);
            report.max_us = at(1.0);
        }
        report
    }
}
