//! The Gemini client against a local server speaking the `generateContent` wire format.

use ems_support::{Answer, Provider, Rules, Speaker, Support, Turn};

use crate::{
    helpers::{FakeData, ana, device, within},
    provider::{FakeProvider, Reply},
};

/// A question no rule answers, so it goes to the AI.
const QUESTION: &str = "Is it normal that my heat pump is noisy?";

#[tokio::test]
async fn gemini_answers_and_receives_the_key_the_system_instruction_and_the_conversation() {
    within(async {
        let provider = FakeProvider::start(vec![], Reply::Text("Your heat pump uses the most.")).await;
        let mut config = provider.config(Provider::Gemini);
        config.model = "gemini-test".into();
        let data = FakeData::with_devices(vec![device("Heat pump", 2.5, 6.0)]);
        let support = Support::new(Rules::builtin(), Box::new(data), Some(provider.model(&config)));
        let history = [
            Turn { from: Speaker::Customer, text: "hello".into() },
            Turn { from: Speaker::Assistant, text: "Hello Ana!".into() },
        ];

        let answer = support.answer(&ana(), QUESTION, &history).await;

        // The server splits the text into two parts; the client joins them.
        assert_eq!(answer, Answer::Ai { text: "Your heat pump uses the most.".into() });
        let received = provider.received();
        assert_eq!(received.len(), 1);
        let request = &received[0];
        assert_eq!(request.path, "/v1beta/models/gemini-test:generateContent");
        assert_eq!(request.headers["x-goog-api-key"], "test-key");
        assert!(request.headers.get("authorization").is_none());
        let system = request.body["systemInstruction"]["parts"][0]["text"].as_str().unwrap();
        assert!(system.contains("Heat pump: limit 2.5 kWh"), "{system}");
        let contents = request.body["contents"].as_array().unwrap();
        let roles: Vec<&str> = contents.iter().map(|content| content["role"].as_str().unwrap()).collect();
        assert_eq!(roles, ["user", "model", "user"]);
        assert_eq!(contents[2]["parts"][0]["text"], QUESTION);
    })
    .await;
}
