//! Answers from a customer's own data, seeded straight into a fresh PostgreSQL database.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use ems_common::contracts::AlertKind;
use ems_support::{Answer, Customer, CustomerData, PgCustomerData, Rules, Support};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{TestDb, within};

async fn customer(pool: &PgPool, username: &str) -> Customer {
    let id = Uuid::new_v4();
    let name = format!("{username} Example");
    sqlx::query("INSERT INTO users (id, username, display_name, password_hash) VALUES ($1, $2, $3, 'not-a-hash')")
        .bind(id)
        .bind(username)
        .bind(&name)
        .execute(pool)
        .await
        .unwrap();
    Customer { id, name }
}

async fn device(pool: &PgPool, owner: &Customer, name: &str, max_hourly_kwh: f64) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO devices (id, name, max_hourly_kwh, owner_id) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(name)
        .bind(max_hourly_kwh)
        .bind(owner.id)
        .execute(pool)
        .await
        .unwrap();
    id
}

async fn hour(pool: &PgPool, device: Uuid, hour: DateTime<Utc>, kwh: f64) {
    sqlx::query("INSERT INTO hourly_consumption (device_id, hour, kwh, readings) VALUES ($1, $2, $3, 6)")
        .bind(device)
        .bind(hour)
        .bind(kwh)
        .execute(pool)
        .await
        .unwrap();
}

async fn alert(pool: &PgPool, device: Uuid, owner: &Customer, hour: DateTime<Utc>, message: &str, acknowledged: bool) {
    sqlx::query(
        "INSERT INTO alerts (device_id, user_id, kind, hour, value, limit_kwh, message, acknowledged_at) \
         VALUES ($1, $2, 'overconsumption', $3, 3.0, 2.5, $4, CASE WHEN $5 THEN now() END)",
    )
    .bind(device)
    .bind(owner.id)
    .bind(hour)
    .bind(message)
    .bind(acknowledged)
    .execute(pool)
    .await
    .unwrap();
}

/// Ana: three devices with consumption today, yesterday and before, two open alerts and one
/// acknowledged. Carmen: a device and an alert that must never show in Ana's answers.
async fn seed(pool: &PgPool, today: NaiveDate) -> Customer {
    let midnight = today.and_hms_opt(0, 0, 0).unwrap().and_utc();
    let ana = customer(pool, "ana").await;
    let carmen = customer(pool, "carmen").await;
    let heat_pump = device(pool, &ana, "Heat pump", 2.5).await;
    let fridge = device(pool, &ana, "Fridge", 0.4).await;
    device(pool, &ana, "Oven", 3.0).await;
    let sauna = device(pool, &carmen, "Sauna", 5.0).await;
    hour(pool, heat_pump, midnight + Duration::hours(1), 2.0).await;
    hour(pool, heat_pump, midnight + Duration::hours(2), 1.5).await;
    hour(pool, fridge, midnight + Duration::hours(1), 0.3).await;
    hour(pool, heat_pump, midnight - Duration::hours(1), 4.0).await;
    hour(pool, fridge, midnight - Duration::hours(14), 0.2).await;
    hour(pool, heat_pump, midnight - Duration::hours(30), 10.0).await;
    hour(pool, sauna, midnight + Duration::hours(1), 9.0).await;
    alert(pool, heat_pump, &ana, midnight - Duration::hours(1), "Heat pump used 4 kWh (limit 2.5).", true).await;
    alert(pool, heat_pump, &ana, midnight + Duration::hours(1), "Heat pump used 2 kWh (limit 2.5).", false).await;
    alert(pool, fridge, &ana, midnight + Duration::hours(2), "Fridge used 0.5 kWh (limit 0.4).", false).await;
    alert(pool, sauna, &carmen, midnight + Duration::hours(1), "Sauna used 9 kWh (limit 5).", false).await;
    ana
}

