//! op25b: an OpenFlow 1.3 controller enforcing Outbound Port 25 Blocking (OP25B).
//!
//! Pure cores, I/O at the edges:
//! - [`policy`]: the operator's TOML file, parsed into a validated [`policy::Policy`].
//! - [`flows`]: policy x switch -> the desired flow set (pure).
//! - [`reconcile`]: desired vs actual -> an ordered, hitless change plan (pure).
//! - [`session`]: one task per switch connection; moves bytes, runs timers, calls the cores.
//! - [`controller`]: the listener, the registry of switches, reload and audit.
//! - [`offenders`]: sampled blocked attempts -> likely infected subscribers.
//! - [`offender_service`]: the async task feeding PACKET_IN samples to the offender table.
//! - [`metrics`]: Prometheus metrics from the registry, flow counters and offender stats.
//! - [`api`]: the HTTP API (JSON and `/metrics`).
pub mod api;
pub mod cli;
pub mod controller;
pub mod flows;
pub mod metrics;
pub mod offender_service;
pub mod offenders;
pub mod policy;
pub mod reconcile;
pub mod session;
