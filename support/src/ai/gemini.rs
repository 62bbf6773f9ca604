//! Google's Gemini `generateContent` wire format.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AiError, ChatModel, ChatRole, Endpoint, Prompt, non_empty, read_json, transport};

pub struct Gemini {
    endpoint: Endpoint,
    url: String,
}

impl Gemini {
    pub fn new(endpoint: Endpoint) -> Self {
        let url = format!("{}/v1beta/models/{}:generateContent", endpoint.base_url, endpoint.model);
        Self { endpoint, url }
    }
}

#[derive(Deserialize)]
struct Generated {
    #[serde(default)]
    candidates: Vec<Candidate>,
}

#[derive(Deserialize)]
struct Candidate {
    /// Missing when generation stopped before any text (e.g. for safety).
    content: Option<Content>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
struct Part {
    text: Option<String>,
}

/// Gemini wants the conversation as alternating `user` and `model` turns, so consecutive
/// messages of one side (an assistant answer, then an administrator's) become one turn.
fn contents(prompt: &Prompt) -> Vec<Value> {
    let mut turns: Vec<(&str, Vec<Value>)> = Vec::new();
    for message in &prompt.messages {
        let role = match message.role {
            ChatRole::User => "user",
            ChatRole::Assistant => "model",
        };
        let part = json!({ "text": message.content });
        match turns.last_mut() {
            Some((last, parts)) if *last == role => parts.push(part),
            _ => turns.push((role, vec![part])),
        }
    }
    turns.into_iter().map(|(role, parts)| json!({ "role": role, "parts": parts })).collect()
}

#[async_trait]
impl ChatModel for Gemini {
    async fn reply(&self, prompt: &Prompt) -> Result<String, AiError> {
        let body = json!({
            "systemInstruction": { "parts": [{ "text": prompt.system }] },
            "contents": contents(prompt),
        });
        let mut request = self.endpoint.http.post(&self.url).json(&body);
        if let Some(key) = &self.endpoint.api_key {
            request = request.header("x-goog-api-key", key);
        }
        let generated: Generated = read_json(request.send().await.map_err(transport)?).await?;
        let candidate =
            generated.candidates.into_iter().next().ok_or_else(|| AiError::Malformed("no candidates".into()))?;
        let parts = candidate.content.map(|content| content.parts).unwrap_or_default();
        non_empty(parts.into_iter().filter_map(|part| part.text).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::Message;

    #[test]
    fn consecutive_messages_of_one_side_become_one_turn() {
        let message = |role, content: &str| Message { role, content: content.into() };
        let prompt = Prompt {
            system: "system".into(),
            messages: vec![
                message(ChatRole::User, "hello"),
                message(ChatRole::Assistant, "hi"),
                message(ChatRole::Assistant, "an administrator here"),
                message(ChatRole::User, "thanks"),
            ],
        };
        let roles: Vec<_> = contents(&prompt).iter().map(|turn| turn["role"].as_str().unwrap().to_owned()).collect();
        assert_eq!(roles, ["user", "model", "user"]);
        assert_eq!(contents(&prompt)[1]["parts"].as_array().unwrap().len(), 2);
    }
}
