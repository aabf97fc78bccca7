//! One generation of the policy in force, as the sessions use it: the [`SessionPolicy`] the
//! session state machine asks for timers, SET_CONFIG, the flows request, meters and change plans.

use crate::flows::{self, DesiredFlows, ReportedFlow, SwitchView};
use crate::policy::{Config, Dpid};
use crate::reconcile::reconcile;
use crate::session::read_cap::{read_caps, ReadCaps};
use crate::session::session_policy::{SessionPolicy, SessionTimers, SyncPlan};
use op25b_proto::consts::{OFPMC_MODIFY, OFPM_ALL};
use op25b_proto::multipart::request::{MultipartRequest, MultipartRequestBody};
use op25b_proto::text::message_text;
use op25b_proto::{Message, MeterConfig, MeterMod};
use std::time::Duration;

/// First retry delay after a failed sync.
pub const RETRY_BASE: Duration = Duration::from_millis(500);
/// Longest retry delay.
pub const RETRY_CAP: Duration = Duration::from_secs(30);

/// A validated configuration with its generation number (1 at start, +1 per accepted reload).
#[derive(Debug)]
pub struct ActivePolicy {
    generation: u64,
    config: Config,
    /// The most flows this policy wants on any switch (`flows::max_desired_flows`).
    flow_bound: usize,
    /// What the sessions read under it, sized by the larger of this policy's flow bound and
    /// the one before it (a switch may still hold the previous policy's flows).
    read_caps: ReadCaps,
}

impl ActivePolicy {
    pub fn new(generation: u64, config: Config) -> Self {
        let flow_bound = flows::max_desired_flows(config.policy());
        Self::with_bound(generation, config, flow_bound)
    }

    /// The generation after this one, with `config`: its read caps cover this policy's flows
    /// as well as the new one's, so switches still holding this policy's flows are read whole.
    pub fn next(&self, config: Config) -> Self {
        let own = flows::max_desired_flows(config.policy());
        let mut next = Self::with_bound(self.generation + 1, config, own.max(self.flow_bound));
        next.flow_bound = own;
        next
    }

