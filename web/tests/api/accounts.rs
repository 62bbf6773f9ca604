//! Access tokens of changed accounts: refused at once after a demotion, a deletion or a password
//! reset, on this instance and, through `ems.users.changed`, on every other.

use ems_common::{Role, contracts::UserChanged};
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{error_of, spawn_app};

#[tokio::test]
async fn a_demoted_administrator_loses_the_rights_at_once_and_the_change_is_published() {
    let app = spawn_app().await;
    let (_, root) = app.admin().await;
    let (bob, bob_session) = app.user_with_session("bob-admin", Role::Admin).await;
    let bob_token = bob_session.access_token;
    assert_eq!(app.get("/api/users", &bob_token).await.status(), StatusCode::OK);

    let mut changes = app.events.nats.subscribe(app.events.names.users_changed_subject()).await.unwrap();
    app.events.nats.flush().await.unwrap();
    let demoted = app
        .call(Method::PATCH, &format!("/api/users/{}", bob.id), Some(&root), Some(json!({ "role": "client" })))
        .await;
    assert_eq!(demoted.status(), StatusCode::OK);

    let refused = app.get("/api/users", &bob_token).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "the old token no longer speaks for an administrator");
    let (_, message, _) = error_of(refused).await;
    assert!(message.contains("sign in again"), "{message}");

    let published = tokio::time::timeout(std::time::Duration::from_secs(5), changes.next()).await.unwrap().unwrap();
    let change: UserChanged = serde_json::from_slice(&published.payload).unwrap();
    assert_eq!(change.user_id, bob.id);

    // Signed in again, Bob is a customer.
    let again = app.login("bob-admin", crate::helpers::PASSWORD).await;
    assert_eq!(again.status(), StatusCode::OK);
    let token = again.json::<ems_web::auth::Session>().await.unwrap().access_token;
    assert_eq!(app.get("/api/me", &token).await.status(), StatusCode::OK);
    assert_eq!(app.get("/api/users", &token).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_deleted_account_or_a_reset_password_ends_its_access_tokens() {
    let app = spawn_app().await;
    let (_, root) = app.admin().await;
    let (ana, ana_session) = app.user_with_session("ana", Role::Client).await;
    let (ben, ben_session) = app.user_with_session("ben", Role::Client).await;
    assert_eq!(app.get("/api/me", &ana_session.access_token).await.status(), StatusCode::OK);

    let deleted = app.call(Method::DELETE, &format!("/api/users/{}", ana.id), Some(&root), None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let refused = app.get("/api/devices", &ana_session.access_token).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(error_of(refused).await.1.contains("no longer exists"));

    let path = format!("/api/users/{}/password", ben.id);
    let reset = app.call(Method::PUT, &path, Some(&root), Some(json!({ "password": "a new quiet meadow" }))).await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/me", &ben_session.access_token).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_change_made_through_another_instance_is_heard_over_nats() {
    let app = spawn_app().await;
    let (bob, bob_session) = app.user_with_session("bob-admin", Role::Admin).await;
    assert_eq!(app.get("/api/users", &bob_session.access_token).await.status(), StatusCode::OK);

    // Another instance demotes Bob: the database changes and the event goes out; this instance
    // has Bob cached as an administrator and must forget it on the event, not 30 s later.
    sqlx::query("UPDATE users SET role = 'client', token_version = token_version + 1 WHERE id = $1")
        .bind(bob.id)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        app.get("/api/users", &bob_session.access_token).await.status(),
        StatusCode::OK,
        "cached for a while without the event"
    );
    let payload = serde_json::to_vec(&UserChanged { user_id: bob.id }).unwrap();
    app.events.nats.publish(app.events.names.users_changed_subject(), payload.into()).await.unwrap();
    app.events.nats.flush().await.unwrap();
    let mut status = StatusCode::OK;
    for _ in 0..100 {
        status = app.get("/api/users", &bob_session.access_token).await.status();
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
