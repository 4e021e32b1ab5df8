//! The reliability scenarios of RELIABILITY.md (churn, stalled clients, panics, shutdown):
//! the app under test, the clients, and each scenario's run, which returns its figures.
//!
//! `examples/reliability.rs` runs them at full size with the clients in a child process (this
//! binary re-run as `reliability client`), so the server's RSS is its own;
//! `tests/it/reliability.rs` runs them scaled down with the clients in-process. Both drive
//! the clients through [`Clients`], one command line at a time, so the scenarios are the same
//! code either way.

#![allow(dead_code)]

#[path = "../common/mod.rs"]
pub mod common;
#[path = "../bench_remote/procs.rs"]
pub mod procs;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use live_runtime::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// How long a write waits on a client that stopped reading (the controller's
/// `write_timeout_ms`), and how long the server waits on a socket that accepts no bytes
/// before closing it (`serve_on`'s write stall timeout): longer, so that the action ends by
/// its write timeout, as documented, before its socket is closed.
pub const WRITE_TIMEOUT: Duration = Duration::from_millis(1000);
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_millis(2000);
/// The flood's chunk: each a fresh allocation, as real payloads are.
pub const FLOOD_CHUNK: usize = 4096;
/// Live's default buffer, in chunks (`Buffer::Chunks(10)`).
pub const BUFFER_CHUNKS: usize = 10;
/// How long any one step may take before the scenario fails.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// The examples' limits but for the write stall timeout, [`WRITE_STALL_TIMEOUT`].
pub fn limits() -> common::Limits {
    common::Limits {
        write_stall: Some(WRITE_STALL_TIMEOUT),
        ..common::Limits::default()
    }
}

/// What the actions saw, per app (the tests run several apps in one process).
#[derive(Default)]
pub struct Seen {
    /// `first` actions that saw their client leave.
    pub first_gone: AtomicUsize,
    /// `flood` actions ended by the write timeout.
    pub flood_timeouts: AtomicUsize,
    /// `sse`/`raw` actions that queued their `queued` event.
    pub queued: AtomicUsize,
    /// `sse`/`raw` actions whose `disconnected()` resolved (the shutdown).
    pub disconnected: AtomicUsize,
    /// Set to `true`: every `sse`/`raw` action writes its `queued` event.
    pub queue: watch::Sender<bool>,
}

pub struct ReliabilityController {
    pub seen: Arc<Seen>,
}

#[live_controller(path = "/rel", write_timeout_ms = 1000)]
impl ReliabilityController {
    /// One SSE event, then waits for the client to leave.
    pub async fn first(&self, live: Live) -> live_runtime::Result {
        let mut sse = live.sse(SseOptions::new().keep_alive(None));
        sse.write("hello").await?;
        sse.stream().disconnected().await;
        self.seen.first_gone.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// 4 KiB chunks as fast as the client takes them, forever.
    pub async fn flood(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        loop {
            if let Err(error) = stream.write(vec![b'x'; FLOOD_CHUNK]).await {
                if error.kind() == ErrorKind::WriteTimeout {
                    self.seen.flood_timeouts.fetch_add(1, Ordering::Relaxed);
                }
                return Err(error);
            }
        }
    }

    /// Panics before it answers: a 500.
    pub async fn panic_before(&self, live: Live) -> live_runtime::Result {
        drop(live);
        panic!("reliability: panic before commit");
    }

    /// Panics after its first chunk went out: the stream is cut.
    pub async fn panic_after(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.write("first\n").await?;
        panic!("reliability: panic after commit");
    }

    /// An SSE stream with keep-alives: `first`, then `queued` when told, then waits.
    pub async fn sse(&self, live: Live) -> live_runtime::Result {
        let mut sse = live.sse(SseOptions::new().keep_alive(Some(Duration::from_secs(1))));
        sse.write("first").await?;
        if self.told_to_queue(sse.stream()).await {
            sse.write("queued").await?;
            self.seen.queued.fetch_add(1, Ordering::Relaxed);
        }
        self.until_disconnected(sse.stream()).await
    }

    /// The same as a raw stream.
    pub async fn raw(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.writeln("first").await?;
        if self.told_to_queue(&stream).await {
            stream.writeln("queued").await?;
            self.seen.queued.fetch_add(1, Ordering::Relaxed);
        }
        self.until_disconnected(&stream).await
    }
}

impl ReliabilityController {
    /// Whether the scenario said to queue before the stream ended.
    async fn told_to_queue(&self, stream: &LiveStream) -> bool {
        let mut queue = self.seen.queue.subscribe();
        tokio::select! {
            told = queue.wait_for(|queue| *queue) => told.is_ok(),
            () = stream.disconnected() => false,
        }
    }

