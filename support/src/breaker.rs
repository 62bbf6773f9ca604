//! A circuit breaker in front of the AI provider. When the provider keeps failing, waiting for
//! each request to time out would make every customer wait for an answer that is going to be a
//! handoff anyway; once open, the breaker fails calls at once. After a cooldown one call is let
//! through as a probe: its success closes the circuit, its failure opens it again.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

type Clock = Box<dyn Fn() -> Instant + Send + Sync>;

#[derive(Debug)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// The probe is in flight; everyone else is still turned away.
    HalfOpen,
}

pub struct CircuitBreaker {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
    clock: Clock,
}

impl CircuitBreaker {
    /// Opens after `threshold` (at least 1) consecutive failures, for `cooldown`.
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self::with_clock(threshold, cooldown, Box::new(Instant::now))
    }

    fn with_clock(threshold: u32, cooldown: Duration, clock: Clock) -> Self {
        Self { threshold, cooldown, state: Mutex::new(State::Closed { failures: 0 }), clock }
    }

    /// Permission to make one call, or `None` while the circuit is open.
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        let now = (self.clock)();
        let mut state = self.state.lock().expect("breaker lock");
        let probe = match *state {
            State::Closed { .. } => false,
            State::Open { until } if now >= until => {
                *state = State::HalfOpen;
                true
            }
            State::Open { .. } | State::HalfOpen => return None,
        };
        Some(Permit { breaker: self, probe, settled: false })
    }

    fn settle(&self, probe: bool, succeeded: bool) {
        let now = (self.clock)();
        let mut state = self.state.lock().expect("breaker lock");
        *state = match (&*state, probe, succeeded) {
            (State::Closed { .. }, _, true) | (State::HalfOpen, true, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, _, false) if failures + 1 < self.threshold => {
                State::Closed { failures: failures + 1 }
            }
            (State::Closed { .. }, _, false) | (State::HalfOpen, true, false) => {
                State::Open { until: now + self.cooldown }
            }
            // A call let through before the circuit opened says nothing about the provider now.
            _ => return,
        };
    }
}

/// One call's permission; report how it went. A permit dropped unreported (the caller gave up)
/// counts as a failure, so an abandoned probe cannot leave the circuit half-open forever.
pub struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    probe: bool,
    settled: bool,
}

impl Permit<'_> {
    pub fn succeeded(mut self) {
        self.settle(true);
    }

    pub fn failed(mut self) {
        self.settle(false);
    }

    fn settle(&mut self, succeeded: bool) {
        self.settled = true;
        self.breaker.settle(self.probe, succeeded);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.settle(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    const COOLDOWN: Duration = Duration::from_secs(30);

    /// A breaker on a clock the test moves by hand.
    fn breaker(threshold: u32) -> (CircuitBreaker, Arc<Mutex<Instant>>) {
        let now = Arc::new(Mutex::new(Instant::now()));
        let clock = Arc::clone(&now);
        (CircuitBreaker::with_clock(threshold, COOLDOWN, Box::new(move || *clock.lock().unwrap())), now)
    }

    fn after_the_cooldown(now: &Mutex<Instant>) {
        *now.lock().unwrap() += COOLDOWN;
    }

    fn fail(breaker: &CircuitBreaker, times: usize) {
        for _ in 0..times {
            breaker.try_acquire().expect("closed").failed();
        }
    }

    #[test]
    fn it_opens_after_the_threshold_of_consecutive_failures() {
        let (breaker, _) = breaker(3);
        fail(&breaker, 2);
        breaker.try_acquire().unwrap().succeeded();
        fail(&breaker, 2);
        assert!(breaker.try_acquire().is_some(), "a success reset the count");
        assert!(breaker.try_acquire().is_none(), "the abandoned permit above was the third failure");
    }

    #[test]
    fn after_the_cooldown_one_probe_goes_through_and_its_success_closes_the_circuit() {
        let (breaker, now) = breaker(1);
        fail(&breaker, 1);
        assert!(breaker.try_acquire().is_none());
        after_the_cooldown(&now);
        let probe = breaker.try_acquire().expect("half-open after the cooldown");
        assert!(breaker.try_acquire().is_none(), "only one probe at a time");
        probe.succeeded();
        breaker.try_acquire().expect("closed again").succeeded();
        breaker.try_acquire().expect("still closed").succeeded();
    }

    #[test]
    fn a_failed_or_abandoned_probe_opens_the_circuit_again() {
        let (breaker, now) = breaker(1);
        fail(&breaker, 1);
        after_the_cooldown(&now);
        breaker.try_acquire().unwrap().failed();
        assert!(breaker.try_acquire().is_none());
        after_the_cooldown(&now);
        drop(breaker.try_acquire().unwrap());
        assert!(breaker.try_acquire().is_none());
    }

    #[test]
    fn a_late_result_from_before_the_circuit_opened_changes_nothing() {
        let (breaker, now) = breaker(1);
        let early = breaker.try_acquire().unwrap();
        fail(&breaker, 1);
        early.succeeded();
        assert!(breaker.try_acquire().is_none(), "still open");
        after_the_cooldown(&now);
        assert!(breaker.try_acquire().is_some());
    }
}
