//! Shared by the tests/controller_*.rs files: an in-process controller on 127.0.0.1:0 with small
//! timers, a raw OpenFlow client for byte-level cases, and condition waits with timeouts.
#![allow(dead_code)]

use bytes::BytesMut;
use op25b::controller::policy_store::PolicyStore;
use op25b::controller::runtime::{Controller, ControllerOptions};
use op25b::fleet::registry::{Registry, SwitchStatus};
use op25b::policy::Config;
use op25b_proto::{Message, OfpMessage};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const COOKIE: u64 = 0x4f50_3235_4200_0000;

/// A policy with 1 s echo interval, 2 s echo timeout, 1 s handshake timeout, `audit` s audit,
/// relays 192.0.2.25 and 2001:db8::25, exempt 203.0.113.0/29, reporting off, and `extra` appended.
pub fn policy_text(audit: u64, extra: &str) -> String {
    format!(
        r#"
[controller]
listen = "127.0.0.1:0"
echo_interval_secs = 1
echo_timeout_secs = 2
handshake_timeout_secs = 1
audit_interval_secs = {audit}

[policy]
blocked_ports = [25]
relays = ["192.0.2.25/32", "2001:db8::25/128"]
exempt_sources = ["203.0.113.0/29"]
cookie = "0x4f50323542000000"

[reporting]
enabled = false
{extra}
"#
    )
}

pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "op25b-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// A running controller whose policy lives in a file (for reload tests).
pub struct Harness {
    pub controller: Controller,
    pub observations: Arc<op25b::fleet::SwitchObservations>,
    pub registry: Arc<Registry>,
    pub store: Arc<PolicyStore>,
    pub policy_path: PathBuf,
}

