//! How the balancer chooses a monitor replica for each reading.
//!
//! - Smooth weighted round-robin (the default; nginx's algorithm): over any window of
//!   `sum(weights)` picks, each replica is chosen exactly `weight` times, interleaved rather than
//!   in runs.
//! - Consistent hashing: a ring with virtual nodes (proportional to weight) keeps each device on
//!   one replica while membership is stable, and moves only about 1/N of devices when it changes.
//! - Least loaded: the replica with the least backlog per unit of weight, the backlog being the
//!   readings in its ingest queue (polled) plus what was sent to it since. A queue's depth is
//!   counted in batches, and batches that left at their linger are not full, so the readings are
//!   those of the last batches sent to it: a queue of depth D holds the D batches sent last.

use std::collections::{BTreeMap, VecDeque};

use clap::ValueEnum;
use uuid::Uuid;
use xxhash_rust::xxh3::xxh3_64;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Strategy {
    /// Smooth weighted round-robin.
    #[default]
    WeightedRoundRobin,
    /// Device affinity on a hash ring with virtual nodes.
    ConsistentHash,
    /// Fewest waiting readings per unit of weight.
    LeastLoaded,
}

/// Virtual nodes on the ring per unit of weight.
const VIRTUAL_NODES_PER_WEIGHT: u32 = 128;

/// How many of a replica's latest batch sizes are remembered to turn a queue depth into readings;
/// a deeper queue is counted at their average for the rest.
const REMEMBERED_BATCHES: usize = 4096;

#[derive(Debug)]
struct Member {
    weight: u32,
    current: i64,
    /// Readings waiting in the replica's queue at the last poll, plus those sent since.
    backlog: u64,
    /// Sizes of the latest batches sent to it, oldest first.
    sent: VecDeque<u32>,
}

#[derive(Debug)]
pub struct Router {
    strategy: Strategy,
    /// Readings per batch assumed for queued batches this balancer did not send.
    batch_size: usize,
    members: BTreeMap<u32, Member>,
    ring: Vec<(u64, u32)>,
}

