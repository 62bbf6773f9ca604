//! The meter data the simulator replays: `data/sensor.csv` holds one cumulative meter value per
//! line at 10-minute steps (about 28 days). Each simulated device plays it from its own offset as
//! its base load, scaled so that its average hour uses a chosen fraction of its hourly limit
//! (varied a little per device); at the default 30 % even the data's highest 10 minutes (about 2.6
//! times its average) stay under the limit. On top of it, every device has an occasional spike, an
//! appliance running for 10 to 60 minutes at 1.05 to 1.5 times the limit: one per period of 42 to
//! 84 hours, so two to four a week, at moments and of sizes derived from the device id alone. A
//! spike raises a peak alert, and the longer ones an overconsumption alert too. A higher load lets
//! the base load itself cross the limit, as a fleet pushed hard does.

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;
use xxhash_rust::xxh3::xxh3_64;

use crate::Reading;

const SENSOR_CSV: &str = include_str!("../data/sensor.csv");
pub const STEP: TimeDelta = TimeDelta::minutes(10);

/// The interval consumption (kWh per 10 minutes) between consecutive cumulative values.
#[derive(Debug)]
pub struct Profile {
    intervals: Vec<f64>,
    mean_hourly: f64,
}

impl Profile {
    pub fn bundled() -> Self {
        Self::from_cumulative(SENSOR_CSV).expect("the bundled sensor data is well formed")
    }

    pub fn from_cumulative(text: &str) -> anyhow::Result<Self> {
        let values = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .enumerate()
            .map(|(index, line)| {
                line.parse::<f64>().map_err(|error| anyhow::anyhow!("line {}: {line:?}: {error}", index + 1))
            })
            .collect::<anyhow::Result<Vec<f64>>>()?;
        // A meter reset (a value lower than the one before) counts as no consumption, not negative.
        let intervals: Vec<f64> = values.windows(2).map(|pair| (pair[1] - pair[0]).max(0.0)).collect();
        anyhow::ensure!(intervals.len() >= 6, "the profile needs at least an hour of data");
        let mean_hourly = intervals.iter().sum::<f64>() / intervals.len() as f64 * 6.0;
        anyhow::ensure!(mean_hourly > 0.0, "the profile never consumes anything");
        Ok(Self { intervals, mean_hourly })
    }

    pub fn len(&self) -> usize {
        self.intervals.len()
    }

    pub fn is_empty(&self) -> bool {
        self.intervals.is_empty()
    }
}

/// The default share of its limit a device's average hour uses (`ems simulate --load`).
pub const DEFAULT_LOAD: f64 = 0.3;

/// Spikes: one per period of this many 10-minute steps (42 to 84 hours; the period is the device's).
const SPIKE_PERIOD_STEPS: std::ops::Range<u64> = 252..505;
/// A spike lasts 1 to this many 10-minute steps.
const SPIKE_MAX_STEPS: u64 = 6;
/// A spike's average power as a multiple of the limit, on top of the base load: 1.05 to 1.5.
const SPIKE_FACTOR: (f64, f64) = (1.05, 1.5);
/// A device's base load is its `load` times a factor from this range, so devices differ.
const BASE_VARIATION: (f64, f64) = (0.8, 1.2);

/// One simulated meter.
#[derive(Clone, Debug)]
pub struct SimulatedDevice {
    pub id: Uuid,
    pub name: String,
    offset: usize,
    /// kWh per unit of the profile's intervals.
    scale: f64,
    max_hourly_kwh: f64,
    spike_period: u64,
    /// Where in its period the device's spike schedule starts, so devices do not spike together.
    spike_phase: u64,
    seed: u64,
}

impl SimulatedDevice {
    /// `load` is the average hour's share of the device's limit before spikes (0.3: 30 %), varied
    /// by 0.8 to 1.2 per device.
    pub fn new(id: Uuid, name: String, max_hourly_kwh: f64, load: f64, profile: &Profile) -> Self {
        let seed = xxh3_64(id.as_bytes());
        let offset = (seed % profile.len() as u64) as usize;
        let variation = between(BASE_VARIATION, seed.rotate_left(16));
        let periods = SPIKE_PERIOD_STEPS.end - SPIKE_PERIOD_STEPS.start;
        let spike_period = SPIKE_PERIOD_STEPS.start + seed.rotate_left(32) % periods;
        Self {
            id,
            name,
            offset,
            scale: load * variation * max_hourly_kwh / profile.mean_hourly,
            max_hourly_kwh,
            spike_period,
            spike_phase: seed.rotate_left(48) % spike_period,
            seed,
        }
    }

    /// The reading for the 10-minute interval ending at `timestamp` (a multiple of 10 minutes).
    pub fn reading_at(&self, timestamp: DateTime<Utc>, profile: &Profile) -> Reading {
        let step = timestamp.timestamp().div_euclid(STEP.num_seconds());
        let base =
            profile.intervals[(self.offset as i64 + step).rem_euclid(profile.len() as i64) as usize] * self.scale;
        let value = base + self.spike_at(step);
        Reading {
            device_id: self.id,
            timestamp,
            measurement_value: (value * 1e6).round() / 1e6,
            interval_s: STEP.num_seconds() as u32,
        }
    }

    /// The spike's energy in the 10-minute step `step` (counted from the epoch), usually 0.
    fn spike_at(&self, step: i64) -> f64 {
        let shifted = step.max(0) as u64 + self.spike_phase;
        let (period, position) = (shifted / self.spike_period, shifted % self.spike_period);
        let draw = xxh3_64(&[self.seed.to_le_bytes(), period.to_le_bytes()].concat());
        let length = 1 + draw % SPIKE_MAX_STEPS;
        let start = draw.rotate_left(16) % (self.spike_period - length + 1);
        if !(start..start + length).contains(&position) {
            return 0.0;
        }
        between(SPIKE_FACTOR, draw.rotate_left(32)) * self.max_hourly_kwh * STEP.num_seconds() as f64 / 3600.0
    }
}

