//! Test support shared by every crate's integration tests: a freshly migrated PostgreSQL
//! database per test, named `ems_test_<random>` and dropped when the value is.

use std::{future::Future, pin::Pin};

use sqlx::{
    PgPool,
    error::BoxDynError,
    migrate::{Migration, MigrationSource, Migrator},
    postgres::PgConnectOptions,
};

use crate::{
    config::{DEFAULT_DATABASE_URL, DatabaseUrl, parse_database_url},
    db,
};

pub struct TestDatabase {
    pub pool: PgPool,
    pub name: String,
    /// A URL for this database, for child processes.
    pub url: String,
    options: PgConnectOptions,
}

impl TestDatabase {
    /// Creates and migrates a database on the server of `EMS_TEST_DATABASE_URL` (by default the
    /// local one), panicking with the reason if it cannot: tests need it.
    pub async fn create() -> Self {
        let database = Self::empty().await;
        db::migrate(&database.pool).await.expect("migrate the test database");
        database
    }

    /// Like [`TestDatabase::create`], but migrated only up to and including `last_version`, to
    /// test how a later migration upgrades a database that holds data.
    pub async fn migrated_until(last_version: i64) -> Self {
        let database = Self::empty().await;
        let earlier = db::MIGRATOR.iter().filter(|migration| migration.version <= last_version).cloned().collect();
        let migrator = Migrator::new(Migrations(earlier)).await.expect("a migrator of the earlier migrations");
        migrator.run(&database.pool).await.expect("apply the earlier migrations");
        database
    }

    async fn empty() -> Self {
        let base = std::env::var("EMS_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.into());
        Self::empty_on(&base).await
    }

    /// Creates and migrates a database on the server of `base` (a URL naming any database there).
    pub async fn create_on(base: &str) -> Self {
        let database = Self::empty_on(base).await;
        db::migrate(&database.pool).await.expect("migrate the test database");
        database
    }

    async fn empty_on(base: &str) -> Self {
        let server = parse_database_url(base).expect("a PostgreSQL URL naming a database");
        let name = format!("ems_test_{}", uuid::Uuid::new_v4().simple());
        let options = server.options.clone().database(&name);
        db::ensure_database_exists(&DatabaseUrl::new(options.clone())).await.expect("create the test database");
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(5)
            .connect_with(options.clone())
            .await
            .expect("connect to the test database");
        Self { pool, url: server.url_for(&name), name, options }
    }
}

/// A fixed list of migrations as a source, for [`TestDatabase::migrated_until`].
#[derive(Debug)]
struct Migrations(Vec<Migration>);

impl<'s> MigrationSource<'s> for Migrations {
    fn resolve(self) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>> {
        Box::pin(async move { Ok(self.0) })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (options, name) = (self.options.clone(), self.name.clone());
        // Drop runs outside async code: a short-lived runtime on its own thread removes the database.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(async { db::drop_database(&options, &name).await })
        })
        .join();
    }
}
