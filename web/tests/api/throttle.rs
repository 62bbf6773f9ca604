//! Password guessing under concurrency, from one address and from many; password checks bounded;
//! the password policy.

use std::time::Duration;

use ems_common::Role;
use ems_web::state::LoginThrottleArgs;
use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, TestSettings, error_of, spawn_app, spawn_app_with};

async fn login_from(app: &TestApp, address: &str, username: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", format!("203.0.113.99, {address}"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .expect("request reaches the server")
}

fn behind_a_proxy(login: LoginThrottleArgs) -> TestSettings {
    TestSettings {
        login_max_failures: 5,
        login_lockout: Duration::from_secs(60),
        login: LoginThrottleArgs { trust_forwarded_for: true, ..login },
        ..TestSettings::default()
    }
}

#[tokio::test]
async fn twenty_parallel_logins_check_no_more_passwords_than_the_limit_allows() {
    let app = spawn_app().await;
    app.user_with_session("ana", Role::Client).await;

    // 19 wrong guesses and then the right password, all at once.
    let attempts = (0..20).map(|index| {
        let password = if index == 19 { PASSWORD.to_owned() } else { format!("wrong guess {index}") };
        let app = &app;
        async move { app.login("ana", &password).await.status() }
    });
    let statuses = join_all(attempts).await;
    let checked = statuses.iter().filter(|status| **status != StatusCode::TOO_MANY_REQUESTS).count();
    assert!(checked <= 5, "{checked} passwords were checked though the limit is 5: {statuses:?}");
    assert!(statuses.iter().all(|status| matches!(status.as_u16(), 200 | 401 | 429)), "{statuses:?}");
    // Whatever the order, the account is now locked for this address (or the right one got in).
    let after = app.login("ana", "wrong again").await.status();
    assert!(matches!(after.as_u16(), 401 | 429), "{after}");
}

#[tokio::test]
async fn password_checks_beyond_the_bound_wait_then_get_429_with_retry_after() {
    let app = spawn_app_with(TestSettings {
        login: LoginThrottleArgs {
            password_checks: Some(1),
            password_check_wait: Duration::ZERO,
            ..LoginThrottleArgs::default()
        },
        ..TestSettings::default()
    })
    .await;
    // Different usernames, so the failure limits play no part: only the bound on checks does.
    let attempts = (0..8).map(|index| {
        let app = &app;
        async move { app.login(&format!("someone-{index}"), "not the password").await }
    });
    let responses = join_all(attempts).await;
    let busy: Vec<_> = responses.iter().filter(|response| response.status() == StatusCode::TOO_MANY_REQUESTS).collect();
    assert!(!busy.is_empty(), "with one check at a time and no wait, 8 parallel logins cannot all be checked");
    assert!(responses.iter().any(|response| response.status() == StatusCode::UNAUTHORIZED), "some were checked");
    assert_eq!(busy[0].headers()["retry-after"], "1");
    let busy = responses.into_iter().find(|response| response.status() == StatusCode::TOO_MANY_REQUESTS).unwrap();
    let (code, message, _) = error_of(busy).await;
    assert_eq!(code, "too_many_requests");
    assert!(message.contains("busy checking other passwords"), "{message}");
}

