//! The OpenAI chat-completions wire format, which most providers and local servers speak:
//! OpenAI, Mistral, Hugging Face's router, Ollama, llama.cpp and vLLM.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::{AiError, ChatModel, ChatRole, Endpoint, Prompt, non_empty, read_json, transport};

pub struct OpenAi {
    endpoint: Endpoint,
    url: String,
}

impl OpenAi {
    pub fn new(endpoint: Endpoint) -> Self {
        let url = format!("{}/chat/completions", endpoint.base_url);
        Self { endpoint, url }
    }
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: ReplyMessage,
}

#[derive(Deserialize)]
struct ReplyMessage {
    content: Option<String>,
}

#[async_trait]
impl ChatModel for OpenAi {
    async fn reply(&self, prompt: &Prompt) -> Result<String, AiError> {
        let system = json!({ "role": "system", "content": prompt.system });
        let turns = prompt.messages.iter().map(|message| {
            let role = match message.role {
                ChatRole::User => "user",
                ChatRole::Assistant => "assistant",
            };
            json!({ "role": role, "content": message.content })
        });
        let body = json!({
            "model": self.endpoint.model,
            "messages": std::iter::once(system).chain(turns).collect::<Vec<_>>(),
            "stream": false,
        });
        let mut request = self.endpoint.http.post(&self.url).json(&body);
        if let Some(key) = &self.endpoint.api_key {
            request = request.bearer_auth(key);
        }
        let completion: Completion = read_json(request.send().await.map_err(transport)?).await?;
        let choice = completion.choices.into_iter().next().ok_or_else(|| AiError::Malformed("no choices".into()))?;
        non_empty(choice.message.content.unwrap_or_default())
    }
}
