//! The WebSocket frame protocol, version 1 (documented in docs/websocket.md). Every frame is a
//! JSON text message with `"v": 1` and a `"type"`.

use ems_common::{
    Role,
    contracts::{AlertEvent, ChatEvent, ChatMessage, ConversationMode, SupportRating},
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
    ChatMode {
        customer_id: Uuid,
        mode: ConversationMode,
        admin_id: Option<Uuid>,
        #[serde(skip_serializing_if = "Option::is_none")]
        previous_admin_id: Option<Uuid>,
    },
    /// To the customer: rate the help of the administrator who handed the conversation back.
    #[serde(rename = "chat.rating_request")]
    ChatRatingRequest { customer_id: Uuid, rating: SupportRating },
    /// To administrators: a customer rated a handed-back conversation.
    #[serde(rename = "chat.rated")]
    ChatRated { customer_id: Uuid, rating: SupportRating },
    #[serde(rename = "presence")]
    Presence { user_id: Uuid, role: Role, online: bool },
    /// To an administrator right after `hello`: every customer online on any notifier instance,
    /// and the other administrators online. `presence` frames tell the changes after it.
    #[serde(rename = "presence.snapshot")]
    PresenceSnapshot { online: Vec<Uuid>, admins: Vec<Uuid> },
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
            ChatEvent::Mode { customer_id, mode, admin_id, previous_admin_id } => {
                ServerFrame::ChatMode { customer_id, mode, admin_id, previous_admin_id }
            }
            ChatEvent::Presence { user_id, online } => ServerFrame::Presence { user_id, role: Role::Client, online },
            ChatEvent::RatingRequest { customer_id, rating } => ServerFrame::ChatRatingRequest { customer_id, rating },
            ChatEvent::Rated { customer_id, rating } => ServerFrame::ChatRated { customer_id, rating },
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

    /// Property tests of the client-frame parser (proptest on stable Rust: cargo-fuzz needs a
    /// nightly toolchain, which CI does not have).
    mod properties {
        use proptest::prelude::*;
        use serde_json::{Value, json};

        use super::*;

        const KNOWN_TYPES: [&str; 3] = ["chat.send", "chat.typing", "chat.read"];

        fn parse(text: &str) -> Result<ClientFrame, serde_json::Error> {
            serde_json::from_str::<ClientFrame>(text)
        }

        fn any_json() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
                any::<String>().prop_map(Value::String),
            ];
            leaf.prop_recursive(3, 16, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::btree_map("type|text|client_id|customer_id|typing|up_to_id|.{0,6}", inner, 0..5)
                        .prop_map(|map| Value::Object(map.into_iter().collect())),
                ]
            })
        }

        fn uuid() -> impl Strategy<Value = Option<Uuid>> {
            prop::option::of(any::<u128>().prop_map(Uuid::from_u128))
        }

        /// A well-formed client frame and its JSON text (with the version and, sometimes, fields
        /// the server does not know, which it ignores).
        fn frame() -> impl Strategy<Value = (ClientFrame, Value)> {
            prop_oneof![
                (any::<String>(), any::<String>(), uuid()).prop_map(|(client_id, text, customer_id)| {
                    let value =
                        json!({"type": "chat.send", "client_id": client_id, "text": text, "customer_id": customer_id});
                    (ClientFrame::ChatSend { client_id, text, customer_id }, value)
                }),
                (any::<bool>(), uuid()).prop_map(|(typing, customer_id)| {
                    let value = json!({"type": "chat.typing", "typing": typing, "customer_id": customer_id});
                    (ClientFrame::ChatTyping { typing, customer_id }, value)
                }),
                (any::<i64>(), uuid()).prop_map(|(up_to_id, customer_id)| {
                    let value = json!({"type": "chat.read", "up_to_id": up_to_id, "customer_id": customer_id});
                    (ClientFrame::ChatRead { up_to_id, customer_id }, value)
                }),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn no_text_makes_the_parser_panic(text in any::<String>()) {
                let _ = parse(&text);
            }

            #[test]
            fn no_json_makes_the_parser_panic(value in any_json()) {
                let _ = parse(&value.to_string());
            }

            #[test]
            fn a_frame_of_an_unknown_type_is_an_error(value in any_json(), kind in any::<String>()) {
                prop_assume!(!KNOWN_TYPES.contains(&kind.as_str()));
                let mut value = value;
                if let Value::Object(members) = &mut value {
                    members.insert("type".into(), Value::String(kind));
                }
                prop_assert!(parse(&value.to_string()).is_err(), "{value} parsed");
            }

            #[test]
            fn a_frame_without_a_type_is_an_error(value in any_json()) {
                let mut value = value;
                if let Value::Object(members) = &mut value {
                    members.remove("type");
                }
                prop_assert!(parse(&value.to_string()).is_err(), "{value} parsed");
            }

            #[test]
            fn a_well_formed_frame_parses_to_what_it_says((expected, value) in frame(), unknown in "[a-z]{1,8}") {
                let mut value = value;
                if let Value::Object(members) = &mut value {
                    members.insert("v".into(), json!(VERSION));
                    members.entry(format!("x_{unknown}")).or_insert(json!(unknown));
                }
                prop_assert_eq!(parse(&value.to_string()).unwrap(), expected);
            }

            #[test]
            fn a_frame_with_a_field_of_the_wrong_type_is_an_error((_, value) in frame(), wrong in any_json()) {
                let Value::Object(mut members) = value else { unreachable!("frames are objects") };
                let field = members.keys().find(|name| *name != "type" && *name != "customer_id").cloned().unwrap();
                let fits = match field.as_str() {
                    "typing" => wrong.is_boolean(),
                    "up_to_id" => wrong.as_i64().is_some(),
                    _ => wrong.is_string(),
                };
                prop_assume!(!fits);
                members.insert(field, wrong);
                let text = Value::Object(members).to_string();
                prop_assert!(parse(&text).is_err(), "{text} parsed");
            }
        }

        #[test]
        fn an_oversize_or_deeply_nested_frame_is_an_error_not_a_crash() {
            // The socket refuses messages over 64 KiB before they reach the parser; the parser
            // itself must still survive whatever gets through, however deep.
            let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
            assert!(parse(&deep).is_err());
            let deep_object = format!(r#"{{"type":"chat.send","text":{}}}"#, "{\"a\":".repeat(10_000));
            assert!(parse(&deep_object).is_err());
            let unknown_and_huge = json!({"type": "chat.upload", "data": "x".repeat(1 << 20)}).to_string();
            assert!(parse(&unknown_and_huge).is_err());
        }
    }
}
