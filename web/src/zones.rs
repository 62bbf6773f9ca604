//! Time zones: the IANA names users read times in, and the local days consumption is
//! aggregated by. Names are checked against the IANA database compiled into the binary
//! (`chrono-tz`), so what is accepted does not depend on the host's tzdata.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use validator::ValidationError;

/// What a valid zone looks like, for error messages.
pub const ZONE_RULE: &str = "must be an IANA time zone name such as Europe/Bucharest, America/New_York or UTC";

/// The IANA zone named `name`, or a sentence saying what a valid one looks like.
pub fn parse(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>().map_err(|_| {
        // Someone typed the right zone in the wrong case: say which one.
        match chrono_tz::TZ_VARIANTS.iter().find(|zone| zone.name().eq_ignore_ascii_case(name)) {
            Some(close) => format!("{name:?} is not an IANA time zone name; did you mean {}?", close.name()),
            None => format!("{name:?} is not a time zone: {ZONE_RULE}"),
        }
    })
}

/// A `validator` rule: `name` is an IANA zone.
pub fn time_zone_rule(name: &str) -> Result<(), ValidationError> {
    parse(name).map(|_| ()).map_err(|message| ValidationError::new("time_zone").with_message(Cow::Owned(message)))
}

/// The first instant of `date` in `zone`: local midnight, or where a clock change skips
/// midnight (some zones move their clocks at 00:00), the first local time that exists.
pub fn start_of_day(date: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    // Clock changes skip at most a few hours; look for the first existing local minute.
    (0..24 * 60)
        .find_map(|minute| zone.from_local_datetime(&(midnight + TimeDelta::minutes(minute))).earliest())
        .map(|local| local.with_timezone(&Utc))
        .unwrap_or_else(|| midnight.and_utc())
}

/// The UTC hours whose start lies in `date` in `zone`, in order: 24 on most days, 23 or 25 on
/// the days the clocks change. In zones whose offset is not a whole number of hours, an hour
/// counts in the local day its start falls in.
pub fn hours_of_day(date: NaiveDate, zone: Tz) -> Vec<DateTime<Utc>> {
    let start = start_of_day(date, zone);
    let end = start_of_day(date.succ_opt().unwrap_or(date), zone);
    let first = ceil_to_hour(start);
    std::iter::successors(Some(first), |hour| Some(*hour + TimeDelta::hours(1)))
        .take_while(|hour| *hour < end)
        .collect()
}

fn ceil_to_hour(time: DateTime<Utc>) -> DateTime<Utc> {
    let seconds = time.timestamp();
    let rounded = seconds.div_euclid(3600) * 3600 + if seconds.rem_euclid(3600) == 0 { 0 } else { 3600 };
    DateTime::from_timestamp(rounded, 0).unwrap_or(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn names_are_checked_against_the_iana_database() {
        assert_eq!(parse("Europe/Bucharest").unwrap(), Tz::Europe__Bucharest);
        assert_eq!(parse("UTC").unwrap(), Tz::UTC);
        assert!(parse("Mars/Olympus").unwrap_err().contains("such as Europe/Bucharest"));
        assert!(parse("europe/bucharest").unwrap_err().contains("did you mean Europe/Bucharest?"));
        assert!(parse("").is_err());
    }

    #[test]
    fn a_local_day_starts_at_local_midnight() {
        let bucharest = Tz::Europe__Bucharest;
        assert_eq!(start_of_day(day("2026-01-15"), bucharest).to_rfc3339(), "2026-01-14T22:00:00+00:00");
        assert_eq!(start_of_day(day("2026-07-15"), bucharest).to_rfc3339(), "2026-07-14T21:00:00+00:00");
        // Santiago moved its clocks from 00:00 to 01:00 on 2026-09-06: the day starts at 01:00.
        let santiago = Tz::America__Santiago;
        assert_eq!(start_of_day(day("2026-09-06"), santiago).to_rfc3339(), "2026-09-06T04:00:00+00:00");
    }

    #[test]
    fn days_of_clock_changes_have_23_or_25_hours() {
        let bucharest = Tz::Europe__Bucharest;
        let spring = hours_of_day(day("2026-03-29"), bucharest);
        assert_eq!(spring.len(), 23);
        assert_eq!(spring[0].to_rfc3339(), "2026-03-28T22:00:00+00:00");
        assert_eq!(spring[22].to_rfc3339(), "2026-03-29T20:00:00+00:00");
        assert_eq!(hours_of_day(day("2026-10-25"), bucharest).len(), 25);
        assert_eq!(hours_of_day(day("2026-03-30"), bucharest).len(), 24);
        assert_eq!(hours_of_day(day("2026-03-29"), Tz::UTC).len(), 24);
        // Kolkata is UTC+05:30: its day starts at 18:30 UTC, so its first whole UTC hour is 19:00.
        let kolkata = hours_of_day(day("2026-03-01"), Tz::Asia__Kolkata);
        assert_eq!((kolkata.len(), kolkata[0].to_rfc3339()), (24, "2026-02-28T19:00:00+00:00".to_owned()));
    }
}
