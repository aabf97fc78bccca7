//! op25b-swarm: N simulated OpenFlow 1.3 switches (op25b-sim, real loopback TCP) against a
//! real op25b controller, timed from the switch side: cold storm, reconnect storm, reload
//! fan-out, steady state, the growth curve of re-sync cost against policy size, and an
//! outbreak (a storm of samples, [`outbreak`]) and a soak (hours of churn judged on whether the
//! controller comes back to where it was, [`soak`]); over plain TCP or, with `--tls`, mutual TLS
//! (see [`tls_pki`]).
//!
//! A switch counts as in sync when the newest controller message it received (echoes aside)
//! ends a sync (a BARRIER_REQUEST, or the FLOW stats request when nothing needed sending), came
//! after the scenario began, and its table then holds exactly the flows that
//! `op25b::flows::desired_flows` gives for the same policy file; and the controller's own API
//! confirms it in sync at the current policy generation ([`judge`]).
pub mod api_probe;
pub mod controller_log;
pub mod controller_process;
pub mod echo_floor;
pub mod error;
pub mod expected;
pub mod fleet;
pub mod judge;
pub mod latency;
pub mod listen_drops;
pub mod open_files;
pub mod outbreak;
pub mod outbreak_mix;
pub mod policy_text;
pub mod proc_stats;
pub mod report;
pub mod scenarios;
pub mod soak;
pub mod soak_judge;
pub mod storm_result;
pub mod tls_pki;

pub use error::SwarmError;
pub use scenarios::{run_growth, run_storms, Attach, Options, StormsReport};
