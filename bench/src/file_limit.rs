//! How many WebSocket connections `ems bench ws` can open under the machine's file limits.
//!
//! Each connection holds one descriptor in the bench (its client socket) and one in the notifier
//! (the accepted socket). `RLIMIT_NOFILE` is per process, not shared: the notifier and support
//! are started by the bench and inherit its limit, so each process must fit the connections plus
//! what it keeps besides them. The system-wide file table is shared, so there the two sides count
//! twice.

/// Connections opened when `--connections` is not given and the limits allow it.
pub const DEFAULT_CONNECTIONS: usize = 20_000;

/// Descriptors a process keeps besides its connections, not counting its PostgreSQL pool: NATS,
/// the HTTP listener, the runtime's epoll and event descriptors, standard streams, `/proc` reads,
/// the bench's chat connection, and a margin for what libraries open.
pub const BASE_RESERVE: u64 = 128;

/// The file limits in force once the soft limit has been raised as far as it can go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileLimits {
    /// `ulimit -n` of this process, which the notifier inherits.
    pub per_process: u64,
    /// `ulimit -Hn`: how far an unprivileged user may raise `per_process`.
    pub hard: u64,
    /// Descriptors still free in the system-wide table (`/proc/sys/fs/file-nr`), if known.
    pub system_free: Option<u64>,
}

/// The number of connections to open, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub connections: usize,
    pub reason: String,
}

/// Descriptors each process keeps besides its connections, with a PostgreSQL pool of `db_pool`.
pub fn reserve(db_pool: u32) -> u64 {
    BASE_RESERVE + u64::from(db_pool)
}

/// The most connections that fit: `(limit - reserve) / 1` in each process, and half of what the
/// system has free, since both sides hold a descriptor per connection.
pub fn most_connections(limits: FileLimits, reserve: u64) -> usize {
    let per_process = limits.per_process.saturating_sub(reserve);
    let system = limits.system_free.map_or(u64::MAX, |free| free.saturating_sub(2 * reserve) / 2);
    usize::try_from(per_process.min(system)).unwrap_or(usize::MAX)
}

/// `requested` (from `--connections`) if it fits, or else an error naming the limit and how to
/// raise it; without a request, [`DEFAULT_CONNECTIONS`] or as many as fit.
pub fn choose(requested: Option<usize>, limits: FileLimits, reserve: u64) -> Result<Choice, String> {
    let most = most_connections(limits, reserve);
    let limit_text = describe(limits, reserve);
    match requested {
        Some(connections) if connections <= most => {
            Ok(Choice { connections, reason: format!("as requested; at most {most} fit ({limit_text})") })
        }
        Some(connections) => {
            let needed = connections as u64 + reserve;
            Err(format!(
                "--connections {connections} does not fit: at most {most} connections fit ({limit_text}). \
                 Raise the limit to at least {needed} (`ulimit -n {needed}` in the shell before `ems bench ws`; \
                 above the hard limit of {hard} it takes root, a `nofile` line in /etc/security/limits.conf, \
                 `LimitNOFILE=` in a systemd unit or `--ulimit nofile={needed}` for Docker{system}), \
                 or ask for at most {most} connections.",
                hard = limits.hard,
                system = if limits.system_free.is_some_and(|free| free / 2 < needed) {
                    ", and `sysctl fs.file-max` for the system-wide table"
                } else {
                    ""
                },
            ))
        }
        None if most >= DEFAULT_CONNECTIONS => Ok(Choice {
            connections: DEFAULT_CONNECTIONS,
            reason: format!("the default; at most {most} fit ({limit_text})"),
        }),
        None if most == 0 => Err(format!(
            "no connection fits ({limit_text}); raise `ulimit -n` to at least {}",
            reserve + DEFAULT_CONNECTIONS as u64
        )),
        None => Ok(Choice {
            connections: most,
            reason: format!(
                "the default {DEFAULT_CONNECTIONS} does not fit ({limit_text}); raise `ulimit -n` to {} for all of them",
                reserve + DEFAULT_CONNECTIONS as u64
            ),
        }),
    }
}

fn describe(limits: FileLimits, reserve: u64) -> String {
    let system = match limits.system_free {
        Some(free) => format!(", {free} free system-wide"),
        None => String::new(),
    };
    format!(
        "file limit {} per process, hard limit {}{system}; {reserve} kept for pools, NATS and the runtime; \
         one descriptor per connection in the bench and one in the notifier",
        limits.per_process, limits.hard
    )
}

