//! Desired flows vs what the switch reports -> an ordered, hitless change plan (pure).
//!
//! Use: read our flows with [`crate::flows::our_flows_request`], normalise the reply's entries
//! into [`crate::flows::ReportedFlow`]s (the session does it part by part as the reply arrives),
//! pass them to [`reconcile`], send [`ChangePlan::flow_mods`] batch by batch with a BARRIER after
//! each.
mod plan;

pub use plan::{reconcile, Batch, BatchPurpose, Change, ChangePlan};

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;
