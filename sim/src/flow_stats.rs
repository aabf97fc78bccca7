//! FLOW and AGGREGATE stats over a [`FlowTable`] (OpenFlow 1.3.5 section 7.3.5.2-3): which
//! flows a stats request selects (table, cookie and mask, out_port, out_group, non-strict
//! match) and what is reported for them.

use std::time::Instant;

use op25b_proto::consts::OFPTT_ALL;
use op25b_proto::{AggregateStats, FlowStats, FlowStatsRequest};

use crate::flow_entry::FlowEntry;
use crate::flow_match::FlowMatch;
use crate::flow_table::FlowTable;
use crate::table_error::TableError;

impl FlowTable {
    /// FLOW stats: every flow the request selects (table, cookie/cookie_mask, out_port,
    /// out_group, non-strict match), at `now`.
    pub fn flow_stats(
        &self,
        req: &FlowStatsRequest,
        now: Instant,
    ) -> Result<Vec<FlowStats>, TableError> {
        let normal = self.stats_filter(req)?;
        Ok(self
            .entries()
            .filter(|e| stats_selected(e, req, &normal))
            .map(|e| e.to_stats(now))
            .collect())
    }

    /// AGGREGATE stats over the flows [`FlowTable::flow_stats`] would report.
    pub fn aggregate_stats(&self, req: &FlowStatsRequest) -> Result<AggregateStats, TableError> {
        let normal = self.stats_filter(req)?;
        let mut agg = AggregateStats {
            packet_count: 0,
            byte_count: 0,
            flow_count: 0,
        };
        for e in self.entries().filter(|e| stats_selected(e, req, &normal)) {
            agg.packet_count = agg.packet_count.saturating_add(e.packet_count);
            agg.byte_count = agg.byte_count.saturating_add(e.byte_count);
            agg.flow_count = agg.flow_count.saturating_add(1);
        }
        Ok(agg)
    }

    fn stats_filter(&self, req: &FlowStatsRequest) -> Result<FlowMatch, TableError> {
        if req.table_id != OFPTT_ALL && req.table_id >= self.config().n_tables {
            return Err(TableError::BadStatsTableId {
                table_id: req.table_id,
                n_tables: self.config().n_tables,
            });
        }
        crate::match_check::normalise(&req.match_)
    }
}

fn stats_selected(e: &FlowEntry, req: &FlowStatsRequest, normal: &FlowMatch) -> bool {
    (req.table_id == OFPTT_ALL || req.table_id == e.table_id)
        && normal.covers(&e.normal)
        && e.cookie_matches(req.cookie, req.cookie_mask)
        && e.outputs_to(req.out_port)
        && e.uses_group(req.out_group)
}
