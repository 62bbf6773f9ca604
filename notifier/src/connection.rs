//! One WebSocket connection: authenticate, say hello, replay missed alerts, then forward the
//! user's events while taking chat frames from the client (within the limits of `limits`), with
//! keep-alive pings and an idle timeout. The connection is one task; an idle one holds little
//! more than its small buffers.

use std::time::{Duration, Instant};

use axum::{
    extract::{
        Query, State, WebSocketUpgrade,
        rejection::QueryRejection,
        ws::{CloseFrame, Message, Utf8Bytes, WebSocket, rejection::WebSocketUpgradeRejection},
    },
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use ems_common::{
    Claims, Role,
    contracts::{AlertEvent, ChatEvent, ChatInbound},
};
use ems_web::error::ApiError;
use futures::{
    SinkExt, StreamExt,
    stream::{SplitSink, SplitStream},
};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    NotifierState,
    limits::{ClientLimits, TypingDecision},
    protocol::{ClientFrame, ServerFrame, close},
};

const MAX_TEXT_CHARS: usize = 4000;
/// How long a closing connection waits for the client's answering close frame.
const CLOSE_HANDSHAKE: Duration = Duration::from_secs(2);
const MAX_CLIENT_ID_CHARS: usize = 64;

#[derive(Debug, Deserialize)]
pub struct WsQuery {
    /// A single-use ticket from `POST /api/ws-ticket` (browsers cannot set headers on a WebSocket).
    ticket: Option<String>,
    /// Refused: an access token in a URL ends up in logs. Read only to say what to do instead.
    access_token: Option<String>,
    /// The id of the last alert the client saw; alerts after it are replayed first.
    last_alert_id: Option<i64>,
}

/// Why a connection may not carry its access token in the URL, and what to do instead.
const NO_TOKEN_IN_URL: &str = "access_token in the URL is refused (URLs are logged): get a ticket from POST /api/ws-ticket, connect to /ws?ticket=";
/// What a connection without credentials is told (a close reason: at most 123 bytes).
const NO_TICKET: &str = "no ticket: get one from POST /api/ws-ticket, connect to /ws?ticket=<ticket>; programs may send Authorization: Bearer";

/// `GET /ws`. What is refused before the upgrade (not a WebSocket handshake, a malformed query)
/// is answered with the API's JSON error body; a bad token after it, with a close frame.
pub async fn upgrade(
    websocket: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    State(state): State<NotifierState>,
    query: Result<Query<WsQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let websocket = match websocket {
        Ok(websocket) => websocket,
        Err(rejection) => {
            // The shape of an API error, with the status axum chose (405, 426 or 400).
            let status = rejection.status();
            let mut response =
                ApiError::BadRequest(format!("{}: open /ws as a WebSocket", rejection.body_text())).into_response();
            *response.status_mut() = status;
            return response;
        }
    };
    let query = match query {
        Ok(Query(query)) => query,
        Err(rejection) => return ApiError::from(rejection).into_response(),
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::to_owned);
    let claims = match (query.access_token.is_some(), query.ticket, bearer) {
        (true, _, _) => Err(NO_TOKEN_IN_URL.to_owned()),
        (false, Some(ticket), _) => ems_web::tickets::redeem(&state.pool, &ticket).await.map_err(refusal),
        (false, None, Some(token)) => state.jwt.verify(&token).map_err(|error| error.to_string()),
        (false, None, None) => Err(NO_TICKET.to_owned()),
    };
    // A deleted account, or one whose role or password changed after the token (or the token the
    // ticket was issued for) was issued, is refused.
    let verified = match claims {
        Err(reason) => Err(reason),
        Ok(claims) => state.accounts.check(&state.pool, &claims).await.map(|()| claims).map_err(refusal),
    };
    websocket
        .read_buffer_size(state.settings.buffer_bytes)
        .write_buffer_size(0)
        .max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
        .on_upgrade(move |socket| async move {
            match verified {
                Ok(claims) => serve(socket, state, claims, query.last_alert_id).await,
                Err(reason) => {
                    let mut socket = socket;
                    let _ = socket.send(close_message(close::UNAUTHORIZED, &reason)).await;
                }
            }
        })
}

/// The close reason for a refused connection: the reason itself when the credentials were at
/// fault; when they could not be checked (the database is away), a notice, and the cause logged.
fn refusal(error: ApiError) -> String {
    match error {
        ApiError::Unauthorized(reason) => reason,
        other => {
            tracing::warn!(error = %other, "checking a WebSocket's credentials failed");
            "the server could not check the credentials just now; reconnect in a moment".to_owned()
        }
    }
}

fn close_message(code: u16, reason: &str) -> Message {
    // A close reason may be at most 123 bytes.
    let mut reason = reason.to_owned();
    while reason.len() > 123 {
        reason.pop();
    }
    Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from(reason) }))
}

async fn send(sink: &mut SplitSink<WebSocket, Message>, frame: &ServerFrame, state: &NotifierState) -> bool {
    timed_send(sink, Message::Text(Utf8Bytes::from(frame.to_text())), state.settings.send_timeout).await
}

