//! Acknowledging source deliveries in order. Readings finish out of order (they go to different
//! replicas, whose batches are confirmed at different times), but one `basic.ack` with
//! `multiple = true` can settle every delivery up to a tag. This tracks the highest tag below
//! which everything is finished, so one frame acknowledges many readings.

use std::collections::BTreeSet;

#[derive(Debug, Default)]
pub struct AckTracker {
    /// Every tag up to and including this one is finished.
    finished_through: u64,
    /// Finished tags above `finished_through`, waiting for a gap to close.
    finished_ahead: BTreeSet<u64>,
    /// The frontier last acknowledged to the broker.
    acknowledged_through: u64,
}

impl AckTracker {
    pub fn finish(&mut self, tag: u64) {
        if tag <= self.finished_through {
            return;
        }
        self.finished_ahead.insert(tag);
        while self.finished_ahead.first() == Some(&(self.finished_through + 1)) {
            self.finished_ahead.pop_first();
            self.finished_through += 1;
        }
    }

    /// The tag to acknowledge with `multiple = true`, if the frontier moved since last time.
    pub fn take_ack(&mut self) -> Option<u64> {
        if self.finished_through > self.acknowledged_through {
            self.acknowledged_through = self.finished_through;
            return Some(self.finished_through);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::AckTracker;

    #[test]
    fn the_frontier_moves_only_over_a_contiguous_run() {
        let mut tracker = AckTracker::default();
        tracker.finish(2);
        tracker.finish(3);
        assert_eq!(tracker.take_ack(), None, "1 is still in flight");
        tracker.finish(1);
        assert_eq!(tracker.take_ack(), Some(3));
        assert_eq!(tracker.take_ack(), None);
        tracker.finish(5);
        tracker.finish(4);
        assert_eq!(tracker.take_ack(), Some(5));
    }
}
