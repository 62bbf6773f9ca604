//! Support with several administrators: taking a conversation (one winner when two race), the
//! inbox's cursor, search and filters, and the customer's rating after a hand-back.

use std::time::Duration;

use ems_common::Role;
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    chat::message,
    helpers::{TestApp, error_of, spawn_app},
};

async fn take(app: &TestApp, customer: Uuid, token: &str, force: bool) -> reqwest::Response {
    let path = format!("/api/support/conversations/{customer}/takeover{}", if force { "?force=true" } else { "" });
    app.call(Method::POST, &path, Some(token), None).await
}

async fn hand_back(app: &TestApp, customer: Uuid, token: &str) -> Value {
    let path = format!("/api/support/conversations/{customer}/handback");
    let response = app.call(Method::POST, &path, Some(token), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn admin_named(app: &TestApp, username: &str) -> (Uuid, String) {
    let (user, session) = app.user_with_session(username, Role::Admin).await;
    (user.id, session.access_token)
}

/// The usernames of an inbox page, in order, and its `next_after`.
async fn inbox(app: &TestApp, token: &str, query: &str) -> (Vec<String>, Value, Value) {
    let response = app.get(&format!("/api/support/conversations?{query}"), token).await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    let page: Value = response.json().await.unwrap();
    let names = page["items"].as_array().unwrap().iter().map(|c| c["username"].as_str().unwrap().to_owned()).collect();
    (names, page["next_after"].clone(), page)
}

#[tokio::test]
async fn of_two_administrators_taking_a_conversation_at_once_exactly_one_gets_it_and_the_other_is_told_who() {
    let app = spawn_app().await;
    let (ana, _) = app.client_user("ana").await;
    message(&app, ana.id, "customer", "a person please").await;
    for round in 0..5 {
        let (first, first_token) = admin_named(&app, &format!("first-{round}")).await;
        let (second, second_token) = admin_named(&app, &format!("second-{round}")).await;
        hand_back(&app, ana.id, &first_token).await;
        let (one, other) =
            tokio::join!(take(&app, ana.id, &first_token, false), take(&app, ana.id, &second_token, false));
        let statuses = [one.status(), other.status()];
        let (winner, loser, loser_response) = match statuses {
            [StatusCode::OK, StatusCode::CONFLICT] => (first, format!("second-{round}"), other),
            [StatusCode::CONFLICT, StatusCode::OK] => (second, format!("first-{round}"), one),
            _ => panic!("round {round}: expected one 200 and one 409, got {statuses:?}"),
        };
        let (code, text, _) = error_of(loser_response).await;
        let winner_name =
            if winner == first { format!("first-{round} Example") } else { format!("second-{round} Example") };
        assert_eq!(code, "conflict");
        assert!(text.contains(&winner_name), "{loser} is told who holds it: {text}");
        let history: Value = app
            .get(&format!("/api/support/conversations/{}/messages", ana.id), &first_token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(history["admin_id"], winner.to_string());
        assert_eq!(history["admin_name"], winner_name);
    }
}

#[tokio::test]
async fn taking_over_from_the_holder_is_explicit_and_names_them_to_every_administrator() {
    let app = spawn_app().await;
    let (ana, _) = app.client_user("ana").await;
    let (maria, maria_token) = admin_named(&app, "maria").await;
    let (ion, ion_token) = admin_named(&app, "ion").await;
    assert_eq!(take(&app, ana.id, &maria_token, false).await.status(), StatusCode::OK);
    assert_eq!(take(&app, ana.id, &maria_token, false).await.status(), StatusCode::OK, "the holder again: no conflict");

    let mut admins = app.events.nats.subscribe(app.events.names.chat_admins_subject()).await.unwrap();
    app.events.nats.flush().await.unwrap();
    let taken = take(&app, ana.id, &ion_token, true).await;
    assert_eq!(taken.status(), StatusCode::OK);
    let event = tokio::time::timeout(Duration::from_secs(5), admins.next()).await.unwrap().unwrap();
    let event: Value = serde_json::from_slice(&event.payload).unwrap();
    assert_eq!(
        (event["type"].as_str(), &event["admin_id"], &event["previous_admin_id"]),
        (Some("mode"), &json!(ion.to_string()), &json!(maria.to_string()))
    );
    let refused = take(&app, ana.id, &maria_token, false).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(error_of(refused).await.1.contains("ion Example"));
}

#[tokio::test]
async fn the_inbox_pages_by_cursor_without_repeating_and_finds_conversations_by_name_or_message() {
    let app = spawn_app().await;
    let (admin, token) = admin_named(&app, "maria").await;
    let mut customers = Vec::new();
    for index in 0..5 {
        let (customer, _) = app.client_user(&format!("cust{index}")).await;
        message(&app, customer.id, "customer", &format!("question number {index}")).await;
        customers.push(customer.id);
    }
    // A refund question, written after the others: first in the inbox.
    message(&app, customers[1], "customer", "I want a Refund for March").await;

    let (first, after, page) = inbox(&app, &token, "per_page=2").await;
    assert_eq!((first.clone(), page["total"].as_i64()), (vec!["cust1".to_owned(), "cust4".to_owned()], Some(5)));
    let (second, after, _) = inbox(&app, &token, &format!("per_page=2&after={}", after.as_str().unwrap())).await;
    // A conversation already listed gets a new message between pages: it moves to the top, where
    // the live inbox shows it, and the next page does not list it again.
    message(&app, customers[4], "customer", "still there?").await;
    let (third, last, _) = inbox(&app, &token, &format!("per_page=2&after={}", after.as_str().unwrap())).await;
    assert_eq!((second, third), (vec!["cust3".to_owned(), "cust2".to_owned()], vec!["cust0".to_owned()]));
    assert_eq!(last, Value::Null, "the last page has no cursor");

    let (found, _, page) = inbox(&app, &token, "q=refun").await;
    assert_eq!(found, ["cust1"], "part of a word in a message finds its conversation");
    assert_eq!(page["items"][0]["matched_body"], "I want a Refund for March");
    assert_eq!(inbox(&app, &token, "q=CUST3").await.0, ["cust3"], "the customer's name");
    assert_eq!(inbox(&app, &token, "q=100%25").await.0, Vec::<String>::new(), "wildcards are literal");

    assert_eq!(take(&app, customers[2], &token, false).await.status(), StatusCode::OK);
    let (other, other_token) = admin_named(&app, "ion").await;
    assert_eq!(take(&app, customers[3], &other_token, false).await.status(), StatusCode::OK);
    let (mine, _, page) = inbox(&app, &token, "assigned=me").await;
    assert_eq!(mine, ["cust2"]);
    assert_eq!(
        (page["items"][0]["admin_id"].as_str(), page["total"].as_i64()),
        (Some(admin.to_string().as_str()), Some(1))
    );
    let (theirs, _, page) = inbox(&app, &other_token, "assigned=me").await;
    assert_eq!((theirs, page["items"][0]["admin_name"].as_str()), (vec!["cust3".to_owned()], Some("ion Example")));
    assert_eq!(other.to_string(), page["items"][0]["admin_id"].as_str().unwrap());
    let (free, _, _) = inbox(&app, &token, "assigned=unassigned").await;
    assert_eq!(free, ["cust4", "cust1", "cust0"]);

    for bad in ["after=nonsense", "per_page=0", "assigned=nobody"] {
        let response = app.get(&format!("/api/support/conversations?{bad}"), &token).await;
        assert!(response.status().is_client_error(), "{bad}: {}", response.status());
    }
}

#[tokio::test]
async fn a_customer_rates_a_handed_back_conversation_once_and_administrators_see_the_averages() {
    let app = spawn_app().await;
    let (ana, ana_token) = app.client_user("ana").await;
    let (_, ben_token) = app.client_user("ben").await;
    let (maria, maria_token) = admin_named(&app, "maria").await;
    message(&app, ana.id, "customer", "my meter is wrong").await;

    // Handing back a conversation nobody held asks for nothing.
    let back = hand_back(&app, ana.id, &maria_token).await;
    assert_eq!(back["rating_request"], Value::Null);

    assert_eq!(take(&app, ana.id, &maria_token, false).await.status(), StatusCode::OK);
    let mut customer_events = app.events.nats.subscribe(app.events.names.chat_user_subject(ana.id)).await.unwrap();
    app.events.nats.flush().await.unwrap();
    hand_back(&app, ana.id, &maria_token).await;
    let request = loop {
        let event = tokio::time::timeout(Duration::from_secs(5), customer_events.next()).await.unwrap().unwrap();
        let event: Value = serde_json::from_slice(&event.payload).unwrap();
        if event["type"] == "rating_request" {
            break event["rating"].clone();
        }
    };
    assert_eq!(
        (request["admin_id"].as_str(), request["admin_name"].as_str()),
        (Some(maria.to_string().as_str()), Some("maria Example"))
    );
    // A second hand-back: nobody holds it any more, so no second request.
    assert_eq!(hand_back(&app, ana.id, &maria_token).await["rating_request"]["id"], request["id"]);

    let mine: Value = app.get("/api/chat/messages", &ana_token).await.json().await.unwrap();
    assert_eq!(mine["rating_request"]["id"], request["id"], "the customer is asked in their conversation");
    let rating_id = request["id"].as_i64().unwrap();

    let out_of_range = app.post("/api/chat/rating", &ana_token, json!({"rating_id": rating_id, "rating": 6})).await;
    assert_eq!(error_of(out_of_range).await.2, ["rating"]);
    let not_hers = app.post("/api/chat/rating", &ben_token, json!({"rating_id": rating_id, "rating": 1})).await;
    assert_eq!(not_hers.status(), StatusCode::NOT_FOUND, "another customer cannot rate it");

    let first = app
        .post("/api/chat/rating", &ana_token, json!({"rating_id": rating_id, "rating": 4, "comment": " quick "}))
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    let again = app.post("/api/chat/rating", &ana_token, json!({"rating_id": rating_id, "rating": 1})).await;
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        (again["rating"].as_i64(), again["comment"].as_str()),
        (Some(4), Some("quick")),
        "the first rating stands"
    );

    let mine: Value = app.get("/api/chat/messages", &ana_token).await.json().await.unwrap();
    assert_eq!(mine["rating_request"], Value::Null, "once rated, no longer asked");
    let history: Value =
        app.get(&format!("/api/support/conversations/{}/messages", ana.id), &maria_token).await.json().await.unwrap();
    assert_eq!(history["ratings"][0]["rating"], 4);
    let (_, _, page) = inbox(&app, &maria_token, "").await;
    assert_eq!(page["items"][0]["last_rating"], 4);

    // A second administrator's conversation, rated 1: averages are per administrator.
    let (_, ion_token) = admin_named(&app, "ion").await;
    assert_eq!(take(&app, ana.id, &ion_token, false).await.status(), StatusCode::OK);
    let second = hand_back(&app, ana.id, &ion_token).await["rating_request"]["id"].as_i64().unwrap();
    app.post("/api/chat/rating", &ana_token, json!({"rating_id": second, "rating": 1})).await;
    let averages: Value = app.get("/api/support/ratings", &maria_token).await.json().await.unwrap();
    let rows: Vec<(&str, i64, f64)> = averages
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (row["username"].as_str().unwrap(), row["ratings"].as_i64().unwrap(), row["average"].as_f64().unwrap())
        })
        .collect();
    assert_eq!(rows, [("maria", 1, 4.0), ("ion", 1, 1.0)]);
    assert_eq!(app.get("/api/support/ratings", &ana_token).await.status(), StatusCode::FORBIDDEN);
}
