//! Text of a port description (`ofp_port`): number, name, address, config, state, features
//! and speeds, as in PORT_STATUS and OFPMP_PORT_DESC.

use crate::consts::*;
use crate::Port;

use super::flag_text::{flag_names, or_none};
use super::flow_text::port;

const PORT_CONFIG: &[(u32, &str)] = &[
    (OFPPC_PORT_DOWN, "PORT_DOWN"),
    (OFPPC_NO_RECV, "NO_RECV"),
    (OFPPC_NO_FWD, "NO_FWD"),
    (OFPPC_NO_PACKET_IN, "NO_PACKET_IN"),
];
const PORT_STATE: &[(u32, &str)] = &[
    (OFPPS_LINK_DOWN, "LINK_DOWN"),
    (OFPPS_BLOCKED, "BLOCKED"),
    (OFPPS_LIVE, "LIVE"),
];
const PORT_FEATURES: &[(u32, &str)] = &[
    (1 << 0, "10MB_HD"),
    (1 << 1, "10MB_FD"),
    (1 << 2, "100MB_HD"),
    (1 << 3, "100MB_FD"),
    (1 << 4, "1GB_HD"),
    (1 << 5, "1GB_FD"),
    (1 << 6, "10GB_FD"),
    (1 << 7, "40GB_FD"),
    (1 << 8, "100GB_FD"),
    (1 << 9, "1TB_FD"),
    (1 << 10, "OTHER"),
    (1 << 11, "COPPER"),
    (1 << 12, "FIBER"),
    (1 << 13, "AUTONEG"),
    (1 << 14, "PAUSE"),
    (1 << 15, "PAUSE_ASYM"),
];

/// One port as `port 1 "name" addr:... config=... state=... curr=... speed=...`.
pub fn port_desc(p: &Port) -> String {
    format!(
        "port {} {:?} addr:{} config={} state={} curr={} speed={} max_speed={}",
        port(p.port_no),
        p.name,
        p.hw_addr,
        or_none(flag_names(p.config, PORT_CONFIG, ",")),
        or_none(flag_names(p.state, PORT_STATE, ",")),
        or_none(flag_names(p.curr, PORT_FEATURES, ",")),
        speed(p.curr_speed),
        speed(p.max_speed)
    )
}

/// A port speed given in kb/s, in the largest unit that keeps it whole.
fn speed(kbps: u32) -> String {
    match kbps {
        0 => "0".into(),
        k if k % 1_000_000 == 0 => format!("{}Gbps", k / 1_000_000),
        k if k % 1_000 == 0 => format!("{}Mbps", k / 1_000),
        k => format!("{k}kbps"),
    }
}
