//! Integration tests of the web API against the real PostgreSQL, each test with its own freshly
//! migrated database and a server on port 0. One test binary, so it links once.

mod accounts;
mod auth;
mod chat;
mod compression;
mod consumption;
mod costs;
mod devices;
mod edge;
mod fuzz;
mod helpers;
mod incidents;
mod openapi;
mod operations;
mod push;
mod support_admins;
mod throttle;
mod tickets;
mod time_zones;
mod users;