    async fn until_disconnected(&self, stream: &LiveStream) -> live_runtime::Result {
        stream.disconnected().await;
        self.seen.disconnected.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// The app on a loopback port, served by the examples' `serve_on` until `stop` fires.
pub struct App {
    pub addr: SocketAddr,
    pub shutdown: Shutdown,
    pub seen: Arc<Seen>,
    stop: Option<oneshot::Sender<()>>,
    served: JoinHandle<()>,
}

impl App {
    /// Served within `limits` (see [`limits`]).
    pub async fn start(limits: common::Limits) -> App {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let seen = Arc::new(Seen::default());
        let router = ReliabilityController { seen: seen.clone() }
            .into_router()
            .layer(shutdown.layer());
        let (stop, stopped) = oneshot::channel::<()>();
        let signal = shutdown.begin_after(async move {
            let _ = stopped.await;
        });
        let served = tokio::spawn(common::serve_on(listener, router, limits, signal));
        App {
            addr,
            shutdown,
            seen,
            stop: Some(stop),
            served,
        }
    }

    /// Waits until every live action of the app has ended and hyper let go of its body.
    pub async fn nothing_left(&self) {
        wait_for("every live action and body gone", || {
            self.shutdown.live_actions() == 0
        })
        .await;
    }
}

/// Waits until `condition` holds, checking every few milliseconds (for counters, which have
/// no event to wait on); panics after [`PATIENCE`].
pub async fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// This process's resident memory, in KiB.
pub fn rss_kib() -> u64 {
    procs::vm_rss_kib(std::process::id()).expect("/proc/self/status")
}

// ---------------------------------------------------------------------------------------------
// The clients

/// The clients, in this process or in a child: each takes a command line and answers one line.
pub enum Clients {
    InProcess(ClientState),
    Child(procs::ChildGuard),
}

impl Clients {
    pub fn in_process(addr: SocketAddr) -> Clients {
        Clients::InProcess(ClientState::new(addr))
    }

    /// Runs `command`, and returns its answer split in words.
    pub async fn run(&mut self, command: &str) -> Vec<String> {
        let answer = match self {
            Clients::InProcess(state) => state.execute(command).await,
            // The child answers on a pipe: wait for it off the runtime's workers' duties.
            Clients::Child(child) => tokio::task::block_in_place(|| {
                child.say(command).expect("the client child reads");
                child
                    .expect_line(PATIENCE)
                    .expect("the client child answers")
            }),
        };
        answer.split_whitespace().map(str::to_owned).collect()
    }
}

/// `key=value` of an answer, as a number.
pub fn field(answer: &[String], key: &str) -> u64 {
    answer
        .iter()
        .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key}= in {answer:?}"))
        .parse()
        .expect("a number")
}

/// The clients' side: what they hold between commands.
pub struct ClientState {
    addr: SocketAddr,
    stalled: Vec<TcpStream>,
    readers: Vec<JoinHandle<StreamEnd>>,
}

/// How a stream read to its end ended.
struct StreamEnd {
    clean: bool,
    queued: bool,
}

impl ClientState {
    pub fn new(addr: SocketAddr) -> ClientState {
        ClientState {
            addr,
            stalled: Vec::new(),
            readers: Vec::new(),
        }
    }

