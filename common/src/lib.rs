//! What every EMS service shares: typed configuration pieces, telemetry, the PostgreSQL pool and
//! schema, JWT claims, the operations endpoints (`/metrics`, `/livez`, `/readyz`), the shape of a
//! service and the process that runs services (`service`), and graceful shutdown. Services depend on this crate; it depends on none of them.

pub mod broker;
pub mod config;
pub mod contracts;
pub mod db;
pub mod energy;
pub mod http;
pub mod jwt;
pub mod ops;
pub mod retry;
pub mod service;
pub mod shutdown;
pub mod telemetry;
pub mod testing;
pub mod webpush;

pub use jwt::{Claims, JwtKeys, Role};
pub use shutdown::Shutdown;
