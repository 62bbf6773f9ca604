//! Tariffs: what a customer pays per kWh, set by administrators (every route here but the
//! customer's own read takes an `AdminUser`) and applied to consumption as cost. A tariff is one
//! flat price, or time-of-use bands that price every hour of the week exactly once, in the
//! customer's time zone. Prices are exact decimals (`rust_decimal`, `NUMERIC` in PostgreSQL), to
//! six places, as strings in JSON so no client rounds them through a binary float.

use axum::{Json, extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use ems_common::Role;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    currencies,
    error::documented::{Invalid, Malformed, NotAdmin, NotSignedIn},
    error::{ApiError, ApiResult, ErrorBody, FieldError},
    extract::{AdminUser, ApiJson, ApiPath, CurrentUser},
    state::ApiContext,
};

/// A day of the week; bands name the days they apply on.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

const WEEKDAYS: [Weekday; 7] =
    [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];
const WEEKDAY_NAMES: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

impl Weekday {
    /// ISO 8601: Monday is 1, Sunday 7 (PostgreSQL's `isodow`).
    fn iso(self) -> i16 {
        self as i16 + 1
    }

    fn from_iso(day: i16) -> Option<Self> {
        WEEKDAYS.get(usize::try_from(day - 1).ok()?).copied()
    }
}

/// One time-of-use band: a price for the hours `from_hour` (inclusive) to `to_hour` (exclusive)
/// of each of `days`, on the customer's local clock.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Band {
    #[schema(example = json!(["mon", "tue", "wed", "thu", "fri"]))]
    pub days: Vec<Weekday>,
    /// 0 to 23.
    #[schema(example = 7)]
    pub from_hour: u8,
    /// 1 to 24, after `from_hour`.
    #[schema(example = 23)]
    pub to_hour: u8,
    /// Per kWh, in the tariff's currency: a decimal string (or number) from 0 to 1000000 with at
    /// most six decimal places.
    #[schema(value_type = String, example = "1.10")]
    pub price: Decimal,
}

/// A tariff as it is set: a `currency` and either `flat_price` or `bands`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TariffInput {
    /// An ISO 4217 code such as `RON`, `EUR` or `USD` (any case; stored in upper case).
    #[schema(example = "RON")]
    pub currency: String,
    /// One price per kWh for every hour; leave out (or null) when giving `bands`.
    #[schema(value_type = Option<String>, example = "0.85")]
    pub flat_price: Option<Decimal>,
    /// Time-of-use bands that together price each hour of the week exactly once; leave out when
    /// giving `flat_price`.
    #[serde(default)]
    pub bands: Vec<Band>,
}

/// A customer's tariff.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct Tariff {
    pub user_id: Uuid,
    #[schema(example = "RON")]
    pub currency: String,
    /// The price per kWh of every hour; null when the tariff has bands.
    #[schema(value_type = Option<String>, example = "0.85")]
    pub flat_price: Option<Decimal>,
    /// Time-of-use bands; empty for a flat price.
    pub bands: Vec<Band>,
    /// The zone whose clock the bands are read on: the customer's setting, else UTC.
    #[schema(example = "Europe/Bucharest")]
    pub time_zone: String,
    pub updated_at: DateTime<Utc>,
}

pub fn router() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new().routes(routes!(get_tariff, set_tariff, remove_tariff)).routes(routes!(my_tariff))
}

/// The largest price per kWh a tariff may have: far above any real one, so a typo (a price in
/// cents, say) is caught, and within `NUMERIC(20, 6)`.
const MAX_PRICE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

fn price_rule(price: Decimal) -> Result<(), String> {
    if price.is_sign_negative() && !price.is_zero() {
        return Err("must not be negative".into());
    }
    if price > MAX_PRICE {
        return Err("must be at most 1000000 per kWh".into());
    }
    if price.normalize().scale() > 6 {
        return Err("may have at most six decimal places".into());
    }
    Ok(())
}

