//! Unit tests of the session in a cluster: roles asked, confirmed and fenced off (see
//! [`role`](super::role)), each given / when / then with a [`Scenario`].

use super::output::{Output, SessionEvent};
use super::phase::Phase;
use super::role::{Fence, Role, Wanted};
use super::scenario::*;
use super::wire::{Inbound, Outbound};
use op25b_proto::consts::{OFPCR_ROLE_MASTER, OFPCR_ROLE_SLAVE};

const MASTER_7: Wanted = Wanted::Master { generation: 7 };

fn role_request(role: u32, generation_id: u64) -> Outbound<String> {
    Outbound::RoleRequest {
        role,
        generation_id,
    }
}

fn role_reply(role: u32, generation_id: u64) -> Inbound<String, u32> {
    Inbound::RoleReply {
        role,
        generation_id,
    }
}

fn stepped_down(out: &[Out]) -> Vec<Fence> {
    events(out)
        .into_iter()
        .filter_map(|e| match e {
            SessionEvent::SteppedDown { fence } => Some(fence),
            _ => None,
        })
        .collect()
}

/// Clustered, handshake done, MASTER at generation 7 asked and confirmed: the mastership sync's
/// reads are out (`sw.flows`).
fn master(desired: &[&str]) -> Harness {
    let mut sw = Scenario::new(desired).standby();
    let out = sw.wanted(MASTER_7);
    let asked = xid_of(&out, &role_request(OFPCR_ROLE_MASTER, 7));
    sw.out = sw.reply(asked, role_reply(OFPCR_ROLE_MASTER, 7));
    sw.flows = xid_of(&sw.out, &Outbound::Policy("flows?".into()));
    sw
}

#[test]
fn nothing_is_written_until_the_switch_confirms_us_master() {
    let mut sw = Scenario::new(&["a"]).standby();
    let out = sw.wanted(MASTER_7);
    assert_eq!(
        sends(&out).into_iter().map(|(_, m)| m).collect::<Vec<_>>(),
        vec![role_request(OFPCR_ROLE_MASTER, 7)],
        "only the ROLE_REQUEST"
    );
    assert_eq!(sw.s.phase(), Phase::Standby);
    let asked = xid_of(&out, &role_request(OFPCR_ROLE_MASTER, 7));
    let out = sw.reply(asked, role_reply(OFPCR_ROLE_MASTER, 7));
    assert!(events(&out).contains(&SessionEvent::RoleConfirmed {
        role: "master",
        generation: 7
    }));
    let sent: Vec<_> = sends(&out).into_iter().map(|(_, m)| m).collect();
    assert!(
        matches!(sent[0], Outbound::SetConfig { .. }),
        "then the configuration"
    );
    assert_eq!(policy_msgs(&out), ["flows?"], "and the sync's read");
    assert_eq!(sw.s.phase(), Phase::Syncing);
}

#[test]
fn a_new_master_over_an_intact_table_sends_no_flow_mod() {
    let mut sw = master(&["a", "b"]);
    let out = sw.reply(sw.flows, flows(&["a", "b"]));
    assert_eq!(policy_msgs(&out), Vec::<String>::new());
    assert_eq!(sw.s.phase(), Phase::InSync);
}

#[test]
fn a_slave_asks_slave_writes_nothing_and_drops_samples() {
    let mut sw = Scenario::new(&["a"]).standby();
    let out = sw.wanted(Wanted::Slave { generation: 7 });
    let asked = xid_of(&out, &role_request(OFPCR_ROLE_SLAVE, 7));
    let out = sw.reply(asked, role_reply(OFPCR_ROLE_SLAVE, 7));
    assert_eq!(sends(&out), vec![], "a confirmed slave does not sync");
    assert_eq!(sw.s.role().name(), "slave");
    let out = sw.reply(
        0,
        Inbound::PacketIn {
            cookie: 0x25,
            packet_in: 1,
        },
    );
    assert!(!out.iter().any(|o| matches!(o, Output::PacketIn(_))));
    let out = sw.reload(super::fake_policy::FakePolicy::new(2, &["b"]));
    assert_eq!(sends(&out), vec![], "a new policy is the master's to apply");
    sw.at(3600);
    assert_eq!(sends(&sw.tick()), vec![], "no audit, no counter poll");
}

