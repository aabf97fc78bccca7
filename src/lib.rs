//! op25b: an OpenFlow 1.3 controller enforcing Outbound Port 25 Blocking (OP25B).
//!
//! Pure cores at the bottom, I/O at the edges; each layer imports only from layers below it
//! (docs/design.md draws the diagram):
//! - [`policy`]: the operator's TOML file, parsed into a validated [`policy::Policy`] (pure).
//! - [`flows`]: policy x switch -> the desired flow set, and the flow model <-> OpenFlow
//!   mapping both ways (pure).
//! - [`offenders`]: sampled blocked attempts -> likely infected subscribers (pure).
//! - [`doctor`]: Open vSwitch bridge settings (and the policy) -> problems with their
//!   `ovs-vsctl` fixes (pure).
//! - [`mastership`]: in a cluster, who should be master of which switch (pure).
//! - [`reconcile`]: desired vs actual -> an ordered, hitless change plan (pure).
//! - [`fleet`]: the shared state sessions write and readers read (switch status registry, dpid
//!   claims, observations).
//! - [`session`]: one switch connection: a sans-I/O machine and the task that moves its bytes.
//! - [`ovsdb`]: a small OVSDB client reading Open vSwitch's bridge settings (I/O edge).
//! - [`cluster`]: etcd (leases, mastership keys, the shared policy) for several instances (I/O
//!   edge).
//! - [`controller`]: listener, runtime, policy store and reload, the offender service.
//! - [`metrics`], [`api`]: the readers (Prometheus `/metrics`, the HTTP JSON API).
//! - [`cli`]: the subcommands; the composition root.
pub mod api;
pub mod cli;
pub mod cluster;
pub mod controller;
pub mod doctor;
pub mod fleet;
pub mod flows;
pub mod mastership;
pub mod metrics;
pub mod offenders;
pub mod ovsdb;
pub mod policy;
pub mod reconcile;
pub mod session;
