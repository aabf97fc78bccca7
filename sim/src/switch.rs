//! [`SimSwitch`]: a simulated OpenFlow 1.3 switch speaking to a controller over real TCP.
//!
//! One tokio task per connection reads frames, applies each message to the switch's
//! [`Datapath`] under the switch's own lock (no global lock), and writes the replies in order,
//! so a BARRIER_REPLY always follows the effects of everything before it. The datapath (flows,
//! meters) lives in the switch, not the connection: it survives disconnects, as on a real
//! switch in `fail_mode=secure`.
//!
//! Per switch: one `Arc`, one small mutex-protected state, one `watch` channel, and while
//! connected one task with a read buffer that is shrunk back after large frames.

use std::future::pending;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use op25b_proto::error_codes::{ErrorType, HelloFailedCode};
use op25b_proto::framer::next_frame;
use op25b_proto::{ErrorMsg, Hello, Message, OfpMessage};
use parking_lot::Mutex;
use std::collections::VecDeque;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpSocket, TcpStream};

use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::Interval;

use crate::datapath::{Datapath, DatapathConfig};
use crate::faults::{FlowModFault, FlowModTrigger, HandshakeBehaviour};
use crate::flow_table::{FlowEntry, FlowModOutcome};
use crate::handshake::negotiate;
use crate::observe::{BoundedLog, Counters, SwitchEvent, Violation};
use crate::packet::PacketHeaders;
use crate::table_error::TableError;
use crate::verdict::Verdict;

/// Initial read buffer; it grows to the largest frame (at most 64 KiB) and is shrunk back.
const READ_CHUNK: usize = 1024;
/// Buffers above this capacity are released once empty.
const SHRINK_ABOVE: usize = 64 * 1024;
/// Raw writes and PACKET_INs queued for the connection task at most.
const OUTBOX_LIMIT: usize = 256;
/// xids of the switch's own ECHO_REQUESTs start here (the controller's are usually small).
const ECHO_XID_BASE: u32 = 0xec40_0000;

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
    /// Send an ECHO_REQUEST this often while connected. `None` (the default): never.
    pub echo_interval: Option<Duration>,
    /// Handshake faults.
    pub handshake: HandshakeBehaviour,
    /// Received messages kept for [`SimSwitch::received`] (the oldest are dropped). 0 keeps
    /// none (load tests).
    pub record_limit: usize,
    /// Events kept for [`SimSwitch::events`].
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
            echo_interval: None,
            handshake: HandshakeBehaviour::Normal,
            record_limit: 10_000,
            event_limit: 1_000,
        }
    }
}

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

/// A check run after every message the switch applies; `Err` describes the violation.
pub type Invariant = Arc<dyn Fn(&Datapath) -> Result<(), String> + Send + Sync>;

/// A read-only view of a switch's state, for [`SimSwitch::wait_until`] predicates.
pub struct SwitchView<'a> {
    state: &'a State,
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
struct ConnectionSlot {
    id: u64,
    wake: Arc<Notify>,
    outbox: VecDeque<Bytes>,
}

impl ConnectionSlot {
    /// Queues bytes for the task; `false` when the outbox is full.
    fn enqueue(&mut self, bytes: Bytes) -> bool {
        if self.outbox.len() >= OUTBOX_LIMIT {
            return false;
        }
        self.outbox.push_back(bytes);
        self.wake.notify_one();
        true
    }
}

struct State {
    datapath: Datapath,
    counters: Counters,
    received: BoundedLog<OfpMessage>,
    events: BoundedLog<SwitchEvent>,
    invariant: Option<Invariant>,
    violation: Option<Violation>,
    flow_mod_faults: Vec<FlowModFault>,
    silent: bool,
    connection: Option<ConnectionSlot>,
    next_index: u64,
    handshake_done: bool,
    /// The live connection's negotiated version, once HELLOs are exchanged.
    version: Option<u8>,
}

struct Inner {
    dpid: u64,
    versions: Vec<u8>,
    local_ip: Option<IpAddr>,
    echo_interval: Option<Duration>,
    handshake: HandshakeBehaviour,
    state: Mutex<State>,
    changed: watch::Sender<u64>,
}

impl Inner {
    fn bump(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }
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

