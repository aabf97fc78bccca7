//! [`SimSwitch`]: a simulated OpenFlow 1.3 switch speaking to a controller over real TCP, as
//! the handle a test or the swarm holds: connect, disconnect and reconnect; inject faults and
//! packets; change flows behind the controller's back; observe counters, messages, events and
//! invariant violations; wait for a state. The datapath (flows, meters) lives in the switch,
//! not the connection: it survives disconnects, as on a real switch in `fail_mode=secure`.
//! Per switch: one `Arc`, one small mutex-protected state (`switch_state`), one `watch`
//! channel, and while connected one task (`connection_io`, `connection`) that applies each
//! message under the switch's own lock (no global lock) and writes the replies in order, so a
//! BARRIER_REPLY always follows the effects of everything before it.

use std::collections::VecDeque;
use std::future::pending;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use op25b_proto::{Message, OfpMessage};
use parking_lot::Mutex;
use tokio::net::TcpSocket;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tokio_rustls::rustls::HandshakeKind;
use tokio_rustls::TlsConnector;

use crate::connection_io::{serve, Stream};
use crate::datapath::Datapath;
use crate::faults::{FlowModFault, FlowModTrigger};
use crate::flow_table::{FlowEntry, FlowModOutcome};
use crate::observe::{BoundedLog, Counters, SwitchEvent, Violation};
use crate::packet::PacketHeaders;
use crate::switch_state::{ConnectionSlot, Inner, State};
use crate::table_error::TableError;
use crate::verdict::Verdict;

pub use crate::switch_config::SimSwitchConfig;
pub use crate::switch_state::{Invariant, SwitchView};

/// Why a switch could not connect.
#[derive(Debug, thiserror::Error)]
pub enum SwitchError {
    /// The switch already has a live connection.
    #[error("switch {dpid:#x} is already connected")]
    AlreadyConnected {
        /// Its datapath id.
        dpid: u64,
    },
    /// Creating or binding the local socket failed.
    #[error("switch {dpid:#x}: cannot bind local address {local}: {source}")]
    Bind {
        /// Its datapath id.
        dpid: u64,
        /// The address.
        local: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TCP connect failed.
    #[error("switch {dpid:#x}: cannot connect to controller {controller}: {source}")]
    Connect {
        /// Its datapath id.
        dpid: u64,
        /// The controller address.
        controller: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// TCP connected but the TLS handshake failed (as the switch saw it: a controller that
    /// rejects the switch's certificate may only say so after the switch's side is done).
    #[error("switch {dpid:#x}: TLS handshake with controller {controller} failed: {source}")]
    Tls {
        /// Its datapath id.
        dpid: u64,
        /// The controller address.
        controller: SocketAddr,
        /// What rustls reported.
        source: std::io::Error,
    },
}

/// A wait that ran out of time.
#[derive(Debug, Clone, thiserror::Error)]
#[error("switch {dpid:#x}: timed out after {waited:?} waiting for {what}")]
pub struct WaitTimeout {
    /// The switch.
    pub dpid: u64,
    /// What was awaited.
    pub what: String,
    /// How long.
    pub waited: Duration,
}

/// A handle to one simulated switch; clones share the switch.
#[derive(Clone)]
pub struct SimSwitch {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SimSwitch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimSwitch")
            .field("dpid", &self.inner.dpid)
            .finish_non_exhaustive()
    }
}

impl SimSwitch {
    /// A disconnected switch with empty tables.
    pub fn new(config: SimSwitchConfig) -> Self {
        let (changed, _) = watch::channel(0);
        let state = State {
            datapath: Datapath::new(config.datapath.clone()),
            counters: Counters::default(),
            received: BoundedLog::new(config.record_limit),
            events: BoundedLog::new(config.event_limit),
            invariant: None,
            violation: None,
            flow_mod_faults: Vec::new(),
            silent: false,
            connection: None,
            next_index: 0,
            handshake_done: false,
            version: None,
        };
        Self {
            inner: Arc::new(Inner {
                dpid: config.datapath.datapath_id,
                versions: config.versions,
                local_ip: config.local_ip,
                tls: config.tls,
                echo_interval: config.echo_interval,
                handshake: config.handshake,
                state: Mutex::new(state),
                changed,
            }),
        }
    }

