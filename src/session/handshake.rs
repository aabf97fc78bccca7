//! The handshake and what it learns: once the HELLOs agreed, the FEATURES and PORT_DESC requests
//! leave together (neither depends on the other's reply), so a connect costs one round trip for
//! both; it completes when both replies are in, in either order. It learns the switch as it
//! describes itself (dpid, ports), kept current by PORT_STATUS afterwards. The handshake timeout
//! runs from the connection's start.

use crate::flows::SwitchView;
use crate::policy::{Dpid, PortNo};
use op25b_proto::consts::{OFPPR_DELETE, OFPP_MAX};
use std::time::{Duration, Instant};

/// Most ports accepted in one PORT_DESC reply.
pub const MAX_PORTS: usize = 65_536;

/// What a PORT_DESC reply did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortsReply {
    /// Not the awaited reply (or a second one): nothing changed.
    Ignored,
    /// It listed more than [`MAX_PORTS`] ports: the handshake cannot go on.
    TooMany,
    /// The ports are known.
    Known,
}

/// The handshake's requests and the switch as it described itself.
#[derive(Debug)]
pub struct Handshake {
    started: Instant,
    features_xid: Option<u32>,
    port_desc_xid: Option<u32>,
    dpid: Option<u64>,
    /// The whole PORT_DESC reply is in (it may come before the FEATURES_REPLY).
    ports_known: bool,
    /// Dpid 0 until FEATURES_REPLY; ports without the reserved ones; meters supported (the
    /// sync decides per plan whether meters are used).
    view: SwitchView,
}

impl Handshake {
    /// A connection that started at `now`.
    pub fn new(now: Instant) -> Self {
        Self {
            started: now,
            features_xid: None,
            port_desc_xid: None,
            dpid: None,
            ports_known: false,
            view: SwitchView::new(Dpid(0), []),
        }
    }

    /// The FEATURES and PORT_DESC requests went out with these xids.
    pub fn requested(&mut self, features_xid: u32, port_desc_xid: u32) {
        self.features_xid = Some(features_xid);
        self.port_desc_xid = Some(port_desc_xid);
    }

    /// `xid` is one of the handshake's requests.
    pub fn asked(&self, xid: u32) -> bool {
        self.features_xid == Some(xid) || self.port_desc_xid == Some(xid)
    }

    /// The FEATURES_REPLY `xid` gave `dpid`; false when it answers no request of ours.
    pub fn on_features(&mut self, xid: u32, dpid: u64) -> bool {
        if self.features_xid != Some(xid) {
            return false;
        }
        self.dpid = Some(dpid);
        self.view.dpid = Dpid(dpid);
        true
    }

    /// `xid` is the PORT_DESC request, still unanswered.
    pub fn awaits_ports(&self, xid: u32) -> bool {
        !self.ports_known && self.port_desc_xid == Some(xid)
    }

    /// The whole PORT_DESC reply `xid` listed `ports` (reserved ports are dropped).
    pub fn on_ports(&mut self, xid: u32, ports: Vec<u32>) -> PortsReply {
        if !self.awaits_ports(xid) {
            return PortsReply::Ignored;
        }
        let ports: Vec<u32> = ports.into_iter().filter(|p| is_switch_port(*p)).collect();
        if ports.len() > MAX_PORTS {
            return PortsReply::TooMany;
        }
        self.view.ports = ports.into_iter().map(PortNo).collect();
        self.ports_known = true;
        PortsReply::Known
    }

    /// The PORT_DESC reply is in.
    pub fn ports_known(&self) -> bool {
        self.ports_known
    }

    /// A PORT_STATUS: whether the port set changed.
    pub fn on_port_status(&mut self, reason: u8, port_no: u32) -> bool {
        if !is_switch_port(port_no) {
            return false;
        }
        if reason == OFPPR_DELETE {
            self.view.ports.remove(&PortNo(port_no))
        } else {
            self.view.ports.insert(PortNo(port_no))
        }
    }

    /// How long the handshake has run, once that is `timeout` or more.
    pub fn overdue(&self, now: Instant, timeout: Duration) -> Option<Duration> {
        let waited = now.saturating_duration_since(self.started);
        (waited >= timeout).then_some(waited)
    }

    /// When the handshake times out.
    pub fn deadline(&self, timeout: Duration) -> Instant {
        self.started + timeout
    }

    pub fn dpid(&self) -> Option<u64> {
        self.dpid
    }

    /// The switch as it described itself.
    pub fn view(&self) -> &SwitchView {
        &self.view
    }
}

/// A port number a switch port can have (not 0, not reserved).
fn is_switch_port(port_no: u32) -> bool {
    port_no != 0 && port_no <= OFPP_MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports(h: &Handshake) -> Vec<u32> {
        h.view().ports.iter().map(|p| p.0).collect()
    }

    #[test]
    fn only_the_awaited_replies_count_and_reserved_ports_are_dropped() {
        let t0 = Instant::now();
        let mut h = Handshake::new(t0);
        h.requested(10, 11);
        assert!(h.asked(10) && h.asked(11) && !h.asked(12));
        assert!(!h.on_features(11, 5), "not the FEATURES request");
        assert_eq!(h.dpid(), None);
        assert!(h.on_features(10, 5));
        assert_eq!((h.dpid(), h.view().dpid), (Some(5), Dpid(5)));
        assert_eq!(h.on_ports(10, vec![1]), PortsReply::Ignored);
        assert!(!h.ports_known());
        assert_eq!(
            h.on_ports(11, vec![2, 0, 1, OFPP_MAX, 0xffff_fffe]),
            PortsReply::Known
        );
        assert!(h.ports_known());
        assert_eq!(ports(&h), vec![1, 2, OFPP_MAX]);
        assert_eq!(
            h.on_ports(11, vec![9]),
            PortsReply::Ignored,
            "a second reply changes nothing"
        );
        assert_eq!(ports(&h), vec![1, 2, OFPP_MAX]);
    }

    #[test]
    fn too_many_ports_end_the_handshake() {
        let mut h = Handshake::new(Instant::now());
        h.requested(1, 2);
        let many = (1..=u32::try_from(MAX_PORTS).expect("a port count") + 1).collect();
        assert_eq!(h.on_ports(2, many), PortsReply::TooMany);
        assert!(!h.ports_known());
    }

    #[test]
    fn port_status_adds_and_deletes_switch_ports_only() {
        let mut h = Handshake::new(Instant::now());
        h.requested(1, 2);
        h.on_ports(2, vec![1, 2]);
        assert!(!h.on_port_status(0, 1), "known port");
        assert!(h.on_port_status(0, 3));
        assert!(h.on_port_status(OFPPR_DELETE, 1));
        assert!(!h.on_port_status(OFPPR_DELETE, 1), "already gone");
        assert!(!h.on_port_status(0, 0xffff_fffe), "reserved");
        assert_eq!(ports(&h), vec![2, 3]);
    }

    #[test]
    fn the_timeout_runs_from_the_start() {
        let t0 = Instant::now();
        let h = Handshake::new(t0);
        let timeout = Duration::from_secs(10);
        assert_eq!(h.deadline(timeout), t0 + timeout);
        assert_eq!(h.overdue(t0 + Duration::from_secs(9), timeout), None);
        assert_eq!(
            h.overdue(t0 + timeout, timeout),
            Some(timeout),
            "at the deadline"
        );
        assert_eq!(
            h.overdue(t0 + Duration::from_secs(11), timeout),
            Some(Duration::from_secs(11))
        );
    }
}
