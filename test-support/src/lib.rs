//! Test support shared by the workspace's integration tests (op25b's `tests/` and op25b-sim's
//! `sim/tests/`), one module per concern: running commands, Open vSwitch bridges and their
//! traces, the `op25b run` binary as a child process, an in-process controller with raw and
//! simulated switches, the API on a loopback port with a Prometheus text validator, a scripted
//! OpenFlow controller for the simulator, scratch files, free ports and polling, a real
//! Prometheus server and the queries of a Grafana dashboard.
//!
//! Not published; a dev-dependency only. Helpers fail the test (panic) rather than return
//! errors: a broken fixture is a failed test.

pub mod api;
pub mod command;
pub mod controller;
pub mod grafana;
pub mod net;
pub mod op25b_run;
pub mod ovs;
pub mod poll;
pub mod prometheus;
pub mod scripted;
pub mod temp;
