//! Early warning: part-way through an hour, whether a device's total for that hour is on course to
//! go above its limit, so its owner can act before it does.
//!
//! A monitor knows, after each reading, the hour's total so far and the reading itself. The
//! forecast is the total so far plus the rest of the hour at an estimated rate; [`Method`] says
//! which rate. The one the monitors use, [`RULE`], was chosen by replaying the bundled meter data
//! over many simulated devices (`ems bench forecast`, figures in docs/performance.md): the recent
//! rate reacts to an appliance switched on in time to warn, where the hour's average would still
//! be diluted by the quiet minutes before it.
//!
//! Hours are UTC hours and a reading counts in the hour its timestamp (the end of its interval)
//! falls in, as everywhere else: the readings still to come in an hour cover the time from the
//! last one's timestamp to one interval before the hour ends.

use chrono::{DateTime, TimeDelta, Utc};
use ems_common::energy::{KWH_DECIMALS, Kwh};
use rust_decimal::{Decimal, RoundingStrategy};

/// How the rest of the hour is estimated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// At the average power of the latest reading.
    RecentRate,
    /// At the average power of the hour so far.
    HourAverage,
    /// At the mean of those two.
    Blend,
}

impl Method {
    pub const ALL: [Method; 3] = [Method::RecentRate, Method::HourAverage, Method::Blend];

    pub fn name(self) -> &'static str {
        match self {
            Method::RecentRate => "recent rate",
            Method::HourAverage => "hour average",
            Method::Blend => "blend",
        }
    }
}

/// When to warn: a method, and how much of the hour its readings must cover first (one reading
/// alone says little about the rest of an hour).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub method: Method,
    pub min_covered: TimeDelta,
}

/// The rule the monitors apply.
pub const RULE: Rule = Rule { method: Method::RecentRate, min_covered: TimeDelta::minutes(20) };

/// A device's hour after its latest reading.
#[derive(Clone, Copy, Debug)]
pub struct HourSoFar {
    /// Start of the hour (UTC).
    pub hour: DateTime<Utc>,
    /// The hour's total so far, the latest reading included.
    pub total: Kwh,
    /// The latest reading of the hour: the end of its interval, its energy and its interval.
    pub last_at: DateTime<Utc>,
    pub last_kwh: Kwh,
    pub last_interval_s: i32,
}

/// A forecast that the hour's total will go above the limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Forecast {
    /// The hour's total as forecast, in kWh, rounded up to the stored places.
    pub total: Decimal,
    /// From the latest reading to the end of the hour.
    pub hour_left: TimeDelta,
    /// From the latest reading until the limit is reached at the forecast rate.
    pub limit_in: TimeDelta,
}

impl Rule {
    /// A forecast, when this hour's total is still within `limit` but on course to go above it.
    pub fn forecast(&self, so_far: &HourSoFar, limit: Kwh) -> Option<Forecast> {
        if so_far.total > limit || so_far.last_interval_s <= 0 {
            return None;
        }
        let hour_end = so_far.hour + TimeDelta::hours(1);
        let interval = TimeDelta::seconds(so_far.last_interval_s.into());
        // The time the hour's readings cover so far, and the time the ones to come will cover.
        let covered = (so_far.last_at - so_far.hour + interval).min(TimeDelta::hours(1));
        let to_come = hour_end - so_far.last_at - interval;
        if covered < self.min_covered || to_come <= TimeDelta::zero() {
            return None;
        }
        let seconds = |delta: TimeDelta| Decimal::from(delta.num_seconds());
        // The energy still to come in the hour, multiplied before it is divided so that a rate
        // such as 0.4 kWh per 600 s does not round.
        let at_recent_rate = so_far.last_kwh.decimal() * seconds(to_come) / Decimal::from(so_far.last_interval_s);
        let at_average = so_far.total.decimal() * seconds(to_come) / seconds(covered);
        let rest = match self.method {
            Method::RecentRate => at_recent_rate,
            Method::HourAverage => at_average,
            Method::Blend => (at_recent_rate + at_average) / Decimal::TWO,
        };
        let total = so_far.total.decimal() + rest;
        if total <= limit.decimal() || rest.is_zero() {
            return None;
        }
        // At the same rate, the limit is reached this far into the time to come.
        let limit_in = TimeDelta::seconds(
            ((limit.decimal() - so_far.total.decimal()) * seconds(to_come) / rest)
                .round_dp_with_strategy(0, RoundingStrategy::ToPositiveInfinity)
                .try_into()
                .unwrap_or(i64::MAX),
        );
        Some(Forecast {
            total: total.round_dp_with_strategy(KWH_DECIMALS, RoundingStrategy::ToPositiveInfinity).normalize(),
            hour_left: hour_end - so_far.last_at,
            limit_in,
        })
    }
}

