//! I/O edge: a small OVSDB client (RFC 7047, JSON-RPC over a unix or TCP socket) that reads
//! Open vSwitch's `Bridge`, `Controller` and `Open_vSwitch` tables into
//! [`crate::doctor::SwitchDatabase`] records, once or continuously with `monitor`.
//!
//! - `framing.rs`: finds each JSON text in the stream (pure).
//! - `datum.rs`: OVSDB's set/map/uuid encodings (pure).
//! - `replica.rs`: the monitored rows, kept current from table updates (pure).
//! - `connection.rs`: the JSON-RPC connection; answers the server's `echo`.
//! - `monitor.rs`: [`read_database`] and [`VswitchMonitor`].
//!
//! Built on `serde_json` and tokio only: the OVSDB crates on the registry are early work in
//! progress, and three tables need little. `ssl:` endpoints are refused when parsed
//! ([`crate::policy::OvsdbEndpoint`]).
mod connection;
mod datum;
mod error;
mod framing;
mod monitor;
mod replica;

#[cfg(test)]
mod monitor_tests;

pub use error::OvsdbError;
pub use monitor::{read_database, VswitchMonitor, KEEPALIVE};
