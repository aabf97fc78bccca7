//! A switch's flows as last read, held compact. Pure.
//!
//! The controller keeps every switch's last read for the API, so at 1,000 switches of 5,000
//! flows it holds 5 million readings for good: as [`FlowReading`]s (112 bytes each) that was
//! 534 MiB. A switch in sync holds the flows the policy wants, and those are already kept once
//! for all the switches that want them (the shared desired list, see
//! `SwitchObservations::record_desired`). So an entry that is one of the desired flows is kept
//! as its position in that list plus its counters (24 bytes); any other entry (stale, foreign,
//! not op25b's shape) is kept whole. [`ActualFlows::iter`] gives back exactly the readings it
//! was built from, in order.

use std::sync::Arc;

use foldhash::HashMap;

use super::flow_readings::{FlowReading, OfctlFlow};
use crate::flows::FlowAction;

/// Marks [`Entry::slot`] as an index into [`ActualFlows::others`].
const OTHER: u32 = 1 << 31;

/// One entry: where its flow is, and its counters.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Index into the desired list, or `OTHER | i` for `others[i]`.
    slot: u32,
    duration_secs: u32,
    packets: u64,
    bytes: u64,
}

/// The flows of one read (see the module doc).
#[derive(Debug, Clone, Default)]
pub struct ActualFlows {
    /// The desired flows the entries point into (shared with other switches).
    desired: Arc<[OfctlFlow]>,
    entries: Vec<Entry>,
    /// The entries that are not desired flows, whole.
    others: Vec<FlowReading>,
}

impl ActualFlows {
    /// The read `readings`, kept against `desired` (the switch's desired flows as recorded).
    pub fn new(desired: Arc<[OfctlFlow]>, readings: Vec<FlowReading>) -> Self {
        let position: HashMap<OfctlFlow, u32> = desired
            .iter()
            .zip(0u32..OTHER)
            .map(|(f, i)| (*f, i))
            .collect();
        let mut entries = Vec::with_capacity(readings.len());
        let mut others = Vec::new();
        for r in readings {
            let (packets, bytes, duration_secs) = (r.packets, r.bytes, r.duration_secs);
            // Kept as a position only when that gives back exactly this reading.
            let known = r
                .flow
                .and_then(|f| position.get(&f).copied())
                .filter(|&i| reading(&desired[i as usize], packets, bytes, duration_secs) == r);
            let slot = match known {
                Some(i) => i,
                None => match u32::try_from(others.len()) {
                    Ok(i) if i < OTHER => {
                        others.push(r);
                        OTHER | i
                    }
                    // More than 2^31 other entries cannot be read (the read caps are far
                    // lower); dropped rather than mislabelled.
                    _ => continue,
                },
            };
            entries.push(Entry {
                slot,
                duration_secs,
                packets,
                bytes,
            });
        }
        Self {
            desired,
            entries,
            others,
        }
    }

    /// How many entries the read listed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The read listed nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The readings, in the order the switch listed them.
    pub fn iter(&self) -> impl Iterator<Item = FlowReading> + '_ {
        self.entries.iter().map(|e| {
            if e.slot & OTHER == 0 {
                reading(
                    &self.desired[e.slot as usize],
                    e.packets,
                    e.bytes,
                    e.duration_secs,
                )
            } else {
                self.others[(e.slot & !OTHER) as usize].clone()
            }
        })
    }

    /// The readings as a list (for the API).
    pub fn to_vec(&self) -> Vec<FlowReading> {
        self.iter().collect()
    }
}

/// The reading of desired flow `f` with these counters: what `FlowReading::from_reported`
/// gives for an entry that reads back as `f`.
fn reading(f: &OfctlFlow, packets: u64, bytes: u64, duration_secs: u32) -> FlowReading {
    FlowReading {
        table_id: f.spec.key.table_id,
        priority: f.spec.key.priority,
        cookie: f.cookie.0,
        flow: Some(*f),
        blocks: matches!(f.spec.action, FlowAction::Drop | FlowAction::Sample { .. }),
        packets,
        bytes,
        duration_secs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::{desired_flows, SwitchView};
    use crate::policy::{Config, Cookie, Dpid, PortNo};

    fn desired() -> Arc<[OfctlFlow]> {
        let loaded =
            Config::parse("[policy]\nrelays = [\"192.0.2.25\"]\n", "p.toml").expect("valid policy");
        let d = desired_flows(
            loaded.config.policy(),
            &SwitchView::new(Dpid(1), (1..=3).map(PortNo)),
        );
        d.flows
            .iter()
            .map(|&spec| OfctlFlow {
                cookie: d.cookie,
                spec,
            })
            .collect()
    }

    #[test]
    fn a_read_gives_back_exactly_its_readings_in_order() {
        let desired = desired();
        assert!(desired.len() >= 4);
        let mut readings: Vec<FlowReading> = desired
            .iter()
            .rev()
            .zip(1u64..)
            .map(|(f, n)| reading(f, n, 100 * n, u32::try_from(n).expect("small")))
            .collect();
        // Not desired: no flow of ours (foreign shape), another cookie, a desired flow's
        // match at another priority, and one that claims a desired flow but says it does not
        // block while it does (not what a read gives, kept whole all the same).
        let mut foreign = readings[0].clone();
        foreign.flow = None;
        foreign.blocks = false;
        let mut other_cookie = reading(&desired[1], 7, 7, 7);
        if let Some(f) = &mut other_cookie.flow {
            f.cookie = Cookie(0x99);
        }
        other_cookie.cookie = 0x99;
        let mut moved = reading(&desired[2], 8, 8, 8);
        if let Some(f) = &mut moved.flow {
            f.spec.key.priority += 1;
        }
        moved.priority += 1;
        let mut odd = reading(&desired[3], 9, 9, 9);
        odd.blocks = !odd.blocks;
        readings.insert(1, foreign);
        readings.insert(3, other_cookie);
        readings.push(moved);
        readings.push(odd);
        let kept = ActualFlows::new(Arc::clone(&desired), readings.clone());
        assert_eq!(kept.len(), readings.len());
        assert_eq!(kept.to_vec(), readings);
        assert_eq!(kept.others.len(), 4, "only those are kept whole");
        assert!(ActualFlows::default().is_empty());
        assert!(ActualFlows::new(desired, vec![]).to_vec().is_empty());
    }
}
