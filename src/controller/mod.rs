//! The controller: the OpenFlow listeners (plain TCP and mutual TLS), who may connect
//! (admission) and runtime, the policy store and its reloads, the offender service (and the
//! `report_command` it feeds), and the
//! continuous check of the bridges' settings (ovsdb_monitor).
pub mod admission;
pub mod etcd_policy;
pub mod listener;
pub mod offender_service;
pub mod ovsdb_monitor;
pub mod policy_store;
pub mod reload;
pub mod reload_history;
pub mod report_command;
pub mod reporting_reload;
pub mod runtime;
pub mod tls_accept;
pub mod tls_config;
pub mod tls_expiry;

#[cfg(test)]
mod reload_tests;
