//! Small measuring helpers: percentiles and a process's peak memory.

use std::time::Duration;

/// The `q` quantile (0..=1) of already sorted samples, nearest-rank.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Peak resident memory of a process (VmHWM), in KiB, from Linux's /proc.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}

/// Current resident memory of a process (VmRSS), in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU time (user and system) a process has used so far, in seconds, from /proc/<pid>/stat.
/// Linux counts it there in USER_HZ ticks, which are 100 a second on every architecture.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields start after its last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, so 12 and 13 after the name.
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// The processes whose command name is `name` (`postgres`, `beam.smp`, …).
pub fn pids_named(name: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == name))
        .collect()
}

/// The processes a part of a run consists of: known ones, or all that have a command name (so
/// that server processes started during the run, such as PostgreSQL backends, are counted).
#[derive(Clone, Debug)]
pub enum Processes {
    Pids(Vec<u32>),
    Named(&'static str),
}

impl Processes {
    fn pids(&self) -> Vec<u32> {
        match self {
            Processes::Pids(pids) => pids.clone(),
            Processes::Named(name) => pids_named(name),
        }
    }
}

/// CPU time so far of each process of named parts, to tell which part of a run was busiest.
#[derive(Clone, Debug, Default)]
pub struct CpuTimes(Vec<(String, Vec<(u32, f64)>)>);

impl CpuTimes {
    pub fn now(parts: &[(String, Processes)]) -> Self {
        Self(
            parts
                .iter()
                .map(|(label, processes)| {
                    let times = processes.pids().into_iter().filter_map(|pid| Some((pid, cpu_seconds(pid)?))).collect();
                    (label.clone(), times)
                })
                .collect(),
        )
    }

    /// Cores each part kept busy on average from `earlier` to this, busiest first. A process
    /// that started in between counts from zero.
    pub fn cores_since(&self, earlier: &CpuTimes, elapsed: std::time::Duration) -> Vec<(String, f64)> {
        let mut cores: Vec<(String, f64)> = self
            .0
            .iter()
            .zip(&earlier.0)
            .map(|((label, now), (_, before))| {
                let used: f64 = now
                    .iter()
                    .map(|(pid, seconds)| {
                        let start = before.iter().find(|(earlier_pid, _)| earlier_pid == pid).map_or(0.0, |(_, s)| *s);
                        (seconds - start).max(0.0)
                    })
                    .sum();
                (label.clone(), used / elapsed.as_secs_f64())
            })
            .collect();
        cores.sort_by(|a, b| b.1.total_cmp(&a.1));
        cores
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&samples, 0.5), Duration::from_millis(50));
        assert_eq!(percentile(&samples, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }

    #[test]
    fn this_process_uses_cpu_time_and_is_found_by_its_name() {
        let started = std::time::Instant::now();
        let mut spin = 0u64;
        while started.elapsed() < std::time::Duration::from_millis(300) {
            spin = spin.wrapping_add(1);
        }
        assert!(spin > 0);
        assert!(cpu_seconds(std::process::id()).unwrap() >= 0.1);
        let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
        assert!(pids_named(comm.trim()).contains(&std::process::id()));
    }

    #[test]
    fn this_process_has_a_peak_rss() {
        assert!(peak_rss_kib(std::process::id()).unwrap() > 0);
    }
}
