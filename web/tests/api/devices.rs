use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{error_of, spawn_app};

#[tokio::test]
async fn an_admin_creates_edits_assigns_unassigns_and_deletes_a_device() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (ana, ana_token) = app.client_user("ana").await;

    let device = app
        .create_device(
            &token,
            json!({"name": " Heat pump ", "location": "Garden", "description": "9 kW", "max_hourly_kwh": 3.5}),
        )
        .await;
    assert_eq!((device["name"].as_str(), device["max_hourly_kwh"].as_f64()), (Some("Heat pump"), Some(3.5)));
    assert_eq!(device["owner_id"], Value::Null);
    let path = format!("/api/devices/{}", device["id"].as_str().unwrap());

    let edited: Value = app
        .call(Method::PATCH, &path, Some(&token), Some(json!({"max_hourly_kwh": 4.25, "location": "Back garden"})))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((edited["max_hourly_kwh"].as_f64(), edited["location"].as_str()), (Some(4.25), Some("Back garden")));
    assert_eq!(edited["name"], "Heat pump");

    assert_eq!(app.get(&path, &ana_token).await.status(), StatusCode::NOT_FOUND, "not hers yet");
    let assigned =
        app.call(Method::PUT, &format!("{path}/owner"), Some(&token), Some(json!({"user_id": ana.id}))).await;
    assert_eq!(assigned.status(), StatusCode::OK);
    let assigned: Value = assigned.json().await.unwrap();
    assert_eq!(
        (assigned["owner_id"].as_str(), assigned["owner_username"].as_str()),
        (Some(ana.id.to_string().as_str()), Some("ana"))
    );
    assert_eq!(app.get(&path, &ana_token).await.status(), StatusCode::OK, "hers now");

    let unassigned: Value =
        app.call(Method::DELETE, &format!("{path}/owner"), Some(&token), None).await.json().await.unwrap();
    assert_eq!(unassigned["owner_id"], Value::Null);
    assert_eq!(app.get(&path, &ana_token).await.status(), StatusCode::NOT_FOUND, "no longer hers");

    assert_eq!(app.call(Method::DELETE, &path, Some(&token), None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path, &token).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_client_sees_only_their_own_devices_and_others_are_not_found() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (ana, ana_token) = app.client_user("ana").await;
    let (ben, ben_token) = app.client_user("ben").await;
    let anas = app.create_device(&token, json!({"name": "Kitchen", "max_hourly_kwh": 2.0, "owner_id": ana.id})).await;
    let bens = app.create_device(&token, json!({"name": "Office", "max_hourly_kwh": 0.8, "owner_id": ben.id})).await;
    app.create_device(&token, json!({"name": "Spare", "max_hourly_kwh": 1.0})).await;

    let mine: Value = app.get("/api/me/devices", &ana_token).await.json().await.unwrap();
    let names: Vec<&str> =
        mine["items"].as_array().unwrap().iter().map(|device| device["name"].as_str().unwrap()).collect();
    assert_eq!((names, mine["total"].as_i64()), (vec!["Kitchen"], Some(1)));

    let bens_path = format!("/api/devices/{}", bens["id"].as_str().unwrap());
    let foreign = app.get(&bens_path, &ana_token).await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    let (_, message, _) = error_of(foreign).await;
    let missing = app.get(&format!("/api/devices/{}", uuid::Uuid::new_v4()), &ana_token).await;
    assert!(message.starts_with("no device has the id"), "{message}");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND, "someone else's device looks exactly like a missing one");

    // And she cannot touch it.
    let rename = app.call(Method::PATCH, &bens_path, Some(&ana_token), Some(json!({"name": "Mine"}))).await;
    assert_eq!(rename.status(), StatusCode::FORBIDDEN);
    let bens_view: Value = app.get(&bens_path, &ben_token).await.json().await.unwrap();
    assert_eq!(bens_view["name"], "Office");
    assert_eq!(
        app.get(&format!("/api/devices/{}", anas["id"].as_str().unwrap()), &ana_token).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn invalid_device_fields_are_named_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;

    let response = app.post("/api/devices", &token, json!({"name": "", "max_hourly_kwh": 0})).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    let fields: Vec<&str> =
        body["fields"].as_array().unwrap().iter().map(|field| field["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["max_hourly_kwh", "name"]);
    assert!(body["fields"][0]["message"].as_str().unwrap().contains("greater than 0"));

    let negative = app.post("/api/devices", &token, json!({"name": "Oven", "max_hourly_kwh": -2.5})).await;
    assert_eq!(error_of(negative).await.2, ["max_hourly_kwh"]);

    let not_a_number = app.post("/api/devices", &token, json!({"name": "Oven", "max_hourly_kwh": "lots"})).await;
    assert_eq!(not_a_number.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, message, _) = error_of(not_a_number).await;
    assert!(message.contains("body"), "{message}");

    let unknown_owner = app
        .post("/api/devices", &token, json!({"name": "Oven", "max_hourly_kwh": 2, "owner_id": uuid::Uuid::new_v4()}))
        .await;
    assert_eq!(error_of(unknown_owner).await.2, ["owner_id"]);

    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM devices").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn assigning_to_a_user_who_does_not_exist_is_a_422_and_to_a_missing_device_a_404() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (ana, _) = app.client_user("ana").await;
    let device = app.create_device(&token, json!({"name": "Kitchen", "max_hourly_kwh": 2.0})).await;
    let path = format!("/api/devices/{}/owner", device["id"].as_str().unwrap());

    let nobody = app.call(Method::PUT, &path, Some(&token), Some(json!({"user_id": uuid::Uuid::new_v4()}))).await;
    assert_eq!(nobody.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_of(nobody).await.2, ["user_id"]);

    let missing_device = format!("/api/devices/{}/owner", uuid::Uuid::new_v4());
    let response = app.call(Method::PUT, &missing_device, Some(&token), Some(json!({"user_id": ana.id}))).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/devices/not-a-uuid", &token).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deleting_a_user_keeps_their_devices_unassigned() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (ana, _) = app.client_user("ana").await;
    let device = app.create_device(&token, json!({"name": "Kitchen", "max_hourly_kwh": 2.0, "owner_id": ana.id})).await;

    app.call(Method::DELETE, &format!("/api/users/{}", ana.id), Some(&token), None).await;
    let after: Value =
        app.get(&format!("/api/devices/{}", device["id"].as_str().unwrap()), &token).await.json().await.unwrap();
    assert_eq!(after["owner_id"], Value::Null);
}

#[tokio::test]
async fn the_device_list_searches_filters_and_pages() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (ana, _) = app.client_user("ana").await;
    for index in 0..12 {
        let owner = if index % 3 == 0 { Some(ana.id) } else { None };
        let location = if index < 4 { "Garage" } else { "Kitchen" };
        app.create_device(&token, json!({"name": format!("Meter {index:02}"), "location": location, "max_hourly_kwh": 1.5, "owner_id": owner})).await;
    }

    let page: Value = app.get("/api/devices?per_page=5&page=2", &token).await.json().await.unwrap();
    let names: Vec<&str> =
        page["items"].as_array().unwrap().iter().map(|device| device["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Meter 05", "Meter 06", "Meter 07", "Meter 08", "Meter 09"]);
    assert_eq!((page["total"].as_i64(), page["total_pages"].as_i64()), (Some(12), Some(3)));

    let garage: Value = app.get("/api/devices?q=garage", &token).await.json().await.unwrap();
    assert_eq!(garage["total"], 4);
    let anas: Value = app.get(&format!("/api/devices?owner_id={}", ana.id), &token).await.json().await.unwrap();
    assert_eq!(anas["total"], 4);
    let unassigned: Value = app.get("/api/devices?assigned=false", &token).await.json().await.unwrap();
    assert_eq!(unassigned["total"], 8);
    let literal: Value = app.get("/api/devices?q=%25", &token).await.json().await.unwrap();
    assert_eq!(literal["total"], 0, "a % in the search is a percent sign, not a wildcard");
}

#[tokio::test]
async fn every_device_change_is_announced_to_the_monitors() {
    use futures::StreamExt;
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (ana, _) = app.client_user("ana").await;
    let mut changes = app.events.nats.subscribe(app.events.names.devices_changed_subject()).await.unwrap();
    app.events.nats.flush().await.unwrap();

    let device = app.create_device(&token, json!({"name": "Kitchen", "max_hourly_kwh": 2.0})).await;
    let path = format!("/api/devices/{}", device["id"].as_str().unwrap());
    app.call(Method::PATCH, &path, Some(&token), Some(json!({"max_hourly_kwh": 3.0}))).await;
    app.call(Method::PUT, &format!("{path}/owner"), Some(&token), Some(json!({"user_id": ana.id}))).await;
    app.call(Method::DELETE, &format!("{path}/owner"), Some(&token), None).await;
    app.call(Method::DELETE, &path, Some(&token), None).await;

    for step in ["create", "edit", "assign", "unassign", "delete"] {
        let message = tokio::time::timeout(std::time::Duration::from_secs(5), changes.next())
            .await
            .unwrap_or_else(|_| panic!("no event for {step} within 5s"))
            .unwrap();
        let event: ems_common::contracts::DeviceChanged = serde_json::from_slice(&message.payload).unwrap();
        assert_eq!(event.device_id.to_string(), device["id"].as_str().unwrap(), "{step}");
    }
}

#[tokio::test]
async fn a_limit_is_stored_as_the_decimal_it_was_written_as() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let stored = |id: String| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT max_hourly_kwh::text FROM devices WHERE id = $1::uuid")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };

    let device = app.create_device(&token, json!({"name": "Heat pump", "max_hourly_kwh": 1.2})).await;
    assert_eq!(device["max_hourly_kwh"].as_f64(), Some(1.2));
    let id = device["id"].as_str().unwrap().to_owned();
    assert_eq!(stored(id.clone()).await, "1.200000");

    // A client's float arithmetic (0.1 + 0.2) is noise below the micro-kWh stored.
    let path = format!("/api/devices/{id}");
    let edited = app.call(Method::PATCH, &path, Some(&token), Some(json!({"max_hourly_kwh": 0.1 + 0.2}))).await;
    assert_eq!(edited.status(), StatusCode::OK);
    assert_eq!(edited.json::<Value>().await.unwrap()["max_hourly_kwh"].as_f64(), Some(0.3));
    assert_eq!(stored(id.clone()).await, "0.300000");

    // Below a micro-kWh a limit would be zero, which the database refuses.
    let too_small = app.call(Method::PATCH, &path, Some(&token), Some(json!({"max_hourly_kwh": 0.0000004}))).await;
    assert_eq!(error_of(too_small).await.2, ["max_hourly_kwh"]);
    assert_eq!(stored(id).await, "0.300000");
}

