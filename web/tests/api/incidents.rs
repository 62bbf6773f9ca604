//! Incidents (an hour's alerts of one device, newest first), bulk acknowledgement in each of its
//! scopes, and snoozing a device.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, error_of, spawn_app};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// An alert as a monitor stores it; ids follow insertion, not the hour, as after a backfill.
async fn alert(app: &TestApp, device: &Value, kind: &str, hour: &str) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO alerts (device_id, user_id, kind, hour, value, limit_kwh, message) \
         SELECT id, owner_id, $2::alert_kind, $3, CASE WHEN $2 = 'peak' THEN 3.0 ELSE 2.5 END, 2.0, 'over the limit' \
         FROM devices WHERE id = $1 RETURNING id",
    )
    .bind(Uuid::parse_str(device["id"].as_str().unwrap()).unwrap())
    .bind(kind)
    .bind(at(hour))
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn json_of(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn acknowledge(app: &TestApp, token: &str, filter: Value) -> i64 {
    json_of(app.post("/api/alerts/acknowledge", token, filter).await).await["acknowledged"].as_i64().unwrap()
}

async fn open_count(app: &TestApp, token: &str) -> i64 {
    json_of(app.get("/api/alerts?acknowledged=false&per_page=1", token).await).await["total"].as_i64().unwrap()
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"].as_array().unwrap().iter().map(|alert| alert["id"].as_i64().unwrap()).collect()
}

/// An incident as the test compares it: device name, hour, kinds, alert ids, open.
type Summary = (String, String, Vec<String>, Vec<i64>, bool);

#[tokio::test]
async fn an_hours_alerts_of_a_device_are_one_incident_and_lists_are_newest_first_by_hour() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (ana, token) = app.client_user("ana").await;
    let (ben, _) = app.client_user("ben").await;
    let oven = app.create_device(&admin, json!({"name": "Oven", "max_hourly_kwh": 2.0, "owner_id": ana.id})).await;
    let pump = app.create_device(&admin, json!({"name": "Pump", "max_hourly_kwh": 2.0, "owner_id": ana.id})).await;
    let bens = app.create_device(&admin, json!({"name": "Office", "max_hourly_kwh": 2.0, "owner_id": ben.id})).await;
    // Stored out of order: the 14:00 hour after the 15:00 one.
    let late_peak = alert(&app, &oven, "peak", "2026-03-01T15:00:00Z").await;
    let early_over = alert(&app, &oven, "overconsumption", "2026-03-01T14:00:00Z").await;
    let early_peak = alert(&app, &oven, "peak", "2026-03-01T14:00:00Z").await;
    let pump_peak = alert(&app, &pump, "peak", "2026-03-01T14:00:00Z").await;
    alert(&app, &bens, "peak", "2026-03-01T16:00:00Z").await;

    let list = json_of(app.get("/api/alerts", &token).await).await;
    assert_eq!(ids(&list), [late_peak, pump_peak, early_peak, early_over], "newest hour first, whatever the id");

    let incidents = json_of(app.get("/api/alerts/incidents", &token).await).await;
    assert_eq!(incidents["total"], 3, "her three device-hours; Ben's is not hers");
    let summary: Vec<Summary> = incidents["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|incident| {
            (
                incident["device_name"].as_str().unwrap().to_owned(),
                incident["hour"].as_str().unwrap().to_owned(),
                serde_json::from_value(incident["kinds"].clone()).unwrap(),
                serde_json::from_value(incident["alert_ids"].clone()).unwrap(),
                incident["open"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("Oven".into(), "2026-03-01T15:00:00Z".into(), vec!["peak".into()], vec![late_peak], true),
            (
                "Oven".into(),
                "2026-03-01T14:00:00Z".into(),
                vec!["overconsumption".into(), "peak".into()],
                vec![early_over, early_peak],
                true
            ),
            ("Pump".into(), "2026-03-01T14:00:00Z".into(), vec!["peak".into()], vec![pump_peak], true),
        ]
    );
    let both = &incidents["items"][1];
    assert_eq!(both["worst_ratio"].as_f64(), Some(1.5), "the peak's 3 kW against 2");
    assert_eq!(both["alerts"][0]["value"].as_f64(), Some(2.5));
    assert_eq!(both["alerts"][1]["kind"], "peak");

    // Paged by incident, with the list's filters.
    let second = json_of(app.get("/api/alerts/incidents?per_page=1&page=2", &token).await).await;
    assert_eq!((second["total"].as_i64(), second["total_pages"].as_i64()), (Some(3), Some(3)));
    assert_eq!(second["items"][0]["alert_ids"], json!([early_over, early_peak]));
    let peaks = json_of(
        app.get(&format!("/api/alerts/incidents?kind=peak&device_id={}", oven["id"].as_str().unwrap()), &token).await,
    )
    .await;
    assert_eq!(peaks["total"], 2);
    assert_eq!(peaks["items"][1]["kinds"], json!(["peak"]));

    // Acknowledging part of an incident leaves it open, with only the rest among the open ones.
    app.call(Method::POST, &format!("/api/alerts/{early_over}/acknowledge"), Some(&token), None).await;
    let open = json_of(app.get("/api/alerts/incidents?acknowledged=false", &token).await).await;
    assert_eq!(open["total"], 3);
    assert_eq!(open["items"][1]["alert_ids"], json!([early_peak]));
    let everything = json_of(app.get("/api/alerts/incidents", &token).await).await;
    assert_eq!(everything["items"][1]["open"], true);

    let all = json_of(app.get("/api/alerts/incidents", &admin).await).await;
    assert_eq!(all["total"], 4, "an administrator sees everyone's");
    assert_eq!(all["items"][0]["device_name"], "Office");
    let hers = json_of(app.get(&format!("/api/alerts/incidents?user_id={}", ana.id), &admin).await).await;
    assert_eq!(hers["total"], 3);
}

#[tokio::test]
async fn bulk_acknowledgement_covers_one_incident_a_device_a_kind_or_everything_and_is_idempotent() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (ana, token) = app.client_user("ana").await;
    let oven = app.create_device(&admin, json!({"name": "Oven", "max_hourly_kwh": 2.0, "owner_id": ana.id})).await;
    let pump = app.create_device(&admin, json!({"name": "Pump", "max_hourly_kwh": 2.0, "owner_id": ana.id})).await;
    for hour in ["2026-03-01T14:00:00Z", "2026-03-01T15:00:00Z", "2026-03-01T16:00:00Z"] {
        alert(&app, &oven, "overconsumption", hour).await;
        alert(&app, &oven, "peak", hour).await;
        alert(&app, &pump, "peak", hour).await;
    }
    assert_eq!(open_count(&app, &token).await, 9);

    // One incident: the oven's 14:00 hour, both kinds.
    let incident = json!({"device_id": oven["id"], "hour": "2026-03-01T14:00:00Z"});
    assert_eq!(acknowledge(&app, &token, incident.clone()).await, 2);
    assert_eq!(acknowledge(&app, &token, incident).await, 0, "again: nothing more");
    // A kind on one device.
    assert_eq!(acknowledge(&app, &token, json!({"device_id": oven["id"], "kind": "peak"})).await, 2);
    // What a search shows.
    assert_eq!(acknowledge(&app, &token, json!({"q": "pump", "from": "2026-03-01T16:00:00Z"})).await, 1);
    // Given ids.
    let left = json_of(app.get("/api/alerts?acknowledged=false", &token).await).await;
    let first = ids(&left)[0];
    assert_eq!(acknowledge(&app, &token, json!({"ids": [first]})).await, 1);
    // A whole device, then everything.
    assert_eq!(acknowledge(&app, &token, json!({"device_id": pump["id"]})).await, 2);
    assert_eq!(open_count(&app, &token).await, 1, "the oven's overconsumption at 15:00");
    assert_eq!(acknowledge(&app, &token, json!({})).await, 1);
    assert_eq!(open_count(&app, &token).await, 0);
    assert_eq!(acknowledge(&app, &token, json!({})).await, 0);

    // A misspelt or malformed filter is refused and acknowledges nothing.
    let fresh = alert(&app, &oven, "peak", "2026-03-01T17:00:00Z").await;
    let misspelt = app.post("/api/alerts/acknowledge", &token, json!({"device": oven["id"]})).await;
    assert_eq!(misspelt.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = misspelt.text().await.unwrap();
    assert!(body.contains("unknown field `device`"), "names the unknown field: {body}");
    assert_eq!(ids(&json_of(app.get("/api/alerts?acknowledged=false", &token).await).await), [fresh]);
    let not_on_the_hour = app.post("/api/alerts/acknowledge", &token, json!({"hour": "2026-03-01T14:30:00Z"})).await;
    assert_eq!(not_on_the_hour.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, _, fields) = error_of(not_on_the_hour).await;
    assert_eq!(fields, ["hour"]);
}

#[tokio::test]
async fn a_customer_cannot_acknowledge_anothers_alerts_and_an_admin_can_acknowledge_anyones() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (ana, ana_token) = app.client_user("ana").await;
    let (ben, ben_token) = app.client_user("ben").await;
    let anas = app.create_device(&admin, json!({"name": "Oven", "max_hourly_kwh": 2.0, "owner_id": ana.id})).await;
    let bens = app.create_device(&admin, json!({"name": "Office", "max_hourly_kwh": 2.0, "owner_id": ben.id})).await;
    let anas_alert = alert(&app, &anas, "peak", "2026-03-01T14:00:00Z").await;
    alert(&app, &bens, "peak", "2026-03-01T14:00:00Z").await;
    alert(&app, &bens, "overconsumption", "2026-03-01T15:00:00Z").await;

    // Ben names Ana's device, her alert, her as the user: none of it is his.
    assert_eq!(acknowledge(&app, &ben_token, json!({"device_id": anas["id"]})).await, 0);
    assert_eq!(acknowledge(&app, &ben_token, json!({"ids": [anas_alert]})).await, 0);
    assert_eq!(acknowledge(&app, &ben_token, json!({"user_id": ana.id})).await, 2, "his own, whatever he asks for");
    assert_eq!(open_count(&app, &ana_token).await, 1, "hers is still open");

    let bens_again = alert(&app, &bens, "peak", "2026-03-01T17:00:00Z").await;
    assert_eq!(acknowledge(&app, &admin, json!({"user_id": ana.id})).await, 1, "an administrator, one customer");
    assert_eq!(open_count(&app, &ana_token).await, 0);
    assert_eq!(acknowledge(&app, &admin, json!({"ids": [bens_again]})).await, 1);

    let unsigned = app.call(Method::POST, "/api/alerts/acknowledge", None, Some(json!({}))).await;
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_owner_or_an_admin_snoozes_a_device_for_up_to_a_week_and_nobody_else_can() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (ana, ana_token) = app.client_user("ana").await;
    let (_, ben_token) = app.client_user("ben").await;
    let oven = app.create_device(&admin, json!({"name": "Oven", "max_hourly_kwh": 2.0, "owner_id": ana.id})).await;
    assert_eq!(oven["snoozed_until"], Value::Null);
    let path = format!("/api/devices/{}/snooze", oven["id"].as_str().unwrap());

    // Whole seconds: PostgreSQL keeps microseconds.
    let until = (Utc::now() + TimeDelta::hours(8)).duration_trunc(TimeDelta::seconds(1)).unwrap().to_rfc3339();
    let snoozed = json_of(app.call(Method::PUT, &path, Some(&ana_token), Some(json!({"until": until}))).await).await;
    let shown: DateTime<Utc> = snoozed["snoozed_until"].as_str().unwrap().parse().unwrap();
    assert_eq!(shown, until.parse::<DateTime<Utc>>().unwrap());
    let mine = json_of(app.get("/api/me/devices", &ana_token).await).await;
    assert_eq!(mine["items"][0]["snoozed_until"], snoozed["snoozed_until"]);

    let someone_else = app.call(Method::PUT, &path, Some(&ben_token), Some(json!({"until": null}))).await;
    assert_eq!(someone_else.status(), StatusCode::NOT_FOUND, "not his device, so no such device for him");
    for bad in [(Utc::now() - TimeDelta::minutes(1)).to_rfc3339(), (Utc::now() + TimeDelta::days(8)).to_rfc3339()] {
        let refused = app.call(Method::PUT, &path, Some(&ana_token), Some(json!({"until": bad}))).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error_of(refused).await.2, ["until"]);
    }

    let off = json_of(app.call(Method::PUT, &path, Some(&admin), Some(json!({"until": null}))).await).await;
    assert_eq!(off["snoozed_until"], Value::Null);

    // A snooze that has run out reads as none.
    sqlx::query("UPDATE devices SET snoozed_until = now() - interval '1 minute'").execute(&app.pool).await.unwrap();
    let device = json_of(app.get(&format!("/api/devices/{}", oven["id"].as_str().unwrap()), &ana_token).await).await;
    assert_eq!(device["snoozed_until"], Value::Null);
}