#[tokio::test]
async fn one_address_cannot_lock_an_account_for_everyone_else() {
    let app = spawn_app_with(behind_a_proxy(LoginThrottleArgs::default())).await;
    app.user_with_session("ana", Role::Client).await;

    for attempt in 1..=12 {
        let status = login_from(&app, "192.0.2.66", "ana", "guess").await.status();
        assert!(matches!(status.as_u16(), 401 | 429), "attempt {attempt}: {status}");
    }
    assert_eq!(login_from(&app, "192.0.2.66", "ana", PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
    // Ana, from her own address, signs in as usual.
    assert_eq!(login_from(&app, "198.51.100.7", "ana", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_password_sprayed_over_many_accounts_from_one_address_is_stopped() {
    let app = spawn_app_with(behind_a_proxy(LoginThrottleArgs {
        login_max_failures_per_address: 6,
        ..LoginThrottleArgs::default()
    }))
    .await;
    app.user_with_session("ana", Role::Client).await;
    for index in 0..6 {
        let status = login_from(&app, "192.0.2.50", &format!("victim-{index}"), "Summer2026!").await.status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "account {index}");
    }
    let stopped = login_from(&app, "192.0.2.50", "victim-7", "Summer2026!").await;
    assert_eq!(stopped.status(), StatusCode::TOO_MANY_REQUESTS);
    let (_, message, _) = error_of(stopped).await;
    assert!(message.contains("your network address"), "{message}");
    // Other addresses are not affected.
    assert_eq!(login_from(&app, "198.51.100.7", "ana", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn guessing_spread_over_many_addresses_locks_the_account() {
    let app = spawn_app_with(behind_a_proxy(LoginThrottleArgs {
        login_max_failures_per_account: 8,
        ..LoginThrottleArgs::default()
    }))
    .await;
    app.user_with_session("ana", Role::Client).await;
    for index in 0..8 {
        let status = login_from(&app, &format!("192.0.2.{}", 10 + index), "ana", "guess").await.status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "address {index}");
    }
    assert_eq!(login_from(&app, "192.0.2.99", "ana", PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn forwarded_addresses_are_ignored_unless_the_proxy_is_trusted() {
    let app = spawn_app_with(TestSettings { login_max_failures: 3, ..TestSettings::default() }).await;
    app.user_with_session("ana", Role::Client).await;
    for index in 0..3 {
        login_from(&app, &format!("192.0.2.{index}"), "ana", "guess").await;
    }
    // A client that invents a new address each time is still the same peer.
    assert_eq!(login_from(&app, "192.0.2.200", "ana", PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn rows_of_failures_that_no_longer_count_are_deleted() {
    let app = spawn_app().await;
    sqlx::query(
        "INSERT INTO login_throttle (key, failures, last_failure_at, locked_until) VALUES \
         ('user:old', 3, now() - interval '1 hour', NULL), \
         ('user:old-lock-over', 9, now() - interval '1 hour', now() - interval '1 minute'), \
         ('user:recent', 2, now() - interval '1 minute', NULL), \
         ('user:still-locked', 9, now() - interval '20 minutes', now() + interval '5 minutes')",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(ems_web::throttle::expire(&app.pool).await.unwrap(), 2);
    let mut left: Vec<String> =
        sqlx::query_scalar("SELECT key FROM login_throttle").fetch_all(&app.pool).await.unwrap();
    left.sort();
    assert_eq!(left, ["user:recent", "user:still-locked"]);
}

#[tokio::test]
async fn new_passwords_that_are_short_common_or_the_username_are_refused_with_the_reason() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let create = |username: &str, password: &str| json!({ "username": username, "display_name": "Dana Example", "password": password, "role": "client" });
    for (username, password, reason) in [
        ("dana", "nine char", "10 to 128 characters"),
        ("dana", "Password1234", "most common"),
        ("dana.popescu", "Dana.Popescu", "not be the username"),
    ] {
        let response = app.post("/api/users", &admin, create(username, password)).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{password}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["fields"][0]["field"], "password", "{body}");
        assert!(body["fields"][0]["message"].as_str().unwrap().contains(reason), "{body}");
    }
    let created = app.post("/api/users", &admin, create("marin.ionescu", "a quiet green meadow")).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let marin: serde_json::Value = created.json().await.unwrap();
    let path = format!("/api/users/{}/password", marin["id"].as_str().unwrap());
    let reset = app.call(Method::PUT, &path, Some(&admin), Some(json!({ "password": "Marin.Ionescu" }))).await;
    assert_eq!(reset.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = reset.json().await.unwrap();
    assert!(body["fields"][0]["message"].as_str().unwrap().contains("not be the username"), "{body}");
    let reset = app.call(Method::PUT, &path, Some(&admin), Some(json!({ "password": "a louder green meadow" }))).await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
}
