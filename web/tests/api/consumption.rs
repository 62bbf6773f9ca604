use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, error_of, spawn_app};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

async fn hourly(app: &TestApp, device: &str, hour: &str, kwh: f64) {
    sqlx::query("INSERT INTO hourly_consumption (device_id, hour, kwh, readings) VALUES ($1, $2, $3, 6)")
        .bind(Uuid::parse_str(device).unwrap())
        .bind(at(hour))
        .bind(kwh)
        .execute(&app.pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_device_series_has_one_point_per_step_null_where_nothing_was_measured() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (ana, ana_token) = app.client_user("ana").await;
    let device = app.create_device(&token, json!({"name": "Kitchen", "max_hourly_kwh": 2.0, "owner_id": ana.id})).await;
    let id = device["id"].as_str().unwrap();
    hourly(&app, id, "2026-03-01T00:00:00Z", 1.25).await;
    hourly(&app, id, "2026-03-01T13:00:00Z", 2.5).await;
    hourly(&app, id, "2026-03-02T08:00:00Z", 0.5).await;
    hourly(&app, id, "2026-04-10T08:00:00Z", 4.0).await;

    let day: Value = app
        .get(&format!("/api/devices/{id}/consumption?from=2026-03-01&to=2026-03-02"), &ana_token)
        .await
        .json()
        .await
        .unwrap();
    let points = day["points"].as_array().unwrap();
    assert_eq!(points.len(), 24);
    assert_eq!(
        (points[0]["kwh"].as_f64(), points[13]["kwh"].as_f64(), &points[5]["kwh"]),
        (Some(1.25), Some(2.5), &Value::Null),
        "an hour without readings is not measured, so null rather than 0"
    );
    assert_eq!(points[13]["start"], "2026-03-01T13:00:00Z");
    assert_eq!((day["total_kwh"].as_f64(), day["max_hourly_kwh"].as_f64()), (Some(3.75), Some(2.0)));

    let week: Value = app
        .get(&format!("/api/devices/{id}/consumption?from=2026-03-01&to=2026-03-08&step=day"), &ana_token)
        .await
        .json()
        .await
        .unwrap();
    let daily: Vec<Option<f64>> =
        week["points"].as_array().unwrap().iter().map(|point| point["kwh"].as_f64()).collect();
    assert_eq!(daily, [Some(3.75), Some(0.5), None, None, None, None, None]);

    let months: Value = app
        .get(&format!("/api/devices/{id}/consumption?from=2026-01-15&to=2026-05-01&step=month"), &ana_token)
        .await
        .json()
        .await
        .unwrap();
    let monthly: Vec<(&str, Option<f64>)> = months["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|point| (point["start"].as_str().unwrap(), point["kwh"].as_f64()))
        .collect();
    assert_eq!(
        monthly,
        [
            ("2026-01-01T00:00:00Z", None),
            ("2026-02-01T00:00:00Z", None),
            ("2026-03-01T00:00:00Z", Some(4.25)),
            ("2026-04-01T00:00:00Z", Some(4.0))
        ]
    );
}

#[tokio::test]
async fn a_zero_reading_is_zero_while_no_reading_and_the_future_are_null() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (ana, ana_token) = app.client_user("ana").await;
    let idle = app.create_device(&token, json!({"name": "Idle", "max_hourly_kwh": 2.0, "owner_id": ana.id})).await;
    let silent = app.create_device(&token, json!({"name": "Silent", "max_hourly_kwh": 2.0, "owner_id": ana.id})).await;
    let (idle, silent) = (idle["id"].as_str().unwrap(), silent["id"].as_str().unwrap());
    // The idle device reported, and used nothing, at 03:00 and now.
    hourly(&app, idle, "2026-03-01T03:00:00Z", 0.0).await;
    let this_hour = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap();
    hourly(&app, idle, &this_hour.to_rfc3339(), 0.0).await;

    let series = async |id: &str, query: String| -> Value {
        app.get(&format!("/api/devices/{id}/consumption?{query}"), &ana_token).await.json().await.unwrap()
    };
    let kwh = |series: &Value| -> Vec<Option<f64>> {
        series["points"].as_array().unwrap().iter().map(|point| point["kwh"].as_f64()).collect()
    };

    let measured = series(idle, "from=2026-03-01&to=2026-03-02".into()).await;
    let mut expected = vec![None; 24];
    expected[3] = Some(0.0);
    assert_eq!(kwh(&measured), expected);
    assert_eq!(measured["total_kwh"].as_f64(), Some(0.0), "readings that add up to nothing are 0 kWh");

    let never = series(silent, "from=2026-03-01&to=2026-03-02".into()).await;
    assert_eq!(kwh(&never), vec![None; 24]);
    assert_eq!(never["total_kwh"], Value::Null, "no reading at all is no total, not 0 kWh");
    let never_by_day = series(silent, "from=2026-03-01&to=2026-03-08&step=day".into()).await;
    assert_eq!(kwh(&never_by_day), vec![None; 7]);

    // From this hour to two hours on: this hour was measured, the coming ones cannot have been.
    let ahead = series(
        idle,
        format!(
            "from={}&to={}",
            this_hour.format("%Y-%m-%dT%H:%M:%SZ"),
            (this_hour + TimeDelta::hours(3)).format("%Y-%m-%dT%H:%M:%SZ")
        ),
    )
    .await;
    assert_eq!(kwh(&ahead), [Some(0.0), None, None]);

    let day: Value = app.get("/api/me/consumption?date=2026-03-01", &ana_token).await.json().await.unwrap();
    assert_eq!(day["total_kwh"].as_f64(), Some(0.0));
    assert_eq!(day["hours"][3].as_f64(), Some(0.0));
    assert_eq!((&day["hours"][2], &day["hours"][4]), (&Value::Null, &Value::Null));
    let devices = day["devices"].as_array().unwrap();
    assert_eq!((devices[0]["name"].as_str(), devices[0]["total_kwh"].as_f64()), (Some("Idle"), Some(0.0)));
    assert_eq!((devices[1]["name"].as_str(), &devices[1]["total_kwh"]), (Some("Silent"), &Value::Null));
    assert!(devices[1]["hours"].as_array().unwrap().iter().all(Value::is_null), "{}", devices[1]["hours"]);

    let empty: Value = app.get("/api/me/consumption?date=2026-02-01", &ana_token).await.json().await.unwrap();
    assert_eq!(empty["total_kwh"], Value::Null, "a day before any data");
    assert!(empty["hours"].as_array().unwrap().iter().all(Value::is_null));
}

#[tokio::test]
async fn consumption_is_only_for_the_owner_and_ranges_are_checked() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (ana, _) = app.client_user("ana").await;
    let (_, ben_token) = app.client_user("ben").await;
    let device = app.create_device(&token, json!({"name": "Kitchen", "max_hourly_kwh": 2.0, "owner_id": ana.id})).await;
    let path = format!("/api/devices/{}/consumption", device["id"].as_str().unwrap());

    assert_eq!(
        app.get(&format!("{path}?from=2026-03-01&to=2026-03-02"), &ben_token).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("{path}?from=2026-03-01&to=2026-03-02"), &token).await.status(),
        StatusCode::OK,
        "admins see all"
    );

    let backwards = app.get(&format!("{path}?from=2026-03-02&to=2026-03-01"), &token).await;
    assert_eq!(error_of(backwards).await.2, ["to"]);
    let too_long = app.get(&format!("{path}?from=2026-01-01&to=2026-03-01&step=hour"), &token).await;
    let (_, message, fields) = error_of(too_long).await;
    assert_eq!(fields, ["to"]);
    assert!(message.contains("invalid value for to"), "{message}");
    let nonsense = app.get(&format!("{path}?from=soon&to=2026-03-01"), &token).await;
    assert_eq!(nonsense.status(), StatusCode::BAD_REQUEST);
    assert!(error_of(nonsense).await.1.contains("neither a date"));
}

