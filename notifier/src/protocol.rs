//! The WebSocket frame protocol, version 1 (documented in docs/websocket.md). Every frame is a
//! JSON text message with `"v": 1` and a `"type"`.

use ems_common::{
    Role,
    contracts::{AlertEvent, ChatEvent, ChatMessage, ConversationMode},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const VERSION: u8 = 1;

/// Close codes in the private range 4000-4999.
pub mod close {
    /// The token is missing, malformed, expired or signed by someone else.
    pub const UNAUTHORIZED: u16 = 4401;
    /// The client did not keep up with its events; reconnect with `last_alert_id` to catch up.
    pub const TOO_SLOW: u16 = 4008;
    /// Nothing was heard from the client (not even a pong) for the idle timeout.
    pub const IDLE: u16 = 4000;
    /// The client sent frames far faster than any person could (see `limits`); reconnect later.
    pub const TOO_MANY_FRAMES: u16 = 4029;
}

/// Frames the server sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ServerFrame {
    #[serde(rename = "hello")]
    Hello { user_id: Uuid, role: Role },
    #[serde(rename = "alert")]
    Alert { alert: AlertEvent },
    #[serde(rename = "chat.message")]
    ChatMessage { message: ChatMessage },
    #[serde(rename = "chat.typing")]
    ChatTyping { customer_id: Uuid, role: Role, user_id: Uuid, typing: bool },
    #[serde(rename = "chat.read")]
    ChatRead { customer_id: Uuid, role: Role, up_to_id: i64 },
    #[serde(rename = "chat.mode")]
    ChatMode { customer_id: Uuid, mode: ConversationMode, admin_id: Option<Uuid> },
    #[serde(rename = "presence")]
    Presence { user_id: Uuid, online: bool },
    /// A `chat.send` was durably accepted; its `client_id` will not be stored twice.
    #[serde(rename = "ack")]
    Ack { client_id: String },
    /// The replay after `after_id` was cut to the newest alerts: older ones, with ids above
    /// `after_id` and below `oldest_replayed_id` (all of them when it is null), are only in
    /// `GET /api/alerts`.
    #[serde(rename = "replay.truncated")]
    ReplayTruncated { after_id: i64, oldest_replayed_id: Option<i64> },
    #[serde(rename = "error")]
    Error { code: String, message: String },
}

impl From<ChatEvent> for ServerFrame {
    fn from(event: ChatEvent) -> Self {
        match event {
            ChatEvent::Message { message } => ServerFrame::ChatMessage { message },
            ChatEvent::Typing { customer_id, role, user_id, typing } => {
                ServerFrame::ChatTyping { customer_id, role, user_id, typing }
            }
            ChatEvent::Read { customer_id, role, up_to_id } => ServerFrame::ChatRead { customer_id, role, up_to_id },
            ChatEvent::Mode { customer_id, mode, admin_id } => ServerFrame::ChatMode { customer_id, mode, admin_id },
            ChatEvent::Presence { user_id, online } => ServerFrame::Presence { user_id, online },
        }
    }
}

#[derive(Serialize)]
struct Versioned<'a> {
    v: u8,
    #[serde(flatten)]
    frame: &'a ServerFrame,
}

impl ServerFrame {
    /// Ephemeral frames (typing, presence) are worth nothing late: a connection whose queue is
    /// full misses them, while missing a durable one (an alert, a chat message) cuts it off so it
    /// reconnects and catches up.
    pub fn is_ephemeral(&self) -> bool {
        matches!(self, ServerFrame::ChatTyping { .. } | ServerFrame::Presence { .. })
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(&Versioned { v: VERSION, frame: self }).expect("frames serialise")
    }
}

/// Frames a client sends. For a customer, `customer_id` is ignored: a customer only ever speaks
/// in their own conversation. An administrator must name the conversation.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "type")]
pub enum ClientFrame {
    #[serde(rename = "chat.send")]
    ChatSend { client_id: String, text: String, customer_id: Option<Uuid> },
    #[serde(rename = "chat.typing")]
    ChatTyping { typing: bool, customer_id: Option<Uuid> },
    #[serde(rename = "chat.read")]
    ChatRead { up_to_id: i64, customer_id: Option<Uuid> },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_frames_carry_the_version_and_a_dotted_type() {
        let text = ServerFrame::Ack { client_id: "c-1".into() }.to_text();
        assert_eq!(text, r#"{"v":1,"type":"ack","client_id":"c-1"}"#);
    }

    #[test]
    fn client_frames_parse_and_unknown_types_are_errors() {
        let frame: ClientFrame = serde_json::from_str(r#"{"type":"chat.send","client_id":"1","text":"hi"}"#).unwrap();
        assert_eq!(frame, ClientFrame::ChatSend { client_id: "1".into(), text: "hi".into(), customer_id: None });
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"subscribe","subject":"ems.alerts.*"}"#).is_err());
    }
}
