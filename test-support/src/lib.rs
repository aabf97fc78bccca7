//! Test support shared by the workspace's integration tests (op25b's `tests/` and op25b-sim's
//! `sim/tests/`), one module per concern: running commands, Open vSwitch bridges and their
//! traces, a private etcd, the `op25b run` binary as a child process, an in-process controller with raw and
//! simulated switches, the API on a loopback port with a Prometheus text validator, a scripted
//! OpenFlow controller for the simulator, a throw-away TLS PKI, scratch files, free ports,
//! X-ARF v4 validation of report files and
//! polling, a real Prometheus server and the queries of a Grafana dashboard, and a headless
//! Chromium over WebDriver.
//!
//! Not published. Helpers fail the test (panic) rather than return errors: a broken fixture is
//! a failed test. The exception is [`pki`], which op25b-swarm's `--tls` runs use too (a normal
//! dependency of that load tool) and which returns typed errors.

pub mod api;
pub mod command;
pub mod controller;
pub mod etcd;
pub mod grafana;
pub mod net;
pub mod op25b_run;
pub mod ovs;
pub mod pki;
pub mod poll;
pub mod prometheus;
pub mod scripted;
pub mod temp;
pub mod webdriver;
pub mod xarf;