    /// Runs one command line (see each arm), and answers one line.
    pub async fn execute(&mut self, command: &str) -> String {
        let addr = self.addr;
        let words: Vec<&str> = command.split_whitespace().collect();
        let number = |i: usize| -> usize { words[i].parse().expect("a number") };
        match words[0] {
            // `churn <n> <concurrency>`: n clients that read the first event and leave, half
            // with a reset (SO_LINGER 0), half with a FIN.
            "churn" => {
                let failed = AtomicUsize::new(0);
                futures_util::stream::iter(0..number(1))
                    .for_each_concurrent(number(2), |i| {
                        let failed = &failed;
                        async move {
                            match first_event(addr, "/rel/first").await {
                                Ok(stream) if i % 2 == 0 => {
                                    let _ = stream.set_zero_linger();
                                }
                                Ok(_) => {}
                                Err(_) => {
                                    failed.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                    })
                    .await;
                format!("churned failed={}", failed.into_inner())
            }
            // `stall <n>`: n clients that read the flood's head, then stop reading.
            "stall" => {
                for _ in 0..number(1) {
                    let mut stream = request(self.addr, "/rel/flood", true).await.unwrap();
                    read_until(&mut stream, b"\r\n\r\n").await.unwrap();
                    self.stalled.push(stream);
                }
                format!("stalled n={}", self.stalled.len())
            }
            // `probe <n>`: n fresh streams one after the other; the time to each first event,
            // in microseconds.
            "probe" => {
                let mut micros = Vec::new();
                for _ in 0..number(1) {
                    let start = Instant::now();
                    first_event(self.addr, "/rel/first").await.unwrap();
                    micros.push(start.elapsed().as_micros());
                }
                micros.sort_unstable();
                format!(
                    "probe min={} median={} max={}",
                    micros[0],
                    micros[micros.len() / 2],
                    micros[micros.len() - 1]
                )
            }
            // `release`: the stalled clients reset their connections.
            "release" => {
                for stream in self.stalled.drain(..) {
                    let _ = stream.set_zero_linger();
                }
                "released".into()
            }
            // `panic <n> <concurrency>`: n requests, alternately to an action that panics
            // before it answers and one that panics after; how each was answered.
            "panic" => {
                let counts: [AtomicUsize; 4] = Default::default();
                futures_util::stream::iter(0..number(1))
                    .for_each_concurrent(number(2), |i| {
                        let counts = &counts;
                        async move {
                            let path = ["/rel/panic_before", "/rel/panic_after"][i % 2];
                            counts[answer_kind(addr, path).await as usize]
                                .fetch_add(1, Ordering::Relaxed);
                        }
                    })
                    .await;
                let [status_500, cut, complete, failed] = counts.map(AtomicUsize::into_inner);
                format!("panics 500={status_500} cut={cut} complete={complete} failed={failed}")
            }
            // `open <n>`: n streams, alternately SSE and raw, each read on from its first
            // event to its end by a task of its own.
            "open" => {
                let opened: Vec<TcpStream> = futures_util::stream::iter(0..number(1))
                    .map(|i| first_event(self.addr, ["/rel/sse", "/rel/raw"][i % 2]))
                    .buffered(200)
                    .map(|stream| stream.expect("a stream opens"))
                    .collect()
                    .await;
                self.readers.extend(
                    opened
                        .into_iter()
                        .map(|stream| tokio::spawn(read_to_end(stream))),
                );
                format!("open n={}", self.readers.len())
            }
            // `ends`: how the opened streams ended: with the chunked encoding's last chunk, and
            // with the `queued` event.
            "ends" => {
                let (mut clean, mut queued, mut total) = (0, 0, 0);
                for reader in self.readers.drain(..) {
                    let end = reader.await.unwrap();
                    total += 1;
                    clean += usize::from(end.clean);
                    queued += usize::from(end.queued);
                }
                format!("ends total={total} clean={clean} queued={queued}")
            }
            other => panic!("unknown client command {other:?}"),
        }
    }
}

/// Connects (with a small receive buffer if `small`, so a client that stops reading holds
/// little in its kernel) and sends `GET path`.
async fn request(addr: SocketAddr, path: &str, small: bool) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    if small {
        socket.set_recv_buffer_size(4096)?;
    }
    let mut stream = socket.connect(addr).await?;
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: reliability\r\n\r\n").as_bytes())
        .await?;
    Ok(stream)
}

/// A stream of `path` once its first event (SSE or line) has arrived.
async fn first_event(addr: SocketAddr, path: &str) -> std::io::Result<TcpStream> {
    let mut stream = request(addr, path, false).await?;
    let marker: &[u8] = if path == "/rel/raw" {
        b"first\n"
    } else {
        b"\n\n"
    };
    // The head ends with a blank line too: the marker must come after it.
    let head = read_until(&mut stream, b"\r\n\r\n").await?;
    let body_start = head.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    if !head[body_start..]
        .windows(marker.len())
        .any(|w| w == marker)
    {
        read_until(&mut stream, marker).await?;
    }
    Ok(stream)
}

/// Reads until `needle` has arrived; everything read. An early end is an error.
async fn read_until(stream: &mut TcpStream, needle: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0; 4096];
    while !out.windows(needle.len()).any(|w| w == needle) {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        out.extend_from_slice(&buf[..n]);
    }
    Ok(out)
}

/// How a request was answered: `0` a 500, `1` a cut stream (200 without the last chunk),
/// `2` a complete 200, `3` no answer.
async fn answer_kind(addr: SocketAddr, path: &str) -> u8 {
    let Ok(mut stream) = request(addr, path, false).await else {
        return 3;
    };
    let mut out = Vec::new();
    // A 500 keeps the connection open for the next request: read its body by its length.
    let read = tokio::time::timeout(PATIENCE, async {
        let mut buf = [0; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
            if out.starts_with(b"HTTP/1.1 500") && complete_by_length(&out) {
                return;
            }
        }
    })
    .await;
    match () {
        () if read.is_err() => 3,
        () if out.starts_with(b"HTTP/1.1 500") => 0,
        () if out.starts_with(b"HTTP/1.1 200") && out.ends_with(b"\r\n0\r\n\r\n") => 2,
        () if out.starts_with(b"HTTP/1.1 200") => 1,
        () => 3,
    }
}

/// Whether a response with a `content-length` has all its body.
fn complete_by_length(response: &[u8]) -> bool {
    let text = String::from_utf8_lossy(response);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    head.lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("content-length: ")?
                .parse()
                .ok()
        })
        .is_some_and(|length: usize| body.len() >= length)
}

/// Reads an opened stream to its end: clean if the chunked encoding's last chunk came.
async fn read_to_end(mut stream: TcpStream) -> StreamEnd {
    let mut tail = Vec::new();
    let mut queued = false;
    let mut buf = [0; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                // Enough of the past to find a marker split across reads.
                tail.extend_from_slice(&buf[..n]);
                queued |= tail.windows(6).any(|w| w == b"queued");
                let keep = tail.len().saturating_sub(16);
                tail.drain(..keep);
            }
        }
    }
    StreamEnd {
        clean: tail.ends_with(b"\r\n0\r\n\r\n"),
        queued,
    }
}

