//! The PostgreSQL pool and the schema. Migrations live in `common/migrations` and are embedded
//! in the binary, so `ems migrate` (and every service at start) brings any database up to date.

use anyhow::Context;
use sqlx::{
    Connection, Executor, PgConnection, PgPool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::config::{DatabaseArgs, DatabaseUrl};

/// Every schema change, in order. Running it is idempotent and safe from several processes at
/// once (sqlx holds an advisory lock while migrating).
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Connects a pool, creating the database first if it does not exist.
pub async fn connect(args: &DatabaseArgs) -> anyhow::Result<PgPool> {
    ensure_database_exists(&args.database_url).await?;
    PgPoolOptions::new()
        .max_connections(args.db_max_connections)
        .acquire_timeout(args.db_connect_timeout)
        .connect_with(service_options(&args.database_url.options))
        .await
        .with_context(|| cannot_connect(&args.database_url))
}

/// The session settings of every service connection. JIT compilation is off: EMS runs short
/// queries, and PostgreSQL compiles any whose estimated cost passes `jit_above_cost` (a year by
/// month, whose month series it cannot count, was estimated at a thousand months), spending
/// 30 ms of compiling on a query that runs in 0.3 ms.
fn service_options(options: &PgConnectOptions) -> PgConnectOptions {
    options.clone().options([("jit", "off")])
}

/// Connects and migrates: what every service does at start.
pub async fn connect_and_migrate(args: &DatabaseArgs) -> anyhow::Result<PgPool> {
    let pool = connect(args).await?;
    migrate(&pool).await?;
    Ok(pool)
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await.context("applying database migrations failed")?;
    Ok(())
}

fn cannot_connect(url: &DatabaseUrl) -> String {
    format!(
        "cannot connect to PostgreSQL at {url}; is it running, and are the user and password right? \
         Set --database-url or EMS_DATABASE_URL"
    )
}

/// Creates the configured database when it is missing, through the server's `postgres` database.
pub async fn ensure_database_exists(url: &DatabaseUrl) -> anyhow::Result<()> {
    let database = url.options.get_database().unwrap_or_default().to_owned();
    let mut admin = connect_maintenance(&url.options).await.with_context(|| cannot_connect(url))?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&database)
        .fetch_one(&mut admin)
        .await?;
    if !exists {
        let statement = format!("CREATE DATABASE {}", quote_identifier(&database));
        match admin.execute(statement.as_str()).await {
            Ok(_) => tracing::info!(%database, "created database"),
            // Another process created it between our check and our CREATE: that is fine.
            Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("42P04") => {}
            Err(error) => {
                return Err(error).with_context(|| format!("cannot create database {database:?}"));
            }
        }
    }
    admin.close().await.ok();
    Ok(())
}

/// Drops a database, closing its connections first (used to clean up test databases).
pub async fn drop_database(options: &PgConnectOptions, database: &str) -> anyhow::Result<()> {
    let mut admin = connect_maintenance(options).await?;
    let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_identifier(database));
    admin.execute(statement.as_str()).await?;
    Ok(())
}

async fn connect_maintenance(options: &PgConnectOptions) -> sqlx::Result<PgConnection> {
    PgConnection::connect_with(&options.clone().database("postgres")).await
}

pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
