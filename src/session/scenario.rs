//! The test harness of the session machine: a scenario builder that drives a [`SwitchSession`] to where a test starts, so each test reads
//! given / when / then:
//!
//! ```text
//! let mut sw = Scenario::new(&["a"]).connected();  // given: the handshake done
//! let out = sw.reply(sw.flows, flows(&[]));        // when: the switch has none of our flows
//! assert_eq!(policy_msgs(&out), ["add a"]);        // then
//! ```
//!
//! The builder asserts what every handshake must do on its way (HELLO first, FEATURES and
//! PORT_DESC together, SET_CONFIG before the first read), so no test repeats it. The policy is
//! the [`FakePolicy`] (its messages are strings).

use super::fake_policy::FakePolicy;
use super::machine::SwitchSession;
use super::output::{Output, SessionEvent};
use super::phase::Phase;
use super::wire::{Inbound, Outbound};
use op25b_proto::MeterConfig;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub type Out = Output<String, String, Vec<String>, u32>;
pub type Session = SwitchSession<FakePolicy, u32>;

pub fn peer() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 40000))
}

/// Where a test starts: a policy and a switch, driven as far as asked.
#[derive(Debug)]
pub struct Scenario {
    policy: Arc<FakePolicy>,
    dpid: u64,
    /// PORT_DESC as the switch sends it (a reserved port included).
    ports: Vec<u32>,
    /// A session in a cluster (`SwitchSession::clustered`).
    clustered: bool,
}

impl Scenario {
    /// A policy (generation 1) wanting `desired` flows and no meters.
    pub fn new(desired: &[&str]) -> Self {
        Self::with_policy(FakePolicy::new(1, desired))
    }

    /// A policy (generation 1) wanting flow "a" and meter 1.
    pub fn metered() -> Self {
        Self::with_policy(FakePolicy::metered(1))
    }

    pub fn with_policy(policy: Arc<FakePolicy>) -> Self {
        Self {
            policy,
            dpid: 7,
            ports: vec![1, 2, 3, 0xffff_fffe],
            clustered: false,
        }
    }

    /// The switch's PORT_DESC lists `ports`.
    pub fn with_ports(mut self, ports: &[u32]) -> Self {
        self.ports = ports.to_vec();
        self
    }

    /// Our HELLO is out; nothing came from the switch yet.
    pub fn started(self) -> Harness {
        let t0 = Instant::now();
        let mut s = Session::new(peer(), self.policy.clone(), 100, t0);
        if self.clustered {
            s = s.clustered();
        }
        let out = s.start();
        assert_eq!(sends(&out)[0].1, Outbound::Hello);
        Harness {
            s,
            t0,
            now: t0,
            out,
            features: 0,
            port_desc: 0,
            flows: 0,
            meters: 0,
            scenario: self,
        }
    }

    /// The HELLOs agreed on 1.3: FEATURES and PORT_DESC were requested together.
    pub fn hello(self) -> Harness {
        let mut sw = self.started();
        sw.out = sw.reply(1, hello13());
        sw.features = xid_of(&sw.out, &Outbound::FeaturesRequest);
        sw.port_desc = xid_of(&sw.out, &Outbound::PortDescRequest);
        sw
    }

    /// The handshake is done: SET_CONFIG went out and the connect sync's reads are out (our
    /// flows, `flows`; first the meters, `meters`, when the policy wants meters).
    pub fn connected(self) -> Harness {
        let mut sw = self.hello();
        let out = sw.finish_handshake();
        assert!(sends(&out).iter().any(|(_, m)| *m
            == Outbound::SetConfig {
                flags: sw.scenario.policy.frag_flags,
                miss_send_len: 128
            }));
        sw.flows = xid_of(&out, &Outbound::Policy("flows?".into()));
        if !sw.scenario.policy.meters.is_empty() {
            assert_eq!(
                policy_msgs(&out),
                vec!["meters?".to_string(), "flows?".to_string()],
                "the meters and our flows are read (in one round trip) before anything is sent"
            );
            sw.meters = xid_of(&out, &Outbound::Policy("meters?".into()));
        }
        assert_eq!(sw.s.phase(), Phase::Syncing);
        sw.out = out;
        sw
    }

    /// In a cluster, the handshake done: the session waits in standby, nothing written or read
    /// (no role wanted yet, so no ROLE_REQUEST either).
    pub fn standby(mut self) -> Harness {
        self.clustered = true;
        let mut sw = self.hello();
        let out = sw.finish_handshake();
        assert_eq!(sends(&out), vec![], "nothing before the cluster decides");
        assert_eq!(sw.s.phase(), Phase::Standby);
        sw.out = out;
        sw
    }
    /// The connect sync is done: the switch already held `flows`, so nothing was changed.
    pub fn synced(self, flows_on_switch: &[&str]) -> Harness {
        let mut sw = self.connected();
        sw.out = sw.reply(sw.flows, flows(flows_on_switch));
        assert_eq!(sw.s.phase(), Phase::InSync);
        sw
    }
}

