use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};

pub async fn message(app: &TestApp, customer: Uuid, source: &str, body: &str) -> i64 {
    sqlx::query("INSERT INTO conversations (customer_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(customer)
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query_scalar(
        "INSERT INTO chat_messages (customer_id, source, client_id, body) VALUES ($1, $2::chat_source, $3, $4) RETURNING id",
    )
    .bind(customer)
    .bind(source)
    .bind(Uuid::new_v4().to_string())
    .bind(body)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_customer_pages_back_through_their_own_conversation_only() {
    let app = spawn_app().await;
    let (ana, ana_token) = app.client_user("ana").await;
    let (ben, _) = app.client_user("ben").await;
    let mut ids = Vec::new();
    for index in 0..5 {
        ids.push(
            message(&app, ana.id, if index % 2 == 0 { "customer" } else { "rule" }, &format!("ana {index}")).await,
        );
    }
    message(&app, ben.id, "customer", "ben's secret").await;

    let latest: Value = app.get("/api/chat/messages?limit=3", &ana_token).await.json().await.unwrap();
    let bodies: Vec<&str> =
        latest["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["ana 2", "ana 3", "ana 4"], "the newest three, oldest first");
    assert_eq!((latest["has_more"].as_bool(), latest["mode"].as_str()), (Some(true), Some("bot")));
    assert_eq!(latest["messages"][1]["source"], "rule", "each answer says where it came from");

    let older: Value =
        app.get(&format!("/api/chat/messages?limit=3&before_id={}", ids[2]), &ana_token).await.json().await.unwrap();
    let bodies: Vec<&str> = older["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!((bodies, older["has_more"].as_bool()), (vec!["ana 0", "ana 1"], Some(false)));
    assert_eq!(app.get("/api/chat/messages?limit=500", &ana_token).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn administrators_see_every_conversation_with_unread_counts_and_take_one_over() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (ana, ana_token) = app.client_user("ana").await;
    let (ben, _) = app.client_user("ben").await;
    message(&app, ana.id, "customer", "hello").await;
    message(&app, ana.id, "rule", "Hi! How can I help?").await;
    let last = message(&app, ana.id, "customer", "a person please").await;
    message(&app, ben.id, "customer", "first").await;
    sqlx::query("UPDATE conversations SET admin_read_up_to = $2 WHERE customer_id = $1")
        .bind(ben.id)
        .bind(last + 1)
        .execute(&app.pool)
        .await
        .unwrap();

    let inbox: Value = app.get("/api/support/conversations", &token).await.json().await.unwrap();
    let rows: Vec<(&str, i64)> = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["username"].as_str().unwrap(), c["unread"].as_i64().unwrap()))
        .collect();
    assert_eq!(rows, [("ben", 0), ("ana", 2)], "most recent first; ana has two unread customer messages");
    assert_eq!(inbox["items"][1]["last_body"], "a person please");

    let mut events = app.events.nats.subscribe(app.events.names.chat_user_subject(ana.id)).await.unwrap();
    app.events.nats.flush().await.unwrap();
    let taken: Value = app
        .call(Method::POST, &format!("/api/support/conversations/{}/takeover", ana.id), Some(&token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(taken["mode"], "human");
    let event = tokio::time::timeout(std::time::Duration::from_secs(5), events.next()).await.unwrap().unwrap();
    let event: Value = serde_json::from_slice(&event.payload).unwrap();
    assert_eq!((event["type"].as_str(), event["mode"].as_str()), (Some("mode"), Some("human")));

    let humans: Value = app.get("/api/support/conversations?mode=human", &token).await.json().await.unwrap();
    assert_eq!(humans["total"], 1);
    let back: Value = app
        .call(Method::POST, &format!("/api/support/conversations/{}/handback", ana.id), Some(&token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(back["mode"], "bot");

    let history: Value =
        app.get(&format!("/api/support/conversations/{}/messages", ana.id), &token).await.json().await.unwrap();
    assert_eq!(history["messages"].as_array().unwrap().len(), 3);
    for path in ["/api/support/conversations".to_owned(), format!("/api/support/conversations/{}/messages", ben.id)] {
        assert_eq!(app.get(&path, &ana_token).await.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let takeover = app
        .call(Method::POST, &format!("/api/support/conversations/{}/takeover", ben.id), Some(&ana_token), None)
        .await;
    assert_eq!(takeover.status(), StatusCode::FORBIDDEN);
    let nobody = app
        .call(Method::POST, &format!("/api/support/conversations/{}/takeover", Uuid::new_v4()), Some(&token), None)
        .await;
    assert_eq!(nobody.status(), StatusCode::NOT_FOUND);
}

/// The total and the usernames of the conversations `?waiting=<filter>` lists.
async fn waiting(app: &TestApp, token: &str, filter: &str) -> (i64, Vec<String>) {
    let page: Value =
        app.get(&format!("/api/support/conversations?waiting={filter}"), token).await.json().await.unwrap();
    let mut names: Vec<String> =
        page["items"].as_array().unwrap().iter().map(|c| c["username"].as_str().unwrap().to_owned()).collect();
    names.sort();
    (page["total"].as_i64().unwrap(), names)
}

#[tokio::test]
async fn administrators_can_list_the_conversations_waiting_for_one_and_see_who_answers() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let (ana, _) = app.client_user("ana").await;
    let (ben, _) = app.client_user("ben").await;
    let (carl, _) = app.client_user("carl").await;
    for customer in [ana.id, ben.id, carl.id] {
        message(&app, customer, "customer", "a person please").await;
    }
    // Ana and Ben were handed to a person; Carl is still with the bot.
    sqlx::query("UPDATE conversations SET mode = 'human' WHERE customer_id = ANY($1)")
        .bind(vec![ana.id, ben.id])
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(waiting(&app, &token, "true").await, (2, vec!["ana".to_owned(), "ben".to_owned()]));

    let taken: Value = app
        .call(Method::POST, &format!("/api/support/conversations/{}/takeover", ana.id), Some(&token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (taken["mode"].as_str(), taken["admin_id"].as_str()),
        (Some("human"), Some(admin.id.to_string().as_str()))
    );
    assert_eq!(waiting(&app, &token, "true").await, (1, vec!["ben".to_owned()]));
    assert_eq!(waiting(&app, &token, "false").await, (2, vec!["ana".to_owned(), "carl".to_owned()]));
    let history: Value =
        app.get(&format!("/api/support/conversations/{}/messages", ben.id), &token).await.json().await.unwrap();
    assert_eq!((history["mode"].as_str(), &history["admin_id"]), (Some("human"), &Value::Null));
    let bad = app.get("/api/support/conversations?waiting=maybe", &token).await;
    assert!(bad.status().is_client_error(), "{}", bad.status());
}
