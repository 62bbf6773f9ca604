//! The notifier with real WebSocket clients, real NATS (with JetStream) and PostgreSQL.

mod abuse;
mod accounts;
mod gauge;
mod helpers;
mod presence;
mod replay;
mod tickets;

use std::time::Duration;

use chrono::Utc;
use ems_common::{Role, contracts::ChatInbound};
use futures::StreamExt;
use serde_json::json;
use uuid::Uuid;

use helpers::{Setup, WAIT, alert, args, close_code, connect, next_frame, open, open_with_bearer, publish_alert, send};

#[tokio::test]
async fn a_missing_or_expired_or_forged_token_is_closed_with_a_reason() {
    let setup = Setup::new().await;
    let notifier = setup.notifier(args()).await;

    let mut anonymous = open(&notifier.address).await;
    let (code, reason) = close_code(&mut anonymous).await;
    assert_eq!((u16::from(code), reason.contains("no ticket")), (4401, true), "{reason}");
    assert!(reason.contains("POST /api/ws-ticket"), "{reason}");

    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": Uuid::new_v4(), "role": "client", "name": "Old", "iss": "ems", "iat": 0, "exp": Utc::now().timestamp() - 600}),
        &jsonwebtoken::EncodingKey::from_secret(b"notifier-test-secret-notifier-test!!").unwrap(),
    )
    .unwrap();
    let mut stale = open_with_bearer(&notifier.address, &expired).await;
    let (code, reason) = close_code(&mut stale).await;
    assert_eq!(u16::from(code), 4401);
    assert!(reason.contains("expired"), "{reason}");

    let forged = ems_common::JwtKeys::new(b"another-secret-another-secret-1234", Duration::from_secs(60))
        .issue(Uuid::new_v4(), Role::Admin, "Mallory")
        .unwrap();
    let mut mallory = open_with_bearer(&notifier.address, &forged).await;
    assert_eq!(u16::from(close_code(&mut mallory).await.0), 4401);
}

#[tokio::test]
async fn an_alert_reaches_every_connection_of_its_user_and_no_one_else() {
    let setup = Setup::new().await;
    let notifier = setup.notifier(args()).await;
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    let mut tab = connect(&notifier, &setup.token(ana, Role::Client).await, "").await;
    let mut phone = connect(&notifier, &setup.token(ana, Role::Client).await, "").await;
    let mut other = connect(&notifier, &setup.token(ben, Role::Client).await, "").await;

    publish_alert(&setup, ana, &alert(1, ana, "for ana")).await;
    publish_alert(&setup, ben, &alert(2, ben, "for ben")).await;
    for client in [&mut tab, &mut phone] {
        let frame = next_frame(client).await;
        assert_eq!((frame["v"].as_i64(), frame["type"].as_str()), (Some(1), Some("alert")));
        assert_eq!(frame["alert"]["message"], "for ana");
    }
    assert_eq!(next_frame(&mut other).await["alert"]["message"], "for ben", "ben's first frame is his own alert");
}

