//! Timing one kind of request: `requests` of them from `clients` concurrent clients, as
//! percentiles, beside the time the same requests spent executing inside PostgreSQL, from
//! `pg_stat_statements` (reset before, read after), so the API's overhead is a ratio.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::PgPool;

use crate::stats::percentile;

/// One line of the report.
#[derive(Debug)]
pub struct Timing {
    pub name: String,
    pub requests: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub mean: Duration,
    /// Time inside PostgreSQL per request, when `pg_stat_statements` is loaded.
    pub database_mean: Option<Duration>,
    /// Statements PostgreSQL executed per request.
    pub statements_per_request: Option<f64>,
}

impl std::fmt::Display for Timing {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
        write!(
            out,
            "  {:<36} p50 {:>7.2} ms  p99 {:>7.2} ms  mean {:>7.2} ms",
            self.name,
            ms(self.p50),
            ms(self.p99),
            ms(self.mean)
        )?;
        match (self.database_mean, self.statements_per_request) {
            (Some(database), Some(statements)) => write!(
                out,
                "  | in PostgreSQL {:>6.2} ms ({statements:.1} statements)  API/DB {:>5.1}x",
                ms(database),
                self.mean.as_secs_f64() / database.as_secs_f64().max(1e-9)
            ),
            _ => Ok(()),
        }
    }
}

/// Whether `pg_stat_statements` can be read here: its library must be in the server's
/// `shared_preload_libraries`, and the extension created in this database.
pub async fn statements_available(pool: &PgPool) -> Result<(), String> {
    let loaded: String =
        sqlx::query_scalar("SHOW shared_preload_libraries").fetch_one(pool).await.map_err(|error| error.to_string())?;
    if !loaded.split(',').any(|library| library.trim() == "pg_stat_statements") {
        return Err("pg_stat_statements is not in the server's shared_preload_libraries; to see time inside \
                    PostgreSQL, run `ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'` \
                    and restart PostgreSQL"
            .into());
    }
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .execute(pool)
        .await
        .map_err(|error| format!("creating the pg_stat_statements extension failed: {error}"))?;
    Ok(())
}

/// (statements, total execution ms) in this database since the last reset.
async fn executed(pool: &PgPool) -> sqlx::Result<(f64, f64)> {
    sqlx::query_as(
        "SELECT COALESCE(sum(calls), 0)::float8, COALESCE(sum(total_exec_time), 0)::float8 FROM pg_stat_statements \
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
           AND query NOT ILIKE '%pg_stat_statements%'",
    )
    .fetch_one(pool)
    .await
}

/// Runs `request(i)` for i in 0..`requests` from `clients` concurrent tasks, timing each.
pub async fn time<F, Fut>(
    name: &str,
    pool: &PgPool,
    with_statements: bool,
    requests: usize,
    clients: usize,
    request: F,
) -> anyhow::Result<Timing>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    eprintln!("timing {requests} requests: {name} ...");
    // A few untimed requests first, so every client has a connection and PostgreSQL its plans.
    for index in 0..clients.min(requests) {
        request(requests + index).await?;
    }
    if with_statements {
        sqlx::query("SELECT pg_stat_statements_reset()").execute(pool).await?;
    }
    let request = Arc::new(request);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (request, next) = (request.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= requests {
                    return anyhow::Ok(samples);
                }
                let started = Instant::now();
                request(index).await?;
                samples.push(started.elapsed());
            }
        }));
    }
    let mut samples = Vec::with_capacity(requests);
    for task in tasks {
        samples.extend(task.await??);
    }
    samples.sort();
    let (database_mean, statements_per_request) = if with_statements {
        let (statements, total_ms) = executed(pool).await?;
        (Some(Duration::from_secs_f64(total_ms / 1000.0 / requests as f64)), Some(statements / requests as f64))
    } else {
        (None, None)
    };
    Ok(Timing {
        name: name.to_owned(),
        requests,
        p50: percentile(&samples, 0.50),
        p99: percentile(&samples, 0.99),
        mean: samples.iter().sum::<Duration>() / samples.len().max(1) as u32,
        database_mean,
        statements_per_request,
    })
}