/// The client child's loop: a command per line on stdin, an answer per line on stdout.
pub async fn client_child(addr: SocketAddr) {
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut state = ClientState::new(addr);
    while let Some(line) = lines.recv().await {
        println!("{}", state.execute(&line).await);
    }
}

// ---------------------------------------------------------------------------------------------
// The scenarios

/// What `churn` measured.
#[derive(Debug)]
pub struct Churn {
    pub clients: usize,
    pub failed: u64,
    pub seconds: f64,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    /// Actions that saw their client leave (warm-up included).
    pub actions_saw_gone: usize,
    /// `live_runtime::stats()` once every client was gone.
    pub stats_after: live_runtime::Stats,
    /// A fresh stream's first event after the churn, in microseconds.
    pub served_after_us: u64,
}

/// `n` clients that read the first event and leave (half reset, half FIN), after `n` more
/// of warm-up (the allocator's and the runtime's steady state).
pub async fn churn(app: &App, clients: &mut Clients, n: usize) -> Churn {
    clients.run(&format!("churn {n} 100")).await;
    app.nothing_left().await;
    let rss_before_kib = rss_kib();
    let start = Instant::now();
    let answer = clients.run(&format!("churn {n} 100")).await;
    app.nothing_left().await;
    let seconds = start.elapsed().as_secs_f64();
    let rss_after_kib = rss_kib();
    let stats_after = live_runtime::stats();
    // Read before the probe, whose own action may see its client go before or after this.
    let actions_saw_gone = app.seen.first_gone.load(Ordering::Relaxed);
    let probe = clients.run("probe 1").await;
    Churn {
        clients: n,
        failed: field(&answer, "failed"),
        seconds,
        rss_before_kib,
        rss_after_kib,
        actions_saw_gone,
        stats_after,
        served_after_us: field(&probe, "median"),
    }
}

/// What `stalled` measured.
#[derive(Debug)]
pub struct Stalled {
    pub clients: usize,
    pub rss_before_kib: u64,
    /// Once every flood action had ended by its write timeout.
    pub rss_stalled_kib: u64,
    /// Seconds from the last stalled client's head to every action ended.
    pub timeouts_seconds: f64,
    pub write_timeouts: usize,
    /// A fresh stream's first event while the stalled clients were held: min, median, max, in
    /// microseconds (of 20).
    pub probe_us: [u64; 3],
    /// Bodies (connections) the server still held once every action had ended, and after how
    /// long they were all gone (`None`: still held after the stall timeout and a second).
    pub bodies_held_at_timeouts: usize,
    pub bodies_gone_seconds: Option<f64>,
    pub rss_after_kib: u64,
}

