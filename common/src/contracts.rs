//! Messages that cross service boundaries over NATS. Their JSON is the contract: change it only
//! in ways old readers ignore (new optional fields).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The two kinds of alert a monitor raises.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[sqlx(type_name = "alert_kind", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    /// The device's total for an hour went above its hourly limit.
    Overconsumption,
    /// One reading's average power went above the hourly limit.
    Peak,
}

/// Published on `ems.alerts.<user_id>` after the alert is stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlertEvent {
    /// Increasing id: a client that saw alert N can ask for those after N.
    pub id: i64,
    pub device_id: Uuid,
    pub device_name: String,
    pub user_id: Option<Uuid>,
    pub kind: AlertKind,
    /// Start of the hour (UTC) the alert is about.
    pub hour: DateTime<Utc>,
    /// kWh for an overconsumption alert (the hour's total so far); kW for a peak.
    pub value: f64,
    pub limit_kwh: f64,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

/// Published on `ems.devices.changed` whenever a device is created, edited, assigned or deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceChanged {
    pub device_id: Uuid,
}

/// Published on `ems.monitors.heartbeat` by every monitor replica, about once a second.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub replica: u32,
    /// Relative share of readings this replica wants (1 or more).
    pub weight: u32,
    /// Readings this replica has stored since it started.
    pub processed: u64,
}
