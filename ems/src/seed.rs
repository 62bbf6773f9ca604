//! `ems seed`: arguments and the printed summary around `ems_web::seed`.

use clap::Args;
use ems_common::{config::DatabaseArgs, db};
use ems_web::seed::{DEMO_CUSTOMERS, SeedOptions, seed};
use secrecy::{ExposeSecret, SecretString};

#[derive(Args, Debug)]
pub struct SeedArgs {
    #[command(flatten)]
    database: DatabaseArgs,

    /// Username of the first administrator.
    #[arg(long, env = "EMS_ADMIN_USERNAME", default_value = "admin")]
    admin_username: String,

    /// Password of the first administrator, 8 to 128 characters (10 or more, not a common one,
    /// recommended: accounts made in the dashboard need that). If unset, one is generated
    /// and printed once. Ignored when the administrator already exists.
    #[arg(long, env = "EMS_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: Option<SecretString>,

    /// Also add demo customers (ana, ben, carmen) with devices and realistic hourly limits.
    #[arg(long)]
    demo: bool,

    /// Password of the demo customers.
    #[arg(long, env = "EMS_DEMO_PASSWORD", default_value = "ems-demo", hide_env_values = true)]
    demo_password: SecretString,
}

pub async fn run(args: SeedArgs) -> anyhow::Result<()> {
    if let Some(password) = &args.admin_password {
        let length = password.expose_secret().chars().count();
        if !(8..=128).contains(&length) {
            anyhow::bail!(
                "the administrator password (--admin-password / EMS_ADMIN_PASSWORD) is {length} characters; \
                 it must be 8 to 128"
            );
        }
        // Accounts made over the API must follow the whole policy; a seeded password that does not
        // (the demo's) is allowed, with a warning, so a demo runs with a password easy to type.
        if let Some(reason) = ems_web::passwords::policy_violation(password.expose_secret(), Some(&args.admin_username))
        {
            tracing::warn!(
                "the administrator password (--admin-password / EMS_ADMIN_PASSWORD) {reason}: \
                 fine for a demo, not where anyone else can reach the dashboard"
            );
        }
    }
    let pool = db::connect_and_migrate(&args.database).await?;
    let options = SeedOptions {
        admin_username: args.admin_username.clone(),
        admin_password: args.admin_password,
        demo: args.demo,
        demo_password: args.demo_password,
    };
    let report = seed(&pool, &options).await?;
    match (&report.generated_admin_password, report.admin_created) {
        (Some(password), _) => println!(
            "created administrator {:?} with the generated password: {password}\n\
             (shown only this once; keep it somewhere safe)",
            options.admin_username
        ),
        (None, true) => println!("created administrator {:?}", options.admin_username),
        (None, false) => println!("administrator {:?} already exists; left unchanged", options.admin_username),
    }
    if options.demo {
        let names: Vec<&str> = DEMO_CUSTOMERS.iter().map(|(username, ..)| *username).collect();
        println!(
            "demo data: {} customers and {} devices added (existing ones kept); demo customers: {} \
             (password from --demo-password / EMS_DEMO_PASSWORD)",
            report.demo_users_created,
            report.demo_devices_created,
            names.join(", ")
        );
    }
    Ok(())
}