    fn with_bound(generation: u64, config: Config, read_bound: usize) -> Self {
        let read_caps = read_caps(read_bound, config.controller().max_multipart_bytes);
        Self {
            generation,
            flow_bound: read_bound,
            config,
            read_caps,
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The flows `view` must hold.
    fn desired(&self, view: &SwitchView) -> DesiredFlows {
        flows::desired_flows(self.config.policy(), view)
    }
}

impl SessionPolicy for ActivePolicy {
    type Msg = Message;
    type FlowEntry = ReportedFlow;
    type Desired = DesiredFlows;

    fn generation(&self) -> u64 {
        self.generation
    }

    fn describe(&self, msg: &Message) -> String {
        let (summary, _detail) = message_text::body_text(msg);
        let name = message_text::type_name(msg.msg_type());
        if summary.is_empty() {
            name
        } else {
            format!("{name} {summary}")
        }
    }

    fn timers(&self) -> SessionTimers {
        let c = self.config.controller();
        SessionTimers {
            echo_interval: c.echo_interval,
            echo_timeout: c.echo_timeout,
            handshake_timeout: c.handshake_timeout,
            audit_interval: c.audit_interval,
            counters_interval: Duration::from_secs(
                self.config.policy().reporting().counters_interval_secs,
            ),
            retry_base: RETRY_BASE,
            retry_cap: RETRY_CAP,
        }
    }

    fn switch_config(&self) -> (u16, u16) {
        flows::switch_config(self.config.policy())
    }

    fn switch_name(&self, dpid: u64) -> Option<String> {
        self.config
            .policy()
            .switches()
            .get(&Dpid(dpid))
            .and_then(|s| s.name.clone())
    }

    fn cookie(&self) -> u64 {
        self.config.policy().cookie().0
    }

    fn flows_request(&self) -> Message {
        Message::MultipartRequest(flows::openflow::our_flows_request(
            self.config.policy().cookie(),
        ))
    }

    fn read_caps(&self) -> ReadCaps {
        self.read_caps
    }

    fn meter_adds(&self, view: &SwitchView) -> Vec<Message> {
        flows::desired_meters(self.config.policy(), view)
            .iter()
            .map(|m| Message::MeterMod(flows::openflow::meter_add(m)))
            .collect()
    }

    fn meter_modify(&self, add: &Message) -> Option<Message> {
        match add {
            Message::MeterMod(m) => {
                let mut m = m.clone();
                m.command = OFPMC_MODIFY;
                Some(Message::MeterMod(m))
            }
            _ => None,
        }
    }

    fn meters_request(&self) -> Message {
        Message::MultipartRequest(MultipartRequest {
            flags: 0,
            body: MultipartRequestBody::MeterConfig { meter_id: OFPM_ALL },
        })
    }

    fn meter_plan(&self, view: &SwitchView, actual: &[MeterConfig]) -> Vec<Message> {
        flows::desired_meters(self.config.policy(), view)
            .iter()
            .filter_map(|m| {
                let add = flows::openflow::meter_add(m);
                match actual.iter().find(|c| c.meter_id == add.meter_id) {
                    None => Some(Message::MeterMod(add)),
                    Some(c) if same_meter(c, &add) => None,
                    Some(_) => Some(Message::MeterMod(flows::openflow::meter_modify(m))),
                }
            })
            .collect()
    }

    fn plan(&self, view: &SwitchView, actual: &[ReportedFlow]) -> SyncPlan<Message, DesiredFlows> {
        let desired = self.desired(view);
        for note in &desired.notes {
            tracing::info!(note = %note, "policy note for this switch");
        }
        let plan = reconcile(&desired, actual, self.config.policy().cookie());
        SyncPlan {
            added: plan.added(),
            removed: plan.removed(),
            modified: plan.modified(),
            desired: plan.desired,
            batches: plan
                .flow_mods()
                .into_iter()
                .map(|batch| batch.into_iter().map(Message::FlowMod).collect())
                .collect(),
            desired_flows: desired,
        }
    }
}

/// The switch's meter `have` is configured as `want` says (flags and bands).
fn same_meter(have: &MeterConfig, want: &MeterMod) -> bool {
    have.flags == want.flags && have.bands == want.bands
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::desired_flows;
    use crate::policy::{Config, Dpid, PortNo};

    #[test]
    fn meter_plan_adds_a_missing_meter_modifies_a_changed_one_and_skips_an_identical_one() {
        let loaded = Config::parse(
            "[policy]\nrelays = [\"192.0.2.25\"]\n[reporting]\nenabled = true\n",
            "p.toml",
        )
        .expect("valid policy");
        let policy = ActivePolicy::new(1, loaded.config);
        let view = SwitchView::new(Dpid(1), [PortNo(1), PortNo(2)]);
        let adds = policy.meter_adds(&view);
        assert_eq!(adds.len(), 1, "one sampling meter");
        let Message::MeterMod(add) = &adds[0] else {
            panic!("not a METER_MOD: {:?}", adds[0]);
        };
        let as_installed = MeterConfig {
            flags: add.flags,
            meter_id: add.meter_id,
            bands: add.bands.clone(),
        };
        assert_eq!(policy.meter_plan(&view, &[]), adds, "missing: ADD");
        assert!(
            policy
                .meter_plan(&view, std::slice::from_ref(&as_installed))
                .is_empty(),
            "identical: nothing"
        );
        let mut changed = as_installed.clone();
        changed.bands = vec![op25b_proto::MeterBand::Drop {
            rate: 1,
            burst_size: 1,
        }];
        let plan = policy.meter_plan(&view, &[changed]);
        assert!(
            matches!(&plan[..], [Message::MeterMod(m)] if m.command == OFPMC_MODIFY),
            "changed: MODIFY, {plan:?}"
        );
        let other = MeterConfig {
            meter_id: add.meter_id + 100,
            ..as_installed
        };
        assert_eq!(
            policy.meter_plan(&view, &[other]),
            adds,
            "another meter id does not count"
        );
        assert!(matches!(
            &policy.meters_request(),
            Message::MultipartRequest(r)
                if matches!(r.body, MultipartRequestBody::MeterConfig { meter_id: OFPM_ALL })
        ));
    }

    #[test]
    fn the_read_caps_follow_the_policy_and_the_one_before_it() {
        let parse = |exempt: usize| {
            let list: Vec<String> = (0..exempt)
                .map(|i| format!("\"10.{}.{}.0/24\"", i / 256, i % 256))
                .collect();
            let text = format!(
                "[policy]\nrelays = [\"192.0.2.25\"]\nexempt_sources = [{}]\n",
                list.join(", ")
            );
            Config::parse(&text, "p.toml").expect("valid policy").config
        };
        let small = ActivePolicy::new(1, parse(10));
        assert_eq!(small.read_caps(), ReadCaps::default());
        let large = small.next(parse(60_000));
        assert_eq!(large.generation(), 2);
        assert!(
            large.read_caps().flows >= 120_000,
            "{:?}",
            large.read_caps()
        );
        assert!(large.read_caps().reply_bytes >= 120_000 * 1024);
        // Back to a small policy: the switches may still hold the large one's flows.
        let shrunk = large.next(parse(10));
        assert_eq!(shrunk.read_caps(), large.read_caps());
        // One more reload: only what the two last policies want counts.
        assert_eq!(shrunk.next(parse(11)).read_caps(), ReadCaps::default());
    }

    /// ERROR logs name the failed request the way `ovs-ofctl` prints it, not as Rust Debug.
    #[test]
    fn requests_are_described_in_ovs_ofctl_syntax() {
        let loaded =
            Config::parse("[policy]\nrelays = [\"192.0.2.25\"]\n", "p.toml").expect("valid policy");
        let desired = desired_flows(
            loaded.config.policy(),
            &SwitchView::new(Dpid(1), [PortNo(1), PortNo(2)]),
        );
        let policy = ActivePolicy::new(1, loaded.config);
        let fm = flows::openflow::flow_mods_for(&desired)
            .into_iter()
            .find(|f| f.priority == 20000)
            .expect("a priority-20000 flow");
        let text = policy.describe(&Message::FlowMod(fm));
        assert!(
            text.starts_with("OFPT_FLOW_MOD ADD table:0 priority=20000 cookie=0x4f50"),
            "{text}"
        );
        assert!(text.contains("actions="), "{text}");
        assert!(!text.contains("FlowMod {"), "not Debug: {text}");
        let read = policy.describe(&policy.flows_request());
        println!("{text}\n{read}");
        assert!(read.starts_with("OFPT_MULTIPART_REQUEST"), "{read}");
        assert!(read.contains("cookie=0x4f50"), "{read}");
    }
}
