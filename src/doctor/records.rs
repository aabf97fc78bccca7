//! What the checks read from Open vSwitch's database, as plain values: the bridges with their
//! controllers, and the one global setting that matters (`vlan-limit`). `crate::ovsdb` fills
//! these from the `Bridge`, `Controller` and `Open_vSwitch` tables; tests build them by hand.
use crate::policy::Dpid;
use std::collections::BTreeMap;

/// The part of one Open vSwitch database the checks need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SwitchDatabase {
    /// Every bridge, sorted by name.
    pub bridges: Vec<BridgeRecord>,
    /// `Open_vSwitch` `other_config:vlan-limit`, as written (unset: `None`).
    pub vlan_limit: Option<String>,
}

/// One row of the `Bridge` table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BridgeRecord {
    /// `name`.
    pub name: String,
    /// `fail_mode`: `secure`, `standalone`, or unset (Open vSwitch then behaves as
    /// `standalone`).
    pub fail_mode: Option<String>,
    /// `protocols` (empty: Open vSwitch enables OpenFlow 1.0 to 1.5).
    pub protocols: Vec<String>,
    /// `other_config` (`datapath-id` pins the dpid).
    pub other_config: BTreeMap<String, String>,
    /// `datapath_id`: the dpid `ovs-vswitchd` reports (16 hex digits; unset until it runs).
    pub datapath_id: Option<String>,
    /// The rows its `controller` column points to.
    pub controllers: Vec<ControllerRecord>,
}

/// One row of the `Controller` table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ControllerRecord {
    /// `_uuid`.
    pub uuid: String,
    /// `target`, e.g. `tcp:192.0.2.1:6653`.
    pub target: String,
    /// `max_backoff`, milliseconds (unset: Open vSwitch uses 8 s).
    pub max_backoff_ms: Option<i64>,
    /// `inactivity_probe`, milliseconds (unset: 5 s; 0: no probes).
    pub inactivity_probe_ms: Option<i64>,
}

/// The value of `other_config:datapath-id` Open vSwitch accepts: `0x` and hex digits, or exactly
/// 16 hex digits; not all zero.
pub fn parse_pinned_dpid(text: &str) -> Option<Dpid> {
    let hex = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(h) if !h.is_empty() && h.len() <= 16 => h,
        Some(_) => return None,
        None if text.len() == 16 => text,
        None => return None,
    };
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(hex, 16)
        .ok()
        .filter(|&v| v != 0)
        .map(Dpid)
}

impl BridgeRecord {
    /// `other_config:datapath-id` as written, if set.
    pub fn pinned_dpid_text(&self) -> Option<&str> {
        self.other_config.get("datapath-id").map(String::as_str)
    }

    /// The pinned dpid, when `other_config:datapath-id` holds one Open vSwitch accepts.
    pub fn pinned_dpid(&self) -> Option<Dpid> {
        self.pinned_dpid_text().and_then(parse_pinned_dpid)
    }

    /// The dpid the switch announces: the pinned one, else the `datapath_id` column.
    pub fn dpid(&self) -> Option<Dpid> {
        self.pinned_dpid().or_else(|| {
            self.datapath_id
                .as_deref()
                .filter(|d| d.len() == 16)
                .and_then(|d| u64::from_str_radix(d, 16).ok())
                .map(Dpid)
        })
    }
}
