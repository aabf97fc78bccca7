//! Simulated switches (op25b-sim) for the controller tests, with the hitless rule installed as
//! an invariant the switch checks after every message it applies.

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
