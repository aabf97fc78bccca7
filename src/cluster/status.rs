//! This instance's standing in the cluster, as the API and `op25b status` show it.

use serde::{Deserialize, Serialize};

/// Lease and etcd health of this instance, and its share of the masterships.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterStatus {
    /// `[cluster] name`.
    pub name: String,
    /// The lease in force (hex), if any.
    pub lease_id: Option<String>,
    /// Whether the lease is confirmed (kept alive within `lease_secs`): false means this
    /// instance writes to no switch.
    pub lease_ok: bool,
    /// Whether etcd answered the last request.
    pub etcd_ok: bool,
    pub last_error: Option<String>,
    /// Instances with a live lease (this one included).
    pub live_instances: Vec<String>,
    /// Switches this instance holds the mastership of, and in all.
    pub masters_held: usize,
    pub masters_total: usize,
    pub campaigns_won: u64,
    pub released: u64,
    /// Times the lease was found expired (after a pause or an outage longer than the lease).
    pub lease_losses: u64,
    /// `[cluster] lease_secs`.
    pub lease_secs: u64,
    /// etcd requests that failed (connect, lease, watch, campaign, offenders, claims).
    pub etcd_errors: u64,
    /// Switches connected to this instance that no instance holds (as this one sees it).
    pub unmastered: usize,
    /// Offenders across the cluster (`cluster::offender_share`, `cluster::report_claims`).
    pub offenders: OffenderShareStatus,
}

/// How this instance shares its offenders and claims its reports.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OffenderShareStatus {
    /// Snapshots of our table written to etcd.
    pub published: u64,
    /// Entries of our table left out of the last snapshot (past its bound).
    pub left_out: usize,
    /// Peers whose snapshot we read last time.
    pub peers: usize,
    /// Reports claimed by this instance (and written here).
    pub claims_won: u64,
    /// Reports another instance had claimed (not written here).
    pub claims_lost: u64,
    /// Reports written here without a claim because etcd could not be asked (a duplicate is
    /// possible: another instance may write the same subscriber's report).
    pub claims_unavailable: u64,
}

impl ClusterStatus {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }
}
