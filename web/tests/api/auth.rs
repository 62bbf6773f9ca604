use std::time::Duration;

use ems_common::Role;
use ems_web::auth::Session;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, TestSettings, error_of, spawn_app, spawn_app_with};

#[tokio::test]
async fn login_with_the_right_password_returns_an_access_token_and_the_user() {
    let app = spawn_app().await;
    let (user, session) = app.user_with_session("ana", Role::Client).await;

    assert_eq!(session.token_type, "Bearer");
    assert_eq!(session.expires_in, 900);
    assert_eq!(session.user, user);

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

/// The `ems_refresh` cookie a response sets: its value and its attributes, lower-cased.
fn refresh_cookie(response: &reqwest::Response) -> (String, Vec<String>) {
    let set_cookie = response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap())
        .find(|value| value.starts_with("ems_refresh="))
        .unwrap_or_else(|| panic!("no ems_refresh cookie in {:?}", response.headers()));
    let mut parts = set_cookie.split(';').map(str::trim);
    let value = parts.next().unwrap().trim_start_matches("ems_refresh=").to_owned();
    (value, parts.map(str::to_lowercase).collect())
}

/// Signs in as a new user; returns the session and the refresh token from its cookie.
async fn signed_in(app: &TestApp, username: &str) -> (Session, String) {
    app.user_with_session(username, Role::Client).await;
    let response = app.login(username, PASSWORD).await;
    let (token, _) = refresh_cookie(&response);
    (response.json().await.unwrap(), token)
}

