//! Downloads over real HTTP: declared lengths sent and enforced, hostile filenames made safe.

use crate::support;

use live_runtime::prelude::*;
use live_runtime::send_stream::Download;
use std::sync::Arc;
use support::{Server, text, within};
use tokio::sync::{Notify, mpsc};

/// Downloads of 10 declared bytes that write `n` bytes, and one with a hostile name.
pub struct FilesController {
    report: mpsc::UnboundedSender<Option<ErrorKind>>,
    /// Lets a slow producer go on after its pause.
    go: Arc<Notify>,
}

#[live_controller]
impl FilesController {
    /// Writes `n` bytes after declaring 10.
    #[get("/sized/{n}")]
    pub async fn sized(
        &self,
        axum::extract::Path(n): axum::extract::Path<usize>,
        live: Live,
    ) -> live_runtime::Result {
        let report = self.report.clone();
        live.send_stream(
            Download::new("ten.bin").length(10),
            |mut stream| async move {
                let result = async {
                    for _ in 0..n {
                        stream.write("x").await?;
                    }
                    Ok::<_, Error>(())
                }
                .await;
                report.send(result.as_ref().err().map(Error::kind)).unwrap();
                result
            },
        )
        .await
    }

    /// A slow producer: declares 10 bytes, writes them, pauses until the test says go, then
    /// writes `more` bytes and ends.
    #[get("/paused/{more}")]
    pub async fn paused(
        &self,
        axum::extract::Path(more): axum::extract::Path<usize>,
        live: Live,
    ) -> live_runtime::Result {
        let (report, go) = (self.report.clone(), self.go.clone());
        live.send_stream(
            Download::new("ten.bin").length(10),
            |mut stream| async move {
                let result = async {
                    stream.write("x".repeat(10)).await?;
                    go.notified().await;
                    stream.write("x".repeat(more)).await?;
                    Ok::<_, Error>(())
                }
                .await;
                report.send(result.as_ref().err().map(Error::kind)).unwrap();
                if result.is_err() {
                    // A write to the aborted download fails too.
                    let again = stream.write("x").await;
                    report.send(again.err().map(|e| e.kind())).unwrap();
                }
                result
            },
        )
        .await
    }

    /// A filename with quotes, a backslash, CR/LF, `;` and non-ASCII letters.
    pub async fn hostile(&self, live: Live) -> live_runtime::Result {
        let name = "evil\"; filename=\"x.exe\r\nSet-Cookie: a=b;\\ résumé.csv";
        live.send_stream(Download::new(name), |mut stream| async move {
            stream.write("a,b\n").await?;
            Ok(())
        })
        .await
    }
}

async fn server() -> (Server, mpsc::UnboundedReceiver<Option<ErrorKind>>) {
    let (server, seen, _) = slow_server().await;
    (server, seen)
}

async fn slow_server() -> (
    Server,
    mpsc::UnboundedReceiver<Option<ErrorKind>>,
    Arc<Notify>,
) {
    let (report, seen) = mpsc::unbounded_channel();
    let go = Arc::new(Notify::new());
    let controller = FilesController {
        report,
        go: go.clone(),
    };
    (Server::start(controller.into_router()).await, seen, go)
}

/// Reads the body until `n` bytes have arrived (or it ended); returns them.
async fn read_at_least(response: &mut reqwest::Response, n: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < n {
        match support::next_chunk(response).await {
            Some(chunk) => got.extend_from_slice(&chunk),
            None => break,
        }
    }
    got
}

/// docs/rails-parity.md, L-32 and pain point 15, surpassed: a declared length is sent as
/// `Content-Length`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_length_is_sent() {
    let (server, mut seen) = server().await;
    let response = server.get("/files/sized/10").await;
    assert_eq!(response.headers()["content-length"], "10");
    assert!(response.headers().get("transfer-encoding").is_none());
    assert_eq!(text(response).await, "x".repeat(10));
    assert_eq!(within(seen.recv()).await.unwrap(), None);
}

/// Fetches the whole download; `Err` if the connection was aborted before its end (before or
/// after the head: an abort may come before hyper wrote anything).
async fn download(server: &Server, path: &str) -> Result<bytes::Bytes, reqwest::Error> {
    let response = within(support::client().get(server.url(path)).send()).await?;
    within(response.bytes()).await
}

/// Writing past the declared length fails in the action, and the client sees an incomplete
/// download, never a wrong one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_too_much_fails_and_aborts() {
    let (server, mut seen) = server().await;
    assert!(download(&server, "/files/sized/11").await.is_err());
    assert_eq!(
        within(seen.recv()).await.unwrap(),
        Some(ErrorKind::LengthMismatch)
    );
}

/// Ending short of the declared length aborts the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ending_short_aborts() {
    let (server, mut seen) = server().await;
    assert!(download(&server, "/files/sized/4").await.is_err());
    assert_eq!(within(seen.recv()).await.unwrap(), None);
}

/// Any filename is safe in `Content-Disposition`: escaped, never a header injection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_filename_is_escaped() {
    let (server, _) = server().await;
    let response = server.get("/files/hostile").await;
    assert!(response.headers().get("set-cookie").is_none());
    let disposition = response.headers()["content-disposition"].to_str().unwrap();
    assert_eq!(
        disposition,
        "attachment; filename=\"evil%22%3B filename%3D%22x.exe%0D%0ASet-Cookie%3A a%3Db%3B%5C resume.csv\"; \
         filename*=UTF-8''evil%22%3B%20filename%3D%22x.exe%0D%0ASet-Cookie%3A%20a%3Db%3B%5C%20r%C3%A9sum%C3%A9.csv"
    );
    assert_eq!(response.headers()["content-type"], "text/csv");
}

/// A slow producer that writes past the declared length after a pause gets `LengthMismatch`,
/// and the client, which had all 10 declared bytes' worth of time to read, never sees a
/// complete response: the last declared byte waits for the action to end the stream. (It
/// used to go out at once: hyper ended a complete-looking 10-byte response, and the late
/// write got `ClientDisconnected`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_too_much_after_a_pause_fails_and_aborts() {
    let (server, mut seen, go) = slow_server().await;
    let mut response = server.get("/files/paused/1").await;
    let mut got = read_at_least(&mut response, 9).await;
    assert_eq!(
        got,
        b"x".repeat(9),
        "more than 9 bytes before the action ended"
    );
    go.notify_one();
    loop {
        match within(response.chunk()).await {
            Ok(Some(chunk)) => got.extend_from_slice(&chunk),
            Ok(None) => panic!("a complete-looking response of {} bytes", got.len()),
            Err(_) => break,
        }
    }
    assert!(got.len() < 10, "{} bytes", got.len());
    assert_eq!(
        within(seen.recv()).await.unwrap(),
        Some(ErrorKind::LengthMismatch)
    );
    assert_eq!(within(seen.recv()).await.unwrap(), Some(ErrorKind::Closed));
}

/// A slow producer that writes exactly the declared length and ends after a pause: the
/// client gets the whole download once the action ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_length_after_a_pause_completes() {
    let (server, mut seen, go) = slow_server().await;
    let mut response = server.get("/files/paused/0").await;
    let mut got = read_at_least(&mut response, 9).await;
    go.notify_one();
    assert_eq!(within(seen.recv()).await.unwrap(), None);
    got.extend_from_slice(text(response).await.as_bytes());
    assert_eq!(got, b"x".repeat(10));
}