/// A number in `range` picked by `bits`, evenly.
fn between(range: (f64, f64), bits: u64) -> f64 {
    range.0 + (range.1 - range.0) * ((bits >> 11) as f64 / (1u64 << 53) as f64)
}

/// `timestamp` rounded down to a 10-minute boundary.
pub fn step_floor(timestamp: DateTime<Utc>) -> DateTime<Utc> {
    let seconds = timestamp.timestamp();
    DateTime::from_timestamp(seconds - seconds.rem_euclid(STEP.num_seconds()), 0).expect("in range")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_data_gives_nearly_four_thousand_positive_intervals() {
        let profile = Profile::bundled();
        assert_eq!(profile.len(), 3998);
        assert!(profile.intervals.iter().all(|value| *value >= 0.0));
        assert!((60.0..80.0).contains(&profile.mean_hourly), "{}", profile.mean_hourly);
    }

    /// A week of a device's readings from `start`, as the monitors judge them: the hours with a
    /// peak (a reading whose average power is above the limit) and those whose total is above it.
    fn week_of(device: &SimulatedDevice, limit: f64, start: DateTime<Utc>, profile: &Profile) -> (usize, usize) {
        let readings: Vec<Reading> = (0..7 * 144).map(|step| device.reading_at(start + STEP * step, profile)).collect();
        let mut peak_hours = std::collections::BTreeSet::new();
        let mut totals = std::collections::BTreeMap::<i64, f64>::new();
        for reading in &readings {
            let hour = reading.timestamp.timestamp().div_euclid(3600);
            if reading.measurement_value * 3600.0 > limit * f64::from(reading.interval_s) {
                peak_hours.insert(hour);
            }
            *totals.entry(hour).or_default() += reading.measurement_value;
        }
        (peak_hours.len(), totals.values().filter(|total| **total > limit).count())
    }

    #[test]
    fn at_the_default_load_a_device_crosses_its_limit_a_few_times_a_week_and_stays_under_it_otherwise() {
        let profile = Profile::bundled();
        let start = step_floor("2026-03-02T00:07:00Z".parse().unwrap());
        let mut all_peaks = 0;
        for index in 0..300u128 {
            let limit = [0.8, 2.0, 3.5, 12.0][index as usize % 4];
            let device =
                SimulatedDevice::new(Uuid::from_u128(index * 7919 + 1), "Meter".into(), limit, DEFAULT_LOAD, &profile);
            let (peaks, over) = week_of(&device, limit, start, &profile);
            // Two to four spikes a week (one to five in a week that cuts periods at its ends), each
            // a peak in one hour or two; the longer ones also make their hour's total too high.
            // An hour over the limit has a reading over it, so at most 10 of 168 hours are.
            assert!((1..=10).contains(&peaks), "device {index}: {peaks} peak hours in a week");
            assert!(over <= peaks, "device {index}: {over} hours over the limit but {peaks} with a peak");
            all_peaks += peaks;
        }
        let average = all_peaks as f64 / 300.0;
        assert!((2.0..6.0).contains(&average), "on average {average} peak hours a week");
    }

    #[test]
    fn a_higher_load_pushes_devices_over_their_limit_far_more_often() {
        let profile = Profile::bundled();
        let start = step_floor("2026-03-02T00:00:00Z".parse().unwrap());
        let (mut default_hours, mut pushed_hours) = (0, 0);
        for index in 0..50u128 {
            let id = Uuid::from_u128(index + 1);
            let default = SimulatedDevice::new(id, "Meter".into(), 2.0, DEFAULT_LOAD, &profile);
            let pushed = SimulatedDevice::new(id, "Meter".into(), 2.0, 0.6, &profile);
            default_hours += week_of(&default, 2.0, start, &profile).0;
            pushed_hours += week_of(&pushed, 2.0, start, &profile).0;
        }
        assert!(pushed_hours > 5 * default_hours, "{pushed_hours} peak hours at 60 %, {default_hours} at the default");
    }

    #[test]
    fn a_device_averages_about_its_load_share_of_the_limit_and_replays_deterministically() {
        let profile = Profile::bundled();
        let id = Uuid::new_v4();
        let device = SimulatedDevice::new(id, "Oven".into(), 2.0, 0.5, &profile);
        let start = step_floor("2026-03-01T00:07:00Z".parse().unwrap());
        let readings: Vec<Reading> =
            (0..profile.len() as i32).map(|step| device.reading_at(start + STEP * step, &profile)).collect();
        let mean_hourly =
            readings.iter().map(|reading| reading.measurement_value).sum::<f64>() / readings.len() as f64 * 6.0;
        // 0.5 × 2 kWh, varied by 0.8 to 1.2 per device, and a little more from the spikes.
        assert!((0.79..1.25).contains(&mean_hourly), "{mean_hourly}");
        let again = SimulatedDevice::new(id, "Oven".into(), 2.0, 0.5, &profile);
        assert!(readings.iter().all(|reading| again.reading_at(reading.timestamp, &profile) == *reading));
        assert_eq!(readings[0].timestamp.to_rfc3339(), "2026-03-01T00:00:00+00:00");
    }

    #[test]
    fn resets_and_bad_lines_are_handled() {
        let profile = Profile::from_cumulative("0\n1\n2\n0.5\n1.5\n2.5\n3.5\n4\n").unwrap();
        assert_eq!(profile.intervals, [1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.5]);
        assert!(Profile::from_cumulative("0\nabc\n").unwrap_err().to_string().contains("line 2"));
    }
}
