use ems_common::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{error_of, spawn_app};

/// Every administrators' route, with a body where one is needed.
fn admin_routes(some_id: Uuid) -> Vec<(Method, String, Option<Value>)> {
    let user = format!("/api/users/{some_id}");
    let device = format!("/api/devices/{some_id}");
    vec![
        (Method::GET, "/api/users".into(), None),
        (
            Method::POST,
            "/api/users".into(),
            Some(json!({"username": "eve", "display_name": "Eve", "password": "long enough"})),
        ),
        (Method::GET, user.clone(), None),
        (Method::PATCH, user.clone(), Some(json!({"display_name": "Eve"}))),
        (Method::PUT, format!("{user}/password"), Some(json!({"password": "long enough"}))),
        (Method::DELETE, user, None),
        (Method::GET, "/api/devices".into(), None),
        (Method::POST, "/api/devices".into(), Some(json!({"name": "Mine now", "max_hourly_kwh": 1.0}))),
        (Method::PATCH, device.clone(), Some(json!({"name": "Renamed"}))),
        (Method::DELETE, device.clone(), None),
        (Method::PUT, format!("{device}/owner"), Some(json!({"user_id": some_id}))),
        (Method::DELETE, format!("{device}/owner"), None),
    ]
}

#[tokio::test]
async fn every_admin_route_is_forbidden_to_a_client_and_needs_a_token() {
    let app = spawn_app().await;
    let (client, client_token) = app.client_user("ana").await;

    for (method, path, body) in admin_routes(client.id) {
        let as_client = app.call(method.clone(), &path, Some(&client_token), body.clone()).await;
        assert_eq!(as_client.status(), StatusCode::FORBIDDEN, "{method} {path} as a client");
        let (code, message, _) = error_of(as_client).await;
        assert_eq!((code.as_str(), message.as_str()), ("forbidden", "only administrators may do this"));

        let anonymous = app.call(method.clone(), &path, None, body).await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{method} {path} without a token");
    }
    // Nothing was changed by the refused calls.
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn an_admin_creates_reads_edits_and_deletes_a_user() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;

    let created = app
        .post(
            "/api/users",
            &token,
            json!({"username": "Ben.Carter", "display_name": " Ben Carter ", "password": "long enough"}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(
        (created["username"].as_str(), created["display_name"].as_str()),
        (Some("ben.carter"), Some("Ben Carter"))
    );
    assert_eq!(created["role"], "client", "the role defaults to client");
    let path = format!("/api/users/{}", created["id"].as_str().unwrap());

    assert_eq!(app.get(&path, &token).await.json::<Value>().await.unwrap(), created);

    let edited =
        app.call(Method::PATCH, &path, Some(&token), Some(json!({"display_name": "Benjamin", "role": "admin"}))).await;
    assert_eq!(edited.status(), StatusCode::OK);
    let edited: Value = edited.json().await.unwrap();
    assert_eq!((edited["display_name"].as_str(), edited["role"].as_str()), (Some("Benjamin"), Some("admin")));
    assert_eq!(edited["username"], "ben.carter", "fields left out stay as they were");

    assert_eq!(app.login("ben.carter", "long enough").await.status(), StatusCode::OK);

    assert_eq!(app.call(Method::DELETE, &path, Some(&token), None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path, &token).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.call(Method::DELETE, &path, Some(&token), None).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_taken_username_is_a_409_naming_the_field() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    app.client_user("ana").await;

    let response = app
        .post("/api/users", &token, json!({"username": "ANA", "display_name": "Other Ana", "password": "long enough"}))
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let (code, message, fields) = error_of(response).await;
    assert_eq!((code.as_str(), fields), ("conflict", vec!["username".to_owned()]));
    assert!(message.contains("already taken"), "{message}");

    let (ben, _) = app.client_user("ben").await;
    let rename = app
        .call(Method::PATCH, &format!("/api/users/{}", ben.id), Some(&token), Some(json!({"username": "ana"})))
        .await;
    assert_eq!(rename.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn each_invalid_user_field_is_named_in_a_422() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;

    let response =
        app.post("/api/users", &token, json!({"username": "a b", "display_name": "   ", "password": "short"})).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "validation_failed");
    let fields: Vec<&str> =
        body["fields"].as_array().unwrap().iter().map(|field| field["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["display_name", "password", "username"]);
    let password_message = body["fields"][1]["message"].as_str().unwrap();
    assert!(password_message.contains("10 to 128 characters"), "{password_message}");

    let wrong_role = app
        .post(
            "/api/users",
            &token,
            json!({"username": "eve", "display_name": "Eve", "password": "long enough", "role": "root"}),
        )
        .await;
    assert_eq!(wrong_role.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, message, _) = error_of(wrong_role).await;
    assert!(message.contains("body"), "{message}");

    let broken_json = app
        .client
        .post(app.url("/api/users"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(broken_json.status(), StatusCode::BAD_REQUEST);
    let (_, message, _) = error_of(broken_json).await;
    assert!(message.contains("not valid JSON"), "{message}");
}

#[tokio::test]
async fn the_user_list_pages_and_searches() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    for index in 0..25 {
        let username = format!("customer{index:02}");
        app.post(
            "/api/users",
            &token,
            json!({"username": username, "display_name": format!("Customer {index}"), "password": "long enough"}),
        )
        .await;
    }

    let first: Value = app.get("/api/users?per_page=10&role=client", &token).await.json().await.unwrap();
    assert_eq!((first["total"].as_i64(), first["total_pages"].as_i64()), (Some(25), Some(3)));
    assert_eq!(first["items"].as_array().unwrap().len(), 10);
    assert_eq!(first["items"][0]["username"], "customer00");

    let last: Value = app.get("/api/users?per_page=10&page=3&role=client", &token).await.json().await.unwrap();
    let usernames: Vec<&str> =
        last["items"].as_array().unwrap().iter().map(|user| user["username"].as_str().unwrap()).collect();
    assert_eq!(usernames, ["customer20", "customer21", "customer22", "customer23", "customer24"]);

    let beyond: Value = app.get("/api/users?per_page=10&page=9", &token).await.json().await.unwrap();
    assert_eq!((beyond["items"].as_array().unwrap().len(), beyond["total"].as_i64()), (0, Some(26)));

    let found: Value = app.get("/api/users?q=CUSTOMER 1", &token).await.json().await.unwrap();
    assert_eq!(found["total"], 11, "Customer 1 and Customer 10..19 match");

    let admins: Value = app.get("/api/users?role=admin", &token).await.json().await.unwrap();
    assert_eq!(admins["total"], 1);

    let too_many = app.get("/api/users?per_page=1000", &token).await;
    assert_eq!(too_many.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_of(too_many).await.2, ["per_page"]);
    assert_eq!(app.get("/api/users?page=zero", &token).await.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_admin_can_neither_delete_nor_demote_themself() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let path = format!("/api/users/{}", admin.id);

    let delete = app.call(Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(delete.status(), StatusCode::CONFLICT);
    let demote = app.call(Method::PATCH, &path, Some(&token), Some(json!({"role": "client"}))).await;
    assert_eq!(demote.status(), StatusCode::CONFLICT);
    assert_eq!(error_of(demote).await.2, ["role"]);
    assert_eq!(app.get(&path, &token).await.json::<Value>().await.unwrap()["role"], "admin");
}

#[tokio::test]
async fn unknown_fields_in_an_edit_are_refused_rather_than_ignored() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (ana, _) = app.user_with_session("ana", Role::Client).await;
    let response = app
        .call(Method::PATCH, &format!("/api/users/{}", ana.id), Some(&token), Some(json!({"password": "sneaky one"})))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, message, _) = error_of(response).await;
    assert!(message.contains("body"), "{message}");
}