    /// Its datapath id.
    pub fn dpid(&self) -> u64 {
        self.inner.dpid
    }

    // ---------- connection ----------

    /// Opens a TCP connection to the controller (and with [`SimSwitchConfig::tls`] runs the TLS
    /// handshake on it) and starts serving it in a task. Returns once TCP (TLS) is connected
    /// (the HELLO exchange then runs in the task).
    pub async fn connect(&self, controller: SocketAddr) -> Result<(), SwitchError> {
        let dpid = self.inner.dpid;
        if self.is_connected() {
            return Err(SwitchError::AlreadyConnected { dpid });
        }
        let local = SocketAddr::new(
            self.inner.local_ip.unwrap_or(match controller {
                SocketAddr::V4(_) => IpAddr::from([0, 0, 0, 0]),
                SocketAddr::V6(_) => IpAddr::from([0u16; 8]),
            }),
            0,
        );
        let bind_err = |source| SwitchError::Bind {
            dpid,
            local,
            source,
        };
        let socket = match controller {
            SocketAddr::V4(_) => TcpSocket::new_v4(),
            SocketAddr::V6(_) => TcpSocket::new_v6(),
        }
        .map_err(bind_err)?;
        if self.inner.local_ip.is_some() {
            socket.bind(local).map_err(bind_err)?;
        }
        let stream = socket
            .connect(controller)
            .await
            .map_err(|source| SwitchError::Connect {
                dpid,
                controller,
                source,
            })?;
        // Small messages, latency matters more than throughput.
        let _ = stream.set_nodelay(true);
        let mut resumed = false;
        let stream = match &self.inner.tls {
            None => Stream::Plain(stream),
            Some(tls) => {
                let tls = TlsConnector::from(tls.config.clone())
                    .connect(tls.server_name.clone(), stream)
                    .await
                    .map_err(|source| SwitchError::Tls {
                        dpid,
                        controller,
                        source,
                    })?;
                resumed = tls.get_ref().1.handshake_kind() == Some(HandshakeKind::Resumed);
                Stream::Tls(Box::new(tls))
            }
        };
        let wake = Arc::new(Notify::new());
        let (id, silent) = {
            let mut st = self.inner.state.lock();
            if st.connection.is_some() {
                return Err(SwitchError::AlreadyConnected { dpid });
            }
            st.counters.connections += 1;
            st.counters.tls_resumptions += u64::from(resumed);
            let id = st.counters.connections;
            st.connection = Some(ConnectionSlot {
                id,
                wake: wake.clone(),
                outbox: VecDeque::new(),
            });
            st.handshake_done = false;
            st.version = None;
            st.events.push(SwitchEvent::Connected { connection: id });
            (id, st.silent)
        };
        self.inner.bump();
        tokio::spawn(serve(self.inner.clone(), stream, wake, id, silent));
        Ok(())
    }

    /// Closes the live connection, if any (the controller sees a TCP FIN). Flows stay.
    pub fn disconnect(&self) {
        // The task wakes, finds its slot gone, and ends, which closes the socket.
        let slot = self.inner.state.lock().connection.take();
        if let Some(slot) = slot {
            slot.wake.notify_one();
        }
        self.inner.bump();
    }

    /// Whether a connection is live.
    pub fn is_connected(&self) -> bool {
        self.inner.state.lock().connection.is_some()
    }

