//! The OpenAI-compatible client against a local server: what it sends, and how timeouts, server
//! errors, bad replies and a provider that keeps failing end.

use std::time::Duration;

use ems_support::{AiError, Answer, HandoffReason, Provider, Rules, Speaker, Support, Turn};

use crate::{
    helpers::{FakeData, ana, device, within},
    provider::{FakeProvider, Reply},
};

/// A question no rule answers, so it goes to the AI.
const QUESTION: &str = "Is it cheaper to run the dishwasher at night?";

fn support_with(provider: &FakeProvider, config: &ems_support::AiConfig) -> Support {
    let data = FakeData::with_devices(vec![device("Heat pump", 2.5, 6.0), device("Dishwasher", 1.2, 0.8)]);
    Support::new(Rules::builtin(), Box::new(data), Some(provider.model(config)))
}

fn ai_failure(answer: &Answer) -> &AiError {
    match answer {
        Answer::Human { reason: HandoffReason::AiFailed(error), .. } => error,
        other => panic!("expected a handoff after an AI failure, got {other:?}"),
    }
}

#[tokio::test]
async fn the_reply_comes_back_and_the_request_carries_the_model_the_grounded_prompt_and_the_message() {
    within(async {
        let provider = FakeProvider::start(vec![], Reply::Text("Yes, tariffs are often lower at night.")).await;
        let support = support_with(&provider, &provider.config(Provider::OpenAi));
        let history = [Turn { from: Speaker::Customer, text: "hello".into() }];

        let answer = support.answer(&ana(), QUESTION, &history).await;

        assert_eq!(answer, Answer::Ai { text: "Yes, tariffs are often lower at night.".into() });
        let received = provider.received();
        assert_eq!(received.len(), 1);
        let request = &received[0];
        assert_eq!(request.headers["authorization"], "Bearer test-key");
        assert_eq!(request.body["model"], "test-model");
        let messages = request.body["messages"].as_array().unwrap();
        assert_eq!(messages[0]["role"], "system");
        let system = messages[0]["content"].as_str().unwrap();
        assert!(system.contains("EMS") && system.contains("Ana"), "{system}");
        assert!(
            system.contains("Heat pump: limit 2.5 kWh") && system.contains("Dishwasher: limit 1.2 kWh"),
            "{system}"
        );
        assert_eq!(messages[1]["role"], "user");
        assert_eq!(messages[1]["content"], "hello");
        assert_eq!(messages.last().unwrap()["role"], "user");
        assert_eq!(messages.last().unwrap()["content"], QUESTION);
    })
    .await;
}

#[tokio::test]
async fn a_provider_that_is_too_slow_is_retried_then_the_conversation_goes_to_a_person() {
    within(async {
        let provider = FakeProvider::start(vec![], Reply::Hang).await;
        let mut config = provider.config(Provider::OpenAi);
        config.timeout = Duration::from_millis(200);
        config.max_retries = 1;

        let answer = support_with(&provider, &config).answer(&ana(), QUESTION, &[]).await;

        assert_eq!(ai_failure(&answer), &AiError::Timeout(Duration::from_millis(200)));
        assert!(answer.text().contains("an administrator will reply here"));
        assert_eq!(provider.hits(), 2, "the first attempt and one retry");
    })
    .await;
}

#[tokio::test]
async fn a_server_error_is_retried_and_the_retry_answers() {
    within(async {
        let provider =
            FakeProvider::start(vec![Reply::Status(500), Reply::Status(429)], Reply::Text("Fine now.")).await;

        let answer = support_with(&provider, &provider.config(Provider::OpenAi)).answer(&ana(), QUESTION, &[]).await;

        assert_eq!(answer, Answer::Ai { text: "Fine now.".into() });
        assert_eq!(provider.hits(), 3);
    })
    .await;
}

#[tokio::test]
async fn a_client_error_is_not_retried() {
    within(async {
        let provider = FakeProvider::start(vec![], Reply::Status(401)).await;

        let answer = support_with(&provider, &provider.config(Provider::OpenAi)).answer(&ana(), QUESTION, &[]).await;

        assert!(matches!(ai_failure(&answer), AiError::Status { status: 401, .. }), "{answer:?}");
        assert_eq!(provider.hits(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_malformed_or_empty_reply_goes_to_a_person() {
    within(async {
        let provider = FakeProvider::start(vec![Reply::Malformed], Reply::Text("   ")).await;
        let support = support_with(&provider, &provider.config(Provider::OpenAi));

        let malformed = support.answer(&ana(), QUESTION, &[]).await;
        let empty = support.answer(&ana(), QUESTION, &[]).await;

        assert!(matches!(ai_failure(&malformed), AiError::Malformed(_)), "{malformed:?}");
        assert_eq!(ai_failure(&empty), &AiError::Empty);
        assert_eq!(provider.hits(), 2, "neither is retried");
    })
    .await;
}

#[tokio::test]
async fn after_repeated_failures_the_circuit_opens_and_calls_fail_without_reaching_the_provider() {
    within(async {
        let provider = FakeProvider::start(vec![], Reply::Status(503)).await;
        let mut config = provider.config(Provider::OpenAi);
        config.max_retries = 1;
        config.failure_threshold = 4;
        let support = support_with(&provider, &config);

        for _ in 0..2 {
            let answer = support.answer(&ana(), QUESTION, &[]).await;
            assert!(matches!(ai_failure(&answer), AiError::Status { status: 503, .. }), "{answer:?}");
        }
        assert_eq!(provider.hits(), 4, "two calls of two attempts each");
        for _ in 0..3 {
            assert_eq!(ai_failure(&support.answer(&ana(), QUESTION, &[]).await), &AiError::CircuitOpen);
        }
        assert_eq!(provider.hits(), 4, "an open circuit does not reach the provider");
    })
    .await;
}

#[tokio::test]
async fn when_its_own_failures_open_the_circuit_a_call_reports_the_providers_error() {
    within(async {
        let provider = FakeProvider::start(vec![], Reply::Status(500)).await;
        let mut config = provider.config(Provider::OpenAi);
        config.failure_threshold = 1;
        let support = support_with(&provider, &config);

        let first = support.answer(&ana(), QUESTION, &[]).await;
        let second = support.answer(&ana(), QUESTION, &[]).await;

        assert!(matches!(ai_failure(&first), AiError::Status { status: 500, .. }), "{first:?}");
        assert_eq!(ai_failure(&second), &AiError::CircuitOpen);
        assert_eq!(provider.hits(), 1, "the retries were turned away by the open circuit");
    })
    .await;
}
