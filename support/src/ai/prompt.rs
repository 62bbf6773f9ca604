//! The grounded prompt: who the assistant is, what it may talk about, the customer's own figures,
//! and the last turns of the conversation. The model is told to use only these figures, so what
//! it says about the customer's consumption can be checked against the database.

use std::fmt::Write;

use chrono::NaiveDate;

use crate::{
    data::{DeviceSummary, OpenAlerts},
    facts::kwh,
    support::{Customer, Speaker, Turn},
};

/// Earlier turns the model sees; enough to follow a conversation, short enough to stay cheap.
const HISTORY_TURNS: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatRole {
    User,
    Assistant,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub role: ChatRole,
    pub content: String,
}

/// What a model is asked: instructions with the customer's data, then the conversation ending
/// with the customer's new message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    pub system: String,
    pub messages: Vec<Message>,
}

/// The customer's data the model may use.
pub struct Grounding<'a> {
    pub customer: &'a Customer,
    pub today: NaiveDate,
    pub devices: &'a [DeviceSummary],
    pub alerts: &'a OpenAlerts,
}

impl Prompt {
    pub(crate) fn grounded(grounding: &Grounding<'_>, history: &[Turn], message: &str) -> Self {
        let recent = &history[history.len().saturating_sub(HISTORY_TURNS)..];
        // A conversation shown to a model should open with the customer; some providers reject
        // one that opens with the assistant.
        let recent = recent.iter().skip_while(|turn| turn.from != Speaker::Customer);
        let mut messages: Vec<Message> = recent
            .map(|turn| Message {
                role: if turn.from == Speaker::Customer { ChatRole::User } else { ChatRole::Assistant },
                content: turn.text.clone(),
            })
            .collect();
        messages.push(Message { role: ChatRole::User, content: message.to_owned() });
        Self { system: system(grounding), messages }
    }
}

fn system(grounding: &Grounding<'_>) -> String {
    let Grounding { customer, today, devices, alerts } = grounding;
    let mut text = format!(
        "You are the support assistant of EMS, an energy management service, chatting with the customer {name}.\n\
         Answer briefly, in at most three sentences, in the customer's language (English or Romanian).\n\
         Only answer about this customer's energy use, their devices and the EMS service; for anything else, \
         say politely that you can only help with EMS.\n\
         Use only the figures below and never invent any. If you cannot help, say that an administrator \
         will reply in this chat.\n\n\
         Today is {today} (UTC).\n",
        name = customer.name
    );
    if devices.is_empty() {
        text.push_str("The customer has no devices yet.\n");
    } else {
        text.push_str(
            "The customer's devices, with their hourly limit and their consumption today and yesterday (UTC):\n",
        );
        for device in *devices {
            let _ = writeln!(
                text,
                "- {}: limit {} kWh per hour; today {} kWh; yesterday {} kWh",
                device.name,
                kwh(device.max_hourly_kwh),
                kwh(device.today_kwh),
                kwh(device.yesterday_kwh)
            );
        }
    }
    match &alerts.latest {
        None => text.push_str("The customer has no open (unacknowledged) alerts.\n"),
        Some(latest) => {
            let _ = writeln!(
                text,
                "Open (unacknowledged) alerts: {}. The latest is about {}, for the hour from {}: {}",
                alerts.count,
                latest.device_name,
                latest.hour.format("%Y-%m-%d %H:%M UTC"),
                latest.message
            );
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn turn(from: Speaker, text: &str) -> Turn {
        Turn { from, text: text.into() }
    }

    #[test]
    fn the_prompt_carries_the_devices_the_recent_turns_and_the_new_message() {
        let customer = Customer { id: Uuid::nil(), name: "Ana".into() };
        let devices =
            [DeviceSummary { name: "Heat pump".into(), max_hourly_kwh: 2.5, today_kwh: 12.25, yesterday_kwh: 20.0 }];
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let grounding = Grounding { customer: &customer, today, devices: &devices, alerts: &OpenAlerts::default() };
        let history: Vec<Turn> = std::iter::once(turn(Speaker::Assistant, "welcome"))
            .chain((0..10).map(|index| {
                turn(if index % 2 == 0 { Speaker::Customer } else { Speaker::Administrator }, &index.to_string())
            }))
            .collect();
        let prompt = Prompt::grounded(&grounding, &history, "why so much?");
        assert!(prompt.system.contains("- Heat pump: limit 2.5 kWh per hour; today 12.25 kWh; yesterday 20 kWh"));
        assert!(prompt.system.contains("Today is 2026-03-01 (UTC)") && prompt.system.contains("no open"));
        let contents: Vec<&str> = prompt.messages.iter().map(|message| message.content.as_str()).collect();
        assert_eq!(contents, ["2", "3", "4", "5", "6", "7", "8", "9", "why so much?"]);
        assert_eq!(prompt.messages[0].role, ChatRole::User);
        assert_eq!(prompt.messages[1].role, ChatRole::Assistant);
    }
}
