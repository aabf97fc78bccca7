//! `op25b plan`: print the exact flows each switch will get, in `ovs-ofctl add-flows` syntax.
use super::check::{load_or_report, write_stdout};
use crate::flows::{desired_flows, desired_meters, ofctl_line, switch_config, SwitchView};
use crate::policy::{Dpid, Policy, PortNo};
use clap::Args;
use std::fmt::Write;
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

fn render_switch(out: &mut String, policy: &Policy, title: &str, view: &SwitchView) {
    let d = desired_flows(policy, view);
    let _ = writeln!(out, "# {title}: {} flows", d.flows.len());
    let (flags, miss) = switch_config(policy);
    let _ = writeln!(
        out,
        "# SET_CONFIG flags={flags:#x} ({}) miss_send_len={miss}",
        if flags == 1 {
            "frag=drop"
        } else {
            "frag=normal"
        }
    );
    for m in desired_meters(policy, view) {
        let _ = writeln!(
            out,
            "# METER_MOD: ovs-ofctl -O OpenFlow13 add-meter BRIDGE meter={},pktps,burst,band=type=drop,rate={},burst_size={}",
            m.meter_id, m.rate_pps, m.burst_packets
        );
    }
    for n in &d.notes {
        let _ = writeln!(out, "# note: {n}");
    }
    for f in &d.flows {
        let _ = writeln!(out, "{}", ofctl_line(d.cookie, f));
    }
}

/// The whole plan as text: every line, the last included, ends with a newline (so the output
/// can be appended to or fed to `ovs-ofctl add-flows` as is); switches are separated by one
/// empty line.
pub fn render(policy: &Policy, args: &PlanArgs) -> String {
    let view = |dpid: Dpid| {
        let v = SwitchView::new(dpid, args.ports.iter().copied());
        if args.no_meters {
            v.without_meters()
        } else {
            v
        }
    };
    let mut out = String::new();
    match args.dpid {
        Some(dpid) => {
            let title = match policy.switches().get(&dpid) {
                Some(s) => describe(dpid, s.name.as_deref()),
                None => format!("switch {dpid} (not listed: [defaults])"),
            };
            render_switch(&mut out, policy, &title, &view(dpid));
        }
        None => {
            for (dpid, s) in policy.switches() {
                render_switch(
                    &mut out,
                    policy,
                    &describe(*dpid, s.name.as_deref()),
                    &view(*dpid),
                );
                out.push('\n');
            }
            // A dpid that is not listed gets the defaults; pick one that is not listed.
            let unlisted = (0..=u64::MAX)
                .map(Dpid)
                .find(|d| !policy.switches().contains_key(d))
                .unwrap_or(Dpid(0));
            render_switch(
                &mut out,
                policy,
                "[defaults] (any switch not listed)",
                &view(unlisted),
            );
        }
    }
    out
}

/// Runs the subcommand; returns the process exit code (0 printed, 1 invalid policy or stdout
/// not writable; a reader that closes the pipe early, as `| head` does, is not an error).
pub fn main(args: &PlanArgs) -> i32 {
    let Some(config) = load_or_report(&args.config) else {
        return 1;
    };
    write_stdout(&render(config.policy(), args))
}

fn describe(dpid: Dpid, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("switch {dpid} ({n})"),
        None => format!("switch {dpid}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Config;

    const POLICY: &str =
        "[policy]\nrelays = [\"192.0.2.25\"]\n[[switch]]\ndpid = 1\nname = \"a\"\n";

    fn args(dpid: Option<Dpid>) -> PlanArgs {
        PlanArgs {
            config: PathBuf::from("p.toml"),
            dpid,
            ports: vec![PortNo(9)],
            no_meters: false,
        }
    }

    fn plan(dpid: Option<Dpid>) -> String {
        match Config::parse(POLICY, "p.toml") {
            Ok(l) => render(l.config.policy(), &args(dpid)),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn the_last_flow_line_ends_with_a_newline_and_nothing_follows() {
        for (dpid, switches) in [(None, 2), (Some(Dpid(1)), 1), (Some(Dpid(5)), 1)] {
            let text = plan(dpid);
            // Every port but the uplinks is policed: the last flow drops other EtherTypes.
            assert!(
                text.ends_with(",priority=5000,actions=drop\n"),
                "{dpid:?}: {text:?}"
            );
            assert!(!text.ends_with("\n\n"), "{dpid:?}: {text:?}");
            // One blank line between switches, none elsewhere.
            assert_eq!(text.matches("\n\n").count(), switches - 1, "{text}");
            assert_eq!(text.matches("# SET_CONFIG").count(), switches, "{text}");
        }
    }
}