/// Checks a tariff before it is stored, naming every field at fault: a known currency, one of
/// flat price or bands, valid prices and hours, and bands that price each hour of the week once.
pub fn check(input: &TariffInput) -> Result<&'static str, Vec<FieldError>> {
    let mut errors = Vec::new();
    let currency =
        currencies::parse(&input.currency).map_err(|message| errors.push(FieldError::new("currency", message)));
    match (&input.flat_price, input.bands.is_empty()) {
        (Some(_), false) => errors.push(FieldError::new(
            "bands",
            "give either flat_price or bands, not both: leave out flat_price for a time-of-use tariff",
        )),
        (None, true) => errors.push(FieldError::new(
            "flat_price",
            "give a flat_price per kWh, or bands that price each hour of the week",
        )),
        (Some(price), true) => {
            if let Err(message) = price_rule(*price) {
                errors.push(FieldError::new("flat_price", message));
            }
        }
        (None, false) => check_bands(&input.bands, &mut errors),
    }
    match currency {
        Ok(code) if errors.is_empty() => Ok(code),
        _ => Err(errors),
    }
}

fn check_bands(bands: &[Band], errors: &mut Vec<FieldError>) {
    if bands.len() > 168 {
        errors.push(FieldError::new("bands", "at most 168 bands, one per hour of the week"));
        return;
    }
    // Which band prices each (weekday, hour): each must be priced exactly once.
    let mut owner: [[Option<usize>; 24]; 7] = [[None; 24]; 7];
    let before = errors.len();
    for (index, band) in bands.iter().enumerate() {
        let field = format!("bands[{index}]");
        if band.days.is_empty() {
            errors.push(FieldError::new(&format!("{field}.days"), "name at least one day, such as \"mon\""));
        }
        if band.from_hour > 23 {
            errors.push(FieldError::new(&format!("{field}.from_hour"), "must be an hour from 0 to 23"));
        }
        if band.to_hour > 24 || band.to_hour <= band.from_hour {
            errors.push(FieldError::new(
                &format!("{field}.to_hour"),
                "must be after from_hour, at most 24 (a band ending at midnight ends at 24)",
            ));
        }
        if let Err(message) = price_rule(band.price) {
            errors.push(FieldError::new(&format!("{field}.price"), message));
        }
        if errors.len() > before {
            continue;
        }
        for day in &band.days {
            for hour in band.from_hour..band.to_hour {
                let slot = &mut owner[day.iso() as usize - 1][hour as usize];
                if let Some(other) = *slot {
                    errors.push(FieldError::new(
                        &field,
                        format!(
                            "overlaps bands[{other}] on {} at {hour:02}:00; each hour may have one price",
                            WEEKDAY_NAMES[day.iso() as usize - 1]
                        ),
                    ));
                    return;
                }
                *slot = Some(index);
            }
        }
    }
    if errors.len() > before {
        return;
    }
    for (day, hours) in owner.iter().enumerate() {
        if let Some(hour) = hours.iter().position(Option::is_none) {
            errors.push(FieldError::new(
                "bands",
                format!(
                    "{} {hour:02}:00 has no price: the bands must cover every hour of every day (add a band for it)",
                    WEEKDAY_NAMES[day]
                ),
            ));
            return;
        }
    }
}

fn no_tariff(user_id: Uuid) -> ApiError {
    ApiError::NotFound(format!("the user {user_id} has no tariff; set one with PUT /api/users/{user_id}/tariff"))
}

/// A tariff's row with its customer's zone: currency, flat price, time zone, last change.
type TariffRow = (String, Option<Decimal>, Option<String>, DateTime<Utc>);