#[tokio::test]
async fn my_day_sums_my_devices_hour_by_hour() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (ana, ana_token) = app.client_user("ana").await;
    let (ben, _) = app.client_user("ben").await;
    let oven = app.create_device(&token, json!({"name": "Oven", "max_hourly_kwh": 3.0, "owner_id": ana.id})).await;
    let pump = app.create_device(&token, json!({"name": "Heat pump", "max_hourly_kwh": 2.0, "owner_id": ana.id})).await;
    let bens = app.create_device(&token, json!({"name": "Office", "max_hourly_kwh": 1.0, "owner_id": ben.id})).await;
    hourly(&app, oven["id"].as_str().unwrap(), "2026-03-01T07:00:00Z", 1.5).await;
    hourly(&app, pump["id"].as_str().unwrap(), "2026-03-01T07:00:00Z", 0.75).await;
    hourly(&app, pump["id"].as_str().unwrap(), "2026-03-01T23:00:00Z", 0.5).await;
    hourly(&app, pump["id"].as_str().unwrap(), "2026-03-02T00:00:00Z", 9.0).await;
    hourly(&app, bens["id"].as_str().unwrap(), "2026-03-01T07:00:00Z", 5.0).await;

    let day: Value = app.get("/api/me/consumption?date=2026-03-01", &ana_token).await.json().await.unwrap();
    assert_eq!(day["total_kwh"].as_f64(), Some(2.75));
    assert_eq!(day["hours"][7].as_f64(), Some(2.25));
    assert_eq!(day["hours"][23].as_f64(), Some(0.5));
    let devices: Vec<(&str, f64)> = day["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|device| (device["name"].as_str().unwrap(), device["total_kwh"].as_f64().unwrap()))
        .collect();
    assert_eq!(devices, [("Heat pump", 1.25), ("Oven", 1.5)], "only hers, with days of other dates left out");
}

