//! Every way a conversation reaches an administrator, and the configuration that picks the AI.

use std::{sync::atomic::Ordering, time::Duration};

use ems_support::{AiConfig, AiError, Answer, HandoffReason, Provider, Speaker, Turn, ai::build};

use crate::helpers::{FakeData, FakeModel, ana, support, within};

const UNRECOGNISED: &str = "My neighbour's cat keeps sitting on the meter.";

#[tokio::test]
async fn without_an_ai_provider_what_no_rule_answers_goes_to_a_person() {
    within(async {
        let answer = support(FakeData::default(), None).answer(&ana(), UNRECOGNISED, &[]).await;

        let Answer::Human { reason, text_to_customer } = answer else { panic!("expected a handoff, got {answer:?}") };
        assert_eq!(reason, HandoffReason::NoAiProvider);
        assert_eq!(text_to_customer, ENGLISH_NOTICE);
    })
    .await;
}

const ENGLISH_NOTICE: &str = "I've passed this to our support team; an administrator will reply here.";
const ROMANIAN_NOTICE: &str = "Am transmis mesajul echipei de suport; un administrator vă va răspunde aici.";

fn notice(answer: &Answer) -> &str {
    let Answer::Human { text_to_customer, .. } = answer else { panic!("expected a handoff, got {answer:?}") };
    text_to_customer
}

fn customer_said(text: &str) -> Turn {
    Turn { from: Speaker::Customer, text: text.into() }
}

