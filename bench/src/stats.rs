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

/// One Prometheus histogram as a service's `/metrics` shows it, summed over its label sets:
/// `(upper bound, cumulative count)` by bound, the last bound infinite. Read from the text
/// format's `<name>_bucket{…,le="…"} <count>` lines, the only ones needed here.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram(Vec<(f64, f64)>);

impl Histogram {
    /// The histogram `name` summed over every text in `texts` (one scrape per process).
    pub fn scrape(texts: &[String], name: &str) -> Histogram {
        let prefix = format!("{name}_bucket{{");
        let mut buckets: Vec<(f64, f64)> = Vec::new();
        for line in texts.iter().flat_map(|text| text.lines()) {
            let Some(rest) = line.strip_prefix(&prefix) else { continue };
            let Some((labels, count)) = rest.rsplit_once("} ") else { continue };
            let Some(bound) = labels.split("le=\"").nth(1).and_then(|le| le.split('"').next()) else { continue };
            let bound = if bound == "+Inf" { f64::INFINITY } else { bound.parse().unwrap_or(f64::NAN) };
            let Ok(count) = count.trim().parse::<f64>() else { continue };
            match buckets.iter_mut().find(|(known, _)| *known == bound) {
                Some((_, sum)) => *sum += count,
                None if !bound.is_nan() => buckets.push((bound, count)),
                None => {}
            }
        }
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        Histogram(buckets)
    }

    /// What was recorded after `before` was scraped.
    pub fn since(&self, before: &Histogram) -> Histogram {
        let earlier = |bound: f64| before.0.iter().find(|(known, _)| *known == bound).map_or(0.0, |(_, count)| *count);
        Histogram(self.0.iter().map(|(bound, count)| (*bound, count - earlier(*bound))).collect())
    }

    pub fn count(&self) -> f64 {
        self.0.last().map_or(0.0, |(_, count)| *count)
    }

    /// The `q` quantile, interpolated linearly inside its bucket as Prometheus's
    /// `histogram_quantile` does (so it is as fine as the buckets: 0.5 ms to 10 ms apart below
    /// 100 ms). `None` when nothing was recorded; the highest finite bound when the quantile lies
    /// beyond it.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let total = self.count();
        if total <= 0.0 {
            return None;
        }
        let rank = q * total;
        let (mut lower, mut below) = (0.0, 0.0);
        for (bound, count) in &self.0 {
            if *count >= rank {
                if bound.is_infinite() {
                    return Some(Duration::from_secs_f64(lower));
                }
                let share = if count > &below { (rank - below) / (count - below) } else { 1.0 };
                return Some(Duration::from_secs_f64(lower + (bound - lower) * share));
            }
            (lower, below) = (*bound, *count);
        }
        Some(Duration::from_secs_f64(lower))
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

    const SCRAPE: &str = "# TYPE stage_seconds histogram\n\
        stage_seconds_bucket{replica=\"1\",le=\"0.001\"} 10\n\
        stage_seconds_bucket{replica=\"1\",le=\"0.01\"} 90\n\
        stage_seconds_bucket{replica=\"1\",le=\"+Inf\"} 100\n\
        stage_seconds_sum{replica=\"1\"} 0.5\n\
        stage_seconds_count{replica=\"1\"} 100\n\
        stage_seconds_bucket{replica=\"2\",le=\"0.001\"} 0\n\
        stage_seconds_bucket{replica=\"2\",le=\"0.01\"} 0\n\
        stage_seconds_bucket{replica=\"2\",le=\"+Inf\"} 100\n\
        other_seconds_bucket{le=\"0.001\"} 7\n";

    #[test]
    fn a_histogram_is_summed_over_label_sets_and_its_quantiles_interpolated_within_a_bucket() {
        let histogram = Histogram::scrape(&[SCRAPE.to_owned()], "stage_seconds");
        assert_eq!(histogram.count(), 200.0);
        // 10 of 200 below 1 ms: the 5th percentile is the first bucket's top.
        assert_eq!(histogram.quantile(0.05), Some(Duration::from_millis(1)));
        // The 40th is the 30th of the 80 between 1 and 10 ms.
        let p20 = histogram.quantile(0.2).expect("recorded");
        assert!((p20.as_secs_f64() - (0.001 + 0.009 * 30.0 / 80.0)).abs() < 1e-9, "{p20:?}");
        // The median (the 100th) lies beyond the last finite bound: that bound.
        assert_eq!(histogram.quantile(0.5), Some(Duration::from_millis(10)));
    }

    #[test]
    fn what_was_recorded_between_two_scrapes_is_their_difference() {
        let before = Histogram::scrape(&[SCRAPE.to_owned()], "stage_seconds");
        let later = SCRAPE
            .replace("le=\"0.01\"} 90", "le=\"0.01\"} 170")
            .replace("replica=\"1\",le=\"+Inf\"} 100", "replica=\"1\",le=\"+Inf\"} 180");
        let since = Histogram::scrape(&[later], "stage_seconds").since(&before);
        assert_eq!(since.count(), 80.0);
        // All 80 fell between 1 and 10 ms: the median is half-way.
        let median = since.quantile(0.5).expect("recorded");
        assert!((median.as_secs_f64() - 0.0055).abs() < 1e-9, "{median:?}");
        assert_eq!(Histogram::default().quantile(0.5), None);
    }
}
