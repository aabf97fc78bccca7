//! The shared state the sessions write and the readers (API, metrics) read: the switch status
//! registry, the dpid claims that arbitrate between connections, what each switch reported
//! (observations, flow readings), and the bridge settings problems seen in Open vSwitch's
//! database (`switch_config`).
//!
//! - [`registry`]: the status table (one [`registry::SwitchStatus`] per switch, from
//!   `switch_status`), forgetting disconnected switches by the queue in `retention` and telling
//!   the other per-dpid state to forget through `forget_sinks`.
//! - [`guard_counters`]: connections and samples refused, by reason.
//! - [`dpid_claims`]: which connection holds each dpid, judged by the takeover rule of
//!   `takeover_rule` (certificate pins, home addresses, a live holder stays), with the conflict
//!   hold-down of `takeover_history`.
//! - [`observations`]: each switch's desired flows (one list shared by the switches that want
//!   the same) and last read flows ([`ActualFlows`]: positions in that list plus counters), its
//!   blocked counters ([`flow_readings`]) and sync durations.
mod actual_flows;
pub mod dpid_claims;
pub mod flow_readings;
mod forget_sinks;
pub mod guard_counters;
pub mod observations;
pub mod peer_identity;
pub mod registry;
mod retention;
pub mod switch_config;
mod switch_status;
mod takeover_history;
mod takeover_rule;

pub use actual_flows::ActualFlows;
pub use flow_readings::{BlockedCounters, FlowReading, OfctlFlow};
pub use observations::{ObservedCounts, SwitchObservation, SwitchObservations};
pub use switch_config::{EndpointReport, ProblemChanges, SwitchConfigProblems};
