//! Schema migrations against the real PostgreSQL: a database that already holds data is upgraded
//! without losing or bending any of it.

use ems_common::{db, testing::TestDatabase};
use sqlx::PgPool;
use uuid::Uuid;

/// The last migration before energy became exact decimals.
const BEFORE_EXACT_ENERGY: i64 = 20261124000003;

async fn texts(pool: &PgPool, query: &str, device: Uuid) -> Vec<String> {
    sqlx::query_scalar(query).bind(device).fetch_all(pool).await.unwrap()
}

async fn execute(pool: &PgPool, statement: &str, device: Uuid) {
    sqlx::query(statement).bind(device).execute(pool).await.unwrap();
}

#[tokio::test]
async fn floating_point_energy_becomes_the_exact_decimal_it_stood_for() {
    let database = TestDatabase::migrated_until(BEFORE_EXACT_ENERGY).await;
    let pool = &database.pool;
    let (device, tiny) = (Uuid::new_v4(), Uuid::new_v4());
    execute(pool, "INSERT INTO devices (id, name, max_hourly_kwh) VALUES ($1, 'Heat pump', 1.2)", device).await;
    execute(pool, "INSERT INTO devices (id, name, max_hourly_kwh) VALUES ($1, 'Clock', 1e-7)", tiny).await;
    // Hour 10: three readings of 0.4, whose float total is 1.2000000000000002. Hour 11: two
    // readings with a seventh decimal. Hour 12: a total whose readings are no longer all there.
    execute(
        pool,
        "INSERT INTO readings (device_id, ts, kwh, interval_s) VALUES \
         ($1, '2026-03-01 10:10Z', 0.4, 600), ($1, '2026-03-01 10:20Z', 0.4, 600), ($1, '2026-03-01 10:30Z', 0.4, 600), \
         ($1, '2026-03-01 11:10Z', 0.1234565, 600), ($1, '2026-03-01 11:20Z', 0.1234565, 600)",
        device,
    )
    .await;
    execute(
        pool,
        "INSERT INTO hourly_consumption (device_id, hour, kwh, readings) \
         SELECT device_id, date_trunc('hour', ts, 'UTC'), sum(kwh), count(*) FROM readings GROUP BY 1, 2 \
         UNION ALL SELECT $1, '2026-03-01 12:00Z', 0.30000000000000004, 3",
        device,
    )
    .await;
    let float_total: f64 =
        sqlx::query_scalar("SELECT kwh FROM hourly_consumption WHERE device_id = $1 AND hour = '2026-03-01 10:00Z'")
            .bind(device)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(float_total, 1.2000000000000002, "the old schema sums in floating point");
    execute(
        pool,
        "INSERT INTO alerts (device_id, kind, hour, value, limit_kwh, message) \
         VALUES ($1, 'overconsumption', '2026-03-01 10:00Z', 0.4::float8 + 0.4 + 0.4, 1.2, 'used 1.20 kWh')",
        device,
    )
    .await;

    db::migrate(pool).await.expect("the remaining migrations apply to a database with data");

    let readings = texts(pool, "SELECT kwh::text FROM readings WHERE device_id = $1 ORDER BY ts", device).await;
    assert_eq!(readings, ["0.400000", "0.400000", "0.400000", "0.123457", "0.123457"]);
    let totals =
        texts(pool, "SELECT kwh::text FROM hourly_consumption WHERE device_id = $1 ORDER BY hour", device).await;
    // Hour 11 is the sum of its rounded readings, not the rounded float total 0.246913.
    assert_eq!(totals, ["1.200000", "0.246914", "0.300000"]);
    let alert = texts(
        pool,
        "SELECT concat_ws(' ', value, limit_kwh, (value > limit_kwh)::text) FROM alerts WHERE device_id = $1",
        device,
    )
    .await;
    assert_eq!(alert, ["1.200000 1.200000 false"]);
    let limit = texts(pool, "SELECT max_hourly_kwh::text FROM devices WHERE id = $1", device).await;
    assert_eq!(limit, ["1.200000"]);
    let rolled_before: Vec<String> = sqlx::query_scalar(
        "SELECT to_char(rolled_before AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM monthly_consumption_state",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(rolled_before, ["2026-03-01 00:00"], "monthly rollups start at the first month with data");
    let tiny_limit = texts(pool, "SELECT max_hourly_kwh::text FROM devices WHERE id = $1", tiny).await;
    assert_eq!(tiny_limit, ["0.000001"], "a limit below a micro-kWh stays above zero");

    let zero_limit =
        sqlx::query("UPDATE devices SET max_hourly_kwh = 0 WHERE id = $1").bind(device).execute(pool).await;
    let error = zero_limit.expect_err("a limit of zero is refused");
    assert_eq!(error.as_database_error().and_then(|error| error.constraint()), Some("devices_max_hourly_kwh_positive"));
}

/// The last migration before raw readings were partitioned by day.
const BEFORE_PARTITIONING: i64 = 20261205000350;

/// A database migrated up to the day partitions, with one device.
async fn before_partitioning_with_a_device() -> (TestDatabase, Uuid) {
    let database = TestDatabase::migrated_until(BEFORE_PARTITIONING).await;
    let device = Uuid::new_v4();
    execute(&database.pool, "INSERT INTO devices (id, name, max_hourly_kwh) VALUES ($1, 'Heat pump', 2)", device).await;
    (database, device)
}

#[tokio::test]
async fn readings_already_stored_move_into_the_partitions_of_their_days_and_still_count_once() {
    let (database, device) = before_partitioning_with_a_device().await;
    let pool = &database.pool;
    // Three days, one reading on each side of a midnight, and one a year earlier.
    execute(
        pool,
        "INSERT INTO readings (device_id, ts, kwh, interval_s) VALUES \
         ($1, '2025-03-01 12:00Z', 0.5, 600), ($1, '2026-02-28 23:50Z', 0.25, 600), \
         ($1, '2026-03-01 00:00Z', 0.125, 600), ($1, '2026-03-01 00:10Z', 1.5, 300)",
        device,
    )
    .await;

    db::migrate(pool).await.expect("the remaining migrations apply to a database with readings");

    let placed: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT tableoid::regclass::text, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), kwh::text \
         FROM readings WHERE device_id = $1 ORDER BY ts",
    )
    .bind(device)
    .fetch_all(pool)
    .await
    .unwrap();
    let expected = [
        ("readings_20250301", "2025-03-01 12:00", "0.500000"),
        ("readings_20260228", "2026-02-28 23:50", "0.250000"),
        ("readings_20260301", "2026-03-01 00:00", "0.125000"),
        ("readings_20260301", "2026-03-01 00:10", "1.500000"),
    ];
    let placed: Vec<(&str, &str, &str)> =
        placed.iter().map(|(table, ts, kwh)| (table.as_str(), ts.as_str(), kwh.as_str())).collect();
    assert_eq!(placed, expected, "every reading kept, each in its day's partition (no partition for days between)");
    let partitions: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_inherits WHERE inhparent = 'readings'::regclass")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(partitions, 3);
    let old_table: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('readings_unpartitioned')::text").fetch_one(pool).await.unwrap();
    assert_eq!(old_table, None, "the unpartitioned table is gone");

    // The key still identifies a reading: sent again, it is skipped; deleting the device still
    // deletes its readings.
    let resent = sqlx::query(
        "INSERT INTO readings (device_id, ts, kwh, interval_s) VALUES ($1, '2026-03-01 00:00Z', 9, 600) \
         ON CONFLICT DO NOTHING",
    )
    .bind(device)
    .execute(pool)
    .await
    .unwrap();
    assert_eq!(resent.rows_affected(), 0);
    execute(pool, "DELETE FROM devices WHERE id = $1", device).await;
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM readings").fetch_one(pool).await.unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_devices_hourly_totals_are_read_from_the_key_alone() {
    let (database, device) = before_partitioning_with_a_device().await;
    let pool = &database.pool;
    execute(
        pool,
        "INSERT INTO hourly_consumption (device_id, hour, kwh, readings) \
         SELECT $1, hour, 0.5, 6 FROM generate_series('2026-01-01'::timestamptz, '2026-01-31', '1 hour') AS hour",
        device,
    )
    .await;

    db::migrate(pool).await.expect("the remaining migrations apply to a database with hourly totals");
    sqlx::query("VACUUM (ANALYZE) hourly_consumption").execute(pool).await.unwrap();

    // What a chart asks for: a device's totals over a range. The plan must not visit the table.
    let mut connection = pool.acquire().await.unwrap();
    sqlx::query("SET enable_seqscan = off").execute(&mut *connection).await.unwrap();
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN (FORMAT TEXT) SELECT sum(kwh) FROM hourly_consumption \
         WHERE device_id = $1 AND hour >= '2026-01-10' AND hour < '2026-01-20'",
    )
    .bind(device)
    .fetch_all(&mut *connection)
    .await
    .unwrap();
    let plan = plan.join("\n");
    assert!(plan.contains("Index Only Scan using hourly_consumption_pkey"), "{plan}");
    // The key still makes one total per device and hour.
    let again = sqlx::query(
        "INSERT INTO hourly_consumption (device_id, hour, kwh, readings) VALUES ($1, '2026-01-10 05:00Z', 1, 1) \
         ON CONFLICT (device_id, hour) DO UPDATE SET kwh = hourly_consumption.kwh + EXCLUDED.kwh RETURNING kwh::text",
    )
    .bind(device)
    .fetch_one(pool)
    .await
    .unwrap();
    let total: String = sqlx::Row::get(&again, 0);
    assert_eq!(total, "1.500000");
}
