//! What one client sends cannot cut anybody else off: typing is coalesced, chat messages are
//! rate-limited, a flood closes the flooder, and ephemeral events never cut a slow connection.

use std::time::Duration;

use ems_common::{
    Role,
    contracts::{ChatEvent, ConversationMode},
};
use futures::SinkExt;
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::helpers::{Client, NotifierArgsExt, Setup, WAIT, args, close_code, connect, next_frame, send};

async fn publish_admins(setup: &Setup, event: &ChatEvent) {
    let subject = setup.broker.names().chat_admins_subject();
    setup.nats.publish(subject, serde_json::to_vec(event).unwrap().into()).await.unwrap();
}

/// A durable event for administrators, to know that everything before it has been read.
async fn sentinel(setup: &Setup) -> String {
    let customer_id = Uuid::new_v4();
    publish_admins(
        setup,
        &ChatEvent::Mode { customer_id, mode: ConversationMode::Human, admin_id: None, previous_admin_id: None },
    )
    .await;
    setup.nats.flush().await.unwrap();
    customer_id.to_string()
}

/// The frames up to the `chat.mode` frame of `customer_id`, presence frames left out.
async fn frames_until_mode(client: &mut Client, customer_id: &str) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        let frame = next_frame(client).await;
        if frame["type"] == "chat.mode" && frame["customer_id"] == customer_id {
            return frames;
        }
        if frame["type"] != "presence" {
            frames.push(frame);
        }
    }
}

#[tokio::test]
async fn a_customer_flooding_typing_frames_is_closed_and_cuts_off_no_administrator() {
    let setup = Setup::new().await;
    let notifier = setup.notifier(args()).await;
    let mut admins = Vec::new();
    for _ in 0..2 {
        admins.push(connect(&notifier, &setup.token(Uuid::new_v4(), Role::Admin).await, "").await);
    }
    let mut flooder = connect(&notifier, &setup.token(Uuid::new_v4(), Role::Client).await, "").await;

    // The administrators read nothing meanwhile: their queues (64 events) would fill at once.
    for index in 0..1000 {
        let frame = json!({"type": "chat.typing", "typing": index % 2 == 0}).to_string();
        // Once closed by the server, its last sends may fail: the flood is what counts.
        let _ = flooder.send(Message::Text(frame.into())).await;
    }
    let (code, reason) = close_code(&mut flooder).await;
    assert_eq!(u16::from(code), 4029, "{reason}");

    // The first typing frame went out before the flooder was closed, so before this event.
    let customer_id = sentinel(&setup).await;
    for admin in &mut admins {
        let typing = frames_until_mode(admin, &customer_id).await;
        assert!(!typing.is_empty() && typing.len() <= 2, "{typing:?}");
        assert!(typing.iter().all(|frame| frame["type"] == "chat.typing"), "{typing:?}");
    }
}

#[tokio::test]
async fn typing_is_forwarded_once_a_second_per_conversation_ending_in_the_latest_state() {
    let setup = Setup::new().await;
    let notifier = setup.notifier(args()).await;
    let mut admin = connect(&notifier, &setup.token(Uuid::new_v4(), Role::Admin).await, "").await;
    let customer = Uuid::new_v4();
    let mut client = connect(&notifier, &setup.token(customer, Role::Client).await, "").await;

    let started = Instant::now();
    for index in 0..10 {
        send(&mut client, json!({"type": "chat.typing", "typing": index % 2 == 0})).await;
    }
    let mut typing = Vec::new();
    while typing.len() < 2 {
        let frame = next_frame(&mut admin).await;
        if frame["type"] == "chat.typing" {
            assert_eq!(frame["customer_id"], customer.to_string());
            typing.push((frame["typing"].as_bool(), started.elapsed()));
        }
    }
    assert_eq!(typing[0].0, Some(true), "the first at once");
    assert_eq!(typing[1].0, Some(false), "then the state last asked for");
    assert!(typing[1].1 >= Duration::from_millis(900), "a second later: {:?}", typing[1].1);
    let customer_id = sentinel(&setup).await;
    assert_eq!(frames_until_mode(&mut admin, &customer_id).await, Vec::<Value>::new(), "and nothing else");
}

#[tokio::test]
async fn chat_messages_past_the_burst_are_refused_with_an_error_and_accepted_when_sent_again_later() {
    let setup = Setup::new().await;
    let notifier = setup.notifier(args()).await;
    let mut client = connect(&notifier, &setup.token(Uuid::new_v4(), Role::Client).await, "").await;

    for index in 0..15 {
        send(&mut client, json!({"type": "chat.send", "client_id": format!("m-{index}"), "text": "hello"})).await;
    }
    let (mut acknowledged, mut refused) = (0, Vec::new());
    for _ in 0..15 {
        let frame = next_frame(&mut client).await;
        match frame["type"].as_str() {
            Some("ack") => acknowledged += 1,
            _ => {
                assert_eq!(frame["code"], "rate_limited", "{frame}");
                refused.push(frame);
            }
        }
    }
    assert!((10..=12).contains(&acknowledged), "{acknowledged} acknowledged");
    assert_eq!(acknowledged + refused.len(), 15);

    // As the dashboard's outbox does: the same message again, a little later, until acknowledged.
    let deadline = Instant::now() + WAIT;
    loop {
        send(&mut client, json!({"type": "chat.send", "client_id": "m-14", "text": "hello"})).await;
        let frame = next_frame(&mut client).await;
        if frame["type"] == "ack" {
            break;
        }
        assert_eq!(frame["code"], "rate_limited", "{frame}");
        assert!(Instant::now() < deadline, "never accepted");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let jetstream = async_nats::jetstream::new(setup.nats.clone());
    let mut stream = jetstream.get_stream(setup.broker.names().chat_stream()).await.unwrap();
    let stored = stream.info().await.unwrap().state.messages;
    assert!(stored == acknowledged as u64 || stored == acknowledged as u64 + 1, "{stored} stored");
}

#[tokio::test]
async fn typing_and_presence_for_a_full_queue_are_dropped_without_cutting_the_administrator_off() {
    let setup = Setup::new().await;
    let notifier = setup.notifier(args().with_queue(1)).await;
    let mut admin = connect(&notifier, &setup.token(Uuid::new_v4(), Role::Admin).await, "").await;

    // As many customers typing and coming online at once, from every notifier instance.
    for index in 0..1000 {
        let event = if index % 2 == 0 {
            ChatEvent::Typing { customer_id: Uuid::new_v4(), role: Role::Client, user_id: Uuid::new_v4(), typing: true }
        } else {
            ChatEvent::Presence { user_id: Uuid::new_v4(), online: true }
        };
        publish_admins(&setup, &event).await;
    }
    setup.nats.flush().await.unwrap();

    // The queue holds one event: a marker gets through once the flood has drained. Were the
    // administrator cut off, the next frame would be a close frame instead.
    let marker = Uuid::new_v4();
    let deadline = Instant::now() + WAIT;
    'marked: loop {
        publish_admins(&setup, &ChatEvent::Presence { user_id: marker, online: true }).await;
        setup.nats.flush().await.unwrap();
        while let Ok(frame) = tokio::time::timeout(Duration::from_millis(200), next_frame(&mut admin)).await {
            if frame["user_id"] == marker.to_string() {
                break 'marked;
            }
        }
        assert!(Instant::now() < deadline, "the marker never arrived");
    }
}