    /// Keeps the switch connected: connect, and after every disconnect wait `backoff` and
    /// connect again (failures are recorded as [`SwitchEvent::ConnectFailed`]). Abort the
    /// returned task to stop; then [`SimSwitch::disconnect`] closes the live connection.
    pub fn spawn_reconnecting(&self, controller: SocketAddr, backoff: Duration) -> JoinHandle<()> {
        let sw = self.clone();
        tokio::spawn(async move {
            loop {
                if !sw.is_connected() {
                    if let Err(e) = sw.connect(controller).await {
                        sw.inner
                            .state
                            .lock()
                            .events
                            .push(SwitchEvent::ConnectFailed {
                                reason: e.to_string(),
                            });
                        sw.inner.bump();
                    }
                }
                let _ = sw
                    .wait_until(Duration::MAX, "disconnect", |v| !v.is_connected())
                    .await;
                tokio::time::sleep(backoff).await;
            }
        })
    }

    // ---------- faults ----------

    /// Answers the `n`-th FLOW_MOD ever received (counting from 1, see
    /// [`Counters::flow_mods`]) with OFPT_ERROR (`err_type`, `code`) instead of applying it.
    pub fn fail_nth_flow_mod(&self, n: u64, err_type: u16, code: u16) {
        self.inner.state.lock().flow_mod_faults.push(FlowModFault {
            trigger: FlowModTrigger::Nth(n),
            err_type,
            code,
        });
    }

    /// Answers the first FLOW_MOD for which `pred` holds with OFPT_ERROR (`err_type`, `code`)
    /// instead of applying it.
    pub fn fail_flow_mod_when(
        &self,
        pred: impl Fn(&op25b_proto::FlowMod) -> bool + Send + Sync + 'static,
        err_type: u16,
        code: u16,
    ) {
        self.inner.state.lock().flow_mod_faults.push(FlowModFault {
            trigger: FlowModTrigger::When(Arc::new(pred)),
            err_type,
            code,
        });
    }

    /// Stops reading and answering (ECHO included) while keeping the socket open: a
    /// half-open connection as the controller sees it. Lasts across reconnects until
    /// [`SimSwitch::resume`].
    pub fn go_silent(&self) {
        self.set_silent(true);
    }

    /// Undoes [`SimSwitch::go_silent`]: bytes the controller sent meanwhile are then read.
    pub fn resume(&self) {
        self.set_silent(false);
    }

    fn set_silent(&self, silent: bool) {
        let mut st = self.inner.state.lock();
        st.silent = silent;
        if let Some(slot) = &st.connection {
            slot.wake.notify_one();
        }
    }

    /// Writes raw bytes on the live connection (malformed messages, partial frames...).
    /// `false` when not connected or the command queue is full.
    pub fn send_raw(&self, bytes: impl Into<Bytes>) -> bool {
        let mut st = self.inner.state.lock();
        st.connection
            .as_mut()
            .is_some_and(|slot| slot.enqueue(bytes.into()))
    }

    // ---------- data plane ----------

    /// A packet arrives: classify it (counting it on the flows it hits, `len` = its frame's
    /// length) and, if it goes to the controller, send a PACKET_IN carrying its Ethernet frame
    /// on the live connection. Rates are not modelled: meters never drop. A PACKET_IN that
    /// cannot be queued (not connected, HELLO not done, queue full) is counted in
    /// [`Counters::packet_ins_dropped`].
    pub fn inject_packet(&self, pkt: &PacketHeaders) -> Verdict {
        let frame = Bytes::from(crate::frame::build_frame(pkt));
        let mut st = self.inner.state.lock();
        let verdict = st.datapath.record_packet(pkt, frame.len() as u64);
        if let Some(pin) = st.datapath.packet_in(pkt, &verdict, frame) {
            let version = st.version;
            let sent = match (st.connection.as_mut(), version) {
                (Some(slot), Some(version)) => {
                    let msg = OfpMessage {
                        version,
                        xid: 0,
                        body: Message::PacketIn(pin),
                    };
                    slot.enqueue(msg.to_bytes())
                }
                _ => false,
            };
            if sent {
                st.counters.packet_ins += 1;
            } else {
                st.counters.packet_ins_dropped += 1;
            }
        }
        drop(st);
        self.inner.bump();
        verdict
    }

    // ---------- flow table, behind the controller's back ----------