/// Raises the soft limit to the hard limit (and the hard limit to `wanted` when running as root)
/// and reads the limits then in force. Raising first means the default fits wherever the hard
/// limit allows it, and the notifier and support, started afterwards, inherit the result.
pub fn raise_and_read(wanted: u64) -> std::io::Result<FileLimits> {
    use rlimit::Resource;
    let (_, hard) = rlimit::getrlimit(Resource::NOFILE)?;
    // Only root may raise the hard limit; never lower it (that could not be undone).
    if wanted > hard {
        let _ = rlimit::setrlimit(Resource::NOFILE, wanted, wanted);
    }
    rlimit::increase_nofile_limit(u64::MAX)?;
    let (per_process, hard) = rlimit::getrlimit(Resource::NOFILE)?;
    Ok(FileLimits { per_process, hard, system_free: system_free() })
}

/// Free entries of the system-wide file table: `max - allocated` from `/proc/sys/fs/file-nr`.
fn system_free() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/sys/fs/file-nr").ok()?;
    let fields: Vec<u64> = text.split_whitespace().filter_map(|field| field.parse().ok()).collect();
    let (allocated, max) = (*fields.first()?, *fields.get(2)?);
    Some(max.saturating_sub(allocated))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_process: u64, hard: u64) -> FileLimits {
        FileLimits { per_process, hard, system_free: None }
    }

    #[test]
    fn the_default_is_opened_when_the_limit_allows_it() {
        let choice = choose(None, limits(1_048_576, 1_048_576), reserve(10)).unwrap();
        assert_eq!(choice.connections, DEFAULT_CONNECTIONS);
        assert!(choice.reason.starts_with("the default"), "{}", choice.reason);
    }

    #[test]
    fn a_limit_of_twenty_thousand_leaves_the_reserve_out_of_the_default() {
        let choice = choose(None, limits(20_000, 20_000), reserve(10)).unwrap();
        assert_eq!(choice.connections, 20_000 - 138);
        assert!(choice.reason.contains("does not fit"), "{}", choice.reason);
        assert!(choice.reason.contains("file limit 20000 per process"), "{}", choice.reason);
        assert!(choice.reason.contains("ulimit -n` to 20138"), "{}", choice.reason);
    }

    #[test]
    fn a_larger_pool_reserves_more() {
        assert_eq!(choose(None, limits(20_000, 20_000), reserve(50)).unwrap().connections, 20_000 - 178);
    }

    #[test]
    fn the_usual_soft_limit_of_1024_still_opens_some() {
        assert_eq!(choose(None, limits(1024, 1024), reserve(10)).unwrap().connections, 1024 - 138);
    }

    #[test]
    fn both_sides_count_in_the_system_wide_table() {
        let limits = FileLimits { per_process: 1_048_576, hard: 1_048_576, system_free: Some(30_276) };
        assert_eq!(choose(None, limits, reserve(10)).unwrap().connections, 15_000);
    }

    #[test]
    fn a_request_that_fits_is_kept() {
        let choice = choose(Some(5_000), limits(20_000, 20_000), reserve(10)).unwrap();
        assert_eq!(choice.connections, 5_000);
        assert_eq!(choose(Some(19_862), limits(20_000, 20_000), reserve(10)).unwrap().connections, 19_862);
    }

    #[test]
    fn a_request_above_the_limit_names_the_limit_and_how_to_raise_it() {
        let error = choose(Some(20_000), limits(20_000, 20_000), reserve(10)).unwrap_err();
        assert!(error.contains("--connections 20000 does not fit"), "{error}");
        assert!(error.contains("at most 19862"), "{error}");
        assert!(error.contains("file limit 20000 per process"), "{error}");
        assert!(error.contains("ulimit -n 20138"), "{error}");
        assert!(error.contains("hard limit of 20000"), "{error}");
        assert!(!error.contains("fs.file-max"), "the system table is not the problem: {error}");
    }

    #[test]
    fn a_request_above_the_system_table_mentions_it() {
        let limits = FileLimits { per_process: 1_048_576, hard: 1_048_576, system_free: Some(30_000) };
        let error = choose(Some(20_000), limits, reserve(10)).unwrap_err();
        assert!(error.contains("fs.file-max"), "{error}");
    }

    #[test]
    fn no_room_at_all_is_an_error() {
        assert!(choose(None, limits(100, 100), reserve(10)).unwrap_err().contains("no connection fits"));
    }
}
