//! The readings pipeline against the real RabbitMQ, NATS and PostgreSQL, with the real `ems`
//! processes: totals equal the ground truth the test computes itself, through duplicates,
//! crashes and departures; bad input is dead-lettered with a reason; strategies hold; readings
//! published over MQTT go the same way.

mod balancing;
mod faults;
mod flow;
mod harness;
mod invalid;
mod mqtt;
mod quorum;
mod simulator;
