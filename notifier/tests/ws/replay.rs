//! Replays to a client far behind, and requests refused before the upgrade.

use ems_common::Role;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite;
use uuid::Uuid;

use crate::helpers::{Setup, alert, args, connect, next_frame, publish_alert};

/// `count` stored alerts of a new customer's device, oldest first: the customer and their ids.
async fn stored_alerts(setup: &Setup, count: i32) -> (Uuid, Vec<i64>) {
    let ana = setup.user(&format!("ana-{}", &Uuid::new_v4().simple().to_string()[..8]), Role::Client).await;
    let device = setup.device(ana).await;
    let mut ids = Vec::new();
    for hours_ago in (1..=count).rev() {
        ids.push(setup.stored_alert(device, ana, hours_ago).await);
    }
    (ana, ids)
}

#[tokio::test]
async fn a_client_far_behind_gets_the_newest_alerts_in_order_and_is_told_that_older_ones_exist() {
    let setup = Setup::new().await;
    let mut settings = args();
    settings.ws_replay_limit = 3;
    let notifier = setup.notifier(settings).await;
    let (ana, ids) = stored_alerts(&setup, 5).await;

    for last_alert_id in [0, ids[0]] {
        let token = setup.token(ana, Role::Client).await;
        let mut client = connect(&notifier, &token, &format!("&last_alert_id={last_alert_id}")).await;
        assert_eq!(
            next_frame(&mut client).await,
            json!({"v": 1, "type": "replay.truncated", "after_id": last_alert_id, "oldest_replayed_id": ids[2]})
        );
        let mut replayed = Vec::new();
        for _ in 0..3 {
            replayed.push(next_frame(&mut client).await["alert"]["id"].as_i64().unwrap());
        }
        assert_eq!(replayed, ids[2..], "the newest three, oldest first");
        publish_alert(&setup, ana, &alert(99, ana, "live")).await;
        assert_eq!(next_frame(&mut client).await["alert"]["message"], "live");
    }

    // Within the limit, nothing is left out and nothing is said about it.
    let mut client =
        connect(&notifier, &setup.token(ana, Role::Client).await, &format!("&last_alert_id={}", ids[1])).await;
    assert_eq!(next_frame(&mut client).await["alert"]["id"].as_i64(), Some(ids[2]));
}

fn json_body(content_type: Option<&str>, body: &[u8]) -> Value {
    assert_eq!(content_type, Some("application/json"), "{}", String::from_utf8_lossy(body));
    serde_json::from_slice(body).unwrap()
}

#[tokio::test]
async fn a_malformed_last_alert_id_or_a_request_that_is_no_websocket_gets_the_apis_json_error() {
    let setup = Setup::new().await;
    let notifier = setup.notifier(args()).await;
    let token = setup.token(Uuid::new_v4(), Role::Client).await;

    let ticket = notifier.ticket(&token).await;
    let refused = tokio_tungstenite::connect_async(format!("{}?ticket={ticket}&last_alert_id=abc", notifier.address))
        .await
        .expect_err("refused");
    let tungstenite::Error::Http(response) = refused else { panic!("an HTTP answer, got {refused:?}") };
    assert_eq!(response.status(), 400);
    let content_type = response.headers().get("content-type").and_then(|value| value.to_str().ok());
    let body = json_body(content_type, response.body().as_deref().unwrap_or_default());
    assert_eq!(body["code"], "bad_request");
    assert!(body["message"].as_str().unwrap().contains("last_alert_id"), "{body}");

    let plain = reqwest::get(notifier.address.replacen("ws://", "http://", 1)).await.unwrap();
    assert!(plain.status().is_client_error(), "{}", plain.status());
    let content_type = plain.headers().get("content-type").and_then(|value| value.to_str().ok()).map(str::to_owned);
    let body = json_body(content_type.as_deref(), &plain.bytes().await.unwrap());
    assert_eq!(body["code"], "bad_request");
}
