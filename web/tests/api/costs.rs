//! Tariffs and cost: administrators set a customer's tariff; the customer's consumption is priced
//! hour by hour in their own time zone, checked against sums worked out by hand; the month so far
//! and its projection; the CSV export of a year of hours.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, error_of, spawn_app};

async fn hourly(app: &TestApp, device: &str, hour: &str, kwh: &str) {
    sqlx::query(
        "INSERT INTO hourly_consumption (device_id, hour, kwh, readings) VALUES ($1, $2::timestamptz, $3::numeric, 6)",
    )
    .bind(Uuid::parse_str(device).unwrap())
    .bind(hour)
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

/// Night (00–07 and 23–24) at 0.50 and day (07–23) at 1.10 every day of the week.
fn day_and_night() -> Value {
    let every_day = json!(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
    json!({"currency": "RON", "bands": [
        {"days": every_day, "from_hour": 0, "to_hour": 7, "price": "0.50"},
        {"days": every_day, "from_hour": 7, "to_hour": 23, "price": "1.10"},
        {"days": every_day, "from_hour": 23, "to_hour": 24, "price": "0.50"},
    ]})
}

/// A customer in Bucharest with one device; returns (admin token, customer id, customer token, device id).
async fn customer_in_bucharest(app: &TestApp) -> (String, Uuid, String, String) {
    let (_, admin) = app.admin().await;
    let (ana, ana_token) = app.client_user("ana").await;
    let zone = app
        .call(
            Method::PATCH,
            &format!("/api/users/{}", ana.id),
            Some(&admin),
            Some(json!({"time_zone": "Europe/Bucharest"})),
        )
        .await;
    assert_eq!(zone.status(), StatusCode::OK);
    let device = app.create_device(&admin, json!({"name": "Boiler", "max_hourly_kwh": 5.0, "owner_id": ana.id})).await;
    (admin, ana.id, ana_token, device["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn administrators_set_read_and_remove_a_customers_tariff_and_others_may_not() {
    let app = spawn_app().await;
    let (admin, ana, ana_token, _) = customer_in_bucharest(&app).await;
    let path = format!("/api/users/{ana}/tariff");

    let by_client =
        app.call(Method::PUT, &path, Some(&ana_token), Some(json!({"currency": "RON", "flat_price": "0.1"}))).await;
    assert_eq!(by_client.status(), StatusCode::FORBIDDEN, "a customer may not set even their own tariff");
    assert_eq!(app.get(&path, &ana_token).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/me/tariff", &ana_token).await.status(), StatusCode::NOT_FOUND, "no tariff yet");

    let unknown =
        app.call(Method::PUT, &path, Some(&admin), Some(json!({"currency": "XYZ", "flat_price": "0.85"}))).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_of(unknown).await.2, ["currency"]);
    let mut gap = day_and_night();
    gap["bands"].as_array_mut().unwrap().pop();
    let (code, _, fields) = error_of(app.call(Method::PUT, &path, Some(&admin), Some(gap)).await).await;
    assert_eq!((code.as_str(), fields), ("validation_failed", vec!["bands".to_owned()]));
    let (admin_user, _) = app.user_with_session("boss", ems_common::Role::Admin).await;
    let for_admin = app
        .call(
            Method::PUT,
            &format!("/api/users/{}/tariff", admin_user.id),
            Some(&admin),
            Some(json!({"currency": "RON", "flat_price": "1"})),
        )
        .await;
    assert_eq!(for_admin.status(), StatusCode::UNPROCESSABLE_ENTITY, "tariffs are for customers");
    let nobody = app
        .call(
            Method::PUT,
            &format!("/api/users/{}/tariff", Uuid::new_v4()),
            Some(&admin),
            Some(json!({"currency": "RON", "flat_price": "1"})),
        )
        .await;
    assert_eq!(nobody.status(), StatusCode::NOT_FOUND);

    let set = app.call(Method::PUT, &path, Some(&admin), Some(day_and_night())).await;
    assert_eq!(set.status(), StatusCode::OK);
    let tariff: Value = set.json().await.unwrap();
    assert_eq!(
        (&tariff["currency"], &tariff["flat_price"], &tariff["time_zone"]),
        (&json!("RON"), &Value::Null, &json!("Europe/Bucharest"))
    );
    assert_eq!(
        tariff["bands"][1],
        json!({"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "from_hour": 7, "to_hour": 23, "price": "1.1"})
    );
    assert_eq!(json_of(&app, "/api/me/tariff", &ana_token).await["bands"], tariff["bands"]);

    let flat = app.call(Method::PUT, &path, Some(&admin), Some(json!({"currency": "eur", "flat_price": 0.85}))).await;
    let flat: Value = flat.json().await.unwrap();
    assert_eq!((&flat["currency"], &flat["flat_price"], &flat["bands"]), (&json!("EUR"), &json!("0.85"), &json!([])));

    assert_eq!(app.call(Method::DELETE, &path, Some(&admin), None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path, &admin).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.call(Method::DELETE, &path, Some(&admin), None).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn time_of_use_cost_is_priced_hour_by_hour_on_the_customers_clock_across_a_clock_change() {
    let app = spawn_app().await;
    let (admin, ana, ana_token, device) = customer_in_bucharest(&app).await;
    // Saturday 28 March 2026 (EET, UTC+2): 06:00 local is 04:00Z (night), 07:00 is 05:00Z (day).
    hourly(&app, &device, "2026-03-28T04:00:00Z", "2.0").await;
    hourly(&app, &device, "2026-03-28T05:00:00Z", "1.0").await;
    hourly(&app, &device, "2026-03-28T10:00:00Z", "0.333333").await;
    // Sunday 29 March, the clocks go forward at 03:00: 02:00 local is 00:00Z, 06:00 EEST is
    // 03:00Z (night) and 07:00 is 04:00Z (day): an hour earlier in UTC than the day before.
    hourly(&app, &device, "2026-03-29T00:00:00Z", "0.25").await;
    hourly(&app, &device, "2026-03-29T03:00:00Z", "2.0").await;
    hourly(&app, &device, "2026-03-29T04:00:00Z", "1.0").await;

    let without: Value =
        json_of(&app, &format!("/api/devices/{device}/consumption?from=2026-03-28&to=2026-03-30&step=day"), &ana_token)
            .await;
    assert_eq!(
        (&without["currency"], &without["total_cost"], &without["points"][0]["cost"]),
        (&Value::Null, &Value::Null, &Value::Null),
        "no tariff, no money"
    );

    let set = app.call(Method::PUT, &format!("/api/users/{ana}/tariff"), Some(&admin), Some(day_and_night())).await;
    assert_eq!(set.status(), StatusCode::OK);
    let days: Value =
        json_of(&app, &format!("/api/devices/{device}/consumption?from=2026-03-28&to=2026-03-30&step=day"), &ana_token)
            .await;
    // 28th: 2.0 × 0.50 + 1.0 × 1.10 + 0.333333 × 1.10 = 1.0 + 1.1 + 0.3666663 = 2.4666663 → 2.466666.
    // 29th: 0.25 × 0.50 + 2.0 × 0.50 + 1.0 × 1.10 = 0.125 + 1.0 + 1.1 = 2.225.
    let costs: Vec<&Value> = days["points"].as_array().unwrap().iter().map(|point| &point["cost"]).collect();
    assert_eq!(costs, [&json!("2.466666"), &json!("2.225")]);
    assert_eq!((&days["currency"], &days["total_cost"]), (&json!("RON"), &json!("4.691666")));
    assert_eq!(days["points"][1]["kwh"].as_f64(), Some(3.25));

    // Seen in UTC, the hours keep the prices of the customer's clock.
    let hours: Value =
        json_of(&app, &format!("/api/devices/{device}/consumption?from=2026-03-29&to=2026-03-30&tz=UTC"), &ana_token)
            .await;
    assert_eq!((&hours["points"][3]["cost"], &hours["points"][4]["cost"]), (&json!("1"), &json!("1.1")));

    // A month is priced from its hours, even where a rollup gives its kWh.
    sqlx::query(
        "INSERT INTO monthly_consumption (device_id, month, kwh) VALUES ($1, '2026-03-01T00:00:00Z', 6.583333)",
    )
    .bind(Uuid::parse_str(&device).unwrap())
    .execute(&app.pool)
    .await
    .unwrap();
    let months: Value = json_of(
        &app,
        &format!("/api/devices/{device}/consumption?from=2026-03-01&to=2026-05-01&step=month"),
        &ana_token,
    )
    .await;
    assert_eq!((&months["points"][0]["cost"], &months["points"][1]["cost"]), (&json!("4.691666"), &Value::Null));
    assert_eq!(months["points"][0]["kwh"].as_f64(), Some(6.583333));

    // The customer's day, all devices together.
    let day: Value = json_of(&app, "/api/me/consumption?date=2026-03-29", &ana_token).await;
    assert_eq!((&day["currency"], &day["total_cost"]), (&json!("RON"), &json!("2.225")));
    assert_eq!(day["hour_costs"].as_array().unwrap().len(), 23, "the day the clocks go forward");
    assert_eq!(
        (&day["hour_costs"][2], &day["hour_costs"][5], &day["hour_costs"][6]),
        (&json!("0.125"), &json!("1"), &json!("1.1"))
    );
}

#[tokio::test]
async fn the_month_so_far_is_projected_by_its_average_per_elapsed_hour() {
    let app = spawn_app().await;
    let (admin, ana, ana_token, device) = customer_in_bucharest(&app).await;
    app.call(Method::PUT, &format!("/api/users/{ana}/tariff"), Some(&admin), Some(day_and_night())).await;
    // Monday 2 March, 12:00 local: the day price. Before March (local) and after `at`: not counted.
    hourly(&app, &device, "2026-03-02T10:00:00Z", "2.4").await;
    hourly(&app, &device, "2026-02-28T21:00:00Z", "9").await;
    hourly(&app, &device, "2026-03-20T10:00:00Z", "9").await;
    let at = "2026-03-10T22:00:00Z"; // 11 March 00:00 in Bucharest: 240 hours into a month of 743.
    let month: Value =
        json_of(&app, &format!("/api/devices/{device}/consumption/month-to-date?at={at}"), &ana_token).await;
    assert_eq!((month["elapsed_hours"].as_f64(), month["hours_in_month"].as_f64()), (Some(240.0), Some(743.0)));
    assert_eq!(month["month"], "2026-03-01");
    // 2.4 kWh × 743 / 240 = 7.43 kWh; 2.64 RON × 743 / 240 = 8.173 RON.
    assert_eq!((month["kwh_so_far"].as_f64(), month["projected_kwh"].as_f64()), (Some(2.4), Some(7.43)));
    assert_eq!(
        (&month["currency"], &month["cost_so_far"], &month["projected_cost"]),
        (&json!("RON"), &json!("2.64"), &json!("8.173"))
    );
    let mine: Value = json_of(&app, &format!("/api/me/consumption/month-to-date?at={at}"), &ana_token).await;
    assert_eq!(mine["projected_cost"], "8.173");

    let (_, bob_token) = app.client_user("bob").await;
    let theirs = app.get(&format!("/api/devices/{device}/consumption/month-to-date?at={at}"), &bob_token).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    let bobs: Value = json_of(&app, &format!("/api/me/consumption/month-to-date?at={at}"), &bob_token).await;
    assert_eq!(
        (&bobs["kwh_so_far"], &bobs["currency"], &bobs["cost_so_far"]),
        (&Value::Null, &Value::Null, &Value::Null)
    );
}

#[tokio::test]
async fn a_year_of_hours_exports_as_csv_and_only_to_the_devices_owner() {
    let app = spawn_app().await;
    let (admin, ana, ana_token, device) = customer_in_bucharest(&app).await;
    app.call(
        Method::PUT,
        &format!("/api/users/{ana}/tariff"),
        Some(&admin),
        Some(json!({"currency": "EUR", "flat_price": "0.85"})),
    )
    .await;
    sqlx::query(
        "INSERT INTO hourly_consumption (device_id, hour, kwh, readings) \
         SELECT $1, hour, 0.5, 6 FROM generate_series('2025-01-01T00:00:00Z'::timestamptz, '2025-12-31T23:00:00Z', interval '1 hour') hour",
    )
    .bind(Uuid::parse_str(&device).unwrap())
    .execute(&app.pool)
    .await
    .unwrap();

    let path = format!("/api/devices/{device}/consumption.csv?from=2025-01-01&to=2026-01-01&step=hour&tz=UTC");
    let response = app.get(&path, &ana_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert_eq!(disposition, format!("attachment; filename=\"consumption-{device}-2025-01-01-to-2025-12-31-hour.csv\""));
    let text = response.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 8760);
    assert_eq!(lines[0], "start,kwh,cost,currency");
    assert_eq!(lines[1], "2025-01-01T00:00:00+00:00,0.5,0.425,EUR");
    assert_eq!(lines[8760], "2025-12-31T23:00:00+00:00,0.5,0.425,EUR");
    let total: rust_decimal::Decimal =
        lines[1..].iter().map(|line| line.split(',').nth(2).unwrap().parse::<rust_decimal::Decimal>().unwrap()).sum();
    assert_eq!(total.to_string(), "3723.000", "8760 hours × 0.5 kWh × 0.85");

    // Days in Bucharest, with offsets; the last day of 2025 there ends at 22:00Z, so it lacks two hours.
    let days = app
        .get(
            &format!(
                "/api/devices/{device}/consumption.csv?from=2025-03-29&to=2025-04-01&step=day&tz=Europe/Bucharest"
            ),
            &ana_token,
        )
        .await;
    let days = days.text().await.unwrap();
    assert_eq!(
        days.lines().collect::<Vec<_>>(),
        [
            "start,kwh,cost,currency",
            "2025-03-29T00:00:00+02:00,12,10.2,EUR",
            "2025-03-30T00:00:00+02:00,11.5,9.775,EUR",
            "2025-03-31T00:00:00+03:00,12,10.2,EUR"
        ]
    );

    let (_, bob_token) = app.client_user("bob").await;
    assert_eq!(app.get(&path, &bob_token).await.status(), StatusCode::NOT_FOUND, "not another customer's device");
    let too_long =
        app.get(&format!("/api/devices/{device}/consumption.csv?from=2025-01-01&to=2026-03-01"), &ana_token).await;
    assert_eq!(too_long.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn all_of_a_customers_devices_export_together_and_only_their_own() {
    let app = spawn_app().await;
    let (admin, ana, ana_token, kettle) = customer_in_bucharest(&app).await;
    let oven = app.create_device(&admin, json!({"name": "Oven", "max_hourly_kwh": 3.0, "owner_id": ana})).await;
    let oven = oven["id"].as_str().unwrap();
    app.call(
        Method::PUT,
        &format!("/api/users/{ana}/tariff"),
        Some(&admin),
        Some(json!({"currency": "EUR", "flat_price": "0.85"})),
    )
    .await;
    hourly(&app, &kettle, "2026-03-02T10:00:00Z", "1.0").await;
    hourly(&app, oven, "2026-03-02T11:00:00Z", "2.0").await;
    hourly(&app, oven, "2026-04-01T10:00:00Z", "0.5").await;

    let months = app.get("/api/me/consumption.csv?from=2026-03-01&to=2026-05-01&step=month", &ana_token).await;
    assert_eq!(months.status(), StatusCode::OK);
    assert!(
        months.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("consumption-all-devices-2026-03-01-to-2026-04-30-month.csv")
    );
    assert_eq!(
        months.text().await.unwrap().lines().collect::<Vec<_>>(),
        ["start,kwh,cost,currency", "2026-03-01T00:00:00+02:00,3,2.55,EUR", "2026-04-01T00:00:00+03:00,0.5,0.425,EUR"],
        "two devices added up, in the customer's zone, 3 kWh × 0.85 and 0.5 kWh × 0.85"
    );

    let (_, bob_token) = app.client_user("bob").await;
    let bobs = app.get("/api/me/consumption.csv?from=2026-03-01&to=2026-03-03&step=day", &bob_token).await;
    assert_eq!(
        bobs.text().await.unwrap().lines().collect::<Vec<_>>(),
        ["start,kwh,cost,currency", "2026-03-01T00:00:00+00:00,,,", "2026-03-02T00:00:00+00:00,,,"],
        "another customer's export holds nothing of ana's"
    );
}
