//! The clients: raw TCP connections that churn, stall, panic the server's actions or hold
//! streams open, driven one command line at a time, in this process or in a child.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;

use super::PATIENCE;
use crate::child::ChildGuard;

/// The clients, in this process or in a child: each takes a command line and answers one line.
pub enum Clients {
    InProcess(ClientState),
    Child(ChildGuard),
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
