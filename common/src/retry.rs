//! Waiting between attempts, the same way everywhere: exponential backoff with jitter from
//! `backon` (a maintained crate, so no service hand-writes its own doubling loop), and pauses that
//! end early when the process is asked to stop.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

use crate::Shutdown;

/// Doubling waits from `min` to at most `max`, jittered so that replicas which failed together do
/// not retry together. At most three attempts unless the caller says otherwise
/// (`.with_max_times`, `.without_max_times`, `.with_total_delay`).
pub const fn backoff(min: Duration, max: Duration) -> ExponentialBuilder {
    ExponentialBuilder::new().with_min_delay(min).with_max_delay(max).with_factor(2.0).with_jitter()
}

/// Waits for `duration` unless shutdown comes first. Returns whether the whole wait passed.
pub async fn pause(duration: Duration, shutdown: &Shutdown) -> bool {
    tokio::select! {
        () = tokio::time::sleep(duration) => true,
        () = shutdown.requested() => false,
    }
}

/// The waits after consecutive failures of a loop that never gives up: the next wait grows with
/// each failure and starts again from the shortest after a success.
pub struct Failures {
    builder: ExponentialBuilder,
    waits: backon::ExponentialBackoff,
    count: u32,
}

impl Failures {
    pub fn new(min: Duration, max: Duration) -> Self {
        let builder = backoff(min, max).without_max_times();
        Self { waits: builder.build(), builder, count: 0 }
    }

    /// Records a failure and returns how long to wait before the next attempt.
    pub fn failed(&mut self) -> Duration {
        self.count += 1;
        // Without a maximum number of attempts the waits never run out.
        self.waits.next().unwrap_or_default()
    }

    pub fn succeeded(&mut self) {
        if self.count > 0 {
            self.count = 0;
            self.waits = self.builder.build();
        }
    }

    /// Failures since the last success.
    pub fn count(&self) -> u32 {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_to_the_maximum_and_start_again_after_a_success() {
        let (min, max) = (Duration::from_millis(100), Duration::from_millis(800));
        let mut failures = Failures::new(min, max);
        let waits: Vec<Duration> = (0..8).map(|_| failures.failed()).collect();
        assert_eq!(failures.count(), 8);
        // Jitter adds up to one wait's length on top.
        assert!(waits[0] >= min && waits[0] <= 2 * min, "{waits:?}");
        assert!(waits[7] >= max && waits[7] <= 2 * max, "{waits:?}");
        failures.succeeded();
        assert_eq!(failures.count(), 0);
        assert!(failures.failed() <= 2 * min);
    }

    #[tokio::test]
    async fn a_pause_ends_at_shutdown() {
        let shutdown = Shutdown::new();
        shutdown.trigger();
        let started = std::time::Instant::now();
        assert!(!pause(Duration::from_secs(60), &shutdown).await);
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(pause(Duration::from_millis(1), &Shutdown::new()).await);
    }
}
