//! This instance's standing in the cluster, as the API and `op25b status` show it.

use serde::Serialize;

/// Lease and etcd health of this instance, and its share of the masterships.
#[derive(Debug, Clone, Default, Serialize)]
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
}

impl ClusterStatus {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }
}