#[tokio::test]
async fn the_owner_or_an_admin_turns_a_devices_forecast_alerts_off_and_on_and_nobody_else_can() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (ana, ana_token) = app.client_user("ana").await;
    let (_, ben_token) = app.client_user("ben").await;
    let oven = app.create_device(&admin, json!({"name": "Oven", "max_hourly_kwh": 2.0, "owner_id": ana.id})).await;
    assert_eq!(oven["forecast_alerts"], true, "on for a new device");
    let path = format!("/api/devices/{}/forecast-alerts", oven["id"].as_str().unwrap());

    let off = json_of(app.call(Method::PUT, &path, Some(&ana_token), Some(json!({"enabled": false}))).await).await;
    assert_eq!(off["forecast_alerts"], false);
    let mine = json_of(app.get("/api/me/devices", &ana_token).await).await;
    assert_eq!(mine["items"][0]["forecast_alerts"], false);
    let stored: bool = sqlx::query_scalar("SELECT forecast_alerts FROM devices").fetch_one(&app.pool).await.unwrap();
    assert!(!stored, "what the monitors read");

    let someone_else = app.call(Method::PUT, &path, Some(&ben_token), Some(json!({"enabled": true}))).await;
    assert_eq!(someone_else.status(), StatusCode::NOT_FOUND, "not his device, so no such device for him");
    let malformed = app.call(Method::PUT, &path, Some(&ana_token), Some(json!({"enabled": "yes"}))).await;
    assert_eq!(malformed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unsigned = app.call(Method::PUT, &path, None, Some(json!({"enabled": true}))).await;
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);

    let on = json_of(app.call(Method::PUT, &path, Some(&admin), Some(json!({"enabled": true}))).await).await;
    assert_eq!(on["forecast_alerts"], true);
}
