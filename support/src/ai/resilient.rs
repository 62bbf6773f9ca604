//! Timeouts, retries and the circuit breaker around a provider, the same for every provider.

use std::{
    hash::{BuildHasher, RandomState},
    time::Duration,
};

use async_trait::async_trait;

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
}

#[async_trait]
impl ChatModel for Resilient {
    async fn reply(&self, prompt: &Prompt) -> Result<String, AiError> {
        let mut retry = 0;
        let mut last_error = None;
        loop {
            // When our own failures open the circuit mid-retries, the customer's handoff should
            // carry the provider's error rather than the breaker's.
            let Some(permit) = self.breaker.try_acquire() else {
                return Err(last_error.unwrap_or(AiError::CircuitOpen));
            };
            let outcome = tokio::time::timeout(self.policy.timeout, self.model.reply(prompt))
                .await
                .unwrap_or(Err(AiError::Timeout(self.policy.timeout)));
            let error = match outcome {
                Ok(text) => {
                    permit.succeeded();
                    return Ok(text);
                }
                Err(error) => {
                    permit.failed();
                    error
                }
            };
            if !error.is_transient() || retry >= self.policy.max_retries {
                return Err(error);
            }
            let delay = backoff(self.policy.backoff, retry);
            tracing::warn!(%error, retry = retry + 1, ?delay, "AI request failed; trying again");
            tokio::time::sleep(delay).await;
            retry += 1;
            last_error = Some(error);
        }
    }
}

/// Exponential backoff with jitter: between half and all of `first · 2^retry`, so customers
/// whose requests failed together do not all come back at the same instant.
fn backoff(first: Duration, retry: u32) -> Duration {
    let full = first.saturating_mul(2u32.saturating_pow(retry)).min(MAX_BACKOFF);
    // A freshly keyed std hasher is random enough for jitter without another dependency.
    let random = RandomState::new().hash_one(retry);
    let fraction = (random % 1_000) as f64 / 1_000.0;
    full.mul_f64(0.5 + fraction / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let first = Duration::from_millis(100);
        for retry in 0..4 {
            let full = first * 2u32.pow(retry);
            let delay = backoff(first, retry);
            assert!(delay >= full / 2 && delay <= full, "retry {retry}: {delay:?}");
        }
        assert!(backoff(first, 30) <= MAX_BACKOFF);
    }
}
