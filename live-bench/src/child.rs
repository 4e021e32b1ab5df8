//! Child processes of the benchmarks whose server and client are processes of their own: a
//! child whose stdout is read line by line and which is killed however the run ends, and the
//! runtime of a server child, which exits with its parent.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::BoxResult;

/// The runtime of a server child, with `workers` workers. The child exits when its parent
/// closes its stdin (or dies).
pub fn child_runtime(workers: usize) -> std::io::Result<tokio::runtime::Runtime> {
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
}

/// A child with its stdout read line by line on a thread; killed however the run ends. Its
/// stdin is a pipe: the children of these benchmarks exit when it closes.
pub struct ChildGuard {
    pub child: Child,
    lines: mpsc::Receiver<String>,
}

impl ChildGuard {
    pub fn spawn(command: &mut Command) -> BoxResult<Self> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout: ChildStdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(ChildGuard { child, lines })
    }

    pub fn expect_line(&mut self, patience: Duration) -> BoxResult<String> {
        self.lines.recv_timeout(patience).map_err(|_| {
            let status = self.child.try_wait().ok().flatten();
            format!("no line from the child in {patience:?} (exit status: {status:?})").into()
        })
    }

    pub fn say(&mut self, line: &str) -> BoxResult<()> {
        let stdin = self.child.stdin.as_mut().ok_or("no stdin")?;
        writeln!(stdin, "{line}")?;
        stdin.flush()?;
        Ok(())
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
