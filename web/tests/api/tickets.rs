//! `POST /api/ws-ticket`: a single-use WebSocket ticket for the signed-in user, stored hashed.

use ems_common::Role;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::{error_of, spawn_app};

#[tokio::test]
async fn a_signed_in_user_gets_a_thirty_second_ticket_stored_only_as_a_digest_of_their_own() {
    let app = spawn_app().await;
    let (ana, token) = app.client_user("ana").await;
    let answer = app.call(Method::POST, "/api/ws-ticket", Some(&token), None).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["cache-control"], "no-store");
    let body: Value = answer.json().await.unwrap();
    let ticket = body["ticket"].as_str().unwrap();
    assert_eq!((ticket.len(), body["expires_in_s"].as_u64()), (43, Some(30)), "{body}");
    let second: Value = app.call(Method::POST, "/api/ws-ticket", Some(&token), None).await.json().await.unwrap();
    assert_ne!(second["ticket"], body["ticket"], "every ticket is new");

    let (owner, role, seconds_left): (uuid::Uuid, Role, f64) = sqlx::query_as(
        "SELECT user_id, role, extract(epoch FROM expires_at - now())::float8 FROM ws_tickets WHERE ticket_hash = $1",
    )
    .bind(Sha256::digest(ticket.as_bytes()).to_vec())
    .fetch_one(&app.pool)
    .await
    .expect("stored under its SHA-256 digest");
    assert_eq!((owner, role), (ana.id, Role::Client));
    assert!((25.0..=30.0).contains(&seconds_left), "{seconds_left}");
    let plain: i64 = sqlx::query_scalar("SELECT count(*) FROM ws_tickets WHERE position($1::bytea IN ticket_hash) > 0")
        .bind(ticket.as_bytes())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(plain, 0, "the ticket itself is not stored");
}

#[tokio::test]
async fn without_a_valid_access_token_there_is_no_ticket() {
    let app = spawn_app().await;
    let anonymous = app.call(Method::POST, "/api/ws-ticket", None, None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let (code, message, _) = error_of(anonymous).await;
    assert_eq!(code, "unauthorized");
    assert!(message.contains("sign in first"), "{message}");
    let forged = app.call(Method::POST, "/api/ws-ticket", Some("not-a-token"), None).await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM ws_tickets").fetch_one(&app.pool).await.unwrap();
    assert_eq!(stored, 0);
}
