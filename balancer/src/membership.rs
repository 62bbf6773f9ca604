//! Which monitor replicas are live, from their heartbeats. A replica that stays silent longer
//! than the timeout, or that says goodbye (weight 0), leaves the rotation; one that stays gone
//! longer than the drain delay has its ingest queue drained back into the rotation.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    time::{Duration, Instant},
};

use ems_common::contracts::Heartbeat;

#[derive(Debug)]
pub struct Membership {
    timeout: Duration,
    drain_after: Duration,
    live: HashMap<u32, (u32, Instant)>,
    gone_since: HashMap<u32, Instant>,
    drained: HashSet<u32>,
}

impl Membership {
    pub fn new(timeout: Duration, drain_after: Duration) -> Self {
        Self { timeout, drain_after, live: HashMap::new(), gone_since: HashMap::new(), drained: HashSet::new() }
    }

    pub fn heartbeat(&mut self, heartbeat: &Heartbeat, now: Instant) {
        if heartbeat.weight == 0 {
            if self.live.remove(&heartbeat.replica).is_some() {
                tracing::info!(replica = heartbeat.replica, "replica left the rotation (goodbye)");
            }
            self.gone_since.entry(heartbeat.replica).or_insert(now);
            return;
        }
        if self.live.insert(heartbeat.replica, (heartbeat.weight, now)).is_none() {
            tracing::info!(replica = heartbeat.replica, weight = heartbeat.weight, "replica joined the rotation");
        }
        self.gone_since.remove(&heartbeat.replica);
        self.drained.remove(&heartbeat.replica);
    }

    /// Drops replicas silent for longer than the timeout.
    pub fn expire(&mut self, now: Instant) {
        let timeout = self.timeout;
        let silent: Vec<u32> = self
            .live
            .iter()
            .filter(|(_, (_, seen))| now.duration_since(*seen) > timeout)
            .map(|(replica, _)| *replica)
            .collect();
        for replica in silent {
            tracing::warn!(replica, ?timeout, "replica silent; it leaves the rotation");
            self.live.remove(&replica);
            self.gone_since.insert(replica, now);
        }
    }

    pub fn live(&self) -> BTreeMap<u32, u32> {
        self.live.iter().map(|(replica, (weight, _))| (*replica, *weight)).collect()
    }

    /// Replicas gone long enough that their queues should be drained, each reported once
    /// (until the replica comes back and leaves again).
    pub fn due_for_drain(&mut self, now: Instant) -> Vec<u32> {
        let due: Vec<u32> = self
            .gone_since
            .iter()
            .filter(|(replica, since)| {
                now.duration_since(**since) >= self.drain_after && !self.drained.contains(replica)
            })
            .map(|(replica, _)| *replica)
            .collect();
        self.drained.extend(&due);
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beat(replica: u32, weight: u32) -> Heartbeat {
        Heartbeat { replica, weight, processed: 0 }
    }

    #[test]
    fn replicas_join_leave_by_silence_or_goodbye_and_are_drained_once() {
        let start = Instant::now();
        let mut membership = Membership::new(Duration::from_secs(3), Duration::from_secs(10));
        membership.heartbeat(&beat(1, 1), start);
        membership.heartbeat(&beat(2, 3), start);
        assert_eq!(membership.live(), BTreeMap::from([(1, 1), (2, 3)]));

        membership.heartbeat(&beat(1, 1), start + Duration::from_secs(2));
        membership.expire(start + Duration::from_secs(4));
        assert_eq!(membership.live(), BTreeMap::from([(1, 1)]), "2 was silent for 4s");

        membership.heartbeat(&beat(1, 0), start + Duration::from_secs(5));
        assert!(membership.live().is_empty(), "1 said goodbye");

        assert!(membership.due_for_drain(start + Duration::from_secs(13)).is_empty());
        assert_eq!(membership.due_for_drain(start + Duration::from_secs(14)), [2]);
        assert_eq!(membership.due_for_drain(start + Duration::from_secs(16)), [1]);
        assert!(membership.due_for_drain(start + Duration::from_secs(30)).is_empty(), "once");

        membership.heartbeat(&beat(2, 1), start + Duration::from_secs(31));
        assert_eq!(membership.live(), BTreeMap::from([(2, 1)]), "a replica that returns rejoins");
    }
}