impl Harness {
    /// FEATURES and PORT_DESC (in two parts) answered: the outputs of the last part.
    fn finish_handshake(&mut self) -> Vec<Out> {
        let sw = self;
        let dpid = sw.scenario.dpid;
        let out = sw.reply(sw.features, Inbound::FeaturesReply { dpid });
        assert!(events(&out).contains(&SessionEvent::DpidLearned { dpid }));
        assert!(
            sends(&out).is_empty(),
            "PORT_DESC was requested with FEATURES"
        );
        let out = sw.reply(sw.port_desc, Inbound::ReplyPart);
        assert!(sends(&out).is_empty(), "waits for the last PORT_DESC part");
        let ports = sw.scenario.ports.clone();
        let out = sw.reply(
            sw.port_desc,
            Inbound::PortDesc {
                ports: ports.clone(),
            },
        );
        let switch_ports: Vec<u32> = ports.into_iter().filter(|p| *p < 0xffff_ff00).collect();
        assert_eq!(
            sw.ports(),
            switch_ports,
            "reserved ports are not switch ports"
        );
        out
    }
}

/// A session driven by a [`Scenario`], with its clock.
#[derive(Debug)]
pub struct Harness {
    pub s: Session,
    /// When the session started.
    pub t0: Instant,
    /// When the next message or tick happens.
    pub now: Instant,
    /// The outputs of the scenario's last step.
    pub out: Vec<Out>,
    /// The xids of the FEATURES, PORT_DESC, FLOW stats and METER_CONFIG requests of the
    /// handshake and the connect sync (0: not sent).
    pub features: u32,
    pub port_desc: u32,
    pub flows: u32,
    pub meters: u32,
    scenario: Scenario,
}

impl Harness {
    /// `secs` seconds after the start.
    pub fn secs(&self, secs: u64) -> Instant {
        self.t0 + Duration::from_secs(secs)
    }

    /// Moves the clock to `secs` seconds after the start.
    pub fn at(&mut self, secs: u64) -> &mut Self {
        self.now = self.secs(secs);
        self
    }

    /// The switch sends `msg` with `xid`, now.
    pub fn reply(&mut self, xid: u32, msg: Inbound<String, u32>) -> Vec<Out> {
        self.s.on_message(xid, msg, self.now)
    }

    /// The timer fires, now.
    pub fn tick(&mut self) -> Vec<Out> {
        self.s.on_tick(self.now)
    }

    /// A reload brings `policy` into force, now.
    pub fn reload(&mut self, policy: Arc<FakePolicy>) -> Vec<Out> {
        self.s.on_policy(policy, self.now)
    }

    /// The cluster wants the session to be `wanted`.
    pub fn wanted(&mut self, wanted: super::role::Wanted) -> Vec<Out> {
        self.s.on_wanted(wanted)
    }

    /// The switch's ports as the session knows them.
    pub fn ports(&self) -> Vec<u32> {
        self.s.view().ports.iter().map(|p| p.0).collect()
    }
}

// ----- what the switch sends -----

pub fn hello13() -> Inbound<String, u32> {
    Inbound::Hello {
        version: 4,
        supports_13: true,
    }
}

/// A whole FLOW stats reply listing `entries`.
pub fn flows(entries: &[&str]) -> Inbound<String, u32> {
    Inbound::FlowStats {
        entries: entries.iter().map(ToString::to_string).collect(),
    }
}

/// A whole METER_CONFIG reply listing `entries`.
pub fn meters(entries: Vec<MeterConfig>) -> Inbound<String, u32> {
    Inbound::MeterConfig { entries }
}

pub fn meter(id: u32, flags: u16) -> MeterConfig {
    MeterConfig {
        flags,
        meter_id: id,
        bands: vec![],
    }
}

pub fn error(err_type: u16, code: u16, names: &str) -> Inbound<String, u32> {
    Inbound::Error {
        err_type,
        code,
        names: names.into(),
    }
}

// ----- what the session did -----

pub fn sends(out: &[Out]) -> Vec<(u32, Outbound<String>)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send { xid, msg } | Output::SendUrgent { xid, msg } => {
                Some((*xid, msg.clone()))
            }
            _ => None,
        })
        .collect()
}

pub fn events(out: &[Out]) -> Vec<SessionEvent> {
    out.iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// The xid `want` was sent with (panics when it was not sent).
pub fn xid_of(out: &[Out], want: &Outbound<String>) -> u32 {
    sends(out)
        .into_iter()
        .find(|(_, m)| m == want)
        .unwrap_or_else(|| panic!("{want:?} not sent in {out:?}"))
        .0
}

/// The policy's messages sent, in order.
pub fn policy_msgs(out: &[Out]) -> Vec<String> {
    sends(out)
        .into_iter()
        .filter_map(|(_, m)| match m {
            Outbound::Policy(p) => Some(p),
            _ => None,
        })
        .collect()
}

/// Echo probes sent.
pub fn probes(out: &[Out]) -> usize {
    out.iter()
        .filter(|o| {
            matches!(
                o,
                Output::SendUrgent {
                    msg: Outbound::EchoRequest,
                    ..
                }
            )
        })
        .count()
}

pub fn planned(out: &[Out]) -> Vec<Vec<String>> {
    out.iter()
        .filter_map(|o| match o {
            Output::Planned(d) => Some(d.clone()),
            _ => None,
        })
        .collect()
}

pub fn flows_read(out: &[Out]) -> Vec<Vec<String>> {
    out.iter()
        .filter_map(|o| match o {
            Output::FlowsRead(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// Whether the session closed, and why.
pub fn closed(out: &[Out]) -> Option<&super::output::CloseReason> {
    out.iter().find_map(|o| match o {
        Output::Close(why) => Some(why),
        _ => None,
    })
}

/// The SyncFailed event's error and retry delay, if the sync failed.
pub fn sync_failed(out: &[Out]) -> Option<(String, Duration)> {
    events(out).into_iter().find_map(|e| match e {
        SessionEvent::SyncFailed { error, retry_in } => Some((error, retry_in)),
        _ => None,
    })
}