impl Router {
    pub fn new(strategy: Strategy, batch_size: usize) -> Self {
        Self { strategy, batch_size, members: BTreeMap::new(), ring: Vec::new() }
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn replicas(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.members.iter().map(|(replica, member)| (*replica, member.weight))
    }

    /// Replaces the live membership (replica, weight); returns whether it changed.
    pub fn set_members(&mut self, live: &BTreeMap<u32, u32>) -> bool {
        let unchanged = live.len() == self.members.len()
            && live
                .iter()
                .all(|(replica, weight)| self.members.get(replica).is_some_and(|member| member.weight == *weight));
        if unchanged {
            return false;
        }
        self.members.retain(|replica, _| live.contains_key(replica));
        for (replica, weight) in live {
            let member = self.members.entry(*replica).or_insert(Member {
                weight: *weight,
                current: 0,
                backlog: 0,
                sent: VecDeque::new(),
            });
            member.weight = *weight;
        }
        self.ring = self
            .members
            .iter()
            .flat_map(|(replica, member)| {
                (0..member.weight * VIRTUAL_NODES_PER_WEIGHT)
                    .map(move |node| (xxh3_64(format!("replica-{replica}-node-{node}").as_bytes()), *replica))
            })
            .collect();
        self.ring.sort_unstable();
        true
    }

    /// Records a batch of `readings` sent to a replica.
    pub fn sent_batch(&mut self, replica: u32, readings: usize) {
        if let Some(member) = self.members.get_mut(&replica) {
            if member.sent.len() == REMEMBERED_BATCHES {
                member.sent.pop_front();
            }
            member.sent.push_back(u32::try_from(readings).unwrap_or(u32::MAX));
        }
    }

    /// Records a replica's queue depth from a poll, `batches` waiting in its queue and `open`
    /// readings picked for it but not yet sent: its backlog in readings is theirs.
    pub fn set_queue_depth(&mut self, replica: u32, batches: u32, open: usize) {
        let Some(member) = self.members.get_mut(&replica) else { return };
        let batches = batches as usize;
        let known = batches.min(member.sent.len());
        let queued: u64 = member.sent.iter().rev().take(known).map(|size| u64::from(*size)).sum();
        // Batches older than those remembered (sent before this balancer started, or a very deep
        // queue): at the average of the remembered ones, or the configured size.
        let average = if member.sent.is_empty() {
            self.batch_size as u64
        } else {
            member.sent.iter().map(|size| u64::from(*size)).sum::<u64>().div_ceil(member.sent.len() as u64)
        };
        member.backlog = queued + (batches - known) as u64 * average + open as u64;
    }

    /// The replica for this device's reading, or None when no replica is live.
    pub fn pick(&mut self, device_id: Uuid) -> Option<u32> {
        let chosen = match self.strategy {
            Strategy::WeightedRoundRobin => self.pick_weighted_round_robin(),
            Strategy::ConsistentHash => self.pick_on_ring(device_id),
            Strategy::LeastLoaded => self.pick_least_loaded(),
        }?;
        if let Some(member) = self.members.get_mut(&chosen) {
            member.backlog += 1;
        }
        Some(chosen)
    }

    fn pick_weighted_round_robin(&mut self) -> Option<u32> {
        let total: i64 = self.members.values().map(|member| i64::from(member.weight)).sum();
        let mut best: Option<(u32, i64)> = None;
        for (replica, member) in &mut self.members {
            member.current += i64::from(member.weight);
            if best.is_none_or(|(_, current)| member.current > current) {
                best = Some((*replica, member.current));
            }
        }
        let (replica, _) = best?;
        self.members.get_mut(&replica)?.current -= total;
        Some(replica)
    }

    fn pick_on_ring(&self, device_id: Uuid) -> Option<u32> {
        if self.ring.is_empty() {
            return None;
        }
        let point = xxh3_64(device_id.as_bytes());
        let index = self.ring.partition_point(|(node, _)| *node < point) % self.ring.len();
        Some(self.ring[index].1)
    }

    fn pick_least_loaded(&self) -> Option<u32> {
        self.members
            .iter()
            .min_by(|(left_id, left), (right_id, right)| {
                // backlog/weight compared without division: l.backlog * r.weight vs r.backlog * l.weight
                let left_load = u128::from(left.backlog) * u128::from(right.weight);
                let right_load = u128::from(right.backlog) * u128::from(left.weight);
                left_load.cmp(&right_load).then(left_id.cmp(right_id))
            })
            .map(|(replica, _)| *replica)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn router(strategy: Strategy, weights: &[(u32, u32)]) -> Router {
        let mut router = Router::new(strategy, 100);
        router.set_members(&weights.iter().copied().collect());
        router
    }

    fn counts(router: &mut Router, picks: usize) -> HashMap<u32, usize> {
        let mut counts = HashMap::new();
        for _ in 0..picks {
            *counts.entry(router.pick(Uuid::new_v4()).unwrap()).or_default() += 1;
        }
        counts
    }

    #[test]
    fn weighted_round_robin_gives_each_replica_exactly_its_share_and_interleaves() {
        let mut router = router(Strategy::WeightedRoundRobin, &[(1, 5), (2, 1), (3, 1)]);
        let sequence: Vec<u32> = (0..7).map(|_| router.pick(Uuid::nil()).unwrap()).collect();
        assert_eq!(sequence, [1, 1, 2, 1, 3, 1, 1], "smooth: the light replicas are not starved to the end");
        let counts = counts(&mut router, 7000);
        assert_eq!((counts[&1], counts[&2], counts[&3]), (5000, 1000, 1000));
    }

    #[test]
    fn no_live_replica_means_no_pick() {
        assert_eq!(router(Strategy::WeightedRoundRobin, &[]).pick(Uuid::nil()), None);
        assert_eq!(router(Strategy::ConsistentHash, &[]).pick(Uuid::nil()), None);
        assert_eq!(router(Strategy::LeastLoaded, &[]).pick(Uuid::nil()), None);
    }

    #[test]
    fn consistent_hashing_keeps_a_device_on_one_replica_and_spreads_devices_by_weight() {
        let mut router = router(Strategy::ConsistentHash, &[(1, 1), (2, 1), (3, 2)]);
        let devices: Vec<Uuid> = (0..4000).map(|_| Uuid::new_v4()).collect();
        let first: Vec<u32> = devices.iter().map(|device| router.pick(*device).unwrap()).collect();
        let again: Vec<u32> = devices.iter().map(|device| router.pick(*device).unwrap()).collect();
        assert_eq!(first, again);
        let share_of_3 = first.iter().filter(|replica| **replica == 3).count() as f64 / 4000.0;
        assert!((0.42..0.58).contains(&share_of_3), "replica 3 has weight 2 of 4: got {share_of_3}");
    }

    #[test]
    fn consistent_hashing_moves_only_the_departed_replicas_devices() {
        let mut router = router(Strategy::ConsistentHash, &[(1, 1), (2, 1), (3, 1)]);
        let devices: Vec<Uuid> = (0..3000).map(|_| Uuid::new_v4()).collect();
        let before: Vec<u32> = devices.iter().map(|device| router.pick(*device).unwrap()).collect();
        router.set_members(&[(1, 1), (2, 1)].into_iter().collect());
        for (device, old) in devices.iter().zip(before) {
            let new = router.pick(*device).unwrap();
            if old != 3 {
                assert_eq!(new, old, "a device of a remaining replica stays put");
            }
        }
    }

    #[test]
    fn least_loaded_prefers_the_replica_with_less_backlog_per_weight() {
        let mut router = router(Strategy::LeastLoaded, &[(1, 1), (2, 2)]);
        router.set_queue_depth(1, 1, 0);
        router.set_queue_depth(2, 1, 0);
        assert_eq!(router.pick(Uuid::nil()), Some(2), "100/2 < 100/1");
        let counts = counts(&mut router, 300);
        let load_1 = (100 + counts[&1]) as f64;
        let load_2 = (101 + counts[&2]) as f64 / 2.0;
        assert!((load_1 - load_2).abs() <= 1.0, "per-weight backlogs end level: {load_1} vs {load_2}");
    }

    #[test]
    fn a_queue_depth_counts_the_readings_of_the_last_batches_sent() {
        let mut router = router(Strategy::LeastLoaded, &[(1, 1), (2, 1)]);
        // Replica 1 was sent three full batches and then six that left at their linger with 5.
        for size in [100, 100, 100, 5, 5, 5, 5, 5, 5] {
            router.sent_batch(1, size);
        }
        router.sent_batch(2, 100);
        // Four batches waiting in 1's queue are its last four: 20 readings, not 400; and 2's one
        // full batch weighs more.
        router.set_queue_depth(1, 4, 0);
        router.set_queue_depth(2, 1, 0);
        assert_eq!(router.pick(Uuid::nil()), Some(1));
        router.set_queue_depth(1, 4, 81);
        assert_eq!(router.pick(Uuid::nil()), Some(2), "20 queued and 81 picked but not sent: 101 > 100");
        // Deeper than what was sent: the rest at the sent batches' average (330 / 9, rounded up: 37).
        router.set_queue_depth(1, 10, 0);
        router.set_queue_depth(2, 0, 368);
        assert_eq!(router.pick(Uuid::nil()), Some(1), "330 + 37 = 367 < 368");
        router.set_queue_depth(1, 10, 0);
        router.set_queue_depth(2, 0, 366);
        assert_eq!(router.pick(Uuid::nil()), Some(2), "367 > 366");
        // A replica this balancer never sent to: its queued batches at the configured size.
        let mut fresh = router_with_depths(&[(1, 2, 0), (2, 0, 199)]);
        assert_eq!(fresh.pick(Uuid::nil()), Some(2), "2 × 100 > 199");
    }

    fn router_with_depths(depths: &[(u32, u32, usize)]) -> Router {
        let weights: Vec<(u32, u32)> = depths.iter().map(|(replica, _, _)| (*replica, 1)).collect();
        let mut router = router(Strategy::LeastLoaded, &weights);
        for (replica, batches, open) in depths {
            router.set_queue_depth(*replica, *batches, *open);
        }
        router
    }

    #[test]
    fn membership_changes_are_detected() {
        let mut router = router(Strategy::WeightedRoundRobin, &[(1, 1)]);
        assert!(!router.set_members(&[(1, 1)].into_iter().collect()));
        assert!(router.set_members(&[(1, 2)].into_iter().collect()));
        assert!(router.set_members(&[(1, 2), (4, 1)].into_iter().collect()));
        assert_eq!(router.replicas().collect::<Vec<_>>(), [(1, 2), (4, 1)]);
    }
}
