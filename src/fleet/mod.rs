//! The shared state the sessions write and the readers (API, metrics) read: the switch status
//! registry, the dpid claims that arbitrate between connections, and what each switch reported
//! (observations, flow readings).
pub mod dpid_claims;
pub mod flow_readings;
mod forget_sinks;
pub mod observations;
pub mod registry;
mod retention;
mod switch_status;
mod takeover_history;

pub use flow_readings::{BlockedCounters, FlowReading, OfctlFlow};
pub use observations::{ObservedCounts, SwitchObservation, SwitchObservations};
