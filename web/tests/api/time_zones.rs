//! Time zones: the user's setting (their own and an administrator's view of it), and consumption
//! days and months counted in a zone, the days the clocks change included.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, error_of, spawn_app};

async fn hourly(app: &TestApp, device: &str, hour: &str, kwh: f64) {
    sqlx::query("INSERT INTO hourly_consumption (device_id, hour, kwh, readings) VALUES ($1, $2, $3, 6)")
        .bind(Uuid::parse_str(device).unwrap())
        .bind(hour.parse::<chrono::DateTime<chrono::Utc>>().unwrap())
        .bind(kwh)
        .execute(&app.pool)
        .await
        .unwrap();
}

async fn json_of(app: &TestApp, path: &str, token: &str) -> Value {
    let response = app.get(path, token).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.json().await.unwrap()
}

fn starts(points: &Value) -> Vec<String> {
    points.as_array().unwrap().iter().map(|point| point["start"].as_str().unwrap().to_owned()).collect()
}

/// Each point's energy; `None` where nothing was measured.
fn values(points: &Value) -> Vec<Option<f64>> {
    points.as_array().unwrap().iter().map(|point| point["kwh"].as_f64()).collect()
}

#[tokio::test]
async fn users_set_and_clear_their_own_time_zone() {
    let app = spawn_app().await;
    let (_, token) = app.client_user("ana").await;
    assert_eq!(json_of(&app, "/api/me", &token).await["time_zone"], Value::Null, "the browser's own by default");

    let set = app.call(Method::PATCH, "/api/me", Some(&token), Some(json!({"time_zone": "Europe/Bucharest"}))).await;
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(set.json::<Value>().await.unwrap()["time_zone"], "Europe/Bucharest");
    assert_eq!(json_of(&app, "/api/me", &token).await["time_zone"], "Europe/Bucharest");
    let session: Value = app.login("ana", crate::helpers::PASSWORD).await.json().await.unwrap();
    assert_eq!(session["user"]["time_zone"], "Europe/Bucharest", "signing in tells the dashboard");

    let unchanged = app.call(Method::PATCH, "/api/me", Some(&token), Some(json!({}))).await;
    assert_eq!(unchanged.json::<Value>().await.unwrap()["time_zone"], "Europe/Bucharest");

    let invalid = app.call(Method::PATCH, "/api/me", Some(&token), Some(json!({"time_zone": "Mars/Olympus"}))).await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = invalid.json().await.unwrap();
    assert_eq!(body["fields"][0]["field"], "time_zone");
    let message = body["fields"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("\"Mars/Olympus\" is not a time zone") && message.contains("Europe/Bucharest"),
        "{message}"
    );
    let wrong_case = app.call(Method::PATCH, "/api/me", Some(&token), Some(json!({"time_zone": "europe/paris"}))).await;
    let (_, _, fields) = error_of(wrong_case).await;
    assert_eq!(fields, ["time_zone"]);
    assert_eq!(json_of(&app, "/api/me", &token).await["time_zone"], "Europe/Bucharest", "nothing invalid is stored");

    let role = app.call(Method::PATCH, "/api/me", Some(&token), Some(json!({"role": "admin"}))).await;
    assert_eq!(role.status(), StatusCode::UNPROCESSABLE_ENTITY, "users change only their settings");

    let cleared = app.call(Method::PATCH, "/api/me", Some(&token), Some(json!({"time_zone": null}))).await;
    assert_eq!(cleared.json::<Value>().await.unwrap()["time_zone"], Value::Null);
    let signed_out = app.call(Method::PATCH, "/api/me", None, Some(json!({"time_zone": "UTC"}))).await;
    assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn administrators_set_a_users_time_zone() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let created = app
        .post(
            "/api/users",
            &token,
            json!({"username": "dana", "display_name": "Dana", "password": "a long enough passphrase",
                   "time_zone": "America/New_York"}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let user: Value = created.json().await.unwrap();
    assert_eq!(user["time_zone"], "America/New_York");
    let path = format!("/api/users/{}", user["id"].as_str().unwrap());

    let changed = app.call(Method::PATCH, &path, Some(&token), Some(json!({"time_zone": "Europe/Bucharest"}))).await;
    assert_eq!(changed.json::<Value>().await.unwrap()["time_zone"], "Europe/Bucharest");
    let renamed = app.call(Method::PATCH, &path, Some(&token), Some(json!({"display_name": "Dana P."}))).await;
    assert_eq!(renamed.json::<Value>().await.unwrap()["time_zone"], "Europe/Bucharest", "left out, left alone");
    let cleared = app.call(Method::PATCH, &path, Some(&token), Some(json!({"time_zone": null}))).await;
    assert_eq!(cleared.json::<Value>().await.unwrap()["time_zone"], Value::Null);

    let invalid = app.call(Method::PATCH, &path, Some(&token), Some(json!({"time_zone": "EET+2"}))).await;
    assert_eq!(error_of(invalid).await.2, ["time_zone"]);
    let invalid_new = app
        .post(
            "/api/users",
            &token,
            json!({"username": "emil", "display_name": "Emil", "password": "a long enough passphrase",
                   "time_zone": "Bucharest"}),
        )
        .await;
    assert_eq!(error_of(invalid_new).await.2, ["time_zone"]);
}

/// Ana's heat pump, with hours around the Bucharest midnights of 1 and 2 March 2026 (UTC+2).
async fn bucharest_app() -> (TestApp, String, String) {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (ana, token) = app.client_user("ana").await;
    let device =
        app.create_device(&admin, json!({"name": "Heat pump", "max_hourly_kwh": 2.0, "owner_id": ana.id})).await;
    let id = device["id"].as_str().unwrap().to_owned();
    hourly(&app, &id, "2026-02-28T21:00:00Z", 0.25).await; // 23:00 on 28 February in Bucharest
    hourly(&app, &id, "2026-02-28T22:00:00Z", 1.0).await; // 00:00 on 1 March
    hourly(&app, &id, "2026-03-01T21:00:00Z", 0.5).await; // 23:00 on 1 March
    hourly(&app, &id, "2026-03-01T22:00:00Z", 2.0).await; // 00:00 on 2 March (22:00 UTC on 1 March)
    (app, id, token)
}

#[tokio::test]
async fn days_are_counted_from_local_midnight_in_the_zone_asked_for() {
    let (app, id, token) = bucharest_app().await;
    let zone = "tz=Europe/Bucharest";

    let day = json_of(&app, &format!("/api/me/consumption?date=2026-03-01&{zone}"), &token).await;
    assert_eq!(day["time_zone"], "Europe/Bucharest");
    assert_eq!(day["total_kwh"].as_f64(), Some(1.5));
    assert_eq!(day["hour_starts"][0], "2026-02-28T22:00:00Z");
    assert_eq!(day["hour_starts"].as_array().unwrap().len(), 24);
    assert_eq!((day["hours"][0].as_f64(), day["hours"][23].as_f64()), (Some(1.0), Some(0.5)));
    assert_eq!(day["devices"][0]["hours"][0].as_f64(), Some(1.0));
    // The same day in UTC holds other hours.
    let utc = json_of(&app, "/api/me/consumption?date=2026-03-01&tz=UTC", &token).await;
    assert_eq!((utc["total_kwh"].as_f64(), utc["hour_starts"][0].as_str()), (Some(2.5), Some("2026-03-01T00:00:00Z")));

    let hours =
        json_of(&app, &format!("/api/devices/{id}/consumption?from=2026-03-01&to=2026-03-02&{zone}"), &token).await;
    assert_eq!(hours["time_zone"], "Europe/Bucharest");
    assert_eq!(starts(&hours["points"]).first().map(String::as_str), Some("2026-02-28T22:00:00Z"));
    assert_eq!(hours["points"].as_array().unwrap().len(), 24);
    assert_eq!(hours["total_kwh"].as_f64(), Some(1.5));

    let days =
        json_of(&app, &format!("/api/devices/{id}/consumption?from=2026-02-28&to=2026-03-03&step=day&{zone}"), &token)
            .await;
    assert_eq!(starts(&days["points"]), ["2026-02-27T22:00:00Z", "2026-02-28T22:00:00Z", "2026-03-01T22:00:00Z"]);
    assert_eq!(values(&days["points"]), [Some(0.25), Some(1.5), Some(2.0)]);

    // A range given in RFC 3339 is rounded down to the local day it starts in.
    let from_time = json_of(
        &app,
        &format!("/api/devices/{id}/consumption?from=2026-03-01T12:00:00Z&to=2026-03-02T12:00:00Z&step=day&{zone}"),
        &token,
    )
    .await;
    assert_eq!(starts(&from_time["points"]), ["2026-02-28T22:00:00Z", "2026-03-01T22:00:00Z"]);

    let months = json_of(
        &app,
        &format!("/api/devices/{id}/consumption?from=2026-02-01&to=2026-04-01&step=month&{zone}"),
        &token,
    )
    .await;
    assert_eq!(starts(&months["points"]), ["2026-01-31T22:00:00Z", "2026-02-28T22:00:00Z"]);
    assert_eq!(values(&months["points"]), [Some(0.25), Some(3.5)]);
}

#[tokio::test]
async fn the_day_the_clocks_go_forward_has_23_hours_and_the_day_they_go_back_25() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (ana, token) = app.client_user("ana").await;
    let device = app.create_device(&admin, json!({"name": "Oven", "max_hourly_kwh": 2.0, "owner_id": ana.id})).await;
    let id = device["id"].as_str().unwrap();
    // 29 March 2026 in Bucharest: 00:00 is 22:00 UTC the day before (UTC+2), 03:00 jumps to 04:00,
    // and the day ends at 21:00 UTC (UTC+3).
    hourly(&app, id, "2026-03-28T22:00:00Z", 1.0).await; // 00:00
    hourly(&app, id, "2026-03-29T00:00:00Z", 0.5).await; // 02:00, the last hour before the change
    hourly(&app, id, "2026-03-29T01:00:00Z", 0.25).await; // 04:00, the first after it
    hourly(&app, id, "2026-03-29T20:00:00Z", 2.0).await; // 23:00, the day's last hour
    hourly(&app, id, "2026-03-29T21:00:00Z", 4.0).await; // 00:00 on 30 March

    let day = json_of(&app, "/api/me/consumption?date=2026-03-29&tz=Europe/Bucharest", &token).await;
    let hour_starts: Vec<&str> = day["hour_starts"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert_eq!(hour_starts.len(), 23);
    assert_eq!((hour_starts[0], hour_starts[22]), ("2026-03-28T22:00:00Z", "2026-03-29T20:00:00Z"));
    let hours: Vec<Option<f64>> = day["hours"].as_array().unwrap().iter().map(|v| v.as_f64()).collect();
    assert_eq!(hours.len(), 23);
    assert_eq!((hours[0], hours[2], hours[3], hours[22]), (Some(1.0), Some(0.5), Some(0.25), Some(2.0)));
    assert_eq!(hours[1], None, "an hour without readings is not measured");
    assert_eq!(day["total_kwh"].as_f64(), Some(3.75));
    assert_eq!(day["devices"][0]["hours"].as_array().unwrap().len(), 23);

    let series = json_of(
        &app,
        &format!("/api/devices/{id}/consumption?from=2026-03-29&to=2026-03-30&tz=Europe/Bucharest"),
        &token,
    )
    .await;
    assert_eq!(series["points"].as_array().unwrap().len(), 23);
    assert_eq!(series["total_kwh"].as_f64(), Some(3.75));

    let days = json_of(
        &app,
        &format!("/api/devices/{id}/consumption?from=2026-03-28&to=2026-03-31&step=day&tz=Europe/Bucharest"),
        &token,
    )
    .await;
    assert_eq!(starts(&days["points"]), ["2026-03-27T22:00:00Z", "2026-03-28T22:00:00Z", "2026-03-29T21:00:00Z"]);
    assert_eq!(values(&days["points"]), [None, Some(3.75), Some(4.0)]);

    // 25 October 2026: 04:00 comes back to 03:00, so the day has 25 hours, from 21:00 UTC to 22:00 UTC.
    let autumn = json_of(&app, "/api/me/consumption?date=2026-10-25&tz=Europe/Bucharest", &token).await;
    assert_eq!(autumn["hours"].as_array().unwrap().len(), 25);
    assert_eq!(autumn["hour_starts"][24], "2026-10-25T21:00:00Z");
}

#[tokio::test]
async fn the_users_setting_is_the_default_zone_and_a_bad_zone_is_refused() {
    let (app, id, token) = bucharest_app().await;
    let utc = json_of(&app, "/api/me/consumption?date=2026-03-01", &token).await;
    assert_eq!((utc["time_zone"].as_str(), utc["total_kwh"].as_f64()), (Some("UTC"), Some(2.5)), "UTC when unset");

    app.call(Method::PATCH, "/api/me", Some(&token), Some(json!({"time_zone": "Europe/Bucharest"}))).await;
    let local = json_of(&app, "/api/me/consumption?date=2026-03-01", &token).await;
    assert_eq!((local["time_zone"].as_str(), local["total_kwh"].as_f64()), (Some("Europe/Bucharest"), Some(1.5)));
    let series =
        json_of(&app, &format!("/api/devices/{id}/consumption?from=2026-03-01&to=2026-03-03&step=day"), &token).await;
    assert_eq!(series["time_zone"], "Europe/Bucharest");
    assert_eq!(values(&series["points"]), [Some(1.5), Some(2.0)]);
    let asked = json_of(&app, "/api/me/consumption?date=2026-03-01&tz=UTC", &token).await;
    assert_eq!(asked["time_zone"], "UTC", "a zone in the request wins over the setting");

    for path in [
        "/api/me/consumption?date=2026-03-01&tz=Mars/Olympus".to_owned(),
        format!("/api/devices/{id}/consumption?from=2026-03-01&to=2026-03-02&tz=Mars/Olympus"),
        format!("/api/devices/{id}/consumption?from=2026-03-01&to=2026-03-02&tz=%2B02:00"),
    ] {
        let response = app.get(&path, &token).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["fields"][0]["field"], "tz", "{path}");
        assert!(body["fields"][0]["message"].as_str().unwrap().contains("such as Europe/Bucharest"), "{path}: {body}");
    }
}

/// (start, kWh) of a device's months from January 2025 to March 2026 in `zone`.
async fn months_in(app: &TestApp, id: &str, token: &str, zone: &str) -> Vec<(String, Option<f64>)> {
    let path = format!("/api/devices/{id}/consumption?from=2025-01-01&to=2026-04-01&step=month&tz={zone}");
    let series = json_of(app, &path, token).await;
    starts(&series["points"]).into_iter().zip(values(&series["points"])).collect()
}

#[tokio::test]
async fn months_read_from_rollups_equal_their_hours_in_every_zone_and_late_hours_count_at_once() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let (ana, token) = app.client_user("ana").await;
    let device = app.create_device(&admin, json!({"name": "Boiler", "max_hourly_kwh": 2.0, "owner_id": ana.id})).await;
    let id = device["id"].as_str().unwrap();
    // Every hour of 2025 and early 2026, each with its own amount (exact decimals), so a month
    // counted with an hour too many or too few shows.
    sqlx::query(
        "INSERT INTO hourly_consumption (device_id, hour, kwh, readings) \
         SELECT $1, hour, 0.001 * (1 + extract(epoch FROM hour)::bigint / 3600 % 997), 6 \
         FROM generate_series('2025-01-01T00:00Z'::timestamptz, '2026-03-31T23:00Z', interval '1 hour') AS hour",
    )
    .bind(Uuid::parse_str(id).unwrap())
    .execute(&app.pool)
    .await
    .unwrap();
    let zones =
        ["UTC", "Europe/Bucharest", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati", "Pacific/Pago_Pago"];
    let mut from_hours = Vec::new();
    for zone in zones {
        from_hours.push(months_in(&app, id, &token, zone).await);
    }

    let rolled = ems_monitors::rollups::upkeep(&app.pool, chrono::Utc::now()).await.unwrap();
    assert_eq!(rolled.refreshed, 15, "the hours written after their months ended marked all 15 months");
    let rollups: i64 =
        sqlx::query_scalar("SELECT count(*) FROM monthly_consumption").fetch_one(&app.pool).await.unwrap();
    assert_eq!(rollups, 15);
    for (zone, expected) in zones.iter().zip(&from_hours) {
        assert_eq!(&months_in(&app, id, &token, zone).await, expected, "months in {zone}");
    }
    // The charts do read the rollups: a wrong one shows (and is put right again).
    let bend = "UPDATE monthly_consumption SET kwh = kwh + $1 WHERE month = '2025-03-01T00:00Z'";
    sqlx::query(bend).bind(1000).execute(&app.pool).await.unwrap();
    let bent = months_in(&app, id, &token, "Europe/Bucharest").await;
    assert_eq!(bent[2].1.map(|kwh| (kwh - from_hours[1][2].1.unwrap()).round()), Some(1000.0));
    sqlx::query(bend).bind(-1000).execute(&app.pool).await.unwrap();

    // A late hour for a rolled-up month counts at once, before any rollup is summed again.
    sqlx::query("UPDATE hourly_consumption SET kwh = kwh + 5 WHERE device_id = $1 AND hour = '2025-06-15T12:00Z'")
        .bind(Uuid::parse_str(id).unwrap())
        .execute(&app.pool)
        .await
        .unwrap();
    let late = months_in(&app, id, &token, "Asia/Kolkata").await;
    assert_eq!(late[5].1.map(|kwh| (kwh - from_hours[3][5].1.unwrap()).round()), Some(5.0));
    let again = ems_monitors::rollups::upkeep(&app.pool, chrono::Utc::now()).await.unwrap();
    assert_eq!(again, ems_monitors::rollups::Rolled { months: 0, refreshed: 1 }, "only the changed month");
    assert_eq!(months_in(&app, id, &token, "Asia/Kolkata").await, late);
    let marks: i64 =
        sqlx::query_scalar("SELECT count(*) FROM monthly_consumption_stale").fetch_one(&app.pool).await.unwrap();
    assert_eq!(marks, 0);
}
