use std::time::Duration;

use ems_common::Role;
use ems_web::auth::Session;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, TestSettings, error_of, spawn_app, spawn_app_with};

#[tokio::test]
async fn login_with_the_right_password_returns_an_access_token_a_refresh_token_and_the_user() {
    let app = spawn_app().await;
    let (user, session) = app.user_with_session("ana", Role::Client).await;

    assert_eq!(session.token_type, "Bearer");
    assert_eq!(session.expires_in, 900);
    assert_eq!(session.user, user);
    assert!(session.refresh_token.len() >= 40);

    let me = app.get("/api/me", &session.access_token).await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["username"], "ana");
    assert_eq!(me["role"], "client");
    assert!(me.get("password_hash").is_none(), "the hash never leaves the server");
}

#[tokio::test]
async fn usernames_are_matched_without_regard_to_case_or_surrounding_spaces() {
    let app = spawn_app().await;
    app.user_with_session("ana", Role::Client).await;
    assert_eq!(app.login("  ANA ", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_401() {
    let app = spawn_app().await;
    app.user_with_session("ana", Role::Client).await;

    let wrong_password = app.login("ana", "not the password").await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    let unknown_user = app.login("nobody", PASSWORD).await;
    assert_eq!(unknown_user.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_of(wrong_password).await, error_of(unknown_user).await);
}

#[tokio::test]
async fn an_empty_username_or_password_is_named_as_missing() {
    let app = spawn_app().await;
    let response = app.login("", "").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, _, fields) = error_of(response).await;
    assert_eq!(fields, ["username", "password"]);
}

#[tokio::test]
async fn repeated_failed_logins_lock_the_username_even_for_the_right_password() {
    let app = spawn_app_with(TestSettings {
        login_max_failures: 3,
        login_lockout: Duration::from_secs(60),
        ..TestSettings::default()
    })
    .await;
    app.user_with_session("ana", Role::Client).await;

    for attempt in 1..=3 {
        assert_eq!(app.login("ana", "guess").await.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let locked = app.login("ana", PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = locked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "retry after {retry_after}s");
    let (code, message, _) = error_of(locked).await;
    assert_eq!(code, "too_many_requests");
    assert!(message.contains("try again in"), "{message}");

    // Other usernames are not affected, and unknown usernames are throttled just the same.
    app.user_with_session("ben", Role::Client).await;
    for _ in 1..=3 {
        app.login("ghost", "guess").await;
    }
    assert_eq!(app.login("ghost", "guess").await.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_successful_login_clears_earlier_failures() {
    let app = spawn_app_with(TestSettings {
        login_max_failures: 3,
        login_lockout: Duration::from_secs(60),
        ..TestSettings::default()
    })
    .await;
    app.user_with_session("ana", Role::Client).await;
    for _ in 1..=2 {
        app.login("ana", "guess").await;
    }
    assert_eq!(app.login("ana", PASSWORD).await.status(), StatusCode::OK);
    for _ in 1..=2 {
        app.login("ana", "guess").await;
    }
    assert_eq!(app.login("ana", PASSWORD).await.status(), StatusCode::OK);
}

async fn refresh(app: &crate::helpers::TestApp, token: &str) -> reqwest::Response {
    app.call(Method::POST, "/api/auth/refresh", None, Some(json!({ "refresh_token": token }))).await
}

#[tokio::test]
async fn refreshing_rotates_the_token_and_the_old_one_is_rejected() {
    let app = spawn_app().await;
    let (_, first) = app.user_with_session("ana", Role::Client).await;

    let response = refresh(&app, &first.refresh_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let second: Session = response.json().await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(app.get("/api/me", &second.access_token).await.status(), StatusCode::OK);

    let replayed = refresh(&app, &first.refresh_token).await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
    let (_, message, _) = error_of(replayed).await;
    assert!(message.contains("already used"), "{message}");

    // Reuse of a rotated token means it leaked: the whole session family is closed.
    assert_eq!(refresh(&app, &second.refresh_token).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn another_login_of_the_same_user_survives_a_stolen_token_being_replayed() {
    let app = spawn_app().await;
    let (_, phone) = app.user_with_session("ana", Role::Client).await;
    let laptop: Session = app.login("ana", PASSWORD).await.json().await.unwrap();

    refresh(&app, &phone.refresh_token).await;
    refresh(&app, &phone.refresh_token).await; // replay: closes the phone's family only
    assert_eq!(refresh(&app, &laptop.refresh_token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let (_, session) = app.user_with_session("ana", Role::Client).await;
    let response =
        app.call(Method::POST, "/api/auth/logout", None, Some(json!({ "refresh_token": session.refresh_token }))).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(refresh(&app, &session.refresh_token).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_made_up_refresh_token_is_rejected() {
    let app = spawn_app().await;
    let response = refresh(&app, "made-up").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (_, message, _) = error_of(response).await;
    assert!(message.contains("log in again"), "{message}");
}

#[tokio::test]
async fn protected_routes_need_a_valid_bearer_token() {
    let app = spawn_app().await;
    let missing = app.call(Method::GET, "/api/me", None, None).await;
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");
    let (_, message, _) = error_of(missing).await;
    assert!(message.contains("Authorization: Bearer"), "{message}");

    assert_eq!(app.get("/api/me", "not.a.jwt").await.status(), StatusCode::UNAUTHORIZED);

    let forged = ems_common::JwtKeys::new(b"someone-elses-secret-of-32-bytes!!", Duration::from_secs(60))
        .issue(uuid::Uuid::new_v4(), Role::Admin, "Mallory")
        .unwrap();
    assert_eq!(app.get("/api/users", &forged).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_password_reset_signs_the_user_out_and_the_new_password_works() {
    let app = spawn_app().await;
    let (_, admin_token) = app.admin().await;
    let (ana, session) = app.user_with_session("ana", Role::Client).await;

    let response = app
        .call(
            Method::PUT,
            &format!("/api/users/{}/password", ana.id),
            Some(&admin_token),
            Some(json!({"password": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    assert_eq!(refresh(&app, &session.refresh_token).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("ana", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("ana", "a brand new passphrase").await.status(), StatusCode::OK);
}
