//! Web Push subscriptions over the API: the key browsers subscribe with, what a subscription
//! must hold, and that each user adds and removes only their own.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ems_common::webpush::{self, VapidKey};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{error_of, spawn_app};

/// A browser's keys as `PushSubscription.toJSON()` has them: a P-256 point (any key pair's
/// public half is one) and 16 bytes.
fn keys() -> Value {
    json!({"p256dh": VapidKey::generate().public_base64(), "auth": URL_SAFE_NO_PAD.encode([7u8; 16])})
}

async fn json_of(response: reqwest::Response) -> Value {
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_user_subscribes_a_browser_with_the_servers_key_and_unsubscribes_it() {
    let app = spawn_app().await;
    let (ana, ana_token) = app.client_user("ana").await;
    let (_, ben_token) = app.client_user("ben").await;
    let endpoint = "https://push.example.net/send/abc123";

    // Before `ems seed` made a key: not set up, and saying how to set it up.
    let none = app.get("/api/push/key", &ana_token).await;
    assert_eq!(none.status(), StatusCode::NOT_FOUND);
    assert!(error_of(none).await.1.contains("ems seed"));
    let early = app
        .call(
            Method::PUT,
            "/api/me/push-subscriptions",
            Some(&ana_token),
            Some(json!({"endpoint": endpoint, "keys": keys()})),
        )
        .await;
    assert_eq!(early.status(), StatusCode::NOT_FOUND);

    let key = VapidKey::generate();
    webpush::store_key(&app.pool, &key).await.unwrap();
    let published = json_of(app.get("/api/push/key", &ana_token).await).await;
    assert_eq!(published["public_key"], key.public_base64());

    let subscribe = |token: String, body: serde_json::Value| {
        let app = &app;
        async move { app.call(Method::PUT, "/api/me/push-subscriptions", Some(&token), Some(body)).await }
    };
    let stored = subscribe(ana_token.clone(), json!({"endpoint": endpoint, "keys": keys()})).await;
    assert_eq!(stored.status(), StatusCode::NO_CONTENT);
    let again = subscribe(ana_token.clone(), json!({"endpoint": endpoint, "keys": keys()})).await;
    assert_eq!(again.status(), StatusCode::NO_CONTENT, "the same browser again: still one subscription");
    let owners: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT user_id FROM push_subscriptions").fetch_all(&app.pool).await.unwrap();
    assert_eq!(owners, [ana.id]);

    // What a subscription must hold, each refusal naming the field.
    for (body, field) in [
        (json!({"endpoint": "http://push.example.net/x", "keys": keys()}), "endpoint"),
        (json!({"endpoint": "not a url", "keys": keys()}), "endpoint"),
        (json!({"endpoint": endpoint, "keys": {"p256dh": "AAAA", "auth": keys()["auth"]}}), "keys.p256dh"),
        (json!({"endpoint": endpoint, "keys": {"p256dh": keys()["p256dh"], "auth": "c2hvcnQ"}}), "keys.auth"),
    ] {
        let refused = subscribe(ana_token.clone(), body).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error_of(refused).await.2, [field]);
    }

    // Ben cannot remove Ana's browser; Ana can.
    let remove = |token: String| {
        let app = &app;
        async move {
            app.call(Method::DELETE, "/api/me/push-subscriptions", Some(&token), Some(json!({"endpoint": endpoint})))
                .await
        }
    };
    assert_eq!(remove(ben_token).await.status(), StatusCode::NO_CONTENT);
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM push_subscriptions").fetch_one(&app.pool).await.unwrap()
    };
    assert_eq!(count().await, 1, "someone else's subscription stays");
    assert_eq!(remove(ana_token).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(count().await, 0);

    let unsigned = app.call(Method::GET, "/api/push/key", None, None).await;
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
}
