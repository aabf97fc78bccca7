//! The state one simulated switch shares between its handle ([`crate::SimSwitch`]) and its
//! connection task: the datapath, counters, records, faults and the live connection's slot,
//! behind one small mutex, plus the `watch` channel that wakes waiters after every change and
//! the read-only [`SwitchView`] that wait predicates get.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use op25b_proto::OfpMessage;
use parking_lot::Mutex;
use tokio::sync::{watch, Notify};

use crate::datapath::Datapath;
use crate::faults::{FlowModFault, HandshakeBehaviour};
use crate::flow_table::FlowEntry;
use crate::observe::{BoundedLog, Counters, SwitchEvent, Violation};

/// Raw writes and PACKET_INs queued for the connection task at most.
const OUTBOX_LIMIT: usize = 256;

/// A check run after every message the switch applies; `Err` describes the violation.
pub type Invariant = Arc<dyn Fn(&Datapath) -> Result<(), String> + Send + Sync>;

/// A read-only view of a switch's state, for
/// [`SimSwitch::wait_until`](crate::SimSwitch::wait_until) predicates.
pub struct SwitchView<'a> {
    pub(crate) state: &'a State,
}

impl SwitchView<'_> {
    /// The datapath (flows, meters, config, role).
    pub fn datapath(&self) -> &Datapath {
        &self.state.datapath
    }

    /// The flows, table by table in lookup order.
    pub fn flows(&self) -> impl Iterator<Item = &FlowEntry> {
        self.state.datapath.flows().entries()
    }

    /// Message counters.
    pub fn counters(&self) -> Counters {
        self.state.counters
    }

    /// Kept events, oldest first.
    pub fn events(&self) -> impl Iterator<Item = &SwitchEvent> {
        self.state.events.iter()
    }

    /// Whether a connection is live.
    pub fn is_connected(&self) -> bool {
        self.state.connection.is_some()
    }

    /// The first invariant violation, if any.
    pub fn violation(&self) -> Option<&Violation> {
        self.state.violation.as_ref()
    }
}

/// The live connection as the handle sees it. The task is woken through `wake` (which keeps
/// a permit, so no wake-up is lost) and then reads the slot under the switch's lock: gone or
/// replaced means "disconnect"; `outbox` holds bytes to write.
pub(crate) struct ConnectionSlot {
    pub(crate) id: u64,
    pub(crate) wake: Arc<Notify>,
    pub(crate) outbox: VecDeque<Bytes>,
}

impl ConnectionSlot {
    /// Queues bytes for the task; `false` when the outbox is full.
    pub(crate) fn enqueue(&mut self, bytes: Bytes) -> bool {
        if self.outbox.len() >= OUTBOX_LIMIT {
            return false;
        }
        self.outbox.push_back(bytes);
        self.wake.notify_one();
        true
    }
}

pub(crate) struct State {
    pub(crate) datapath: Datapath,
    pub(crate) counters: Counters,
    pub(crate) received: BoundedLog<OfpMessage>,
    pub(crate) events: BoundedLog<SwitchEvent>,
    pub(crate) invariant: Option<Invariant>,
    pub(crate) violation: Option<Violation>,
    pub(crate) flow_mod_faults: Vec<FlowModFault>,
    pub(crate) silent: bool,
    pub(crate) connection: Option<ConnectionSlot>,
    pub(crate) next_index: u64,
    pub(crate) handshake_done: bool,
    /// The live connection's negotiated version, once HELLOs are exchanged.
    pub(crate) version: Option<u8>,
}

pub(crate) struct Inner {
    pub(crate) dpid: u64,
    pub(crate) versions: Vec<u8>,
    pub(crate) local_ip: Option<IpAddr>,
    pub(crate) tls: Option<crate::switch_tls::SwitchTls>,
    pub(crate) echo_interval: Option<Duration>,
    pub(crate) handshake: HandshakeBehaviour,
    pub(crate) state: Mutex<State>,
    pub(crate) changed: watch::Sender<u64>,
}

impl Inner {
    pub(crate) fn bump(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }
}
