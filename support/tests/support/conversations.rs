//! The support service over real JetStream and PostgreSQL with a slow AI provider: customers are
//! answered in parallel, each customer's messages in order, a slow answer is asked for once, and
//! shutdown finishes the answer in hand.

use std::time::Duration;

use ems_common::contracts::{ChatMessage, ChatSource};

use crate::{
    helpers::within,
    inbox::{Conversation, Inbox},
    provider::{FakeProvider, Gate, Reply},
};

/// A question no rule answers, so it goes to the AI.
const QUESTION: &str = "Is it cheaper to run the dishwasher at night?";
const AI_ANSWER: &str = "Yes, after 22:00 your tariff is lower.";

fn sourced(messages: &[ChatMessage]) -> Vec<(ChatSource, &str)> {
    messages.iter().map(|message| (message.source, message.body.as_str())).collect()
}

async fn next_messages(conversation: &mut Conversation, count: usize) -> Vec<ChatMessage> {
    let mut messages = Vec::with_capacity(count);
    for _ in 0..count {
        messages.push(conversation.next_message().await);
    }
    messages
}

#[tokio::test]
async fn a_slow_ai_answer_for_one_customer_does_not_hold_up_another_customers_rule_answer() {
    within(async {
        let (opener, gate) = Gate::closed();
        let provider = FakeProvider::start(vec![], Reply::Gated(gate, AI_ANSWER)).await;
        let inbox = Inbox::open().await;
        let (ana, bob) = (inbox.customer("ana").await, inbox.customer("bob").await);
        let (mut to_ana, mut to_bob) = (inbox.listen(ana).await, inbox.listen(bob).await);
        let support = inbox.start(Inbox::args(&provider)).await;

        inbox.send(ana, "ana-1", QUESTION).await;
        provider.wait_for_requests(1).await;
        inbox.send(bob, "bob-1", "Hello!").await;

        let bobs_answer = to_bob.next_answer().await;
        assert_eq!(bobs_answer.source, ChatSource::Rule, "{bobs_answer:?}");
        assert_eq!(
            inbox.stored(ana).await,
            [(ChatSource::Customer, QUESTION.to_owned())],
            "Bob was answered while Ana's question was still with the AI"
        );

        opener.open();
        let anas_answer = to_ana.next_answer().await;
        assert_eq!((anas_answer.source, anas_answer.body.as_str()), (ChatSource::Ai, AI_ANSWER));
        support.stop().await;
        assert_eq!(provider.hits(), 1);
        inbox.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_question_the_ai_answers_slower_than_the_ack_wait_reaches_the_provider_once() {
    within(async {
        let provider = FakeProvider::start(vec![], Reply::Slow(Duration::from_secs(5), AI_ANSWER)).await;
        let inbox = Inbox::open().await;
        let mut args = Inbox::args(&provider);
        args.support_ack_wait = Duration::from_secs(2);
        // Two instances share the consumer, as replicas do: a message whose lease lapsed would be
        // delivered again, possibly to the other one, which would ask the AI a second time.
        let instances = [inbox.start(args.clone()).await, inbox.start(args).await];
        let (ana, bob) = (inbox.customer("ana").await, inbox.customer("bob").await);
        let (mut to_ana, mut to_bob) = (inbox.listen(ana).await, inbox.listen(bob).await);
        let questions = [format!("{QUESTION} (Ana)"), format!("{QUESTION} (Bob)")];

        inbox.send(ana, "ana-1", &questions[0]).await;
        inbox.send(bob, "bob-1", &questions[1]).await;

        for conversation in [&mut to_ana, &mut to_bob] {
            let answer = conversation.next_answer().await;
            assert_eq!((answer.source, answer.body.as_str()), (ChatSource::Ai, AI_ANSWER));
        }
        for instance in instances {
            instance.stop().await;
        }
        let mut asked = provider.questions();
        asked.sort();
        assert_eq!(asked, questions, "each question reached the provider exactly once");
        let consumer = inbox.consumer_info().await;
        assert_eq!(consumer.delivered.consumer_sequence, 2, "neither message was delivered twice");
        assert_eq!(consumer.num_ack_pending, 0, "both were acknowledged");
        inbox.close().await;
    })
    .await;
}

#[tokio::test]
async fn one_customers_messages_are_answered_in_order_even_when_the_first_is_slow() {
    within(async {
        let (opener, gate) = Gate::closed();
        let provider = FakeProvider::start(vec![], Reply::Gated(gate, AI_ANSWER)).await;
        let inbox = Inbox::open().await;
        let (ana, bob) = (inbox.customer("ana").await, inbox.customer("bob").await);
        let (mut to_ana, mut to_bob) = (inbox.listen(ana).await, inbox.listen(bob).await);
        let support = inbox.start(Inbox::args(&provider)).await;

        inbox.send(ana, "ana-1", QUESTION).await;
        inbox.send(ana, "ana-2", "Hello!").await;
        inbox.send(ana, "ana-3", "Thank you!").await;
        provider.wait_for_requests(1).await;
        // Bob wrote after Ana's three messages; once he is answered, support has taken them all.
        inbox.send(bob, "bob-1", "Hello!").await;
        assert_eq!(to_bob.next_answer().await.source, ChatSource::Rule);
        assert_eq!(
            inbox.stored(ana).await,
            [(ChatSource::Customer, QUESTION.to_owned())],
            "Ana's later messages wait behind her question"
        );

        opener.open();
        let heard = next_messages(&mut to_ana, 6).await;
        let heard = sourced(&heard);
        let expected_sources = [
            ChatSource::Customer,
            ChatSource::Ai,
            ChatSource::Customer,
            ChatSource::Rule,
            ChatSource::Customer,
            ChatSource::Rule,
        ];
        assert_eq!(heard.iter().map(|(source, _)| *source).collect::<Vec<_>>(), expected_sources, "{heard:?}");
        assert_eq!(
            [heard[0].1, heard[1].1, heard[2].1, heard[4].1],
            [QUESTION, AI_ANSWER, "Hello!", "Thank you!"],
            "{heard:?}"
        );
        let stored = inbox.stored(ana).await;
        let stored: Vec<(ChatSource, &str)> = stored.iter().map(|(source, body)| (*source, body.as_str())).collect();
        assert_eq!(stored, heard, "stored in the order they were answered");
        support.stop().await;
        assert_eq!(provider.hits(), 1);
        inbox.close().await;
    })
    .await;
}

#[tokio::test]
async fn shutdown_finishes_the_answer_in_hand_and_hands_back_the_messages_waiting_behind_it() {
    within(async {
        let (opener, gate) = Gate::closed();
        let provider = FakeProvider::start(vec![], Reply::Gated(gate, AI_ANSWER)).await;
        let inbox = Inbox::open().await;
        let ana = inbox.customer("ana").await;
        let mut to_ana = inbox.listen(ana).await;
        let mut args = Inbox::args(&provider);
        // Short, so that a message pulled just as support stops is soon offered again.
        args.support_ack_wait = Duration::from_secs(2);
        let first = inbox.start(args.clone()).await;

        inbox.send(ana, "ana-1", QUESTION).await;
        inbox.send(ana, "ana-2", "Hello!").await;
        provider.wait_for_requests(1).await;
        first.request_stop();
        opener.open();
        first.stopped().await.expect("support stopped cleanly");
        assert_eq!(
            sourced(&next_messages(&mut to_ana, 2).await),
            [(ChatSource::Customer, QUESTION), (ChatSource::Ai, AI_ANSWER)],
            "the answer in hand was finished"
        );
        assert_eq!(inbox.stored(ana).await.len(), 2, "the greeting waiting behind it was handed back");

        let second = inbox.start(args).await;
        let heard = next_messages(&mut to_ana, 2).await;
        assert_eq!(sourced(&heard)[0], (ChatSource::Customer, "Hello!"));
        assert_eq!(heard[1].source, ChatSource::Rule);
        second.stop().await;
        assert_eq!(inbox.stored(ana).await.len(), 4);
        assert_eq!(provider.hits(), 1);
        assert_eq!(inbox.consumer_info().await.num_ack_pending, 0);
        inbox.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_changed_ack_wait_is_applied_to_the_existing_consumer() {
    within(async {
        let provider = FakeProvider::start(vec![], Reply::Text(AI_ANSWER)).await;
        let inbox = Inbox::open().await;
        let ana = inbox.customer("ana").await;
        let mut to_ana = inbox.listen(ana).await;
        let mut args = Inbox::args(&provider);

        for (round, ack_wait) in [Duration::from_secs(60), Duration::from_secs(7)].into_iter().enumerate() {
            args.support_ack_wait = ack_wait;
            let support = inbox.start(args.clone()).await;
            inbox.send(ana, &format!("hello-{round}"), "Hello!").await;
            assert_eq!(to_ana.next_answer().await.source, ChatSource::Rule);
            support.stop().await;
            assert_eq!(inbox.consumer_info().await.config.ack_wait, ack_wait);
        }
        inbox.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_concurrency_or_ack_wait_out_of_bounds_stops_support_at_start_naming_the_setting() {
    within(async {
        let provider = FakeProvider::start(vec![], Reply::Hang).await;
        let inbox = Inbox::open().await;
        let defaults = Inbox::args(&provider);
        assert_eq!((defaults.support_concurrency, defaults.support_ack_wait), (16, Duration::from_secs(60)));

        for (concurrency, ack_wait, setting) in [
            (0, Duration::from_secs(60), "--support-concurrency"),
            (5000, Duration::from_secs(60), "--support-concurrency"),
            (16, Duration::from_millis(500), "--support-ack-wait"),
        ] {
            let mut args = defaults.clone();
            (args.support_concurrency, args.support_ack_wait) = (concurrency, ack_wait);
            let error = inbox.start(args).await.stopped().await.expect_err("refused");
            assert!(error.to_string().contains(setting), "{setting}: {error:#}");
        }
        inbox.close().await;
    })
    .await;
}
