//! Answer templates: text with `{placeholder}`s filled from the customer's data. Placeholders are
//! resolved to [`Slot`]s when the rules are loaded, so a misspelt one is a load error rather than
//! a strange answer in front of a customer.

use std::fmt;

/// What a rule needs to read about the customer before it can answer (`data = [...]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataKind {
    /// Total kWh of all the customer's devices today (UTC).
    TodayTotal,
    /// The device that has used the most today.
    TopDeviceToday,
    /// Alerts not yet acknowledged: how many, and the latest.
    OpenAlerts,
    /// The device the message names, with its hourly limit.
    DeviceLimit,
}

impl DataKind {
    const ALL: [DataKind; 4] = [Self::TodayTotal, Self::TopDeviceToday, Self::OpenAlerts, Self::DeviceLimit];

    pub fn name(self) -> &'static str {
        match self {
            Self::TodayTotal => "today_total",
            Self::TopDeviceToday => "top_device_today",
            Self::OpenAlerts => "open_alerts",
            Self::DeviceLimit => "device_limit",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// Whether there may be nothing to say: no consumption yet today, no open alert, no device
    /// named in the message. A rule needing such data also needs an `answer_if_none`.
    pub fn can_be_absent(self) -> bool {
        !matches!(self, Self::TodayTotal)
    }

    pub fn names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }
}

/// A placeholder in an answer template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    CustomerName,
    TodayKwh,
    TopDevice,
    TopDeviceKwh,
    OpenAlertsCount,
    LatestAlertDevice,
    LatestAlertHour,
    LatestAlertMessage,
    DeviceName,
    DeviceLimitKwh,
    DeviceNames,
}

impl Slot {
    const ALL: [Slot; 11] = [
        Self::CustomerName,
        Self::TodayKwh,
        Self::TopDevice,
        Self::TopDeviceKwh,
        Self::OpenAlertsCount,
        Self::LatestAlertDevice,
        Self::LatestAlertHour,
        Self::LatestAlertMessage,
        Self::DeviceName,
        Self::DeviceLimitKwh,
        Self::DeviceNames,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::CustomerName => "customer_name",
            Self::TodayKwh => "today_kwh",
            Self::TopDevice => "top_device",
            Self::TopDeviceKwh => "top_device_kwh",
            Self::OpenAlertsCount => "open_alerts_count",
            Self::LatestAlertDevice => "latest_alert_device",
            Self::LatestAlertHour => "latest_alert_hour",
            Self::LatestAlertMessage => "latest_alert_message",
            Self::DeviceName => "device_name",
            Self::DeviceLimitKwh => "device_limit_kwh",
            Self::DeviceNames => "device_names",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|slot| slot.name() == name)
    }

    /// The data a rule must declare to use this placeholder; `None` for what is always known.
    pub fn source(self) -> Option<DataKind> {
        match self {
            Self::CustomerName => None,
            Self::TodayKwh => Some(DataKind::TodayTotal),
            Self::TopDevice | Self::TopDeviceKwh => Some(DataKind::TopDeviceToday),
            Self::OpenAlertsCount | Self::LatestAlertDevice | Self::LatestAlertHour | Self::LatestAlertMessage => {
                Some(DataKind::OpenAlerts)
            }
            Self::DeviceName | Self::DeviceLimitKwh | Self::DeviceNames => Some(DataKind::DeviceLimit),
        }
    }

    /// Whether the value exists even when its data is absent (a count of zero, the list of all
    /// devices when none was named), so it may appear in an `answer_if_none`.
    pub fn survives_absence(self) -> bool {
        matches!(self, Self::CustomerName | Self::TodayKwh | Self::OpenAlertsCount | Self::DeviceNames)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum TemplateError {
    UnknownPlaceholder(String),
    Unclosed,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownPlaceholder(name) => {
                let known = Slot::ALL.map(|slot| format!("{{{}}}", slot.name())).join(", ");
                write!(formatter, "unknown placeholder {{{name}}}; the placeholders are {known}")
            }
            Self::Unclosed => formatter.write_str("a `{` has no closing `}`"),
        }
    }
}

#[derive(Clone, Debug)]
enum Part {
    Text(String),
    Slot(Slot),
}

#[derive(Clone, Debug)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').ok_or(TemplateError::Unclosed)? + open;
            let name = rest[open + 1..close].trim();
            let slot = Slot::from_name(name).ok_or_else(|| TemplateError::UnknownPlaceholder(name.to_owned()))?;
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            parts.push(Part::Slot(slot));
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Self { parts })
    }

    pub fn slots(&self) -> impl Iterator<Item = Slot> + '_ {
        self.parts.iter().filter_map(|part| match part {
            Part::Slot(slot) => Some(*slot),
            Part::Text(_) => None,
        })
    }

    /// The text with every placeholder filled, or `None` if `value` has nothing for one of them.
    pub fn render(&self, value: impl Fn(Slot) -> Option<String>) -> Option<String> {
        let mut text = String::new();
        for part in &self.parts {
            match part {
                Part::Text(literal) => text.push_str(literal),
                Part::Slot(slot) => text.push_str(&value(*slot)?),
            }
        }
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_in_place() {
        let template = Template::parse("Hi {customer_name}, today: { today_kwh } kWh.").unwrap();
        let text = template.render(|slot| Some(slot.name().to_uppercase())).unwrap();
        assert_eq!(text, "Hi CUSTOMER_NAME, today: TODAY_KWH kWh.");
        assert_eq!(template.slots().collect::<Vec<_>>(), [Slot::CustomerName, Slot::TodayKwh]);
    }

    #[test]
    fn a_missing_value_leaves_the_template_unrendered() {
        let template = Template::parse("{top_device} used {top_device_kwh} kWh").unwrap();
        assert_eq!(template.render(|slot| (slot == Slot::TopDevice).then(|| "Oven".to_owned())), None);
    }

    #[test]
    fn unknown_and_unclosed_placeholders_are_rejected() {
        assert_eq!(Template::parse("{kwh}").unwrap_err(), TemplateError::UnknownPlaceholder("kwh".into()));
        assert_eq!(Template::parse("oops {customer_name").unwrap_err(), TemplateError::Unclosed);
        assert!(TemplateError::UnknownPlaceholder("kwh".into()).to_string().contains("{today_kwh}"));
    }
}
