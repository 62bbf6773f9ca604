//! Integration tests of the support library: the built-in rules, answers from a customer's data
//! in a real PostgreSQL database, matching by meaning with the embedding model, the AI providers
//! against local servers speaking their wire formats, every way a conversation reaches an
//! administrator, and the service itself over real JetStream answering several customers at once.
//! One binary, so it links once.

mod assignment;
mod conversations;
mod escalation;
mod gemini;
mod helpers;
mod inbox;
mod openai;
mod provider;
mod rules;
mod rules_file;
mod seeded_data;
mod semantic;
