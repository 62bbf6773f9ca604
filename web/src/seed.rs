//! `ems seed`: the first administrator and, on request, demo customers with their devices.
//! Running it again changes nothing that exists: it only adds what is missing.

use ems_common::Role;
use rand::{Rng, distr::Alphanumeric};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;

use crate::users::{NewUser, insert_user};

pub struct SeedOptions {
    pub admin_username: String,
    /// The first administrator's password; generated when absent.
    pub admin_password: Option<SecretString>,
    pub demo: bool,
    pub demo_password: SecretString,
}

#[derive(Debug, Default)]
pub struct SeedReport {
    pub admin_created: bool,
    /// Set only when the administrator was created with a generated password: shown once.
    pub generated_admin_password: Option<String>,
    pub demo_users_created: usize,
    pub demo_devices_created: usize,
}

/// Demo customers: (username, display name, devices as (name, location, description, kWh/h limit)).
/// Each limit is what its owner would set: above the device's ordinary use, below what it draws
/// when everything on it runs at once, so the simulator's spikes (`ems simulate`) cross it a few
/// times a week and its ordinary hours do not.
type DemoDevice = (&'static str, &'static str, &'static str, f64);
pub const DEMO_CUSTOMERS: &[(&str, &str, &[DemoDevice])] = &[
    (
        "ana",
        "Ana Popescu",
        &[
            ("Heat pump", "Garden", "Air-to-water heat pump, 9 kW heating", 3.5),
            ("Kitchen", "Ground floor", "Oven, hob, fridge and dishwasher circuit", 3.0),
            ("EV charger", "Garage", "7.4 kW wall box", 7.0),
        ],
    ),
    (
        "ben",
        "Ben Carter",
        &[
            ("Home office", "First floor", "Desk, monitors and a small server", 0.8),
            ("Washer and dryer", "Utility room", "Heat-pump dryer and washing machine", 3.0),
        ],
    ),
    (
        "carmen",
        "Carmen Ionescu",
        &[
            ("Bakery oven", "Shop, back room", "Three-deck electric oven", 12.0),
            ("Cold room", "Shop, cellar", "Walk-in chiller", 4.0),
        ],
    ),
];

/// An unassigned device, so the assignment screens have something to work with.
const SPARE_DEVICE: DemoDevice = ("Spare meter", "Warehouse", "Not installed yet", 1.5);

pub async fn seed(pool: &PgPool, options: &SeedOptions) -> anyhow::Result<SeedReport> {
    let mut report = SeedReport::default();
    let admin_username = options.admin_username.trim().to_lowercase();
    if user_id(pool, &admin_username).await?.is_none() {
        let password = match &options.admin_password {
            Some(password) => password.expose_secret().to_owned(),
            None => {
                let generated: String = rand::rng().sample_iter(&Alphanumeric).take(20).map(char::from).collect();
                report.generated_admin_password = Some(generated.clone());
                generated
            }
        };
        let new_admin = NewUser {
            username: admin_username.clone(),
            display_name: "Administrator".into(),
            password,
            role: Role::Admin,
            time_zone: None,
        };
        validate(&new_admin)?;
        insert_user(pool, &new_admin)
            .await
            .map_err(|error| anyhow::anyhow!("creating the administrator failed: {error}"))?;
        report.admin_created = true;
    }
    if !options.demo {
        return Ok(report);
    }
    for (username, display_name, devices) in DEMO_CUSTOMERS {
        let owner_id = match user_id(pool, username).await? {
            Some(id) => id,
            None => {
                let customer = NewUser {
                    username: (*username).into(),
                    display_name: (*display_name).into(),
                    password: options.demo_password.expose_secret().to_owned(),
                    role: Role::Client,
                    time_zone: None,
                };
                validate(&customer)?;
                report.demo_users_created += 1;
                insert_user(pool, &customer)
                    .await
                    .map_err(|error| anyhow::anyhow!("creating {username} failed: {error}"))?
                    .id
            }
        };
        for device in *devices {
            report.demo_devices_created += usize::from(insert_device_once(pool, device, Some(owner_id)).await?);
        }
    }
    report.demo_devices_created += usize::from(insert_device_once(pool, &SPARE_DEVICE, None).await?);
    Ok(report)
}

/// Seeded accounts follow the API's rules for names; their passwords need 8 to 128 characters
/// only, since the demo's are meant to be typed from the README (`ems seed` warns about a weak
/// administrator password; accounts made in the dashboard get the whole policy).
fn validate(user: &NewUser) -> anyhow::Result<()> {
    let names =
        crate::users::username_rule(&user.username).and_then(|()| crate::users::display_name_rule(&user.display_name));
    if let Err(error) = names {
        anyhow::bail!("invalid seed account {}: {error}", user.username);
    }
    let length = user.password.chars().count();
    anyhow::ensure!(
        (8..=128).contains(&length),
        "invalid seed account {}: the password must be 8 to 128 characters, not {length}",
        user.username
    );
    Ok(())
}

async fn user_id(pool: &PgPool, username: &str) -> sqlx::Result<Option<uuid::Uuid>> {
    sqlx::query_scalar("SELECT id FROM users WHERE username = $1").bind(username).fetch_optional(pool).await
}

/// Inserts the device unless one of that name already belongs to that owner; true if inserted.
async fn insert_device_once(pool: &PgPool, device: &DemoDevice, owner_id: Option<uuid::Uuid>) -> sqlx::Result<bool> {
    let (name, location, description, limit) = *device;
    let inserted = sqlx::query(
        "INSERT INTO devices (id, name, location, description, max_hourly_kwh, owner_id) \
         SELECT $1, $2, $3, $4, $5, $6 \
         WHERE NOT EXISTS (SELECT 1 FROM devices WHERE name = $2 AND owner_id IS NOT DISTINCT FROM $6)",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(name)
    .bind(location)
    .bind(description)
    .bind(ems_common::energy::Kwh::from_f64(limit))
    .bind(owner_id)
    .execute(pool)
    .await?;
    Ok(inserted.rows_affected() == 1)
}
