//! `ems`: one binary, one subcommand per service. It only parses arguments and wires the
//! service libraries together; the work happens in those libraries.

mod all;
mod seed;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ems_common::{Shutdown, config::DatabaseArgs, config::LogArgs, db, telemetry};

/// EMS, the Energy Management System.
///
/// Every setting can come from its flag, from the `EMS_*` environment variable shown with it,
/// or from its default, in that order of precedence.
#[derive(Parser, Debug)]
#[command(name = "ems", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    log: LogArgs,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the REST API, its docs (/api/docs) and the web dashboard.
    Web(ems_web::WebConfig),
    /// Run every service in one process, on one port: web, notifier, support, balancer and monitor
    /// replicas.
    All(Box<all::AllConfig>),
    /// Consume `readings` and spread them over the live monitor replicas.
    Balancer(ems_balancer::BalancerConfig),
    /// Serve WebSockets at /ws: live alerts and chat for every open connection of a user.
    Notifier(Box<ems_notifier::NotifierConfig>),
    /// Answer customers' support chat: rules, then an AI model, then administrators.
    Support(Box<ems_support::SupportConfig>),
    /// Run one monitor replica: store hourly consumption and raise alerts.
    Monitor(ems_monitors::MonitorConfig),
    /// Run the simulator fleet: readings for the devices in the database, live or as backfill.
    Simulate(Box<ems_ingress::simulate::SimulateArgs>),
    /// Measure performance and print figures (build with --release first).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Create the database if needed and apply all schema migrations, then exit.
    Migrate(DatabaseArgs),
    /// Create the first administrator; with --demo, also demo customers and devices. Idempotent.
    Seed(seed::SeedArgs),
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// The readings pipeline against the raw broker hop, latency to alert, and memory.
    Pipeline(Box<ems_bench::pipeline::PipelineBenchArgs>),
    /// WebSocket connections: memory per idle connection, alert fan-out and rule-answer latency.
    Ws(Box<ems_bench::ws::WsBenchArgs>),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(error) = telemetry::init(cli.log.log_format, &cli.log.log_filter) {
        eprintln!("error: {error:#}");
        return ExitCode::from(2);
    }
    match run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "stopped with an error");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Web(config) => ems_web::run(config, Shutdown::on_signals()).await,
        Command::All(config) => all::run(*config, Shutdown::on_signals()).await,
        Command::Balancer(config) => ems_balancer::run(config, Shutdown::on_signals()).await,
        Command::Support(config) => ems_support::run(*config, Shutdown::on_signals()).await,
        Command::Notifier(config) => ems_notifier::run(*config, Shutdown::on_signals()).await,
        Command::Monitor(config) => ems_monitors::run(config, Shutdown::on_signals()).await,
        Command::Migrate(database) => {
            let pool = db::connect_and_migrate(&database).await?;
            let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations").fetch_one(&pool).await?;
            println!("database {} is up to date ({applied} migrations applied)", database.database_url);
            Ok(())
        }
        Command::Seed(args) => seed::run(args).await,
        Command::Bench(BenchCommand::Ws(args)) => {
            let report = ems_bench::ws::run(*args).await?;
            println!("{report}");
            Ok(())
        }
        Command::Bench(BenchCommand::Pipeline(args)) => {
            let report = ems_bench::pipeline::run(*args).await?;
            println!("{report}");
            Ok(())
        }
        Command::Simulate(args) => {
            let summary = ems_ingress::simulate::run(*args, Shutdown::on_signals()).await?;
            println!("{summary}");
            anyhow::ensure!(summary.refused == 0, "RabbitMQ refused {} readings", summary.refused);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        // Catches clashing flag names between the services `ems all` combines.
        super::Cli::command().debug_assert();
    }
}
