//! Input that PostgreSQL cannot store is refused at the edge with a 422 naming the field, never
//! passed on to become a 500: NUL characters in text, over-long usernames at login, and dates
//! outside the range the API accepts.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, error_of, spawn_app};

/// Asserts a 422 whose only field at fault is `field` and whose message for it mentions `words`.
async fn assert_refused(response: reqwest::Response, field: &str, words: &str) {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "for field {field}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "validation_failed");
    let fields = body["fields"].as_array().expect("fields");
    assert_eq!(fields.len(), 1, "{body}");
    assert_eq!(fields[0]["field"], field, "{body}");
    let message = fields[0]["message"].as_str().unwrap();
    assert!(message.contains(words), "{field}: {message:?} should say {words:?}");
}

async fn query(app: &TestApp, path: &str, token: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
    app.client.get(app.url(path)).bearer_auth(token).query(pairs).send().await.unwrap()
}

#[tokio::test]
async fn a_nul_character_in_any_text_is_a_422_naming_the_field() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;

    for path in ["/api/users", "/api/devices", "/api/me/devices", "/api/alerts", "/api/support/conversations"] {
        assert_refused(query(&app, path, &token, &[("q", "an\0a")]).await, "q", "NUL").await;
    }
    assert_refused(app.login("an\0a", PASSWORD).await, "username", "NUL").await;
    let new_user = json!({"username": "nul-user", "display_name": "Ana\0", "password": PASSWORD});
    assert_refused(app.post("/api/users", &token, new_user).await, "display_name", "NUL").await;
    let device = json!({"name": "Kitchen\0", "max_hourly_kwh": 2.0});
    assert_refused(app.post("/api/devices", &token, device).await, "name", "NUL").await;

    let created = app.create_device(&token, json!({"name": "Kitchen", "max_hourly_kwh": 2.0})).await;
    let path = format!("/api/devices/{}", created["id"].as_str().unwrap());
    let changes = json!({"location": "\0"});
    assert_refused(app.call(Method::PATCH, &path, Some(&token), Some(changes)).await, "location", "NUL").await;
}

#[tokio::test]
async fn a_username_longer_than_any_account_can_have_is_refused_before_it_is_looked_up() {
    let app = spawn_app().await;
    // Letters without a pattern: a repeating run would be compressed to fit the throttle's index.
    let long: String = (0..3000u64)
        .scan(1u64, |state, _| {
            *state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            Some(char::from(b'a' + (*state >> 59) as u8 % 26))
        })
        .collect();
    let response = app.login(&long, PASSWORD).await;
    assert_refused(response, "username", "32").await;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM login_throttle").fetch_one(&app.pool).await.unwrap();
    assert_eq!(stored, 0, "nothing is recorded for a username no account can have");
    // The longest possible username is still an ordinary wrong login.
    assert_eq!(app.login(&"a".repeat(32), PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn dates_outside_1970_to_9999_are_a_422_that_names_the_range() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (_, client_token) = app.client_user("ana").await;
    let device = app.create_device(&token, json!({"name": "Kitchen", "max_hourly_kwh": 2.0})).await;
    let series = format!("/api/devices/{}/consumption", device["id"].as_str().unwrap());

    let day = query(&app, "/api/me/consumption", &client_token, &[("date", "-4714-01-01")]).await;
    assert_refused(day, "date", "1970").await;
    let before_1970 = [("from", "1969-12-31T23:59:59Z"), ("to", "1970-01-02")];
    assert_refused(query(&app, &series, &token, &before_1970).await, "from", "9999").await;
    // Still 9999-12-31 where it was written, but already the year 10000 in UTC.
    let after_9999 = [("from", "9999-12-31"), ("to", "9999-12-31T23:59:59-05:00")];
    assert_refused(query(&app, &series, &token, &after_9999).await, "to", "1970").await;
    let far_past = [("from", "-262143-01-01T00:00:00Z")];
    assert_refused(query(&app, "/api/alerts", &token, &far_past).await, "from", "1970").await;
    let far_future = [("to", "+262142-01-01T00:00:00Z")];
    assert_refused(query(&app, "/api/alerts", &client_token, &far_future).await, "to", "9999").await;

    // The edges of the range are accepted.
    let edges = [("from", "9999-12-01"), ("to", "9999-12-31T23:59:59Z")];
    assert_eq!(query(&app, &series, &token, &edges).await.status(), StatusCode::OK);
    let first = query(&app, "/api/me/consumption", &client_token, &[("date", "1970-01-01")]).await;
    assert_eq!(first.status(), StatusCode::OK);
    let (code, _, _) = error_of(query(&app, "/api/me/consumption", &client_token, &[("date", "soon")]).await).await;
    assert_eq!(code, "bad_request", "a date that does not parse is still a 400");
}
