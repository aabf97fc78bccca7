//! The controller: the listener, the registry of switches, dpid arbitration, policy reload.
pub mod active_policy;
pub mod dpid_claims;
pub mod listener;
pub mod policy_store;
pub mod registry;
pub mod reload;
pub mod runtime;

#[cfg(test)]
mod reload_tests;
