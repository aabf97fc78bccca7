//! Text of meters: ids, flags and bands, as in METER_MOD and OFPMP_METER_CONFIG.

use crate::consts::*;
use crate::MeterBand;

use super::flag_text::{flag_names, or_none};

const METER_FLAGS: &[(u32, &str)] = &[
    (OFPMF_KBPS as u32, "KBPS"),
    (OFPMF_PKTPS as u32, "PKTPS"),
    (OFPMF_BURST as u32, "BURST"),
    (OFPMF_STATS as u32, "STATS"),
];

/// A meter id, the reserved ones by name (`ALL`, `CONTROLLER`, `SLOWPATH`).
pub fn meter_id(id: u32) -> String {
    match id {
        OFPM_ALL => "ALL".into(),
        OFPM_CONTROLLER => "CONTROLLER".into(),
        OFPM_SLOWPATH => "SLOWPATH".into(),
        id => id.to_string(),
    }
}

/// Meter flags as `PKTPS,BURST,STATS`.
pub fn meter_flags(flags: u16) -> String {
    or_none(flag_names(u32::from(flags), METER_FLAGS, ","))
}

/// A meter band as `drop rate=10 burst_size=20`.
pub fn band(b: &MeterBand) -> String {
    match b {
        MeterBand::Drop { rate, burst_size } => format!("drop rate={rate} burst_size={burst_size}"),
        MeterBand::DscpRemark {
            rate,
            burst_size,
            prec_level,
        } => {
            format!("dscp_remark rate={rate} burst_size={burst_size} prec_level={prec_level}")
        }
        MeterBand::Experimenter {
            rate,
            burst_size,
            experimenter,
            data,
        } => format!(
            "experimenter={experimenter:#010x} rate={rate} burst_size={burst_size} ({} bytes)",
            data.len()
        ),
        MeterBand::Raw(tlv) => format!("band({})", hex::encode(tlv)),
    }
}