impl Harness {
    pub fn start(policy: &str) -> Harness {
        init_logs();
        let dir = temp_dir("ctl");
        let policy_path = dir.join("policy.toml");
        std::fs::write(&policy_path, policy).expect("write policy");
        let config = Config::load(&policy_path)
            .expect("valid test policy")
            .config;
        let registry = Arc::new(Registry::new());
        let store = Arc::new(PolicyStore::new(
            config,
            Some(policy_path.clone()),
            registry.clone(),
        ));
        let observations = Arc::new(op25b::fleet::SwitchObservations::new());
        let controller = Controller::start_observed(
            store.clone(),
            registry.clone(),
            ControllerOptions::default(),
            observations.clone(),
        )
        .expect("controller starts");
        Harness {
            controller,
            observations,
            registry,
            store,
            policy_path,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.controller.local_addr()
    }

    /// Waits until switch `dpid` satisfies `cond`.
    pub async fn wait_switch(
        &self,
        dpid: u64,
        what: &str,
        timeout: Duration,
        cond: impl Fn(&SwitchStatus) -> bool,
    ) -> SwitchStatus {
        let start = Instant::now();
        loop {
            if let Some(s) = self.registry.switch(dpid) {
                if cond(&s) {
                    return s;
                }
            }
            assert!(
                start.elapsed() < timeout,
                "timed out after {timeout:?} waiting for {what}; switch {dpid:#x}: {:?}",
                self.registry.switch(dpid)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// A bare OpenFlow client, for cases below what a switch would do.
pub struct RawSwitch {
    pub stream: TcpStream,
    buf: BytesMut,
}

pub enum Received {
    Msg(OfpMessage),
    Closed,
}

impl RawSwitch {
    pub async fn connect(addr: SocketAddr) -> RawSwitch {
        let stream = TcpStream::connect(addr)
            .await
            .expect("connect to the controller");
        RawSwitch {
            stream,
            buf: BytesMut::new(),
        }
    }

    pub async fn send(&mut self, m: OfpMessage) {
        self.stream.write_all(&m.to_bytes()).await.expect("send");
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("send raw");
    }

    /// The next message, `Closed` on EOF or reset; panics after `timeout`.
    pub async fn recv(&mut self, timeout: Duration) -> Received {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(frame) =
                op25b_proto::framer::next_frame(&mut self.buf).expect("controller frames are valid")
            {
                return Received::Msg(
                    OfpMessage::decode(&frame).expect("controller messages decode"),
                );
            }
            match tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
                Err(_) => panic!("nothing from the controller within {timeout:?}"),
                Ok(Ok(0)) | Ok(Err(_)) => return Received::Closed,
                Ok(Ok(_)) => {}
            }
        }
    }

    /// The next message that `pick` accepts (others skipped); panics on close or timeout.
    pub async fn recv_until<T>(
        &mut self,
        timeout: Duration,
        mut pick: impl FnMut(&OfpMessage) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left).await {
                Received::Msg(m) => {
                    if let Some(t) = pick(&m) {
                        return t;
                    }
                }
                Received::Closed => panic!("controller closed the connection"),
            }
        }
    }

    /// Reads until the controller closes; returns what came before and how long it took.
    pub async fn until_closed(&mut self, timeout: Duration) -> (Vec<OfpMessage>, Duration) {
        let start = Instant::now();
        let mut got = Vec::new();
        loop {
            let left = timeout.saturating_sub(start.elapsed());
            match self.recv(left).await {
                Received::Msg(m) => got.push(m),
                Received::Closed => return (got, start.elapsed()),
            }
        }
    }

    /// HELLO, FEATURES, PORT_DESC (ports 1..=3) as a switch with `dpid` would answer them.
    /// Returns the xid of the FLOW stats request that follows.
    pub async fn handshake(&mut self, dpid: u64) -> u32 {
        self.hello_and_features(dpid).await;
        self.finish_handshake().await
    }

    /// HELLO and FEATURES_REPLY only.
    pub async fn hello_and_features(&mut self, dpid: u64) {
        let t = Duration::from_secs(5);
        self.recv_until(t, |m| matches!(m.body, Message::Hello(_)).then_some(()))
            .await;
        self.send(OfpMessage::new(
            1,
            Message::Hello(op25b_proto::Hello::with_versions(&[4])),
        ))
        .await;
        let fx = self
            .recv_until(t, |m| {
                matches!(m.body, Message::FeaturesRequest).then_some(m.xid)
            })
            .await;
        let features = op25b_proto::FeaturesReply {
            datapath_id: dpid,
            n_buffers: 0,
            n_tables: 254,
            auxiliary_id: 0,
            capabilities: 0,
            reserved: 0,
        };
        self.send(OfpMessage::new(fx, Message::FeaturesReply(features)))
            .await;
    }

    /// PORT_DESC; returns the xid of the FLOW stats request that follows.
    pub async fn finish_handshake(&mut self) -> u32 {
        let t = Duration::from_secs(5);
        let px = self
            .recv_until(t, |m| match &m.body {
                Message::MultipartRequest(r)
                    if matches!(r.body, op25b_proto::MultipartRequestBody::PortDesc) =>
                {
                    Some(m.xid)
                }
                _ => None,
            })
            .await;
        let ports = (1..=3).map(port).collect();
        self.send(OfpMessage::new(
            px,
            Message::MultipartReply(op25b_proto::MultipartReply {
                flags: 0,
                body: op25b_proto::MultipartReplyBody::PortDesc(ports),
            }),
        ))
        .await;
        self.recv_until(t, |m| match &m.body {
            Message::MultipartRequest(r)
                if matches!(r.body, op25b_proto::MultipartRequestBody::Flow(_)) =>
            {
                Some(m.xid)
            }
            _ => None,
        })
        .await
    }
}

pub fn port(n: u32) -> op25b_proto::Port {
    op25b_proto::Port {
        port_no: n,
        hw_addr: op25b_proto::MacAddr([2, 0, 0, 0, 0, n as u8]),
        name: format!("p{n}"),
        config: 0,
        state: 0,
        curr: 0,
        advertised: 0,
        supported: 0,
        peer: 0,
        curr_speed: 0,
        max_speed: 0,
    }
}

// ---------- simulated switches ----------

use op25b_sim::{Datapath, PacketHeaders, SimSwitch, SimSwitchConfig};
use std::net::IpAddr;

/// The hitless rule, checked by the simulated switch after every message it applies: from every
/// policed port, TCP to port 25 of a non-relay host is not forwarded (IPv4, IPv6, and TCP
/// fragments, which carry no ports), whatever the switch's flows are at that moment.
pub fn blocking_invariant(
    policed: Vec<u32>,
) -> impl Fn(&Datapath) -> Result<(), String> + Send + Sync + 'static {
    let sub4: IpAddr = "10.0.0.5".parse().unwrap();
    let out4: IpAddr = "198.51.100.7".parse().unwrap();
    let sub6: IpAddr = "2001:db8:1::5".parse().unwrap();
    let out6: IpAddr = "2001:db8:ff::7".parse().unwrap();
    move |dp: &Datapath| {
        for &p in &policed {
            for (src, dst) in [(sub4, out4), (sub6, out6)] {
                let syn = PacketHeaders::tcp(p, src, 40000, dst, 25);
                for pkt in [syn.clone(), syn.fragment()] {
                    let v = dp.classify(&pkt);
                    if !v.is_blocked() {
                        return Err(format!("{pkt:?} would be forwarded: {v:?}"));
                    }
                }
            }
        }
        Ok(())
    }
}

/// A simulated switch with ports 1..=n_ports, all policed, the hitless invariant installed.
pub fn sim_switch(dpid: u64, n_ports: u32) -> SimSwitch {
    let sw = SimSwitch::new(SimSwitchConfig::new(dpid, n_ports));
    sw.set_invariant(blocking_invariant((1..=n_ports).collect()));
    sw
}

/// Panics with the first message that broke the hitless rule, if any.
pub fn assert_hitless(sw: &SimSwitch) {
    if let Some(v) = sw.violation() {
        panic!(
            "switch {:#x}: message #{} broke the blocking rule: {}\nmessage: {:?}",
            sw.dpid(),
            v.message_index,
            v.description,
            v.message
        );
    }
}

/// Fate of TCP from `src` on `in_port` to `dst`:`dport` on the simulated switch.
pub fn tcp_forwarded(sw: &SimSwitch, in_port: u32, src: &str, dst: &str, dport: u16) -> bool {
    let pkt = PacketHeaders::tcp(
        in_port,
        src.parse().unwrap(),
        40000,
        dst.parse().unwrap(),
        dport,
    );
    !sw.classify(&pkt).is_blocked()
}

/// Flows on the simulated switch carrying `cookie`.
pub fn flows_with_cookie(sw: &SimSwitch, cookie: u64) -> usize {
    sw.flows().iter().filter(|f| f.cookie == cookie).count()
}