/// A refresh as the dashboard sends it: the token in the cookie, `{}` as the JSON body.
async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/auth/refresh"))
        .header(reqwest::header::COOKIE, format!("theme=dark; ems_refresh={token}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn login_sets_the_refresh_token_as_an_http_only_strict_cookie_and_leaves_it_out_of_the_body() {
    let app = spawn_app().await;
    app.user_with_session("ana", Role::Client).await;
    let response = app.login("ana", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let (token, attributes) = refresh_cookie(&response);
    assert!(token.len() >= 40, "{token}");
    for expected in ["httponly", "secure", "samesite=strict", "path=/api/auth", "max-age=3600"] {
        assert!(attributes.iter().any(|attribute| attribute == expected), "{expected} missing from {attributes:?}");
    }
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body.get("refresh_token").is_none(), "the body holds no refresh token: {body}");
    assert!(!body.to_string().contains(&token), "the body repeats the cookie's token: {body}");
    assert!(body["refresh_expires_at"].is_string());
}

#[tokio::test]
async fn refreshing_with_the_cookie_rotates_it_and_the_old_one_is_rejected() {
    let app = spawn_app().await;
    let (_, first) = signed_in(&app, "ana").await;

    let response = refresh(&app, &first).await;
    assert_eq!(response.status(), StatusCode::OK);
    let (second, attributes) = refresh_cookie(&response);
    assert_ne!(second, first);
    assert!(attributes.contains(&"httponly".to_owned()) && attributes.contains(&"max-age=3600".to_owned()));
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body.get("refresh_token").is_none(), "{body}");
    let session: Session = serde_json::from_value(body).unwrap();
    assert_eq!(app.get("/api/me", &session.access_token).await.status(), StatusCode::OK);

    let replayed = refresh(&app, &first).await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
    let (cleared, attributes) = refresh_cookie(&replayed);
    assert_eq!((cleared.as_str(), attributes.contains(&"max-age=0".to_owned())), ("", true));
    let (_, message, _) = error_of(replayed).await;
    assert!(message.contains("already used"), "{message}");

    // Reuse of a rotated token means it leaked: the whole session family is closed.
    assert_eq!(refresh(&app, &second).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn clients_without_cookies_may_send_the_refresh_token_in_the_body() {
    let app = spawn_app().await;
    let (_, token) = signed_in(&app, "ana").await;
    let response = app.call(Method::POST, "/api/auth/refresh", None, Some(json!({ "refresh_token": token }))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let (rotated, _) = refresh_cookie(&response);
    assert_eq!(refresh(&app, &rotated).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_refresh_without_a_cookie_is_told_to_log_in() {
    let app = spawn_app().await;
    let response = app.call(Method::POST, "/api/auth/refresh", None, Some(json!({}))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (_, message, _) = error_of(response).await;
    assert!(message.contains("log in"), "{message}");
}

#[tokio::test]
async fn a_cross_site_form_cannot_refresh_or_sign_out() {
    let app = spawn_app().await;
    let (_, token) = signed_in(&app, "ana").await;
    for path in ["/api/auth/refresh", "/api/auth/logout"] {
        for (content_type, body) in [
            ("application/x-www-form-urlencoded", "refresh_token=".to_owned()),
            ("text/plain", "{}".to_owned()),
            ("multipart/form-data; boundary=x", "--x--".to_owned()),
        ] {
            let response = app
                .client
                .post(app.url(path))
                .header(reqwest::header::COOKIE, format!("ems_refresh={token}"))
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path} with {content_type}");
            assert!(response.headers().get(reqwest::header::SET_COOKIE).is_none(), "{path} with {content_type}");
        }
    }
    // Sending JSON from another origin takes a CORS preflight, which EMS never grants, and the
    // answer to a request that went out anyway is not readable there either.
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/api/auth/refresh"))
        .header(reqwest::header::ORIGIN, "https://elsewhere.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.headers().get("access-control-allow-origin").is_none(), "{:?}", preflight.headers());
    let response = app
        .client
        .post(app.url("/api/auth/refresh"))
        .header(reqwest::header::ORIGIN, "https://elsewhere.example")
        .header(reqwest::header::COOKIE, format!("ems_refresh={token}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("access-control-allow-origin").is_none(), "{:?}", response.headers());
    let (rotated, _) = refresh_cookie(&response);

    // None of the forms used or revoked the token.
    assert_eq!(refresh(&app, &rotated).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn another_login_of_the_same_user_survives_a_stolen_token_being_replayed() {
    let app = spawn_app().await;
    let (_, phone) = signed_in(&app, "ana").await;
    let laptop = app.login("ana", PASSWORD).await;
    let (laptop, _) = refresh_cookie(&laptop);

    refresh(&app, &phone).await;
    refresh(&app, &phone).await; // replay: closes the phone's family only
    assert_eq!(refresh(&app, &laptop).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn logout_revokes_the_cookies_session_and_clears_the_cookie() {
    let app = spawn_app().await;
    let (_, first) = signed_in(&app, "ana").await;
    let (current, _) = refresh_cookie(&refresh(&app, &first).await);

    let response = app
        .client
        .post(app.url("/api/auth/logout"))
        .header(reqwest::header::COOKIE, format!("ems_refresh={current}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (cleared, attributes) = refresh_cookie(&response);
    assert_eq!(cleared, "");
    for expected in ["max-age=0", "path=/api/auth", "httponly", "secure", "samesite=strict"] {
        assert!(attributes.iter().any(|attribute| attribute == expected), "{expected} missing from {attributes:?}");
    }
    assert_eq!(refresh(&app, &current).await.status(), StatusCode::UNAUTHORIZED);
    // The whole family is closed, so the rotated-away token cannot be replayed into a session either.
    assert_eq!(refresh(&app, &first).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_also_takes_the_refresh_token_in_the_body() {
    let app = spawn_app().await;
    let (_, token) = signed_in(&app, "ana").await;
    let response = app.call(Method::POST, "/api/auth/logout", None, Some(json!({ "refresh_token": token }))).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(refresh(&app, &token).await.status(), StatusCode::UNAUTHORIZED);
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
    let (ana, _) = app.user_with_session("ana", Role::Client).await;
    let (token, _) = refresh_cookie(&app.login("ana", PASSWORD).await);

    let response = app
        .call(
            Method::PUT,
            &format!("/api/users/{}/password", ana.id),
            Some(&admin_token),
            Some(json!({"password": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    assert_eq!(refresh(&app, &token).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("ana", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("ana", "a brand new passphrase").await.status(), StatusCode::OK);
}
