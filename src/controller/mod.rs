//! The controller: the OpenFlow listener and runtime, the policy store and its reloads, and
//! the offender service.
pub mod listener;
pub mod offender_service;
pub mod policy_store;
pub mod reload;
pub mod reporting_reload;
pub mod runtime;

#[cfg(test)]
mod reload_tests;
