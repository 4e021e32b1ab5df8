//! The error log lines, kept in memory to be counted: 10,000 panic messages on the terminal
//! would drown the figures, and the panics scenario checks that each names its action.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// What was logged at `error`, once [`ErrorLogs::capture`] installed it for the process.
#[derive(Clone, Default)]
pub struct ErrorLogs(Arc<Mutex<Vec<u8>>>);

impl ErrorLogs {
    /// Installs the process's `tracing` subscriber, which writes its `error` lines here. Once
    /// per process, as any global subscriber.
    pub fn capture() -> ErrorLogs {
        let logs = ErrorLogs::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::ERROR)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        logs
    }

    /// The captured lines that contain `marker`.
    pub fn lines_with(&self, marker: &str) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter(|line| line.contains(marker))
            .map(str::to_owned)
            .collect()
    }
}

impl Write for ErrorLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
