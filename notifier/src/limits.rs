//! What one client may send, per connection. A person types, sends and reads far below these
//! rates; a script does not, and what it sends fans out to every administrator, so:
//! - every frame counts against a generous budget ([`FRAMES`]); a client past it is flagrantly
//!   abusing the connection and is closed (4029);
//! - `chat.typing` is coalesced per conversation: at most one is forwarded per
//!   [`TYPING_EVERY`]; the state last asked for meanwhile follows when that time is up (unless it
//!   is the one already forwarded), so the indicator always ends right;
//! - `chat.send` and `chat.read` have a burst and a sustained rate ([`SENDS`], [`READS`]); past
//!   it the frame is refused with an error frame (`rate_limited`) and the connection stays.
//!
//! The limits are GCRA rate limiters from `governor`; each connection's live in its own task.

use std::{collections::HashMap, num::NonZeroU32, time::Duration};

use governor::{
    DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};
use tokio::time::Instant;
use uuid::Uuid;

const fn nonzero(value: u32) -> NonZeroU32 {
    NonZeroU32::new(value).expect("not zero")
}

/// Every frame: 100 at once, then 20 a second.
pub const FRAMES: Quota = Quota::per_second(nonzero(20)).allow_burst(nonzero(100));
/// `chat.send`: 10 at once (an outbox flushed after a reconnection), then 1 a second.
pub const SENDS: Quota = Quota::per_second(nonzero(1)).allow_burst(nonzero(10));
/// `chat.read`: as `chat.send`.
pub const READS: Quota = SENDS;
/// At most one typing frame forwarded per conversation this often.
pub const TYPING_EVERY: Duration = Duration::from_secs(1);
/// Conversations whose typing state a connection remembers before it forgets the idle ones.
const TYPING_CONVERSATIONS: usize = 64;

/// What to do with a typing frame.
#[derive(Debug, PartialEq, Eq)]
pub enum TypingDecision {
    /// Forward it now.
    Forward,
    /// Held back; [`ClientLimits::due_typing`] gives it (or a later state) when its time comes.
    Coalesced,
}

pub struct ClientLimits {
    frames: DefaultDirectRateLimiter,
    sends: DefaultDirectRateLimiter,
    reads: DefaultDirectRateLimiter,
    typing: DefaultKeyedRateLimiter<Uuid>,
    /// Per conversation, the typing state last forwarded.
    typing_forwarded: HashMap<Uuid, bool>,
    /// Per conversation, the typing state held back and when it may go.
    typing_pending: HashMap<Uuid, (bool, Instant)>,
}

impl Default for ClientLimits {
    fn default() -> Self {
        Self {
            frames: RateLimiter::direct(FRAMES),
            sends: RateLimiter::direct(SENDS),
            reads: RateLimiter::direct(READS),
            typing: RateLimiter::keyed(Quota::with_period(TYPING_EVERY).expect("a period above zero")),
            typing_forwarded: HashMap::new(),
            typing_pending: HashMap::new(),
        }
    }
}

impl ClientLimits {
    /// False when the client is past the budget of every frame: flagrant abuse.
    pub fn frame(&self) -> bool {
        self.frames.check().is_ok()
    }

    pub fn send(&self) -> bool {
        self.sends.check().is_ok()
    }

    pub fn read(&self) -> bool {
        self.reads.check().is_ok()
    }

    pub fn typing(&mut self, conversation: Uuid, typing: bool) -> TypingDecision {
        match self.typing.check_key(&conversation) {
            Ok(()) => {
                self.typing_pending.remove(&conversation);
                self.forwarded(conversation, typing);
                TypingDecision::Forward
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                self.typing_pending.insert(conversation, (typing, Instant::now() + wait));
                TypingDecision::Coalesced
            }
        }
    }

    /// When the next held-back typing state may go, if any is held back.
    pub fn next_typing_due(&self) -> Option<Instant> {
        self.typing_pending.values().map(|(_, due)| *due).min()
    }

    /// The held-back typing states whose time has come, to forward now: each conversation's
    /// latest, and only where it changes what was forwarded last.
    pub fn due_typing(&mut self) -> Vec<(Uuid, bool)> {
        let now = Instant::now();
        let ready: Vec<(Uuid, bool)> = self
            .typing_pending
            .iter()
            .filter(|(_, (_, due))| *due <= now)
            .map(|(conversation, (typing, _))| (*conversation, *typing))
            .collect();
        let mut due = Vec::new();
        for (conversation, typing) in ready {
            if self.typing.check_key(&conversation).is_err() {
                // The clocks disagree by a hair: try again a little later.
                self.typing_pending.insert(conversation, (typing, now + Duration::from_millis(10)));
                continue;
            }
            self.typing_pending.remove(&conversation);
            if self.typing_forwarded.get(&conversation) != Some(&typing) {
                self.forwarded(conversation, typing);
                due.push((conversation, typing));
            }
        }
        due
    }

    fn forwarded(&mut self, conversation: Uuid, typing: bool) {
        if self.typing_forwarded.len() >= TYPING_CONVERSATIONS && !self.typing_forwarded.contains_key(&conversation) {
            // An administrator typing in many conversations: forget those with nothing held back.
            let pending = &self.typing_pending;
            self.typing_forwarded.retain(|kept, _| pending.contains_key(kept));
            self.typing.retain_recent();
        }
        self.typing_forwarded.insert(conversation, typing);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_messages_have_a_burst_then_a_sustained_rate() {
        let limits = ClientLimits::default();
        let accepted = (0..20).filter(|_| limits.send()).count();
        assert_eq!(accepted, 10);
        assert!(limits.read(), "read receipts have their own budget");
    }

    #[test]
    fn every_frame_counts_against_the_abuse_budget() {
        let limits = ClientLimits::default();
        let accepted = (0..1000).filter(|_| limits.frame()).count();
        assert!((100..=102).contains(&accepted), "{accepted}");
    }

    #[tokio::test]
    async fn typing_is_forwarded_once_then_its_latest_state_when_the_second_is_up() {
        let mut limits = ClientLimits::default();
        let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(limits.typing(ana, true), TypingDecision::Forward);
        assert_eq!(limits.typing(ben, true), TypingDecision::Forward, "each conversation on its own");
        for typing in [false, true, false] {
            assert_eq!(limits.typing(ana, typing), TypingDecision::Coalesced);
        }
        assert!(limits.due_typing().is_empty(), "nothing before its time");
        let due = limits.next_typing_due().expect("a state held back");
        assert!(due <= Instant::now() + TYPING_EVERY);
        tokio::time::sleep_until(due).await;
        assert_eq!(limits.due_typing(), vec![(ana, false)]);
        assert_eq!(limits.next_typing_due(), None);
    }

    #[tokio::test]
    async fn a_held_back_state_equal_to_the_one_forwarded_is_not_sent_again() {
        let mut limits = ClientLimits::default();
        let ana = Uuid::new_v4();
        assert_eq!(limits.typing(ana, true), TypingDecision::Forward);
        assert_eq!(limits.typing(ana, true), TypingDecision::Coalesced);
        tokio::time::sleep_until(limits.next_typing_due().unwrap()).await;
        assert!(limits.due_typing().is_empty());
    }
}
