//! `ems bench forecast`: how well the early warning works on the bundled meter data. The simulator
//! fleet's devices (each playing `sensor.csv` from its own offset, with its own spikes) are
//! replayed reading by reading through the forecast the monitors use, and through the other
//! methods for comparison; every hour is then judged by its final total: a warning before the
//! reading that took the total above the limit is a hit (with its lead time), a crossing without
//! one a miss, and a warning in an hour that stayed within the limit was for nothing.

use std::{collections::BTreeMap, fmt};

use chrono::{DateTime, TimeDelta, Utc};
use clap::Args;
use ems_common::energy::Kwh;
use ems_ingress::fleet::{Profile, STEP, SimulatedDevice};
use ems_monitors::{
    forecast::{HourSoFar, Method, RULE, Rule},
    store::hour_of,
};
use uuid::Uuid;

#[derive(Args, Clone, Debug)]
pub struct ForecastBenchArgs {
    /// Simulated devices replayed (limits of 0.8, 2, 3.5 and 12 kWh in turn).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub devices: u32,
    /// Days replayed per device (the bundled data holds about 28, then repeats).
    #[arg(long, default_value_t = 28, value_parser = clap::value_parser!(u32).range(1..=366))]
    pub days: u32,
    /// Average hour's share of the limit, one replay per value: 0.3 is the simulator's default
    /// (crossings come from appliances switched on), 0.6 a fleet pushed hard.
    #[arg(long, value_delimiter = ',', default_value = "0.3,0.6")]
    pub loads: Vec<f64>,
}

const LIMITS: [f64; 4] = [0.8, 2.0, 3.5, 12.0];

/// How one rule did over a replay.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    pub hours: u64,
    /// Hours whose total went above the limit.
    pub crossings: u64,
    /// Crossings warned of before the reading that crossed, and by how long.
    pub warned: u64,
    pub leads_s: Vec<i64>,
    /// Hours warned of that stayed within the limit.
    pub for_nothing: u64,
    pub warnings: u64,
}

impl Outcome {
    fn hit_rate(&self) -> f64 {
        ratio(self.warned, self.crossings)
    }

    fn false_share(&self) -> f64 {
        ratio(self.for_nothing, self.warnings)
    }

    fn mean_lead_min(&self) -> f64 {
        if self.leads_s.is_empty() {
            return 0.0;
        }
        self.leads_s.iter().sum::<i64>() as f64 / self.leads_s.len() as f64 / 60.0
    }

