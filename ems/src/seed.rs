//! `ems seed`: arguments and the printed summary around `ems_web::seed`.

use std::path::PathBuf;

use clap::Args;
use ems_common::{
    config::DatabaseArgs,
    db,
    webpush::{self, VapidKey},
};
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

    /// The VAPID private key that signs Web Push requests (base64url of 32 bytes), kept in the
    /// database for every web and notifier instance. If neither this nor the file is set, one
    /// is generated when the database has none.
    #[arg(long, env = "EMS_VAPID_PRIVATE_KEY", hide_env_values = true, conflicts_with = "vapid_private_key_file")]
    vapid_private_key: Option<SecretString>,

    /// File holding the VAPID private key (for Docker secrets, e.g. `/run/secrets/vapid_private_key`).
    #[arg(long, env = "EMS_VAPID_PRIVATE_KEY_FILE")]
    vapid_private_key_file: Option<PathBuf>,
}

/// The VAPID key to store: the one given, or `None` to keep (or generate) the database's.
fn given_vapid_key(args: &SeedArgs) -> anyhow::Result<Option<VapidKey>> {
    let text = match (&args.vapid_private_key, &args.vapid_private_key_file) {
        (Some(key), _) => key.expose_secret().to_owned(),
        (None, Some(path)) => std::fs::read_to_string(path).map_err(|error| {
            anyhow::anyhow!(
                "cannot read the VAPID key file {} (--vapid-private-key-file / EMS_VAPID_PRIVATE_KEY_FILE): {error}",
                path.display()
            )
        })?,
        (None, None) => return Ok(None),
    };
    VapidKey::from_base64(&text).map(Some).map_err(|error| {
        anyhow::anyhow!("the VAPID private key (--vapid-private-key / EMS_VAPID_PRIVATE_KEY): {error}")
    })
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
    let vapid = given_vapid_key(&args)?;
    let pool = db::connect_and_migrate(&args.database).await?;
    match vapid {
        Some(key) => {
            if webpush::store_key(&pool, &key).await? {
                println!("Web Push: stored the given VAPID key (public key {})", key.public_base64());
            }
        }
        None => match webpush::stored_key(&pool).await? {
            Some(_) => {}
            None => {
                let key = VapidKey::generate();
                webpush::store_key(&pool, &key).await?;
                println!("Web Push: generated a VAPID key (public key {})", key.public_base64());
            }
        },
    }
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
