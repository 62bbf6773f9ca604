//! Energy amounts, exact. Readings, hourly totals, alert values and device limits are money: a
//! sum of 0.4 + 0.4 + 0.4 kWh must equal a limit of 1.2 kWh, which binary floating point cannot
//! promise (it gives 1.2000000000000002). So every amount is a decimal with a fixed number of
//! places, stored as PostgreSQL `NUMERIC(20, 6)` and handled in Rust as a [`Kwh`].

use std::{fmt, iter::Sum, ops::Add, str::FromStr};

use rust_decimal::{Decimal, RoundingStrategy};

/// Decimal places of kWh kept: one micro-kWh (a milliwatt-hour), a thousandth of the watt-hour
/// resolution of ordinary meters, so no meter's value is cut short.
pub const KWH_DECIMALS: u32 = 6;

/// An amount of energy in kWh, exact to [`KWH_DECIMALS`] places.
///
/// A decimal rather than integer milliwatt-hours in `BIGINT`: the columns keep their unit and
/// their meaning (`kwh` is in kWh), SQL over them (sums, filters, reports) reads as before and
/// PostgreSQL sums `NUMERIC` exactly; a query that only shows a value casts it with `::float8`.
/// `rust_decimal` holds 28 significant digits, far more than `NUMERIC(20, 6)` stores.
///
/// Amounts arrive as JSON numbers, parsed as `f64`. [`Kwh::from_f64`] goes through the number's
/// shortest decimal form (the one that parses back to the same `f64`), which is the decimal the
/// sender wrote, and rounds it half away from zero to [`KWH_DECIMALS`] places, as PostgreSQL's
/// `round(numeric, 6)` does: more places than that are below any meter's resolution (or noise of
/// a sender's own floating-point arithmetic), so they are rounded, not refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct Kwh(Decimal);

impl Kwh {
    pub const ZERO: Kwh = Kwh(Decimal::ZERO);

    /// The amount a JSON number stands for, rounded to [`KWH_DECIMALS`] places; `None` for a
    /// value that is not finite or too large for a decimal (beyond about 7.9e28).
    pub fn from_f64(value: f64) -> Option<Kwh> {
        if !value.is_finite() {
            return None;
        }
        // `Display` of an f64 is its shortest round-trip form and never uses an exponent.
        Decimal::from_str(&value.to_string()).ok().map(Kwh::rounded)
    }

    /// `value` rounded to [`KWH_DECIMALS`] places.
    pub fn rounded(value: Decimal) -> Kwh {
        Kwh(value.round_dp_with_strategy(KWH_DECIMALS, RoundingStrategy::MidpointAwayFromZero).normalize())
    }

    pub fn decimal(self) -> Decimal {
        self.0
    }

    /// The nearest `f64`, for JSON and display. Parsing the decimal text is correctly rounded, so
    /// an amount written as 1.2 becomes the same `f64` as the JSON number 1.2.
    pub fn to_f64(self) -> f64 {
        self.0.to_string().parse().expect("a decimal's text is a valid f64")
    }
}

impl FromStr for Kwh {
    type Err = rust_decimal::Error;

    /// Parses a decimal, rounded to [`KWH_DECIMALS`] places.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Decimal::from_str(text).map(Kwh::rounded)
    }
}

impl From<Kwh> for Decimal {
    fn from(kwh: Kwh) -> Decimal {
        kwh.0
    }
}

impl Add for Kwh {
    type Output = Kwh;

    fn add(self, other: Kwh) -> Kwh {
        Kwh(self.0 + other.0)
    }
}

impl Sum for Kwh {
    fn sum<I: Iterator<Item = Kwh>>(amounts: I) -> Kwh {
        amounts.fold(Kwh::ZERO, Add::add)
    }
}

/// At least two decimal places, and every further one that is not zero: 1.2 shows as "1.20",
/// 1.200001 as "1.200001", so an amount just above a limit never reads the same as the limit.
pub fn display_decimal(value: Decimal) -> String {
    let mut value = value.normalize();
    if value.scale() < 2 {
        value.rescale(2);
    }
    value.to_string()
}

impl fmt::Display for Kwh {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&display_decimal(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kwh(text: &str) -> Kwh {
        text.parse().unwrap()
    }

    #[test]
    fn a_json_number_becomes_the_decimal_it_was_written_as() {
        assert_eq!(Kwh::from_f64(0.1), Some(kwh("0.1")));
        assert_eq!(Kwh::from_f64(1.2), Some(kwh("1.2")));
        assert_eq!(Kwh::from_f64(0.000001), Some(kwh("0.000001")));
        assert_eq!(Kwh::from_f64(999_999.999999), Some(kwh("999999.999999")));
        let parsed: f64 = serde_json::from_str("0.4").unwrap();
        assert_eq!(Kwh::from_f64(parsed).unwrap().decimal().to_string(), "0.4");
    }

    #[test]
    fn sums_are_exact_where_floating_point_is_not() {
        assert_ne!(0.4 + 0.4 + 0.4, 1.2);
        let three_readings: Kwh = [0.4, 0.4, 0.4].into_iter().map(|value| Kwh::from_f64(value).unwrap()).sum();
        assert_eq!(three_readings, kwh("1.2"));
        assert_eq!(kwh("0.1") + kwh("0.2"), kwh("0.3"));
        assert_eq!((kwh("0.1") + kwh("0.2")).to_f64(), 0.3);
    }

    #[test]
    fn places_beyond_the_sixth_are_rounded_half_away_from_zero() {
        assert_eq!(Kwh::from_f64(0.1234564), Some(kwh("0.123456")));
        assert_eq!(Kwh::from_f64(0.0000005), Some(kwh("0.000001")));
        assert_eq!(Kwh::from_f64(0.0000004999), Some(Kwh::ZERO));
        // Noise of a sender's float arithmetic is rounded away.
        assert_eq!(Kwh::from_f64(0.1 + 0.2), Some(kwh("0.3")));
        assert_eq!(Kwh::from_f64(1e-30), Some(Kwh::ZERO));
    }

    #[test]
    fn values_no_decimal_holds_are_refused() {
        assert_eq!(Kwh::from_f64(f64::NAN), None);
        assert_eq!(Kwh::from_f64(f64::INFINITY), None);
        assert_eq!(Kwh::from_f64(1e300), None);
    }

    #[test]
    fn amounts_show_two_places_or_as_many_as_they_need() {
        assert_eq!(kwh("1.2").to_string(), "1.20");
        assert_eq!(kwh("3").to_string(), "3.00");
        assert_eq!(kwh("1.200001").to_string(), "1.200001");
        assert_eq!(kwh("0.125").to_string(), "0.125");
    }
}
