//! [`SimSwitchConfig`]: how a simulated switch is built (its datapath, the OpenFlow versions
//! it advertises, the local address it connects from, TLS or plain TCP, its ECHO interval, handshake faults and
//! how much it records), read once by [`crate::SimSwitch::new`].

use std::net::IpAddr;
use std::time::Duration;

use crate::datapath::DatapathConfig;
use crate::faults::HandshakeBehaviour;
use crate::switch_tls::SwitchTls;

/// How a simulated switch is built.
#[derive(Debug, Clone)]
pub struct SimSwitchConfig {
    /// Datapath id, ports, tables, meters, stats splitting.
    pub datapath: DatapathConfig,
    /// Versions advertised in the HELLO bitmap (the header carries the highest). `[4]` is
    /// OpenFlow 1.3 only; `[1]` makes an OpenFlow 1.0-only switch (it then cannot talk to an
    /// OF1.3 controller and answers its HELLO with OFPET_HELLO_FAILED).
    pub versions: Vec<u8>,
    /// Local address to bind before connecting (e.g. 127.0.0.x so that many switches do not
    /// share one address's ephemeral ports). `None`: the OS picks.
    pub local_ip: Option<IpAddr>,
    /// Speak OpenFlow over mutual TLS with these settings. `None` (the default): plain TCP.
    pub tls: Option<SwitchTls>,
    /// Send an ECHO_REQUEST this often while connected. `None` (the default): never.
    pub echo_interval: Option<Duration>,
    /// Handshake faults.
    pub handshake: HandshakeBehaviour,
    /// Received messages kept for [`SimSwitch::received`](crate::SimSwitch::received) (the oldest are dropped). 0 keeps
    /// none (load tests).
    pub record_limit: usize,
    /// Events kept for [`SimSwitch::events`](crate::SimSwitch::events).
    pub event_limit: usize,
}

impl SimSwitchConfig {
    /// An OpenFlow 1.3 switch with this datapath id and `n_ports` ports, keeping the last 10,000
    /// messages and 1,000 events.
    pub fn new(datapath_id: u64, n_ports: u32) -> Self {
        Self {
            datapath: DatapathConfig::new(datapath_id, n_ports),
            versions: vec![op25b_proto::consts::OFP_VERSION],
            local_ip: None,
            tls: None,
            echo_interval: None,
            handshake: HandshakeBehaviour::Normal,
            record_limit: 10_000,
            event_limit: 1_000,
        }
    }
}