/// The tariff of `user_id`, if they have one.
pub async fn load(context: &ApiContext, user_id: Uuid) -> ApiResult<Option<Tariff>> {
    let row: Option<TariffRow> = sqlx::query_as(
        "SELECT t.currency, t.flat_price, u.time_zone, t.updated_at FROM tariffs t JOIN users u ON u.id = t.user_id \
         WHERE t.user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(&context.pool)
    .await?;
    let Some((currency, flat_price, time_zone, updated_at)) = row else { return Ok(None) };
    let rows: Vec<(Vec<i16>, i16, i16, Decimal)> = sqlx::query_as(
        "SELECT weekdays, start_hour, end_hour, price FROM tariff_bands WHERE user_id = $1 ORDER BY position",
    )
    .bind(user_id)
    .fetch_all(&context.pool)
    .await?;
    let bands = rows
        .into_iter()
        .map(|(days, from, to, price)| Band {
            days: days.into_iter().filter_map(Weekday::from_iso).collect(),
            from_hour: from as u8,
            to_hour: to as u8,
            price: price.normalize(),
        })
        .collect();
    Ok(Some(Tariff {
        user_id,
        currency,
        flat_price: flat_price.map(|price| price.normalize()),
        bands,
        time_zone: time_zone.unwrap_or_else(|| "UTC".to_owned()),
        updated_at,
    }))
}

/// A customer's tariff.
#[utoipa::path(get, path = "/api/users/{id}/tariff", tag = "tariffs", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses(
        (status = 200, body = Tariff),
        NotSignedIn,
        NotAdmin,
        (status = 404, body = ErrorBody, description = "no user has this id, or the user has no tariff"),
    ))]
async fn get_tariff(
    _admin: AdminUser,
    State(context): State<ApiContext>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Tariff>> {
    load(&context, id).await?.map(Json).ok_or_else(|| no_tariff(id))
}

/// Set (or replace) a customer's tariff: a currency and a flat price, or bands.
#[utoipa::path(put, path = "/api/users/{id}/tariff", tag = "tariffs", params(("id" = Uuid, Path)),
    request_body = TariffInput, security(("bearer" = [])), responses(
        (status = 200, body = Tariff),
        Malformed,
        NotSignedIn,
        NotAdmin,
        (status = 404, body = ErrorBody, description = "no user has this id"),
        Invalid,
    ))]
async fn set_tariff(
    _admin: AdminUser,
    State(context): State<ApiContext>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<TariffInput>,
) -> ApiResult<Json<Tariff>> {
    let role: Option<Role> =
        sqlx::query_scalar("SELECT role FROM users WHERE id = $1").bind(id).fetch_optional(&context.pool).await?;
    match role {
        None => return Err(ApiError::NotFound(format!("no user has the id {id}"))),
        Some(Role::Admin) => {
            return Err(ApiError::invalid(
                "user_id",
                "is an administrator's account; tariffs are for customers: choose a customer, \
                 or change this user's role to client first",
            ));
        }
        Some(Role::Client) => {}
    }
    let currency = check(&input).map_err(ApiError::Validation)?;
    let mut transaction = context.pool.begin().await?;
    sqlx::query(
        "INSERT INTO tariffs (user_id, currency, flat_price) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET currency = $2, flat_price = $3, updated_at = now()",
    )
    .bind(id)
    .bind(currency)
    .bind(input.flat_price)
    .execute(&mut *transaction)
    .await?;
    sqlx::query("DELETE FROM tariff_bands WHERE user_id = $1").bind(id).execute(&mut *transaction).await?;
    for (position, band) in input.bands.iter().enumerate() {
        let mut days: Vec<i16> = band.days.iter().map(|day| day.iso()).collect();
        days.sort_unstable();
        days.dedup();
        sqlx::query(
            "INSERT INTO tariff_bands (user_id, position, weekdays, start_hour, end_hour, price) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(position as i16)
        .bind(days)
        .bind(i16::from(band.from_hour))
        .bind(i16::from(band.to_hour))
        .bind(band.price)
        .execute(&mut *transaction)
        .await?;
    }
    transaction.commit().await?;
    load(&context, id).await?.map(Json).ok_or_else(|| no_tariff(id))
}

/// Remove a customer's tariff: from then on they see kWh only, no cost.
#[utoipa::path(delete, path = "/api/users/{id}/tariff", tag = "tariffs", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses(
        (status = 204, description = "removed"),
        NotSignedIn,
        NotAdmin,
        (status = 404, body = ErrorBody, description = "no user has this id, or the user has no tariff"),
    ))]