#[tokio::test]
async fn the_database_gives_each_device_its_totals_for_today_and_yesterday_and_the_open_alerts() {
    within(async {
        let db = TestDb::create().await;
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let ana = seed(&db.pool, today).await;
        let data = PgCustomerData::new(db.pool.clone());

        let devices = data.devices(ana.id, today).await.unwrap();
        let summary: Vec<_> = devices
            .iter()
            .map(|device| (device.name.as_str(), device.max_hourly_kwh, device.today_kwh, device.yesterday_kwh))
            .collect();
        assert_eq!(summary, [("Fridge", 0.4, 0.3, 0.2), ("Heat pump", 2.5, 3.5, 4.0), ("Oven", 3.0, 0.0, 0.0)]);

        let alerts = data.open_alerts(ana.id).await.unwrap();
        assert_eq!(alerts.count, 2);
        let latest = alerts.latest.unwrap();
        assert_eq!((latest.device_name.as_str(), latest.kind), ("Fridge", AlertKind::Overconsumption));
        assert_eq!(latest.hour, today.and_hms_opt(2, 0, 0).unwrap().and_utc());
        assert_eq!(latest.message, "Fridge used 0.5 kWh (limit 0.4).");
    })
    .await;
}

#[tokio::test]
async fn data_rules_answer_from_the_customers_own_consumption_alerts_and_limits() {
    within(async {
        let db = TestDb::create().await;
        let today = Utc::now().date_naive();
        let ana = seed(&db.pool, today).await;
        let support = Support::new(Rules::builtin(), Box::new(PgCustomerData::new(db.pool.clone())), None);

        for (message, rule, text) in [
            ("How much energy did I use today?", "today.en", "So far today (UTC) your devices have used 3.8 kWh.".to_owned()),
            ("Care este consumul de astăzi?", "today.ro", "Astăzi (UTC) dispozitivele dumneavoastră au consumat până acum 3.8 kWh.".to_owned()),
            ("Which device uses the most?", "top-device.en", "So far today (UTC), Heat pump has used the most: 3.5 kWh.".to_owned()),
            ("Ce dispozitiv consumă cel mai mult?", "top-device.ro", "Astăzi (UTC), cel mai mult a consumat Heat pump: 3.5 kWh.".to_owned()),
            (
                "Do I have any alerts?",
                "open-alerts.en",
                format!("You have 2 open alert(s). The latest, for Fridge in the hour from {today} 02:00 UTC: Fridge used 0.5 kWh (limit 0.4)."),
            ),
            (
                "What is the limit of my heat pump?",
                "device-limit.en",
                "The hourly limit of Heat pump is 2.5 kWh: if it uses more within one hour, you get an alert.".to_owned(),
            ),
            (
                "Care este limita pentru cuptor?",
                "device-limit.ro",
                "Despre ce dispozitiv este vorba? Dispozitivele dumneavoastră: Fridge, Heat pump, Oven.".to_owned(),
            ),
        ] {
            let answer = support.answer(&ana, message, &[]).await;
            assert_eq!(answer, Answer::Rule { rule_id: rule.into(), text }, "{message}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_customer_without_devices_or_alerts_is_told_so_plainly() {
    within(async {
        let db = TestDb::create().await;
        seed(&db.pool, Utc::now().date_naive()).await;
        let ben = customer(&db.pool, "ben").await;
        let support = Support::new(Rules::builtin(), Box::new(PgCustomerData::new(db.pool.clone())), None);

        for (message, text) in [
            ("How much energy did I use today?", "So far today (UTC) your devices have used 0 kWh."),
            ("Which device uses the most?", "None of your devices has used any energy yet today (UTC)."),
            ("Am alerte?", "Nu aveți nicio alertă neconfirmată."),
            ("What is the limit of my heat pump?", "Which device do you mean? Your devices are: —."),
            ("Hello!", "Hello ben Example! I can tell you about your consumption, your devices' limits and your alerts. How can I help?"),
        ] {
            assert_eq!(support.answer(&ben, message, &[]).await.text(), text, "{message}");
        }
    })
    .await;
}