/// Sleeps until `due`, or forever when there is nothing due.
async fn until(due: Option<tokio::time::Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

async fn serve(socket: WebSocket, state: NotifierState, claims: Claims, last_alert_id: Option<i64>) {
    let (user, role) = (claims.sub, claims.role);
    // Registered first, then the snapshot read: a change in between is both in the snapshot and
    // queued after it, never lost (see `presence`).
    let mut registration = state.hub.register(user, role);
    let mut limits = ClientLimits::default();
    let (mut sink, mut stream) = socket.split();
    let mut open = send(&mut sink, &ServerFrame::Hello { user_id: user, role }, &state).await;
    if open && role == Role::Admin {
        let (online, admins) = state.presence.snapshot_for(user);
        open = send(&mut sink, &ServerFrame::PresenceSnapshot { online, admins }, &state).await;
    }
    if open && let Some(after) = last_alert_id {
        open = replay(&state, &mut sink, user, after).await;
    }

    let mut last_heard = Instant::now();
    let mut pings = tokio::time::interval(state.settings.ping_interval);
    pings.tick().await;
    while open {
        tokio::select! {
            () = state.shutdown.requested() => {
                close_with(&mut sink, &mut stream, 1001, "the server is restarting; reconnect", &state).await;
                break;
            }
            () = registration.revoked.notified() => {
                let reason = "your account was changed; sign in again";
                close_with(&mut sink, &mut stream, close::UNAUTHORIZED, reason, &state).await;
                break;
            }
            frame = registration.frames.recv() => match frame {
                Some(text) => open = timed_send(&mut sink, Message::Text(text), state.settings.send_timeout).await,
                None => {
                    let reason = "too slow to receive events; reconnect with last_alert_id to catch up";
                    close_with(&mut sink, &mut stream, close::TOO_SLOW, reason, &state).await;
                    break;
                }
            },
            incoming = stream.next() => match incoming {
                Some(Ok(message)) => {
                    last_heard = Instant::now();
                    if matches!(message, Message::Close(_)) {
                        break;
                    }
                    if !limits.frame() {
                        tracing::warn!(%user, "a client sent frames far too fast; closing it");
                        metrics::counter!("notifier_abuse_disconnects_total").increment(1);
                        let reason = "too many frames; reconnect later and send less";
                        close_with(&mut sink, &mut stream, close::TOO_MANY_FRAMES, reason, &state).await;
                        break;
                    }
                    if let Message::Text(text) = message
                        && let Some(reply) = handle_client_frame(&state, &claims, &mut limits, text.as_str()).await
                    {
                        open = send(&mut sink, &reply, &state).await;
                    }
                }
                _ => break,
            },
            () = until(limits.next_typing_due()) => {
                for (customer_id, typing) in limits.due_typing() {
                    publish_typing(&state, &claims, customer_id, typing).await;
                }
            }
            _ = pings.tick() => {
                if last_heard.elapsed() > state.settings.idle_timeout {
                    close_with(&mut sink, &mut stream, close::IDLE, "nothing heard from the client for too long", &state).await;
                    break;
                }
                open = timed_send(&mut sink, Message::Ping(Default::default()), state.settings.send_timeout).await;
            }
        }
    }
    // The hub tells presence when this was the customer's last connection here.
    registration.leave();
}

/// Sends a close frame and waits briefly for the client's answering close, as the WebSocket
/// closing handshake asks, so the client reads our reason instead of a broken connection.
async fn close_with(
    sink: &mut SplitSink<WebSocket, Message>,
    stream: &mut SplitStream<WebSocket>,
    code: u16,
    reason: &str,
    state: &NotifierState,
) {
    if !timed_send(sink, close_message(code, reason), state.settings.send_timeout).await {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_HANDSHAKE, async {
        while let Some(Ok(message)) = stream.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// A send that gives up on a client that stopped reading, instead of holding its task forever.
async fn timed_send(sink: &mut SplitSink<WebSocket, Message>, message: Message, limit: Duration) -> bool {
    matches!(tokio::time::timeout(limit, sink.send(message)).await, Ok(Ok(())))
}

/// Sends the user's alerts after `after`, oldest first: the newest `replay_limit` of them (not
/// those raised while their device was snoozed, which were never pushed live either). When
/// there are more, a `replay.truncated` frame goes first, so the client loads the older ones from
/// the API instead of silently missing them (or the newest, had the oldest been replayed).
async fn replay(state: &NotifierState, sink: &mut SplitSink<WebSocket, Message>, user: Uuid, after: i64) -> bool {
    let limit = state.settings.replay_limit;
    // One row more than the limit tells whether older ones are left out.
    let query = format!(
        "{} WHERE a.user_id = $1 AND a.id > $2 AND NOT a.snoozed ORDER BY a.id DESC LIMIT $3",
        AlertEvent::select("")
    );
    let missed =
        sqlx::query_as::<_, AlertEvent>(&query).bind(user).bind(after).bind(limit + 1).fetch_all(&state.pool).await;
    let mut missed = match missed {
        Ok(rows) => rows,
        Err(error) => {
            tracing::warn!(%error, "replaying missed alerts failed");
            return send(
                sink,
                &ServerFrame::Error {
                    code: "replay_failed".into(),
                    message: "missed alerts could not be loaded; see the alert list".into(),
                },
                state,
            )
            .await;
        }
    };
    if missed.len() as i64 > limit {
        missed.pop();
        let oldest_replayed_id = missed.last().map(|alert| alert.id);
        metrics::counter!("notifier_replays_truncated_total").increment(1);
        if !send(sink, &ServerFrame::ReplayTruncated { after_id: after, oldest_replayed_id }, state).await {
            return false;
        }
    }
    for alert in missed.into_iter().rev() {
        if !send(sink, &ServerFrame::Alert { alert }, state).await {
            return false;
        }
    }
    true
}

/// Tells the other side of `customer_id`'s conversation that this user is typing (or stopped).
async fn publish_typing(state: &NotifierState, claims: &Claims, customer_id: Uuid, typing: bool) {
    let event = ChatEvent::Typing { customer_id, role: claims.role, user_id: claims.sub, typing };
    let subject = match claims.role {
        Role::Client => state.names.chat_admins_subject(),
        Role::Admin => state.names.chat_user_subject(customer_id),
    };
    state.publish_event(&subject, &event).await;
}

fn error(code: &str, message: impl Into<String>) -> Option<ServerFrame> {
    Some(ServerFrame::Error { code: code.into(), message: message.into() })
}

fn rate_limited(what: &str) -> Option<ServerFrame> {
    error("rate_limited", format!("too many {what} at once (10, then 1 a second); send it again in a moment"))
}

/// Acts on one client frame; returns the frame to answer with, if any. A customer can only ever
/// act in their own conversation, whatever ids the frame carries.
async fn handle_client_frame(
    state: &NotifierState,
    claims: &Claims,
    limits: &mut ClientLimits,
    text: &str,
) -> Option<ServerFrame> {
    let frame = match serde_json::from_str::<ClientFrame>(text) {
        Ok(frame) => frame,
        Err(problem) => return error("bad_frame", format!("not a frame this server understands: {problem}")),
    };
    // A customer's conversation is always their own; an administrator names the customer's.
    let conversation = |named: Option<Uuid>| match claims.role {
        Role::Client => Some(claims.sub),
        Role::Admin => named,
    };
    const NAME_THE_CUSTOMER: &str = "administrators must give the customer_id of the conversation";
    match frame {
        ClientFrame::ChatSend { client_id, text, customer_id } => {
            let Some(customer_id) = conversation(customer_id) else {
                return error("bad_frame", NAME_THE_CUSTOMER);
            };
            let trimmed = text.trim();
            if trimmed.is_empty() || trimmed.chars().count() > MAX_TEXT_CHARS {
                return error("bad_frame", format!("a message must have 1 to {MAX_TEXT_CHARS} characters"));
            }
            if client_id.is_empty() || client_id.chars().count() > MAX_CLIENT_ID_CHARS {
                return error("bad_frame", format!("client_id must have 1 to {MAX_CLIENT_ID_CHARS} characters"));
            }
            if !limits.send() {
                return rate_limited("messages");
            }
            let inbound = ChatInbound::Message {
                customer_id,
                sender_id: claims.sub,
                sender_role: claims.role,
                client_id: client_id.clone(),
                text: trimmed.to_owned(),
            };
            // The same message id within the stream's duplicate window is stored once.
            let message_id = format!("{}:{client_id}", claims.sub);
            match state.send_inbound(&inbound, &message_id).await {
                Ok(()) => Some(ServerFrame::Ack { client_id }),
                Err(problem) => {
                    tracing::warn!(error = %problem, "a chat message could not be queued");
                    error("not_sent", "the message could not be sent; send it again with the same client_id")
                }
            }
        }
        ClientFrame::ChatTyping { typing, customer_id } => {
            let Some(customer_id) = conversation(customer_id) else {
                return error("bad_frame", NAME_THE_CUSTOMER);
            };
            if limits.typing(customer_id, typing) == TypingDecision::Forward {
                publish_typing(state, claims, customer_id, typing).await;
            }
            None
        }
        ClientFrame::ChatRead { up_to_id, customer_id } => {
            let Some(customer_id) = conversation(customer_id) else {
                return error("bad_frame", NAME_THE_CUSTOMER);
            };
            if !limits.read() {
                return rate_limited("read receipts");
            }
            let inbound = ChatInbound::Read { customer_id, reader_role: claims.role, up_to_id };
            let message_id = format!("read:{}:{customer_id}:{up_to_id}", claims.sub);
            match state.send_inbound(&inbound, &message_id).await {
                Ok(()) => None,
                Err(_) => error("not_sent", "the read receipt could not be sent"),
            }
        }
    }
}