async fn remove_tariff(
    _admin: AdminUser,
    State(context): State<ApiContext>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    let removed = sqlx::query("DELETE FROM tariffs WHERE user_id = $1").bind(id).execute(&context.pool).await?;
    if removed.rows_affected() == 0 {
        return Err(no_tariff(id));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user's own tariff.
#[utoipa::path(get, path = "/api/me/tariff", tag = "tariffs", security(("bearer" = [])), responses(
        (status = 200, body = Tariff),
        NotSignedIn,
        (status = 404, body = ErrorBody, description = "you have no tariff: consumption shows kWh only"),
    ))]
async fn my_tariff(CurrentUser(claims): CurrentUser, State(context): State<ApiContext>) -> ApiResult<Json<Tariff>> {
    load(&context, claims.sub).await?.map(Json).ok_or_else(|| {
        ApiError::NotFound("you have no tariff, so consumption shows kWh only; an administrator sets tariffs".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(days: &[Weekday], from_hour: u8, to_hour: u8, price: &str) -> Band {
        Band { days: days.to_vec(), from_hour, to_hour, price: price.parse().unwrap() }
    }

    fn input(flat: Option<&str>, bands: Vec<Band>) -> TariffInput {
        TariffInput { currency: "ron".into(), flat_price: flat.map(|price| price.parse().unwrap()), bands }
    }

    fn fields(result: Result<&'static str, Vec<FieldError>>) -> Vec<(String, String)> {
        result.unwrap_err().into_iter().map(|error| (error.field, error.message)).collect()
    }

    #[test]
    fn a_flat_price_or_bands_covering_the_week_are_accepted() {
        assert_eq!(check(&input(Some("0.85"), vec![])), Ok("RON"));
        let week = vec![band(&WEEKDAYS, 0, 7, "0.5"), band(&WEEKDAYS, 7, 24, "1.1")];
        assert_eq!(check(&input(None, week)), Ok("RON"));
    }

    #[test]
    fn both_or_neither_and_bad_prices_are_refused_by_field() {
        assert_eq!(fields(check(&input(None, vec![])))[0].0, "flat_price");
        assert_eq!(fields(check(&input(Some("1"), vec![band(&WEEKDAYS, 0, 24, "1")])))[0].0, "bands");
        assert!(fields(check(&input(Some("-0.1"), vec![])))[0].1.contains("negative"));
        assert!(fields(check(&input(Some("0.1234567"), vec![])))[0].1.contains("six decimal places"));
        let bad_currency = TariffInput { currency: "XYZ".into(), flat_price: Some(Decimal::ONE), bands: vec![] };
        assert_eq!(fields(check(&bad_currency))[0].0, "currency");
    }

    #[test]
    fn a_gap_or_an_overlap_is_named_with_its_day_and_hour() {
        let gap = vec![band(&WEEKDAYS, 0, 7, "0.5"), band(&WEEKDAYS[..6], 7, 24, "1.1")];
        assert_eq!(
            fields(check(&input(None, gap))),
            [(
                "bands".to_owned(),
                "Sunday 07:00 has no price: the bands must cover every hour of every day (add a band for it)"
                    .to_owned()
            )]
        );
        let overlap = vec![band(&WEEKDAYS, 0, 8, "0.5"), band(&WEEKDAYS, 7, 24, "1.1")];
        assert_eq!(
            fields(check(&input(None, overlap))),
            [("bands[1]".to_owned(), "overlaps bands[0] on Monday at 07:00; each hour may have one price".to_owned())]
        );
        let backwards = vec![band(&WEEKDAYS, 9, 9, "0.5")];
        assert_eq!(fields(check(&input(None, backwards)))[0].0, "bands[0].to_hour");
    }
}