#[tokio::test]
async fn the_handoff_notice_is_in_the_language_of_the_customers_message_and_only_in_it() {
    within(async {
        let support = support(FakeData::default(), None);
        for (message, expected) in [
            ("Pompa de căldură face un zgomot ciudat de ieri.", ROMANIAN_NOTICE),
            ("Pompa de caldura nu merge, ce pot face?", ROMANIAN_NOTICE),
            ("Contorul arată valori greșite", ROMANIAN_NOTICE),
            (UNRECOGNISED, ENGLISH_NOTICE),
            ("The heat pump is making a strange noise since yesterday.", ENGLISH_NOTICE),
        ] {
            assert_eq!(notice(&support.answer(&ana(), message, &[]).await), expected, "{message}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_message_that_does_not_tell_its_language_gets_the_notice_in_the_language_of_the_earlier_ones() {
    within(async {
        let support = support(FakeData::default(), None);
        let romanian = [customer_said("Bună ziua"), customer_said("Contorul meu nu mai trimite date")];
        let english = [customer_said("Hello"), customer_said("My meter stopped sending data")];
        // "Xyz 42" is in no language: the conversation's decides, and with none, English.
        assert_eq!(notice(&support.answer(&ana(), "Xyz 42", &romanian).await), ROMANIAN_NOTICE);
        assert_eq!(notice(&support.answer(&ana(), "Xyz 42", &english).await), ENGLISH_NOTICE);
        assert_eq!(notice(&support.answer(&ana(), "Xyz 42", &[]).await), ENGLISH_NOTICE);
        // A message that tells its own language wins over the earlier ones.
        let answer = support.answer(&ana(), "Nu am curent de azi dimineață", &english).await;
        assert_eq!(notice(&answer), ROMANIAN_NOTICE);
    })
    .await;
}

#[tokio::test]
async fn when_the_data_for_a_romanian_rule_cannot_be_read_the_notice_is_romanian() {
    within(async {
        let support = support(FakeData { broken: true, ..FakeData::default() }, None);
        let answer = support.answer(&ana(), "Cât am consumat azi?", &[]).await;
        assert!(matches!(&answer, Answer::Human { reason: HandoffReason::DataUnavailable(_), .. }), "{answer:?}");
        assert_eq!(notice(&answer), ROMANIAN_NOTICE);
    })
    .await;
}

#[tokio::test]
async fn when_the_ai_fails_the_conversation_goes_to_a_person() {
    within(async {
        let (model, calls) = FakeModel::boxed(Err(AiError::Status { status: 503, body: "overloaded".into() }));

        let answer = support(FakeData::default(), Some(model)).answer(&ana(), UNRECOGNISED, &[]).await;

        assert!(
            matches!(
                &answer,
                Answer::Human { reason: HandoffReason::AiFailed(AiError::Status { status: 503, .. }), .. }
            ),
            "{answer:?}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    })
    .await;
}

#[tokio::test]
async fn a_customer_who_asks_for_a_person_gets_one_even_when_an_ai_is_configured() {
    within(async {
        let (model, calls) = FakeModel::boxed(Ok("I am the AI".into()));
        let support = support(FakeData::default(), Some(model));

        for (message, rule) in [
            ("Can I talk to a person, please?", "handoff.en"),
            ("Vreau să vorbesc cu un operator!", "handoff.ro"),
            ("I forgot my password; let me speak to a human", "handoff.en"),
        ] {
            let answer = support.answer(&ana(), message, &[]).await;
            let Answer::Human { reason, text_to_customer } = &answer else { panic!("{message}: got {answer:?}") };
            assert_eq!(reason, &HandoffReason::Requested { rule_id: rule.into() }, "{message}");
            assert!(text_to_customer.contains("administrator"), "{message}: {text_to_customer}");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 0, "the AI is never asked");
    })
    .await;
}

#[tokio::test]
async fn a_rule_answers_before_the_ai_is_asked_and_the_ai_answers_the_rest() {
    within(async {
        let (model, calls) = FakeModel::boxed(Ok("Cats are not a supported device.".into()));
        let support = support(FakeData::default(), Some(model));

        let by_rule = support.answer(&ana(), "Hello!", &[]).await;
        let by_ai = support.answer(&ana(), UNRECOGNISED, &[]).await;

        assert!(matches!(&by_rule, Answer::Rule { rule_id, .. } if rule_id == "greeting.en"), "{by_rule:?}");
        assert_eq!(by_ai, Answer::Ai { text: "Cats are not a supported device.".into() });
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    })
    .await;
}

#[tokio::test]
async fn when_the_customers_data_cannot_be_read_the_conversation_goes_to_a_person() {
    within(async {
        let (model, calls) = FakeModel::boxed(Ok("unused".into()));
        let support = support(FakeData { broken: true, ..FakeData::default() }, Some(model));

        for message in ["How much energy did I use today?", UNRECOGNISED] {
            let answer = support.answer(&ana(), message, &[]).await;
            let Answer::Human { reason: HandoffReason::DataUnavailable(error), .. } = &answer else {
                panic!("{message}: got {answer:?}")
            };
            assert!(error.contains("the database is away"), "{error}");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    })
    .await;
}

#[test]
fn no_provider_builds_no_model_and_a_bad_configuration_is_refused_with_the_reason() {
    assert!(build(&AiConfig::default()).unwrap().is_none());
    let openai = AiConfig { provider: Provider::OpenAi, model: "gpt-4o-mini".into(), ..AiConfig::default() };
    assert!(build(&openai).unwrap().is_some(), "the public endpoint is the default");

    let refused = |config: AiConfig| build(&config).err().expect("refused").to_string();
    assert!(refused(AiConfig { model: String::new(), ..openai.clone() }).contains("model name is required"));
    assert!(refused(AiConfig { base_url: "localhost:11434".into(), ..openai.clone() }).contains("http://"));
    assert!(refused(AiConfig { timeout: Duration::ZERO, ..openai.clone() }).contains("timeout"));
    assert!(refused(AiConfig { failure_threshold: 0, ..openai }).contains("failure threshold"));
}

#[test]
fn support_can_be_shared_between_tasks() {
    fn shared<T: Send + Sync>(_: &T) {}
    fn sendable<T: Send>(_: T) {}
    let support = support(FakeData::default(), None);
    shared(&support);
    sendable(support.answer(&ana(), "hello", &[]));
}

#[test]
fn providers_are_named_in_configuration_and_the_key_never_shows() {
    assert_eq!("OpenAI".parse::<Provider>(), Ok(Provider::OpenAi));
    assert_eq!("gemini".parse::<Provider>(), Ok(Provider::Gemini));
    assert_eq!("none".parse::<Provider>(), Ok(Provider::None));
    assert!("claude".parse::<Provider>().unwrap_err().contains("none, openai or gemini"));
    let config = AiConfig { api_key: Some("sk-very-secret".into()), ..AiConfig::default() };
    assert!(!format!("{config:?}").contains("sk-very-secret"));
}