/// `n` clients that stop reading an endless stream; fresh streams meanwhile.
pub async fn stalled(app: &App, clients: &mut Clients, n: usize) -> Stalled {
    let rss_before_kib = rss_kib();
    clients.run(&format!("stall {n}")).await;
    let stalled_at = Instant::now();
    let probe = clients.run("probe 20").await;
    wait_for("every flood action ended by its write timeout", || {
        app.seen.flood_timeouts.load(Ordering::Relaxed) == n
    })
    .await;
    let timeouts_seconds = stalled_at.elapsed().as_secs_f64();
    let rss_stalled_kib = rss_kib();
    let bodies_held_at_timeouts = app.shutdown.live_actions();
    // Bodies go once hyper gives up on their sockets: the stall timeout, if the server has
    // one, after the last write that went through.
    let ended_at = Instant::now();
    let limit = WRITE_STALL_TIMEOUT + Duration::from_secs(1);
    while app.shutdown.live_actions() > 0 && ended_at.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let bodies_gone_seconds =
        (app.shutdown.live_actions() == 0).then(|| stalled_at.elapsed().as_secs_f64());
    clients.run("release").await;
    app.nothing_left().await;
    Stalled {
        clients: n,
        rss_before_kib,
        rss_stalled_kib,
        timeouts_seconds,
        write_timeouts: app.seen.flood_timeouts.load(Ordering::Relaxed),
        probe_us: ["min", "median", "max"].map(|key| field(&probe, key)),
        bodies_held_at_timeouts,
        bodies_gone_seconds,
        rss_after_kib: rss_kib(),
    }
}

/// What `panics` measured.
#[derive(Debug)]
pub struct Panics {
    pub requests: usize,
    pub status_500: u64,
    pub cut: u64,
    pub complete: u64,
    pub unanswered: u64,
    pub seconds: f64,
    /// A fresh stream's first event afterwards, in microseconds.
    pub served_after_us: u64,
}

/// `n` requests, half to an action that panics before it answers, half after.
pub async fn panics(app: &App, clients: &mut Clients, n: usize) -> Panics {
    let start = Instant::now();
    let answer = clients.run(&format!("panic {n} 100")).await;
    let seconds = start.elapsed().as_secs_f64();
    app.nothing_left().await;
    let probe = clients.run("probe 1").await;
    Panics {
        requests: n,
        status_500: field(&answer, "500"),
        cut: field(&answer, "cut"),
        complete: field(&answer, "complete"),
        unanswered: field(&answer, "failed"),
        seconds,
        served_after_us: field(&probe, "median"),
    }
}

/// What `shutdown` measured.
#[derive(Debug)]
pub struct ShutdownRun {
    pub streams: usize,
    /// Seconds to open them all.
    pub open_seconds: f64,
    /// From `Shutdown::begin` to the server's return (every connection closed), and to
    /// `Shutdown::finished` (every action ended).
    pub served_seconds: f64,
    pub finished_seconds: f64,
    pub ended_clean: u64,
    pub got_queued: u64,
    pub saw_disconnected: usize,
}

/// `n` open streams (half SSE with keep-alives, half raw) each with an event queued, then a
/// graceful shutdown.
pub async fn shutdown(mut app: App, clients: &mut Clients, n: usize) -> ShutdownRun {
    let start = Instant::now();
    clients.run(&format!("open {n}")).await;
    let open_seconds = start.elapsed().as_secs_f64();
    app.seen.queue.send_replace(true);
    wait_for("every stream queued its event", || {
        app.seen.queued.load(Ordering::Relaxed) == n
    })
    .await;
    let begun = Instant::now();
    let _ = app.stop.take().unwrap().send(());
    tokio::time::timeout(PATIENCE, &mut app.served)
        .await
        .expect("the server stops")
        .unwrap();
    let served_seconds = begun.elapsed().as_secs_f64();
    tokio::time::timeout(PATIENCE, app.shutdown.finished())
        .await
        .expect("every action ends");
    let finished_seconds = begun.elapsed().as_secs_f64();
    let ends = clients.run("ends").await;
    ShutdownRun {
        streams: n,
        open_seconds,
        served_seconds,
        finished_seconds,
        ended_clean: field(&ends, "clean"),
        got_queued: field(&ends, "queued"),
        saw_disconnected: app.seen.disconnected.load(Ordering::Relaxed),
    }
}