    /// Applies a FLOW_MOD locally, as another controller or an operator with `ovs-ofctl` would
    /// (foreign cookies, stale flows). Not counted as a received message.
    pub fn install(&self, fm: &op25b_proto::FlowMod) -> Result<FlowModOutcome, TableError> {
        let r = self
            .inner
            .state
            .lock()
            .datapath
            .flows_mut()
            .apply(fm, Instant::now());
        self.inner.bump();
        r
    }

    /// Removes every flow (a switch that lost its flows, e.g. restarted).
    pub fn wipe_flows(&self) {
        self.inner.state.lock().datapath.flows_mut().clear();
        self.inner.bump();
    }

    /// Runs `f` on the datapath under the switch's lock (so `f` must not call this switch's
    /// methods), then wakes waiters.
    pub fn with_datapath<R>(&self, f: impl FnOnce(&mut Datapath) -> R) -> R {
        let r = f(&mut self.inner.state.lock().datapath);
        self.inner.bump();
        r
    }

    // ---------- observation ----------

    /// A copy of every flow, table by table in lookup order.
    pub fn flows(&self) -> Vec<FlowEntry> {
        self.inner
            .state
            .lock()
            .datapath
            .flows()
            .entries()
            .cloned()
            .collect()
    }

    /// What the switch would do with `pkt` now.
    pub fn classify(&self, pkt: &PacketHeaders) -> Verdict {
        self.inner.state.lock().datapath.classify(pkt)
    }

    /// Message counters.
    pub fn counters(&self) -> Counters {
        self.inner.state.lock().counters
    }

    /// The kept received messages (decodable ones), oldest first.
    pub fn received(&self) -> Vec<OfpMessage> {
        self.inner.state.lock().received.iter().cloned().collect()
    }

    /// The kept events, oldest first.
    pub fn events(&self) -> Vec<SwitchEvent> {
        self.inner.state.lock().events.iter().cloned().collect()
    }

    /// Installs the invariant checked after every message applied from now on (replacing any
    /// previous one). The first failure is kept: see [`SimSwitch::violation`]. It runs under
    /// the switch's lock: it must not call this switch's methods.
    pub fn set_invariant(
        &self,
        check: impl Fn(&Datapath) -> Result<(), String> + Send + Sync + 'static,
    ) {
        self.inner.state.lock().invariant = Some(Arc::new(check));
    }

    /// The first invariant violation, if any.
    pub fn violation(&self) -> Option<Violation> {
        self.inner.state.lock().violation.clone()
    }

    /// Waits until `pred` holds for the switch's state (checked now and after every change),
    /// or `timeout` passes. `what` names the wait in the error.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&SwitchView<'_>) -> bool,
    ) -> Result<(), WaitTimeout> {
        let mut changes = self.inner.changed.subscribe();
        let wait = async {
            loop {
                changes.borrow_and_update();
                if pred(&SwitchView {
                    state: &self.inner.state.lock(),
                }) {
                    return;
                }
                // The sender lives as long as `self`: this never fails while we wait.
                if changes.changed().await.is_err() {
                    return pending().await;
                }
            }
        };
        let deadline = tokio::time::Instant::now().checked_add(timeout);
        let result = match deadline {
            Some(d) => tokio::time::timeout_at(d, wait).await.ok(),
            // A timeout beyond the clock's range: wait for good.
            None => {
                wait.await;
                Some(())
            }
        };
        result.ok_or_else(|| WaitTimeout {
            dpid: self.inner.dpid,
            what: what.to_string(),
            waited: timeout,
        })
    }

    /// Waits until the flow table, in canonical form, equals `expected`
    /// (see [`crate::FlowTable::canonical`]).
    pub async fn wait_for_flows(
        &self,
        timeout: Duration,
        expected: &[crate::flow_table::CanonicalFlow],
    ) -> Result<(), WaitTimeout> {
        self.wait_until(timeout, "the expected flow table", |v| {
            v.datapath().flows().canonical() == expected
        })
        .await
    }
}