/// Stores a reading as a monitor does: in its day's partition, and counted in its hour's total.
async fn reading(app: &crate::helpers::TestApp, device: &str, ts: &str, kwh: f64) {
    let (device, ts) = (uuid::Uuid::parse_str(device).unwrap(), ts.parse::<chrono::DateTime<chrono::Utc>>().unwrap());
    sqlx::query("SELECT ems_create_readings_partitions($1, $1)")
        .bind(ts.date_naive())
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "WITH stored AS (INSERT INTO readings (device_id, ts, kwh, interval_s) VALUES ($1, $2, $3, 600) RETURNING *) \
         INSERT INTO hourly_consumption (device_id, hour, kwh, readings) \
         SELECT device_id, date_trunc('hour', ts, 'UTC'), kwh, 1 FROM stored \
         ON CONFLICT (device_id, hour) DO UPDATE SET kwh = hourly_consumption.kwh + EXCLUDED.kwh, \
           readings = hourly_consumption.readings + 1",
    )
    .bind(device)
    .bind(ts)
    .bind(kwh)
    .execute(&app.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn a_device_shows_its_first_and_last_reading_and_none_before_it_reports() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (ana, ana_token) = app.client_user("ana").await;
    let oven = app.create_device(&token, json!({"name": "Oven", "max_hourly_kwh": 2.0, "owner_id": ana.id})).await;
    let spare = app.create_device(&token, json!({"name": "Spare", "max_hourly_kwh": 1.0, "owner_id": ana.id})).await;
    let oven_id = oven["id"].as_str().unwrap();
    assert_eq!((&oven["first_reading_at"], &oven["last_reading"]), (&Value::Null, &Value::Null));

    // Out of order, as a meter catching up might send them; the newest by timestamp counts.
    reading(&app, oven_id, "2026-03-01T10:20:00Z", 0.25).await;
    reading(&app, oven_id, "2026-03-01T10:40:00Z", 0.0).await;
    reading(&app, oven_id, "2026-03-01T10:30:00Z", 0.5).await;
    // The day before, in another daily partition of the raw readings.
    reading(&app, oven_id, "2026-02-28T23:50:00Z", 0.1).await;

    let one: Value = app.get(&format!("/api/devices/{oven_id}"), &ana_token).await.json().await.unwrap();
    assert_eq!(one["first_reading_at"], "2026-02-28T23:50:00Z");
    assert_eq!(one["last_reading"], json!({"at": "2026-03-01T10:40:00Z", "kwh": 0.0, "interval_s": 600}));

    let mine: Value = app.get("/api/me/devices", &ana_token).await.json().await.unwrap();
    let listed: Vec<(&str, &Value)> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|device| (device["name"].as_str().unwrap(), &device["last_reading"]["at"]))
        .collect();
    assert_eq!(listed, [("Oven", &json!("2026-03-01T10:40:00Z")), ("Spare", &Value::Null)]);
    let all: Value = app.get("/api/devices", &token).await.json().await.unwrap();
    assert_eq!(all["items"][0]["last_reading"]["kwh"].as_f64(), Some(0.0));
    assert_eq!(all["items"][1]["last_reading"], Value::Null, "{}", spare["name"]);
}

