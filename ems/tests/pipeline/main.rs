//! The readings pipeline against the real RabbitMQ, NATS and PostgreSQL, with the real `ems`
//! processes: totals equal the ground truth the test computes itself, through duplicates,
//! crashes and departures; bad input is dead-lettered with a reason; strategies hold.

mod balancing;
mod faults;
mod flow;
mod harness;
mod invalid;
mod quorum;
mod simulator;
