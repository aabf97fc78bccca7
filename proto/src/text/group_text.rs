//! Text of groups: the group type and the buckets, as in GROUP_MOD and OFPMP_GROUP_DESC.

use std::fmt::Write as _;

use crate::consts::*;

use super::flow_text::{actions, group, port};

pub(super) fn group_type(t: u8) -> String {
    match t {
        OFPGT_ALL => "all".into(),
        OFPGT_SELECT => "select".into(),
        OFPGT_INDIRECT => "indirect".into(),
        OFPGT_FF => "fast_failover".into(),
        t => t.to_string(),
    }
}

/// Group buckets, one per line.
pub fn buckets(list: &[crate::Bucket]) -> String {
    let mut out = String::new();
    for b in list {
        let _ = writeln!(
            out,
            " bucket weight={} watch_port={} watch_group={} actions={}",
            b.weight,
            port(b.watch_port),
            group(b.watch_group),
            actions(&b.actions)
        );
    }
    out
}
