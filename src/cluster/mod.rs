//! Several op25b instances sharing the switches through etcd (I/O edge; the decisions are the
//! pure `mastership` layer's).
//!
//! Turned on by `[cluster]` in the instance's local file; without it none of this runs and op25b
//! is one process as ever. [`member`] is the one task that talks to etcd: a lease kept alive,
//! one key per switch attached to the lease of the instance that holds its mastership, a watch
//! of every key under the prefix ([`keys`] has the layout). The connections read the resulting
//! [`MastershipView`](crate::mastership::MastershipView) and ask their switches for the role it
//! implies (`session::role`): the generation is the etcd revision at which the holder created
//! the key, so it only ever grows, and Open vSwitch refuses an older one (fencing).
//!
//! Offenders across the cluster: [`offender_share`] publishes this instance's worst offenders
//! and reads the others' (for `/api/offenders` on any instance), and [`report_claims`] claims each
//! report before it is written, so one subscriber flagged by several instances gives one report
//! (etcd unavailable: the report is written anyway, counted, a duplicate possible).

pub mod error;
pub mod keys;
pub mod member;
pub mod offender_share;
pub mod policy_key;
pub mod report_claims;
pub mod status;

pub use error::ClusterError;
pub use member::{start, ClusterHandle};
pub use status::ClusterStatus;
