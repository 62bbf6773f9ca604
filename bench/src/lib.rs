//! Benchmarks that print figures rather than pass or fail: each measures the raw broker baseline
//! in the same run, so the result is a ratio that means something on any machine.

pub mod file_limit;
pub mod forecast;
pub mod history;
pub mod pipeline;
mod stats;
pub mod ws;
