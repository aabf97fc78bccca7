//! The bridge settings problems as metrics, read at scrape time from
//! [`SwitchConfigProblems`] (nothing cached), only when `[ovsdb] endpoints` lists a database:
//!
//! - `op25b_switch_config_problems{dpid, problem}`: for every checked bridge, one series per
//!   problem kind (the state-set pattern: 0 when the bridge does not have it, so a problem that
//!   clears goes to 0 instead of vanishing); usually 0 or 1, a count for kinds that can occur
//!   more than once (`controller_target`). `dpid` is `unknown` for a bridge whose dpid
//!   Open vSwitch has not reported yet.
//! - `op25b_ovsdb_connected{endpoint}`: 1 while the database is monitored, 0 while it cannot
//!   be reached (the problems above are then the last ones seen).

use std::collections::BTreeMap;
use std::fmt::Error as FmtError;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;

use crate::doctor::ProblemKind;
use crate::fleet::SwitchConfigProblems;
use crate::policy::Dpid;

/// Reads the problem set at scrape time.
#[derive(Debug)]
pub struct SwitchConfigCollector {
    pub problems: Arc<SwitchConfigProblems>,
}

fn dpid_label(dpid: Option<Dpid>) -> String {
    dpid.map_or_else(|| "unknown".to_owned(), |d| d.to_string())
}

impl Collector for SwitchConfigCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), FmtError> {
        let endpoints = self.problems.snapshot();
        if endpoints.is_empty() {
            return Ok(());
        }
        let mut counts: BTreeMap<(String, &'static str), i64> = BTreeMap::new();
        for e in &endpoints {
            for b in &e.bridges {
                for kind in ProblemKind::ALL {
                    counts.entry((dpid_label(b.dpid), kind.name())).or_insert(0);
                }
            }
            for p in &e.problems {
                *counts
                    .entry((dpid_label(p.dpid), p.problem.name()))
                    .or_insert(0) += 1;
            }
        }
        let mut m = enc.encode_descriptor(
            "op25b_switch_config_problems",
            "Problems with a bridge's settings in Open vSwitch's database ([ovsdb] endpoints), by dpid and kind: one series per kind, 0 when absent; `op25b doctor` prints each with its fix",
            None,
            MetricType::Gauge,
        )?;
        for ((dpid, problem), n) in &counts {
            let labels = [("dpid", dpid.as_str()), ("problem", *problem)];
            ConstGauge::new(*n).encode(m.encode_family(&labels)?)?;
        }
        let mut m = enc.encode_descriptor(
            "op25b_ovsdb_connected",
            "1 while the Open vSwitch database is monitored, 0 while it cannot be reached (its problems are then the last seen)",
            None,
            MetricType::Gauge,
        )?;
        for e in &endpoints {
            let labels = [("endpoint", e.endpoint.as_str())];
            ConstGauge::new(i64::from(e.connected)).encode(m.encode_family(&labels)?)?;
        }
        Ok(())
    }
}