    /// Opens a TCP connection to the controller and starts serving it in a task. Returns once
    /// TCP is connected (the HELLO exchange then runs in the task).
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
        let wake = Arc::new(Notify::new());
        let (id, silent) = {
            let mut st = self.inner.state.lock();
            if st.connection.is_some() {
                return Err(SwitchError::AlreadyConnected { dpid });
            }
            st.counters.connections += 1;
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

/// Runs one connection to its end and records why it ended.
async fn serve(inner: Arc<Inner>, stream: TcpStream, wake: Arc<Notify>, id: u64, silent: bool) {
    let reason = match drive(&inner, stream, &wake, id, silent).await {
        Ok(reason) => reason,
        Err(e) => format!("I/O error: {e}"),
    };
    {
        let mut st = inner.state.lock();
        if st.connection.as_ref().is_some_and(|c| c.id == id) {
            st.connection = None;
            st.version = None;
        }
        st.events.push(SwitchEvent::Disconnected { reason });
    }
    inner.bump();
}

async fn tick(echo: &mut Option<Interval>) {
    match echo {
        Some(i) => {
            i.tick().await;
        }
        None => pending().await,
    }
}

/// The connection loop; returns why it ended.
async fn drive(
    inner: &Inner,
    stream: TcpStream,
    wake: &Notify,
    id: u64,
    mut silent: bool,
) -> std::io::Result<String> {
    let (mut rd, mut wr) = stream.into_split();
    let hello_version = inner
        .versions
        .iter()
        .copied()
        .max()
        .unwrap_or(op25b_proto::consts::OFP_VERSION);
    if inner.handshake != HandshakeBehaviour::NoHello {
        let hello = OfpMessage {
            version: hello_version,
            xid: 0,
            body: Message::Hello(Hello::with_versions(&inner.versions)),
        };
        wr.write_all(&hello.to_bytes()).await?;
    }
    let mut conn = Connection {
        negotiated: None,
        out: BytesMut::new(),
    };
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut echo = inner.echo_interval.map(|d| {
        let start = tokio::time::Instant::now() + d;
        tokio::time::interval_at(start, d)
    });
    let mut echo_xid = ECHO_XID_BASE;
    loop {
        tokio::select! {
            _ = wake.notified() => {
                let outbox = {
                    let mut st = inner.state.lock();
                    silent = st.silent;
                    match st.connection.as_mut() {
                        Some(slot) if slot.id == id => std::mem::take(&mut slot.outbox),
                        _ => return Ok("disconnected by the test".into()),
                    }
                };
                for bytes in outbox {
                    wr.write_all(&bytes).await?;
                }
            },
            n = async {
                // Read in chunks, not in the 64-byte steps a full BytesMut would grow by.
                if buf.capacity() - buf.len() < READ_CHUNK / 4 {
                    buf.reserve(READ_CHUNK);
                }
                rd.read_buf(&mut buf).await
            }, if !silent => {
                if n? == 0 {
                    return Ok("controller closed the connection".into());
                }
                let end = loop {
                    match next_frame(&mut buf) {
                        Ok(Some(frame)) => {
                            if let Some(reason) = conn.on_frame(inner, frame) {
                                break Some(reason);
                            }
                        }
                        Ok(None) => break None,
                        Err(e) => break Some(format!("unframeable stream: {e}")),
                    }
                };
                flush(&mut wr, &mut conn.out).await?;
                if let Some(reason) = end {
                    return Ok(reason);
                }
                if buf.is_empty() && buf.capacity() > SHRINK_ABOVE {
                    buf = BytesMut::with_capacity(READ_CHUNK);
                }
            }
            _ = tick(&mut echo), if !silent && conn.negotiated.is_some() => {
                echo_xid = echo_xid.wrapping_add(1);
                let req = OfpMessage {
                    version: conn.negotiated.unwrap_or(hello_version),
                    xid: echo_xid,
                    body: Message::EchoRequest(Bytes::new()),
                };
                wr.write_all(&req.to_bytes()).await?;
            }
        }
    }
}

async fn flush(wr: &mut OwnedWriteHalf, out: &mut BytesMut) -> std::io::Result<()> {
    if !out.is_empty() {
        wr.write_all(out).await?;
        out.clear();
        if out.capacity() > SHRINK_ABOVE {
            *out = BytesMut::new();
        }
    }
    Ok(())
}

/// Per-connection protocol state.
struct Connection {
    negotiated: Option<u8>,
    out: BytesMut,
}

impl Connection {
    /// Handles one frame under the switch's lock; queues replies in `self.out`. Returns a
    /// reason when the connection must close.
    fn on_frame(&mut self, inner: &Inner, frame: Bytes) -> Option<String> {
        let decoded = OfpMessage::decode(&frame);
        let mut guard = inner.state.lock();
        let st = &mut *guard;
        st.counters.messages += 1;
        let index = st.next_index;
        st.next_index += 1;
        let header_version = frame.first().copied().unwrap_or(0);
        let xid = frame
            .get(4..8)
            .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        let mut close = None;
        match decoded {
            Err(e) => {
                st.counters.undecodable += 1;
                if inner.handshake != HandshakeBehaviour::NoHello {
                    self.queue(&OfpMessage {
                        version: self.negotiated.unwrap_or(header_version),
                        xid,
                        body: Message::Error(e.to_error_msg(&frame)),
                    });
                }
            }
            Ok(msg) => {
                if st.received.limit() > 0 {
                    st.received.push(msg.clone());
                }
                close = self.on_message(inner, st, &msg, &frame);
                if st.violation.is_none() {
                    if let Some(check) = &st.invariant {
                        if let Err(description) = check(&st.datapath) {
                            st.violation = Some(Violation {
                                message_index: index,
                                message: msg,
                                description,
                            });
                        }
                    }
                }
            }
        }
        drop(guard);
        inner.bump();
        close
    }

    fn on_message(
        &mut self,
        inner: &Inner,
        st: &mut State,
        msg: &OfpMessage,
        frame: &Bytes,
    ) -> Option<String> {
        if inner.handshake == HandshakeBehaviour::NoHello {
            return None;
        }
        let Some(version) = self.negotiated else {
            let agreed = match &msg.body {
                Message::Hello(h) => negotiate(&inner.versions, msg.version, h),
                _ => None,
            };
            return match agreed {
                Some(v) => {
                    self.negotiated = Some(v);
                    st.version = Some(v);
                    st.events.push(SwitchEvent::HelloDone { version: v });
                    None
                }
                None => {
                    // Spec 6.3.1: OFPET_HELLO_FAILED / OFPHFC_INCOMPATIBLE with an ASCII
                    // explanation, then terminate the connection.
                    let err = ErrorMsg::new(
                        ErrorType::HelloFailed as u16,
                        HelloFailedCode::Incompatible as u16,
                        Bytes::from_static(b"no common OpenFlow version"),
                    );
                    self.queue(&OfpMessage {
                        version: inner.versions.iter().copied().max().unwrap_or(msg.version),
                        xid: msg.xid,
                        body: Message::Error(err),
                    });
                    st.events.push(SwitchEvent::HelloFailed);
                    Some("version negotiation failed".into())
                }
            };
        };
        let replies = match &msg.body {
            Message::FeaturesRequest if inner.handshake == HandshakeBehaviour::NoFeaturesReply => {
                Vec::new()
            }
            Message::FlowMod(fm) => {
                st.counters.flow_mods += 1;
                let nth = st.counters.flow_mods;
                let fault = st.flow_mod_faults.iter().position(|f| f.fires(nth, fm));
                let replies = match fault {
                    Some(i) => {
                        let f = st.flow_mod_faults.remove(i);
                        vec![OfpMessage {
                            version,
                            xid: msg.xid,
                            body: Message::Error(ErrorMsg::for_request(f.err_type, f.code, frame)),
                        }]
                    }
                    None => st.datapath.handle(msg, frame, Instant::now()),
                };
                if replies.iter().any(|r| matches!(r.body, Message::Error(_))) {
                    st.counters.flow_mod_errors += 1;
                }
                replies
            }
            _ => st.datapath.handle(msg, frame, Instant::now()),
        };
        for r in &replies {
            match r.body {
                Message::BarrierReply => st.events.push(SwitchEvent::BarrierReplied { xid: r.xid }),
                Message::FeaturesReply(_) if !st.handshake_done => {
                    st.handshake_done = true;
                    st.events.push(SwitchEvent::HandshakeDone);
                }
                _ => {}
            }
            self.queue(r);
        }
        if matches!(msg.body, Message::BarrierRequest) {
            st.counters.barriers += 1;
        }
        None
    }

    fn queue(&mut self, msg: &OfpMessage) {
        msg.encode(&mut self.out);
    }
}
