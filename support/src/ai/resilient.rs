//! Timeouts, retries and the circuit breaker around a provider, the same for every provider.

use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};

use super::{AiError, ChatModel, Prompt};
use crate::breaker::CircuitBreaker;

/// No retry waits longer than this, however many came before.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub timeout: Duration,
    pub max_retries: u32,
    pub backoff: Duration,
}

impl Policy {
    /// Exponential backoff with jitter: retry `n` (from 0) waits between half and all of
    /// `backoff · 2^n`, capped at [`MAX_BACKOFF`], so customers whose requests failed together do
    /// not all come back at the same instant. The jitter adds up to as much again to each wait,
    /// hence the halves.
    fn backoff(&self) -> ExponentialBuilder {
        ems_common::retry::backoff(self.backoff.min(MAX_BACKOFF) / 2, MAX_BACKOFF / 2)
            .with_max_times(self.max_retries as usize)
    }
}

pub struct Resilient {
    model: Box<dyn ChatModel>,
    policy: Policy,
    /// Shared by every call, so one customer's failures spare the next customer the wait.
    breaker: CircuitBreaker,
}

impl Resilient {
    pub fn new(model: Box<dyn ChatModel>, policy: Policy, breaker: CircuitBreaker) -> Self {
        Self { model, policy, breaker }
    }

    /// One request, if the circuit lets it through, within the timeout.
    async fn attempt(&self, prompt: &Prompt) -> Result<String, Attempt> {
        let permit = self.breaker.try_acquire().ok_or(Attempt::TurnedAway)?;
        let outcome = tokio::time::timeout(self.policy.timeout, self.model.reply(prompt))
            .await
            .unwrap_or(Err(AiError::Timeout(self.policy.timeout)));
        match outcome {
            Ok(text) => {
                permit.succeeded();
                Ok(text)
            }
            Err(error) => {
                permit.failed();
                Err(Attempt::Failed(error))
            }
        }
    }
}

/// Why one attempt gave no answer.
enum Attempt {
    Failed(AiError),
    /// The circuit is open.
    TurnedAway,
}

#[async_trait]
impl ChatModel for Resilient {
    async fn reply(&self, prompt: &Prompt) -> Result<String, AiError> {
        let mut retries = 0;
        // When our own failures open the circuit mid-retries, the customer's handoff should
        // carry the provider's error rather than the breaker's.
        let mut last_error = None;
        let outcome = (|| self.attempt(prompt))
            .retry(self.policy.backoff())
            .when(|attempt| matches!(attempt, Attempt::Failed(error) if error.is_transient()))
            .notify(|attempt, delay| {
                if let Attempt::Failed(error) = attempt {
                    retries += 1;
                    tracing::warn!(%error, retry = retries, ?delay, "AI request failed; trying again");
                    last_error = Some(error.clone());
                }
            })
            .await;
        match outcome {
            Ok(text) => Ok(text),
            Err(Attempt::Failed(error)) => Err(error),
            Err(Attempt::TurnedAway) => Err(last_error.unwrap_or(AiError::CircuitOpen)),
        }
    }
}

#[cfg(test)]
mod tests {
    use backon::BackoffBuilder;

    use super::*;

    fn policy(backoff: Duration, max_retries: u32) -> Policy {
        Policy { timeout: Duration::from_secs(1), max_retries, backoff }
    }

    #[test]
    fn backoff_doubles_with_jitter_is_capped_and_stops_after_the_retries() {
        let first = Duration::from_millis(100);
        let delays: Vec<Duration> = policy(first, 4).backoff().build().collect();
        assert_eq!(delays.len(), 4, "{delays:?}");
        for (retry, delay) in delays.into_iter().enumerate() {
            let full = first * 2u32.pow(retry as u32);
            assert!(delay >= full / 2 && delay <= full, "retry {retry}: {delay:?}");
        }
        for backoff in [Duration::from_secs(1), Duration::from_secs(60)] {
            let delays: Vec<Duration> = policy(backoff, 30).backoff().build().collect();
            assert!(delays.iter().all(|delay| *delay <= MAX_BACKOFF), "{backoff:?}: {delays:?}");
        }
        assert_eq!(policy(first, 0).backoff().build().count(), 0, "no retries, no waits");
    }
}
