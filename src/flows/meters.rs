//! The meter that rate-limits samples of blocked attempts to the controller.
use super::layout::SAMPLE_METER_ID;
use super::switch_view::SwitchView;
use crate::policy::Policy;

/// One meter to install before the flows that use it (a METER_MOD ADD, or MODIFY if it exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MeterSpec {
    /// Meter id.
    pub meter_id: u32,
    /// Packets per second allowed through; the excess is dropped (one drop band).
    pub rate_pps: u32,
    /// Burst size in packets (the `OFPMF_BURST` flag is set).
    pub burst_packets: u32,
}

/// The meters `switch` needs: the sampling meter when reporting is enabled and the switch
/// supports meters, else none.
pub fn desired_meters(policy: &Policy, switch: &SwitchView) -> Vec<MeterSpec> {
    let r = policy.reporting();
    if !r.enabled || !switch.meters_supported {
        return Vec::new();
    }
    vec![MeterSpec {
        meter_id: SAMPLE_METER_ID,
        rate_pps: r.sample_rate_pps,
        burst_packets: r.sample_rate_pps,
    }]
}
