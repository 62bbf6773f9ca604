//! The meter data the simulator replays: `data/sensor.csv` holds one cumulative meter value per
//! line at 10-minute steps (about 28 days). Each simulated device plays it from its own offset,
//! scaled so that its average hour uses a chosen fraction of its hourly limit; the data's own
//! peaks (about 2.4 times its average hour) then carry some hours over the limit, as real
//! households do.

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

/// One simulated meter.
#[derive(Clone, Debug)]
pub struct SimulatedDevice {
    pub id: Uuid,
    pub name: String,
    offset: usize,
    scale: f64,
}

impl SimulatedDevice {
    /// `load` is the average hour's share of the device's limit (0.6: 60 %).
    pub fn new(id: Uuid, name: String, max_hourly_kwh: f64, load: f64, profile: &Profile) -> Self {
        let offset = (xxh3_64(id.as_bytes()) % profile.len() as u64) as usize;
        Self { id, name, offset, scale: load * max_hourly_kwh / profile.mean_hourly }
    }

    /// The reading for the 10-minute interval ending at `timestamp` (a multiple of 10 minutes).
    pub fn reading_at(&self, timestamp: DateTime<Utc>, profile: &Profile) -> Reading {
        let step = timestamp.timestamp().div_euclid(STEP.num_seconds()) as usize;
        let value = profile.intervals[(self.offset + step) % profile.len()] * self.scale;
        Reading {
            device_id: self.id,
            timestamp,
            measurement_value: (value * 1e6).round() / 1e6,
            interval_s: STEP.num_seconds() as u32,
        }
    }
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

    #[test]
    fn a_device_averages_its_load_share_of_the_limit_and_replays_deterministically() {
        let profile = Profile::bundled();
        let device = SimulatedDevice::new(Uuid::new_v4(), "Oven".into(), 2.0, 0.5, &profile);
        let start = step_floor("2026-03-01T00:07:00Z".parse().unwrap());
        let readings: Vec<Reading> =
            (0..profile.len() as i32).map(|step| device.reading_at(start + STEP * step, &profile)).collect();
        let mean_hourly =
            readings.iter().map(|reading| reading.measurement_value).sum::<f64>() / readings.len() as f64 * 6.0;
        assert!((mean_hourly - 1.0).abs() < 0.01, "{mean_hourly}");
        assert_eq!(device.reading_at(start, &profile), readings[0]);
        assert_eq!(readings[0].timestamp.to_rfc3339(), "2026-03-01T00:00:00+00:00");
    }

    #[test]
    fn resets_and_bad_lines_are_handled() {
        let profile = Profile::from_cumulative("0\n1\n2\n0.5\n1.5\n2.5\n3.5\n4\n").unwrap();
        assert_eq!(profile.intervals, [1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.5]);
        assert!(Profile::from_cumulative("0\nabc\n").unwrap_err().to_string().contains("line 2"));
    }
}