    fn median_lead_min(&self) -> f64 {
        let mut leads = self.leads_s.clone();
        leads.sort_unstable();
        leads.get(leads.len() / 2).map_or(0.0, |lead| *lead as f64 / 60.0)
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

/// One device-hour as it unfolds: its total, and per rule the first warning's time.
struct Hour {
    total: Kwh,
    crossed_at: Option<DateTime<Utc>>,
    warned_at: Vec<Option<DateTime<Utc>>>,
}

/// The rules compared: every method, warning after 10 or 20 minutes of the hour.
pub fn rules() -> Vec<Rule> {
    let mut rules = vec![RULE];
    for method in Method::ALL {
        for minutes in [10, 20, 30] {
            let rule = Rule { method, min_covered: TimeDelta::minutes(minutes) };
            if rule != RULE {
                rules.push(rule);
            }
        }
    }
    rules
}

/// Replays `devices` simulated devices for `days` at `load` through every rule of `rules`.
pub fn replay(devices: u32, days: u32, load: f64, rules: &[Rule]) -> Vec<Outcome> {
    let profile = Profile::bundled();
    let start: DateTime<Utc> = "2026-03-02T00:00:00Z".parse().expect("a time");
    let steps = i32::try_from(days * 144).expect("days fit");
    let mut outcomes = vec![Outcome::default(); rules.len()];
    for index in 0..devices {
        let limit_f64 = LIMITS[index as usize % LIMITS.len()];
        let limit = Kwh::from_f64(limit_f64).expect("a limit");
        let id = Uuid::from_u128(u128::from(index) * 7919 + 1);
        let device = SimulatedDevice::new(id, format!("Meter {index}"), limit_f64, load, &profile);
        let mut hours: BTreeMap<DateTime<Utc>, Hour> = BTreeMap::new();
        for step in 0..steps {
            let reading = device.reading_at(start + STEP * step, &profile);
            let kwh = Kwh::from_f64(reading.measurement_value).expect("a reading");
            let hour_start = hour_of(reading.timestamp);
            let hour = hours.entry(hour_start).or_insert_with(|| Hour {
                total: Kwh::default(),
                crossed_at: None,
                warned_at: vec![None; rules.len()],
            });
            hour.total = hour.total + kwh;
            if hour.total > limit {
                hour.crossed_at.get_or_insert(reading.timestamp);
                continue;
            }
            let so_far = HourSoFar {
                hour: hour_start,
                total: hour.total,
                last_at: reading.timestamp,
                last_kwh: kwh,
                last_interval_s: reading.interval_s as i32,
            };
            for (rule, warned_at) in rules.iter().zip(hour.warned_at.iter_mut()) {
                if warned_at.is_none() && rule.forecast(&so_far, limit).is_some() {
                    *warned_at = Some(reading.timestamp);
                }
            }
        }
        for hour in hours.values() {
            for (outcome, warned_at) in outcomes.iter_mut().zip(&hour.warned_at) {
                outcome.hours += 1;
                outcome.warnings += u64::from(warned_at.is_some());
                match (hour.crossed_at, warned_at) {
                    (Some(crossed), Some(warned)) => {
                        outcome.crossings += 1;
                        outcome.warned += 1;
                        outcome.leads_s.push((crossed - *warned).num_seconds());
                    }
                    (Some(_), None) => outcome.crossings += 1,
                    (None, Some(_)) => outcome.for_nothing += 1,
                    (None, None) => {}
                }
            }
        }
    }
    outcomes
}

pub struct Report {
    args: ForecastBenchArgs,
    rules: Vec<Rule>,
    /// Per load, per rule.
    outcomes: Vec<(f64, Vec<Outcome>)>,
}

pub fn run(args: ForecastBenchArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(
        args.loads.iter().all(|load| (0.01..=2.0).contains(load)),
        "--loads: each load is a share of the limit between 0.01 and 2 (0.3 is 30 %)"
    );
    let rules = rules();
    let outcomes = args
        .loads
        .iter()
        .map(|load| {
            eprintln!("replaying {} devices × {} days at load {load}…", args.devices, args.days);
            (*load, replay(args.devices, args.days, *load, &rules))
        })
        .collect();
    Ok(Report { args, rules, outcomes })
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Forecast warnings on the bundled meter data: {} simulated devices × {} days, readings every 10 minutes",
            self.args.devices, self.args.days
        )?;
        writeln!(f, "(* = the rule the monitors use; lead = from the warning to the reading that crossed)")?;
        for (load, outcomes) in &self.outcomes {
            let hours = outcomes.first().map_or(0, |outcome| outcome.hours);
            let crossings = outcomes.first().map_or(0, |outcome| outcome.crossings);
            writeln!(f)?;
            writeln!(
                f,
                "load {:.0} % of the limit: {hours} device-hours, {crossings} above the limit ({:.2} %)",
                load * 100.0,
                ratio(crossings, hours) * 100.0
            )?;
            writeln!(
                f,
                "  {:<28} {:>12} {:>10} {:>10} {:>10} {:>12}",
                "rule", "warned first", "mean lead", "med. lead", "warnings", "for nothing"
            )?;
            for (rule, outcome) in self.rules.iter().zip(outcomes) {
                writeln!(
                    f,
                    "{} {:<28} {:>11.1}% {:>6.1} min {:>6.1} min {:>10} {:>11.1}%",
                    if *rule == RULE { "*" } else { " " },
                    format!("{}, from {} min", rule.method.name(), rule.min_covered.num_minutes()),
                    outcome.hit_rate() * 100.0,
                    outcome.mean_lead_min(),
                    outcome.median_lead_min(),
                    outcome.warnings,
                    outcome.false_share() * 100.0,
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_counts_every_hour_once_and_every_hit_has_a_positive_lead() {
        let rules = rules();
        let outcomes = replay(8, 2, 0.6, &rules);
        for outcome in &outcomes {
            // 8 devices × 48 hours: readings ending 00:00 to 47:50.
            assert_eq!(outcome.hours, 8 * 48);
            assert!(outcome.warned <= outcome.crossings && outcome.for_nothing <= outcome.warnings);
            assert_eq!(outcome.warned + outcome.for_nothing, outcome.warnings);
            assert!(outcome.leads_s.iter().all(|lead| *lead >= 600), "{:?}", outcome.leads_s);
        }
        assert!(outcomes[0].crossings > 0, "a fleet at 60 % crosses its limits in two days");
    }
}
