//! Messages that cross service boundaries over NATS. Their JSON is the contract: change it only
//! in ways old readers ignore (new optional fields).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The kinds of alert a monitor raises.
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
    /// Part-way through an hour, its total is forecast to go above the hourly limit (raised only
    /// while the total is still within it).
    Forecast,
}

impl AlertKind {
    /// The database and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Overconsumption => "overconsumption",
            AlertKind::Peak => "peak",
            AlertKind::Forecast => "forecast",
        }
    }
}

/// Published on `ems.alerts.<user_id>` after the alert is stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AlertEvent {
    /// Increasing id: a client that saw alert N can ask for those after N.
    pub id: i64,
    pub device_id: Uuid,
    pub device_name: String,
    pub user_id: Option<Uuid>,
    pub kind: AlertKind,
    /// Start of the hour (UTC) the alert is about.
    pub hour: DateTime<Utc>,
    // Stored exactly (see `energy`); here the nearest JSON number to the stored decimal.
    /// kWh for an overconsumption alert (the hour's total so far); kW for a peak.
    pub value: f64,
    /// The device's limit: kWh in an hour, which is also the highest average power in kW.
    pub limit_kwh: f64,
    /// A peak's reading: the end of its interval. `null` for overconsumption (the whole hour).
    #[serde(default)]
    pub reading_at: Option<DateTime<Utc>>,
    /// A peak's reading: its interval in seconds. `null` for overconsumption.
    #[serde(default)]
    pub interval_s: Option<i32>,
    /// Raised while the device was snoozed: stored already acknowledged and never pushed live.
    #[serde(default)]
    pub snoozed: bool,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

impl AlertEvent {
    /// The query that reads stored alerts as events (`a` is `alerts`, `d` its device; the exact
    /// amounts are cast to `float8` for the event's numbers), with
    /// `extra_columns` after the event's own (empty for none); add `WHERE`, `ORDER BY`, ... after it.
    pub fn select(extra_columns: &str) -> String {
        let extra = if extra_columns.is_empty() { String::new() } else { format!(", {extra_columns}") };
        format!(
            "SELECT a.id, a.device_id, d.name AS device_name, a.user_id, a.kind, a.hour, a.value::float8 AS value, \
             a.limit_kwh::float8 AS limit_kwh, a.reading_at, a.interval_s, a.snoozed, a.message, a.created_at{extra} FROM alerts a JOIN devices d ON d.id = a.device_id"
        )
    }
}

/// Published on `ems.devices.changed` whenever a device is created, edited, assigned or deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceChanged {
    pub device_id: Uuid,
}

/// Published on `ems.users.changed` when an account's role or password changes or it is deleted:
/// every web instance forgets what it cached of it, and every notifier closes its WebSockets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserChanged {
    pub user_id: Uuid,
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

/// Who wrote a chat message, shown to the customer as its label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "chat_source", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum ChatSource {
    Customer,
    /// An answer from the rules.
    Rule,
    /// An answer from the AI model.
    Ai,
    Admin,
    /// A notice from support itself, e.g. that an administrator will answer.
    System,
}

/// Whether support's bot or an administrator answers a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "conversation_mode", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum ConversationMode {
    Bot,
    Human,
}

/// A stored chat message. A conversation is identified by its customer's id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ChatMessage {
    pub id: i64,
    pub customer_id: Uuid,
    pub source: ChatSource,
    pub sender_id: Option<Uuid>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// What the notifier puts on the JetStream subject `ems.chat.inbound` for support.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatInbound {
    /// A customer's or administrator's message in the customer's conversation.
    Message { customer_id: Uuid, sender_id: Uuid, sender_role: crate::Role, client_id: String, text: String },
    /// A read receipt: the reader has seen every message up to this id.
    Read { customer_id: Uuid, reader_role: crate::Role, up_to_id: i64 },
}

/// Published on `ems.chat.user.<customer>` and `ems.chat.admins`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatEvent {
    Message {
        message: ChatMessage,
    },
    Typing {
        customer_id: Uuid,
        role: crate::Role,
        user_id: Uuid,
        typing: bool,
    },
    Read {
        customer_id: Uuid,
        role: crate::Role,
        up_to_id: i64,
    },
    Mode {
        customer_id: Uuid,
        mode: ConversationMode,
        admin_id: Option<Uuid>,
        /// The administrator who held the conversation before an explicit take-over from them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_admin_id: Option<Uuid>,
    },
    /// A customer's first connection opened (`online`) or last one closed, on one notifier.
    Presence {
        user_id: Uuid,
        online: bool,
    },
    /// A conversation an administrator held was handed back: its customer may rate it.
    RatingRequest {
        customer_id: Uuid,
        rating: SupportRating,
    },
    /// The customer rated a handed-back conversation (for administrators).
    Rated {
        customer_id: Uuid,
        rating: SupportRating,
    },
}

/// A customer's rating of the help an administrator gave, asked for when the conversation is
/// handed back; `rating` and `rated_at` are null until the customer answers (once).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SupportRating {
    pub id: i64,
    pub customer_id: Uuid,
    /// Who held the conversation when it was handed back.
    pub admin_id: Option<Uuid>,
    pub admin_name: Option<String>,
    pub requested_at: DateTime<Utc>,
    /// 1 to 5.
    pub rating: Option<i16>,
    pub comment: Option<String>,
    pub rated_at: Option<DateTime<Utc>>,
}

impl SupportRating {
    /// The columns of a rating, from `support_ratings r` joined with its administrator `a`.
    pub const SELECT: &'static str = "SELECT r.id, r.customer_id, r.admin_id, a.display_name AS admin_name, \
         r.requested_at, r.rating, r.comment, r.rated_at FROM support_ratings r LEFT JOIN users a ON a.id = r.admin_id";
}
