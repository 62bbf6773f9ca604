//! `ems`: one binary, one subcommand per service. It only parses arguments and wires the
//! service libraries together; the work happens in those libraries.

mod all;
mod seed;

use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand, parser::ValueSource};
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
    /// A year of data for 1,000 devices (kept between runs): API and query latency on it, memory,
    /// disk per device-year, and the pipeline on the full database.
    History(Box<ems_bench::history::HistoryBenchArgs>),
    /// Support's matching by meaning on held-out paraphrases: answered rightly, wrongly or handed
    /// over, by keywords alone and with the embedding model; the model's time per message.
    Support(Box<ems_support::eval::EvalArgs>),
    /// Early warnings replayed on the bundled meter data: how often a forecast warned before a
    /// crossing of the hourly limit, how early, and how often for nothing.
    Forecast(ems_bench::forecast::ForecastBenchArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let definition = Cli::command();
    let matches = definition.clone().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    if let Err(error) = telemetry::init(cli.log.log_format, &cli.log.log_filter) {
        eprintln!("error: {error:#}");
        return ExitCode::from(2);
    }
    for warning in secrets_on_the_command_line(&definition, &matches) {
        tracing::warn!("{warning}");
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
        Command::Bench(BenchCommand::History(args)) => {
            let report = ems_bench::history::run(*args).await?;
            println!("{report}");
            Ok(())
        }
        Command::Bench(BenchCommand::Support(args)) => {
            let report = ems_support::eval::run(*args).await?;
            println!("{report}");
            Ok(())
        }
        Command::Bench(BenchCommand::Forecast(args)) => {
            println!("{}", ems_bench::forecast::run(args)?);
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

/// Settings that hold a secret: a flag's value is visible to every user of the machine (`ps`,
/// `/proc/<pid>/cmdline`), so each one given as a flag is named with the safer way to give it.
fn secrets_on_the_command_line(command: &clap::Command, matches: &ArgMatches) -> Vec<String> {
    const SECRET: [&str; 3] = ["secret", "password", "api_key"];
    let mut warnings = Vec::new();
    for argument in command.get_arguments() {
        let id = argument.get_id().as_str();
        let given_as_flag =
            matches.try_contains_id(id).unwrap_or(false) && matches.value_source(id) == Some(ValueSource::CommandLine);
        if !given_as_flag || id.ends_with("_file") {
            continue;
        }
        let holds_secret = SECRET.iter().any(|word| id.ends_with(word))
            || (id == "database_url" && url_has_password(matches.get_raw(id)));
        if !holds_secret {
            continue;
        }
        let flag = argument.get_long().map_or_else(|| id.to_owned(), |long| format!("--{long}"));
        let file = command.get_arguments().find(|other| other.get_id().as_str() == format!("{id}_file"));
        let advice = match (file.and_then(|file| file.get_env()), argument.get_env()) {
            (Some(file_env), _) => {
                format!("put it in a file readable only by EMS and set {}", file_env.to_string_lossy())
            }
            (None, Some(env)) => format!("set it in the environment as {} instead", env.to_string_lossy()),
            (None, None) => "give it another way".to_owned(),
        };
        warnings.push(format!(
            "{flag} was given on the command line, where other users of this machine can read it; {advice}"
        ));
    }
    if let Some((name, sub_matches)) = matches.subcommand()
        && let Some(sub_command) = command.find_subcommand(name)
    {
        warnings.extend(secrets_on_the_command_line(sub_command, sub_matches));
    }
    warnings
}

fn url_has_password(values: Option<clap::parser::RawValues<'_>>) -> bool {
    values.into_iter().flatten().any(|value| {
        let value = value.to_string_lossy();
        let authority = value.split_once("://").map_or("", |(_, rest)| rest).split('/').next().unwrap_or("");
        authority.split_once('@').is_some_and(|(credentials, _)| credentials.contains(':'))
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    fn warnings_for(arguments: &[&str]) -> Vec<String> {
        let command = super::Cli::command();
        let matches = command.clone().try_get_matches_from(arguments).unwrap();
        super::secrets_on_the_command_line(&command, &matches)
    }

    #[test]
    fn a_secret_given_as_a_flag_is_warned_about_with_the_safer_setting() {
        let warnings = warnings_for(&["ems", "web", "--jwt-secret", "a-secret-of-thirty-two-characters!"]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("--jwt-secret") && warnings[0].contains("EMS_JWT_SECRET_FILE"), "{warnings:?}");

        let warnings = warnings_for(&["ems", "monitor", "--database-url", "postgres://ems:hunter2@db/ems"]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("--database-url") && warnings[0].contains("EMS_DATABASE_URL"), "{warnings:?}");
    }

    #[test]
    fn flags_without_secrets_and_secret_files_are_not_warned_about() {
        assert!(warnings_for(&["ems", "web", "--jwt-secret-file", "/run/secrets/jwt"]).is_empty());
        assert!(warnings_for(&["ems", "monitor", "--database-url", "postgres://db/ems"]).is_empty());
        assert!(warnings_for(&["ems", "web", "--listen", "127.0.0.1:0", "--password-checks", "4"]).is_empty());
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        // Catches clashing flag names between the services `ems all` combines.
        super::Cli::command().debug_assert();
    }
}
