//! `op25b_cluster_*`: this instance as a member of a cluster (`[cluster]` only; without it none
//! of these metrics exist). Read at scrape time from the member's `ClusterStatus`, the registry
//! (step-downs, summed over the switches it lists) and the offender service (claims skipped).
//!
//! | metric | type | what |
//! | --- | --- | --- |
//! | `op25b_cluster_etcd_up` | gauge | 1 when etcd answered the member's last request |
//! | `op25b_cluster_lease_ok` | gauge | 1 when the lease is confirmed (0: this instance writes to no switch) |
//! | `op25b_cluster_lease_ttl_seconds` | gauge | `[cluster] lease_secs` |
//! | `op25b_cluster_live_instances` | gauge | instances with a live lease, as this one sees them |
//! | `op25b_cluster_masterships` | gauge | switches this instance holds the mastership of |
//! | `op25b_cluster_switches_mastered` | gauge | switches any instance holds |
//! | `op25b_cluster_switches_unmastered` | gauge | switches connected here that no instance holds |
//! | `op25b_cluster_stepdowns_total{reason}` | counter | fenced off by a switch: `stale_generation`, `is_slave` |
//! | `op25b_cluster_campaigns_won_total` | counter | masterships won |
//! | `op25b_cluster_releases_total` | counter | masterships handed to their preferred instance |
//! | `op25b_cluster_lease_losses_total` | counter | leases found expired |
//! | `op25b_cluster_etcd_errors_total` | counter | etcd requests that failed |
//! | `op25b_cluster_report_claims_total{result}` | counter | `won` (written here), `lost` (claimed elsewhere), `unavailable` (etcd out: written unclaimed), `skipped` (too many in flight: written unclaimed) |
//! | `op25b_cluster_offender_snapshots_total` | counter | snapshots of the offender table written to etcd |
//! | `op25b_cluster_offenders_left_out` | gauge | entries of the table not in the last snapshot (its bound) |
//! | `op25b_cluster_offender_peers` | gauge | instances whose offenders were read last time |

use std::collections::BTreeMap;
use std::fmt::Error as FmtError;
use std::sync::Arc;

use parking_lot::Mutex;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;

use super::encode::{as_gauge, counter, counters, gauge, Labels};

use crate::cluster::ClusterStatus;
use crate::controller::offender_service::OffenderHandle;
use crate::fleet::registry::Registry;

/// The cluster metrics; registered only with `[cluster]`.
#[derive(Debug)]
pub struct ClusterCollector {
    pub status: Arc<Mutex<ClusterStatus>>,
    pub registry: Arc<Registry>,
    pub offenders: Option<OffenderHandle>,
}

/// A family of counters with one label, `label`, by its values.
fn counters_by(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    label: &'static str,
    rows: &[(&str, u64)],
) -> Result<(), FmtError> {
    let rows: Vec<(Labels, u64)> = rows
        .iter()
        .map(|(value_label, value)| (vec![(label, (*value_label).to_owned())], *value))
        .collect();
    counters(enc, name, help, &rows)
}

impl Collector for ClusterCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), FmtError> {
        let s = self.status.lock().clone();
        let as_u64 = |n: usize| n as u64;
        gauge(
            &mut enc,
            "op25b_cluster_etcd_up",
            "1 when etcd answered the cluster member's last request",
            as_gauge(u64::from(s.etcd_ok)),
        )?;
        gauge(
            &mut enc,
            "op25b_cluster_lease_ok",
            "1 when this instance's lease is confirmed (0: it writes to no switch)",
            as_gauge(u64::from(s.lease_ok)),
        )?;
        gauge(
            &mut enc,
            "op25b_cluster_lease_ttl_seconds",
            "The lease's time to live ([cluster] lease_secs)",
            as_gauge(s.lease_secs),
        )?;
        gauge(
            &mut enc,
            "op25b_cluster_live_instances",
            "Instances with a live lease, as this one sees them",
            as_gauge(as_u64(s.live_instances.len())),
        )?;
        gauge(
            &mut enc,
            "op25b_cluster_masterships",
            "Switches this instance holds the mastership of",
            as_gauge(as_u64(s.masters_held)),
        )?;
        gauge(
            &mut enc,
            "op25b_cluster_switches_mastered",
            "Switches any instance holds the mastership of, as this one sees it",
            as_gauge(as_u64(s.masters_total)),
        )?;
        gauge(
            &mut enc,
            "op25b_cluster_switches_unmastered",
            "Switches connected to this instance that no instance holds",
            as_gauge(as_u64(s.unmastered)),
        )?;

        // Per reason, over the switches the registry lists (a forgotten switch's go with it).
        let mut stepdowns: BTreeMap<String, u64> = ["is_slave", "stale_generation"]
            .into_iter()
            .map(|r| (r.to_owned(), 0))
            .collect();
        for sw in self.registry.snapshot().switches {
            for (reason, n) in &sw.counters.stepped_down {
                *stepdowns.entry(reason.clone()).or_default() += n;
            }
        }
        let rows: Vec<(&str, u64)> = stepdowns.iter().map(|(r, n)| (r.as_str(), *n)).collect();
        counters_by(
            &mut enc,
            "op25b_cluster_stepdowns",
            "Times a switch fenced this instance off and it stepped down, by reason",
            "reason",
            &rows,
        )?;

        counter(
            &mut enc,
            "op25b_cluster_campaigns_won",
            "Masterships won",
            s.campaigns_won,
        )?;
        counter(
            &mut enc,
            "op25b_cluster_releases",
            "Masterships handed to their preferred instance",
            s.released,
        )?;
        counter(
            &mut enc,
            "op25b_cluster_lease_losses",
            "Leases found expired (a pause or an outage longer than the lease)",
            s.lease_losses,
        )?;
        counter(
            &mut enc,
            "op25b_cluster_etcd_errors",
            "etcd requests that failed",
            s.etcd_errors,
        )?;
        let skipped = self
            .offenders
            .as_ref()
            .map_or(0, OffenderHandle::claims_skipped);
        let o = &s.offenders;
        counters_by(
            &mut enc,
            "op25b_cluster_report_claims",
            "Abuse reports claimed in etcd, by result: won (written here), lost (claimed by another instance), unavailable and skipped (written here unclaimed: a duplicate is possible)",
            "result",
            &[
                ("won", o.claims_won),
                ("lost", o.claims_lost),
                ("unavailable", o.claims_unavailable),
                ("skipped", skipped),
            ],
        )?;
        counter(
            &mut enc,
            "op25b_cluster_offender_snapshots",
            "Snapshots of the offender table written to etcd",
            o.published,
        )?;
        gauge(
            &mut enc,
            "op25b_cluster_offenders_left_out",
            "Offender entries not in the last snapshot (past its bound)",
            as_gauge(as_u64(o.left_out)),
        )?;
        gauge(
            &mut enc,
            "op25b_cluster_offender_peers",
            "Instances whose offenders were read from etcd last time",
            as_gauge(as_u64(o.peers)),
        )?;
        Ok(())
    }
}
