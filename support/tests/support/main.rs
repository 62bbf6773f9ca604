//! Integration tests of the support library: the built-in rules, answers from a customer's data
//! in a real PostgreSQL database, the AI providers against local servers speaking their wire
//! formats, and every way a conversation reaches an administrator. One binary, so it links once.

mod escalation;
mod gemini;
mod helpers;
mod openai;
mod provider;
mod rules;
mod rules_file;
mod seeded_data;