async fn alert(app: &TestApp, device: &str, user: Option<Uuid>, kind: &str, hour: DateTime<Utc>) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO alerts (device_id, user_id, kind, hour, value, limit_kwh, message) \
         VALUES ($1, $2, $3::alert_kind, $4, 3.0, 2.0, 'over the limit') RETURNING id",
    )
    .bind(Uuid::parse_str(device).unwrap())
    .bind(user)
    .bind(kind)
    .bind(hour)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn clients_list_and_acknowledge_only_their_alerts_and_admins_filter_everyones() {
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (ana, ana_token) = app.client_user("ana").await;
    let (ben, _) = app.client_user("ben").await;
    let anas = app.create_device(&token, json!({"name": "Oven", "max_hourly_kwh": 2.0, "owner_id": ana.id})).await;
    let bens = app.create_device(&token, json!({"name": "Office", "max_hourly_kwh": 1.0, "owner_id": ben.id})).await;
    let hour = at("2026-03-01T07:00:00Z");
    let first = alert(&app, anas["id"].as_str().unwrap(), Some(ana.id), "overconsumption", hour).await;
    let second = alert(&app, anas["id"].as_str().unwrap(), Some(ana.id), "peak", hour).await;
    let bens_alert = alert(&app, bens["id"].as_str().unwrap(), Some(ben.id), "peak", hour + TimeDelta::hours(1)).await;

    let mine: Value = app.get(&format!("/api/alerts?user_id={}", ben.id), &ana_token).await.json().await.unwrap();
    let ids: Vec<i64> = mine["items"].as_array().unwrap().iter().map(|alert| alert["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [second, first], "hers only, newest first, whatever she asks for");
    assert_eq!(mine["items"][0]["device_name"], "Oven");

    let missed: Value = app.get(&format!("/api/alerts?after_id={first}"), &ana_token).await.json().await.unwrap();
    assert_eq!(missed["total"], 1);

    assert_eq!(
        app.call(Method::POST, &format!("/api/alerts/{bens_alert}/acknowledge"), Some(&ana_token), None).await.status(),
        StatusCode::NOT_FOUND
    );
    let acknowledged: Value = app
        .call(Method::POST, &format!("/api/alerts/{first}/acknowledge"), Some(&ana_token), None)
        .await
        .json()
        .await
        .unwrap();
    let when = acknowledged["acknowledged_at"].as_str().unwrap().to_owned();
    let again: Value = app
        .call(Method::POST, &format!("/api/alerts/{first}/acknowledge"), Some(&ana_token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["acknowledged_at"].as_str().unwrap(), when, "the first acknowledgement stands");
    let open: Value = app.get("/api/alerts?acknowledged=false", &ana_token).await.json().await.unwrap();
    assert_eq!(open["total"], 1, "the badge count");

    let all: Value = app.get("/api/alerts", &token).await.json().await.unwrap();
    assert_eq!(all["total"], 3);
    let bens_only: Value =
        app.get(&format!("/api/alerts?user_id={}&kind=peak", ben.id), &token).await.json().await.unwrap();
    assert_eq!(bens_only["total"], 1);
    let by_device: Value =
        app.get(&format!("/api/alerts?device_id={}", anas["id"].as_str().unwrap()), &token).await.json().await.unwrap();
    assert_eq!(by_device["total"], 2);
}
