//! Child processes and `/proc` readings for benchmarks whose server and client are processes
//! of their own: a child whose stdout is read line by line and which is killed however the run
//! ends, a process's CPU time, the machine's busy time, and a wait for a quiet machine.
//!
//! Made for `examples/bench.rs --cross-process` from the code of `examples/bench_fanout.rs`,
//! and self-contained (no `super::`) so that any example can include it with
//! `#[path = "bench_remote/procs.rs"] mod procs;`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub type BoxResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

// ---------------------------------------------------------------------------------------------
// Processes

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

/// Waits until the whole machine has been at most 5% busy for 2 s in a row, or `patience`
/// has passed.
pub fn wait_idle(patience: Duration) -> BoxResult<()> {
    let start = Instant::now();
    let mut idle_since = Instant::now();
    while start.elapsed() < patience {
        let (busy, total) = (busy_ticks()?, total_ticks()?);
        std::thread::sleep(Duration::from_millis(250));
        let share = busy_ticks()?.saturating_sub(busy) as f64
            / total_ticks()?.saturating_sub(total).max(1) as f64;
        if share > 0.05 {
            idle_since = Instant::now();
        } else if idle_since.elapsed() >= Duration::from_secs(2) {
            return Ok(());
        }
    }
    eprintln!("  (the machine was not idle within {patience:?}; going on)");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// /proc

pub fn vm_rss_kib(pid: u32) -> BoxResult<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .ok_or("no VmRSS")?;
    Ok(line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?)
}

/// utime + stime of a process, in clock ticks (fields 14 and 15 of `/proc/<pid>/stat`).
pub fn cpu_ticks(pid: u32) -> BoxResult<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name, field 2, is in parentheses and may hold spaces.
    let after_name = &stat[stat.rfind(')').ok_or("bad stat")? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    Ok(fields[11].parse::<u64>()? + fields[12].parse::<u64>()?)
}

/// The first line of `/proc/stat`: user nice system idle iowait irq softirq steal (guest time
/// is in user already), summed over the CPUs, in clock ticks.
fn machine_ticks() -> BoxResult<Vec<u64>> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let cpu = stat.lines().next().ok_or("empty /proc/stat")?;
    let ticks: Vec<u64> = cpu
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    if ticks.len() < 8 {
        return Err("short /proc/stat".into());
    }
    Ok(ticks)
}

/// Busy clock ticks of the whole machine: all but idle and iowait.
pub fn busy_ticks() -> BoxResult<u64> {
    let ticks = machine_ticks()?;
    Ok(ticks.iter().sum::<u64>() - ticks[3] - ticks[4])
}

pub fn total_ticks() -> BoxResult<u64> {
    Ok(machine_ticks()?.iter().sum())
}

/// `getconf CLK_TCK`, 100 on Linux unless proven otherwise.
pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}
