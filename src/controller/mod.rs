//! The controller: the listener, the registry of switches, dpid arbitration, policy reload.
pub mod dpid_claims;
pub mod listener;
pub mod registry;