#[tokio::test]
async fn a_device_is_not_assigned_to_an_administrator() {
    let app = spawn_app().await;
    let (admin, token) = app.admin().await;
    let device = app.create_device(&token, json!({"name": "Kitchen", "max_hourly_kwh": 2.0})).await;
    let path = format!("/api/devices/{}/owner", device["id"].as_str().unwrap());

    let refused = app.call(Method::PUT, &path, Some(&token), Some(json!({"user_id": admin.id}))).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (code, message, fields) = error_of(refused).await;
    assert_eq!((code.as_str(), fields), ("validation_failed", vec!["user_id".to_owned()]));
    let body: Value =
        app.call(Method::PUT, &path, Some(&token), Some(json!({"user_id": admin.id}))).await.json().await.unwrap();
    let reason = body["fields"][0]["message"].as_str().unwrap();
    assert!(reason.contains("administrator") && reason.contains("customer"), "{message}: {reason}");
    let unchanged: Value =
        app.get(&format!("/api/devices/{}", device["id"].as_str().unwrap()), &token).await.json().await.unwrap();
    assert_eq!(unchanged["owner_id"], Value::Null);

    let created = app
        .call(
            Method::POST,
            "/api/devices",
            Some(&token),
            Some(json!({"name": "Office", "max_hourly_kwh": 1.0, "owner_id": admin.id})),
        )
        .await;
    assert_eq!(created.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_of(created).await.2, ["owner_id"]);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM devices").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 1, "the refused device was not created");

    let (ana, _) = app.client_user("ana").await;
    let assigned = app.call(Method::PUT, &path, Some(&token), Some(json!({"user_id": ana.id}))).await;
    assert_eq!(assigned.status(), StatusCode::OK, "a customer is fine");
}