/// "about 25 minutes", "less than a minute".
pub fn minutes_words(delta: TimeDelta) -> String {
    // Whole minutes, rounded up (`i64::div_ceil` is not stable).
    match (delta.num_seconds() + 59).div_euclid(60) {
        ..=0 => "less than a minute".into(),
        1 => "about 1 minute".into(),
        minutes => format!("about {minutes} minutes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kwh(text: &str) -> Kwh {
        text.parse().unwrap()
    }

    fn hour() -> DateTime<Utc> {
        "2026-03-01T14:00:00Z".parse().unwrap()
    }

    /// After the reading ending at 14:`minute`, of `last` kWh, with `total` kWh so far.
    fn after(minute: i64, last: &str, total: &str) -> HourSoFar {
        HourSoFar {
            hour: hour(),
            total: kwh(total),
            last_at: hour() + TimeDelta::minutes(minute),
            last_kwh: kwh(last),
            last_interval_s: 600,
        }
    }

    #[test]
    fn the_recent_rate_carries_on_to_the_end_of_the_hour() {
        // At 14:20 the hour's three readings (ending 14:00, 14:10, 14:20) cover 30 minutes, and the
        // three to come the other 30: 0.9 + 3 × 0.4 = 2.1 kWh.
        let rule = Rule { method: Method::RecentRate, min_covered: TimeDelta::minutes(20) };
        let forecast = rule.forecast(&after(20, "0.4", "0.9"), kwh("2")).expect("a forecast above the limit");
        assert_eq!(forecast.total, Decimal::new(21, 1));
        assert_eq!(forecast.hour_left, TimeDelta::minutes(40));
        // 1.1 kWh to go at 0.4 kWh per 10 minutes: 27.5 minutes.
        assert_eq!(forecast.limit_in, TimeDelta::seconds(1650));
        assert_eq!(minutes_words(forecast.limit_in), "about 28 minutes");
        // Exactly at the limit is not above it.
        assert_eq!(rule.forecast(&after(20, "0.3", "1.1"), kwh("2")), None);
    }

    #[test]
    fn the_hour_average_and_the_blend_use_the_hour_so_far() {
        // 0.9 kWh over 30 minutes is 0.3 per 10 minutes: 0.9 + 0.9 = 1.8, under 2.
        let average = Rule { method: Method::HourAverage, min_covered: TimeDelta::minutes(20) };
        assert_eq!(average.forecast(&after(20, "0.4", "0.9"), kwh("2")), None);
        assert_eq!(average.forecast(&after(20, "0.4", "0.9"), kwh("1.7")).unwrap().total, Decimal::new(18, 1));
        // The blend: 0.35 per 10 minutes, 0.9 + 1.05 = 1.95.
        let blend = Rule { method: Method::Blend, min_covered: TimeDelta::minutes(20) };
        assert_eq!(blend.forecast(&after(20, "0.4", "0.9"), kwh("1.9")).unwrap().total, Decimal::new(195, 2));
    }

    #[test]
    fn no_warning_too_early_too_late_or_once_the_limit_is_crossed() {
        let rule = RULE;
        // Only the reading ending 14:00 (10 minutes covered): too little to go on.
        assert_eq!(rule.forecast(&after(0, "0.5", "0.5"), kwh("2")), None);
        // The reading ending 14:50 is the hour's last: nothing more to come.
        assert_eq!(rule.forecast(&after(50, "1", "1.9"), kwh("2")), None);
        // Above the limit already: that is an overconsumption alert, not a forecast.
        assert_eq!(rule.forecast(&after(30, "1", "2.1"), kwh("2")), None);
        // Nothing used lately: no forecast above the limit.
        assert_eq!(rule.forecast(&after(30, "0", "1.5"), kwh("2")), None);
        assert!(rule.forecast(&after(40, "0.6", "1.5"), kwh("2")).is_some());
    }

    #[test]
    fn minutes_read_naturally() {
        assert_eq!(minutes_words(TimeDelta::seconds(0)), "less than a minute");
        assert_eq!(minutes_words(TimeDelta::seconds(59)), "about 1 minute");
        assert_eq!(minutes_words(TimeDelta::minutes(40)), "about 40 minutes");
    }
}
