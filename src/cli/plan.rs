//! `op25b plan`: print the exact flows each switch will get, in `ovs-ofctl add-flows` syntax.
use super::check::load_or_report;
use crate::flows::{desired_flows, desired_meters, ofctl_line, switch_config, SwitchView};
use crate::policy::{Dpid, Policy, PortNo};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `op25b plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The policy file.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,
    /// Only this switch ("00:00:00:00:00:00:00:01", "1" or "0x1"); unlisted dpids get the defaults.
    #[arg(long)]
    pub dpid: Option<Dpid>,
    /// The switch's port numbers, as PORT_DESC would report them (only used for notes about
    /// configured ports the switch lacks).
    #[arg(long, value_delimiter = ',', value_parser = parse_port)]
    pub ports: Vec<PortNo>,
    /// Plan for a switch without meter support (samples become plain drops).
    #[arg(long)]
    pub no_meters: bool,
}

fn parse_port(s: &str) -> Result<PortNo, String> {
    s.trim()
        .parse::<i64>()
        .ok()
        .and_then(PortNo::new)
        .ok_or_else(|| format!("{s:?} is not an OpenFlow port number (1..=4294967040)"))
}

fn print_switch(policy: &Policy, title: &str, view: &SwitchView) {
    let d = desired_flows(policy, view);
    println!("# {title}: {} flows", d.flows.len());
    let (flags, miss) = switch_config(policy);
    println!(
        "# SET_CONFIG flags={flags:#x} ({}) miss_send_len={miss}",
        if flags == 1 {
            "frag=drop"
        } else {
            "frag=normal"
        }
    );
    for m in desired_meters(policy, view) {
        println!(
            "# METER_MOD: ovs-ofctl -O OpenFlow13 add-meter BRIDGE meter={},pktps,burst,band=type=drop,rate={},burst_size={}",
            m.meter_id, m.rate_pps, m.burst_packets
        );
    }
    for n in &d.notes {
        println!("# note: {n}");
    }
    for f in &d.flows {
        println!("{}", ofctl_line(d.cookie, f));
    }
}

/// Runs the subcommand; returns the process exit code (0 printed, 1 invalid policy).
pub fn main(args: PlanArgs) -> i32 {
    let Some(config) = load_or_report(&args.config) else {
        return 1;
    };
    let policy = config.policy();
    let view = |dpid: Dpid| {
        let v = SwitchView::new(dpid, args.ports.iter().copied());
        if args.no_meters {
            v.without_meters()
        } else {
            v
        }
    };
    match args.dpid {
        Some(dpid) => {
            let title = match policy.switches().get(&dpid) {
                Some(s) => describe(dpid, s.name.as_deref()),
                None => format!("switch {dpid} (not listed: [defaults])"),
            };
            print_switch(policy, &title, &view(dpid));
        }
        None => {
            for (dpid, s) in policy.switches() {
                print_switch(policy, &describe(*dpid, s.name.as_deref()), &view(*dpid));
                println!();
            }
            // A dpid that is not listed gets the defaults; pick one that is not listed.
            let unlisted = (0..=u64::MAX)
                .map(Dpid)
                .find(|d| !policy.switches().contains_key(d))
                .unwrap_or(Dpid(0));
            print_switch(
                policy,
                "[defaults] (any switch not listed)",
                &view(unlisted),
            );
        }
    }
    0
}

fn describe(dpid: Dpid, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("switch {dpid} ({n})"),
        None => format!("switch {dpid}"),
    }
}
