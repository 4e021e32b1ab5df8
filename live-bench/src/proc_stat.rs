//! `/proc` readings: a process's resident memory and CPU time, the machine's busy time, and a
//! wait for a quiet machine (the machines these run on are shared).

use std::process::Command;
use std::time::{Duration, Instant};

use crate::BoxResult;

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

/// A process's resident memory (`VmRSS` of `/proc/<pid>/status`), in KiB.
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
