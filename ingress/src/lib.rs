//! Ingress: what a reading is on the wire and which ones are accepted, the RabbitMQ queues
//! readings travel through, and the simulator fleet that stands in for meters.

pub mod fleet;
pub mod reading;
pub mod simulate;

pub mod topology;

pub use reading::{Reading, Rejection};