#[tokio::test]
async fn a_customer_forging_ids_in_frames_only_ever_acts_in_their_own_conversation() {
    let setup = Setup::new().await;
    let notifier = setup.notifier(args()).await;
    let (ana, mallory, admin) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let mut victim = connect(&notifier, &setup.token(ana, Role::Client).await, "").await;
    let mut attacker = connect(&notifier, &setup.token(mallory, Role::Client).await, "").await;
    let mut administrator = connect(&notifier, &setup.token(admin, Role::Admin).await, "").await;
    let names = setup.broker.names();
    let mut inbound = setup.nats.subscribe(names.chat_inbound_subject()).await.unwrap();
    setup.nats.flush().await.unwrap();

    send(&mut attacker, json!({"type": "chat.send", "client_id": "x1", "text": "pretend", "customer_id": ana})).await;
    assert_eq!(next_frame(&mut attacker).await, json!({"v": 1, "type": "ack", "client_id": "x1"}));
    send(&mut attacker, json!({"type": "chat.typing", "typing": true, "customer_id": ana})).await;
    send(&mut attacker, json!({"type": "subscribe", "subject": format!("ems.alerts.{ana}")})).await;
    assert_eq!(next_frame(&mut attacker).await["code"], "bad_frame");

    let stored = tokio::time::timeout(WAIT, inbound.next()).await.unwrap().unwrap();
    let ChatInbound::Message { customer_id, sender_id, .. } = serde_json::from_slice(&stored.payload).unwrap() else {
        panic!("a message")
    };
    assert_eq!((customer_id, sender_id), (mallory, mallory), "the forged conversation id was ignored");
    let typing = next_frame(&mut administrator).await;
    let typing = if typing["type"] == "presence" { next_frame(&mut administrator).await } else { typing };
    let typing = if typing["type"] == "presence" { next_frame(&mut administrator).await } else { typing };
    assert_eq!(
        (typing["type"].as_str(), typing["customer_id"].as_str()),
        (Some("chat.typing"), Some(mallory.to_string().as_str()))
    );

    // Nothing reached ana: her first frame is the alert sent to her now.
    publish_alert(&setup, ana, &alert(9, ana, "sentinel")).await;
    assert_eq!(next_frame(&mut victim).await["alert"]["message"], "sentinel");
}

#[tokio::test]
async fn a_resent_chat_message_is_acknowledged_again_but_stored_once() {
    let setup = Setup::new().await;
    let notifier = setup.notifier(args()).await;
    let ana = Uuid::new_v4();
    let mut client = connect(&notifier, &setup.token(ana, Role::Client).await, "").await;
    for _ in 0..2 {
        send(&mut client, json!({"type": "chat.send", "client_id": "m-1", "text": "hello"})).await;
        assert_eq!(next_frame(&mut client).await["type"], "ack");
    }
    let jetstream = async_nats::jetstream::new(setup.nats.clone());
    let mut stream = jetstream.get_stream(setup.broker.names().chat_stream()).await.unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, 1);
    send(&mut client, json!({"type": "chat.send", "client_id": "m-2", "text": "   "})).await;
    assert_eq!(next_frame(&mut client).await["code"], "bad_frame");
}

#[tokio::test]
async fn a_reconnecting_client_gets_the_alerts_it_missed_in_order() {
    let setup = Setup::new().await;
    let notifier = setup.notifier(args()).await;
    let ana = setup.user("ana", Role::Client).await;
    let ben = setup.user("ben", Role::Client).await;
    let device = setup.device(ana).await;
    let mut ids = Vec::new();
    for (hours_ago, user) in [(1, ana), (2, ben), (3, ana), (4, ana)] {
        ids.push((setup.stored_alert(device, user, hours_ago).await, user));
    }
    let seen = ids[0].0;
    let mut client = connect(&notifier, &setup.token(ana, Role::Client).await, &format!("&last_alert_id={seen}")).await;
    let first = next_frame(&mut client).await;
    let second = next_frame(&mut client).await;
    assert_eq!((first["alert"]["id"].as_i64(), second["alert"]["id"].as_i64()), (Some(ids[2].0), Some(ids[3].0)));
    assert_eq!(first["alert"]["device_name"], "Oven");
    publish_alert(&setup, ana, &alert(99, ana, "live")).await;
    assert_eq!(next_frame(&mut client).await["alert"]["message"], "live", "ben's alert was not replayed to ana");
}

