//! The values behind a rule's placeholders: read only the data the rule declares, then format it
//! the way a customer reads it.

use chrono::NaiveDate;

use crate::{
    data::{CustomerData, DeviceSummary, OpenAlerts, today_total, top_device_today},
    normalize::words,
    support::Customer,
    template::{DataKind, Slot},
};

/// Words that say nothing about which device is meant ("the limit of my heat pump"), in English
/// and Romanian, so a device called "My heater" is not chosen for every "my".
const NOT_DEVICE_WORDS: &[&str] =
    &["my", "the", "a", "an", "of", "for", "de", "la", "cu", "din", "meu", "mea", "pentru"];

pub struct Facts<'a> {
    customer_name: &'a str,
    /// `None` when the rule needs no device data (so nothing was read).
    devices: Option<Vec<DeviceSummary>>,
    alerts: Option<OpenAlerts>,
    /// Index in `devices` of the device the message names.
    named: Option<usize>,
}

impl<'a> Facts<'a> {
    pub async fn gather(
        data: &dyn CustomerData,
        customer: &'a Customer,
        kinds: &[DataKind],
        message: &str,
        today: NaiveDate,
    ) -> anyhow::Result<Self> {
        let needs_devices = kinds.iter().any(|kind| *kind != DataKind::OpenAlerts);
        let devices = if needs_devices { Some(data.devices(customer.id, today).await?) } else { None };
        let alerts =
            if kinds.contains(&DataKind::OpenAlerts) { Some(data.open_alerts(customer.id).await?) } else { None };
        let named = match &devices {
            Some(devices) if kinds.contains(&DataKind::DeviceLimit) => named_device(devices, &words(message)),
            _ => None,
        };
        Ok(Self { customer_name: &customer.name, devices, alerts, named })
    }

    pub fn value(&self, slot: Slot) -> Option<String> {
        let devices = self.devices.as_deref();
        let latest = self.alerts.as_ref().and_then(|alerts| alerts.latest.as_ref());
        let named = self.named.and_then(|index| devices?.get(index));
        match slot {
            Slot::CustomerName => Some(self.customer_name.to_owned()),
            Slot::TodayKwh => devices.map(|devices| kwh(today_total(devices))),
            Slot::TopDevice => devices.and_then(top_device_today).map(|device| device.name.clone()),
            Slot::TopDeviceKwh => devices.and_then(top_device_today).map(|device| kwh(device.today_kwh)),
            Slot::OpenAlertsCount => self.alerts.as_ref().map(|alerts| alerts.count.to_string()),
            Slot::LatestAlertDevice => latest.map(|alert| alert.device_name.clone()),
            Slot::LatestAlertHour => latest.map(|alert| alert.hour.format("%Y-%m-%d %H:%M UTC").to_string()),
            Slot::LatestAlertMessage => latest.map(|alert| alert.message.clone()),
            Slot::DeviceName => named.map(|device| device.name.clone()),
            Slot::DeviceLimitKwh => named.map(|device| kwh(device.max_hourly_kwh)),
            Slot::DeviceNames => devices.map(|devices| match devices {
                [] => "—".to_owned(),
                devices => devices.iter().map(|device| device.name.as_str()).collect::<Vec<_>>().join(", "),
            }),
        }
    }
}

/// The device whose name shares the most words with the message; on a tie the one with the
/// shorter name (more of it was said), then the first by name.
fn named_device(devices: &[DeviceSummary], message: &[String]) -> Option<usize> {
    let mut best: Option<(usize, usize, usize)> = None;
    for (index, device) in devices.iter().enumerate() {
        let name: Vec<String> =
            words(&device.name).into_iter().filter(|word| !NOT_DEVICE_WORDS.contains(&word.as_str())).collect();
        let said = name.iter().filter(|word| message.contains(word)).count();
        let better = match best {
            None => said > 0,
            Some((best_said, best_len, _)) => said > best_said || (said == best_said && name.len() < best_len),
        };
        if better {
            best = Some((said, name.len(), index));
        }
    }
    best.map(|(_, _, index)| index)
}

/// kWh as a person reads them: at most two decimals, no trailing zeros.
pub fn kwh(value: f64) -> String {
    // Adding zero turns -0.0 (the sum of no values) into 0.0, which prints without a sign.
    let rounded = (value * 100.0).round() / 100.0 + 0.0;
    let text = format!("{rounded:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devices(names: &[&str]) -> Vec<DeviceSummary> {
        let summary = |name: &&str| DeviceSummary {
            name: (*name).into(),
            max_hourly_kwh: 1.0,
            today_kwh: 0.0,
            yesterday_kwh: 0.0,
        };
        names.iter().map(summary).collect()
    }

    #[test]
    fn the_device_is_found_by_the_words_of_its_name() {
        let fleet = devices(&["Fridge", "Heat pump", "Pool heat pump"]);
        assert_eq!(named_device(&fleet, &words("What is the limit of my heat pump?")), Some(1));
        assert_eq!(named_device(&fleet, &words("limit for the POOL heat pump")), Some(2));
        assert_eq!(named_device(&fleet, &words("what is my limit")), None);
        let romanian = devices(&["Frigider", "Pompă de căldură"]);
        assert_eq!(named_device(&romanian, &words("Care este limita pompei de caldura?")), Some(1));
    }

    #[test]
    fn kilowatt_hours_read_without_noise() {
        assert_eq!(kwh(12.0), "12");
        assert_eq!(kwh(2.5), "2.5");
        assert_eq!(kwh(0.1 + 0.2), "0.3");
        assert_eq!(kwh(1.23456), "1.23");
        assert_eq!(kwh(0.0), "0");
        assert_eq!(kwh(std::iter::empty::<f64>().sum()), "0");
    }
}