#[test]
fn a_stale_generation_steps_down_and_is_not_asked_again() {
    let mut sw = Scenario::new(&["a"]).standby();
    let out = sw.wanted(MASTER_7);
    let asked = xid_of(&out, &role_request(OFPCR_ROLE_MASTER, 7));
    let out = sw.reply(
        asked,
        error(11, 0, "OFPET_ROLE_REQUEST_FAILED/OFPRRFC_STALE"),
    );
    assert_eq!(stepped_down(&out), vec![Fence::Stale]);
    assert_eq!(sends(&out), vec![], "no configuration, no sync");
    assert_eq!(sw.s.role(), Role::Fenced { generation: 7 });
    assert_eq!(
        sends(&sw.wanted(MASTER_7)),
        vec![],
        "the same generation again"
    );
    let out = sw.wanted(Wanted::Master { generation: 9 });
    assert_eq!(
        sends(&out).into_iter().map(|(_, m)| m).collect::<Vec<_>>(),
        vec![role_request(OFPCR_ROLE_MASTER, 9)],
        "a newer generation is asked"
    );
}

#[test]
fn a_write_refused_as_from_a_slave_steps_down_once_and_stops_the_sync() {
    let mut sw = master(&["a", "b"]);
    let out = sw.reply(sw.flows, flows(&[]));
    let adds: Vec<u32> = sends(&out)
        .into_iter()
        .filter(|(_, m)| matches!(m, Outbound::Policy(p) if p.starts_with("add")))
        .map(|(xid, _)| xid)
        .collect();
    assert_eq!(adds.len(), 2);
    let out = sw.reply(adds[0], error(1, 10, "OFPET_BAD_REQUEST/OFPBRC_IS_SLAVE"));
    assert_eq!(stepped_down(&out), vec![Fence::IsSlave]);
    assert_eq!(sw.s.phase(), Phase::Standby);
    let out = sw.reply(adds[1], error(1, 10, "OFPET_BAD_REQUEST/OFPBRC_IS_SLAVE"));
    assert_eq!(stepped_down(&out), vec![], "counted once");
    assert_eq!(sends(&out), vec![]);
    sw.at(60);
    assert_eq!(sends(&sw.tick()), vec![], "no retry of the sync");
}

#[test]
fn a_master_whose_key_went_to_another_instance_asks_slave_and_stops_writing() {
    let mut sw = master(&["a"]);
    sw.reply(sw.flows, flows(&["a"]));
    assert_eq!(sw.s.phase(), Phase::InSync);
    let out = sw.wanted(Wanted::Slave { generation: 9 });
    assert_eq!(
        sends(&out).into_iter().map(|(_, m)| m).collect::<Vec<_>>(),
        vec![role_request(OFPCR_ROLE_SLAVE, 9)]
    );
    assert_eq!(sw.s.phase(), Phase::Standby);
    assert!(!sw.s.role().may_write());
    let out = sw.reload(super::fake_policy::FakePolicy::new(2, &["b"]));
    assert_eq!(sends(&out), vec![]);
}

#[test]
fn without_a_cluster_the_role_is_never_asked_and_is_slave_is_an_ordinary_error() {
    let mut sw = Scenario::new(&["a"]).connected();
    assert_eq!(sends(&sw.wanted(MASTER_7)), vec![]);
    let out = sw.reply(sw.flows, flows(&[]));
    let (add, _) = sends(&out)
        .into_iter()
        .find(|(_, m)| matches!(m, Outbound::Policy(p) if p == "add a"))
        .expect("add a sent");
    let out = sw.reply(add, error(1, 10, "OFPET_BAD_REQUEST/OFPBRC_IS_SLAVE"));
    assert_eq!(stepped_down(&out), vec![]);
    assert!(sync_failed(&out).is_some(), "it fails the sync as before");
}