#[tokio::test]
async fn alerts_raised_while_their_device_was_snoozed_are_not_replayed() {
    let setup = Setup::new().await;
    let notifier = setup.notifier(args()).await;
    let ana = setup.user("ana", Role::Client).await;
    let device = setup.device(ana).await;
    let seen = setup.stored_alert(device, ana, 5).await;
    let quiet = setup.stored_alert(device, ana, 4).await;
    sqlx::query("UPDATE alerts SET snoozed = true, acknowledged_at = now() WHERE id = $1")
        .bind(quiet)
        .execute(&setup.pool)
        .await
        .unwrap();
    let missed = setup.stored_alert(device, ana, 3).await;
    let mut client = connect(&notifier, &setup.token(ana, Role::Client).await, &format!("&last_alert_id={seen}")).await;
    assert_eq!(next_frame(&mut client).await["alert"]["id"].as_i64(), Some(missed));
    publish_alert(&setup, ana, &alert(99, ana, "live")).await;
    assert_eq!(next_frame(&mut client).await["alert"]["message"], "live", "the snoozed one was not replayed");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off_while_a_fast_one_keeps_receiving() {
    let setup = Setup::new().await;
    let mut settings = helpers::NotifierArgsExt::with_queue(args(), 16);
    settings.ws_send_timeout = Duration::from_secs(30);
    let notifier = setup.notifier(settings).await;
    let ana = Uuid::new_v4();
    let mut slow = connect(&notifier, &setup.token(ana, Role::Client).await, "").await;
    let mut fast = connect(&notifier, &setup.token(ana, Role::Client).await, "").await;

    // 24 MB of events: more than the slow client's socket buffers can absorb. The publisher stays
    // a few frames ahead of the fast reader, so the fast one is never the bottleneck.
    let padding = "x".repeat(16 * 1024);
    let total = 1500;
    let (progress, mut received) = tokio::sync::watch::channel(0i64);
    let reader = tokio::spawn(async move {
        for count in 1..=total {
            let frame = next_frame(&mut fast).await;
            assert_eq!(frame["type"], "alert");
            progress.send_replace(count);
        }
        total
    });
    for id in 0..total {
        while id - *received.borrow() > 8 {
            tokio::time::timeout(WAIT, received.changed()).await.expect("the fast reader keeps up").unwrap();
        }
        setup
            .nats
            .publish(
                setup.broker.names().alerts_subject(ana),
                serde_json::to_vec(&alert(id, ana, &padding)).unwrap().into(),
            )
            .await
            .unwrap();
    }
    setup.nats.flush().await.unwrap();
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(60), reader).await.unwrap().unwrap(),
        total,
        "the fast one got everything"
    );
    let (code, reason) = close_code(&mut slow).await;
    assert_eq!(u16::from(code), 4008);
    assert!(reason.contains("too slow"), "{reason}");
}

#[tokio::test]
async fn a_silent_client_is_closed_after_the_idle_timeout() {
    let setup = Setup::new().await;
    let mut settings = args();
    settings.ws_ping_interval = Duration::from_millis(200);
    settings.ws_idle_timeout = Duration::from_millis(700);
    let notifier = setup.notifier(settings).await;
    let token = setup.token(Uuid::new_v4(), Role::Client).await;
    let mut client = open(&format!("{}?ticket={}", notifier.address, notifier.ticket(&token).await)).await;
    // Not reading means not answering pings; the server's idle timer runs out, and the server
    // waits a moment for the closing handshake, in which the client reads the reason.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(u16::from(close_code(&mut client).await.0), 4000);
}

#[tokio::test]
async fn two_notifier_instances_both_deliver_to_their_own_connections() {
    let setup = Setup::new().await;
    let first = setup.notifier(args()).await;
    let second = setup.notifier(args()).await;
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    let mut ana_on_first = connect(&first, &setup.token(ana, Role::Client).await, "").await;
    let mut ana_on_second = connect(&second, &setup.token(ana, Role::Client).await, "").await;
    let mut ben_on_second = connect(&second, &setup.token(ben, Role::Client).await, "").await;
    publish_alert(&setup, ana, &alert(1, ana, "both")).await;
    publish_alert(&setup, ben, &alert(2, ben, "ben only")).await;
    assert_eq!(next_frame(&mut ana_on_first).await["alert"]["message"], "both");
    assert_eq!(next_frame(&mut ana_on_second).await["alert"]["message"], "both");
    assert_eq!(next_frame(&mut ben_on_second).await["alert"]["message"], "ben only");
    first.shutdown.trigger();
    second.shutdown.trigger();
}
