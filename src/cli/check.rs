//! `op25b check`: validate a policy file, print a summary and warnings, or every error.
//!
//! Besides the file itself, the TLS files it names are read and checked as `run` would use them
//! (readable, PEM, the key matching the certificate, the CA usable as a trust anchor), and the
//! `[reporting] report_command` program must be a regular file with an execute bit; a problem
//! is reported at the `file:line:column` of the key that names the file.
use crate::controller::{report_command, tls_config};
use crate::policy::{Config, ControllerSettings, LoadError, SubscriberPorts};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `op25b check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The policy file.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,
}

/// Loads the file and prints warnings to stderr; on error prints them and returns None.
pub(crate) fn load_or_report(path: &std::path::Path) -> Option<Config> {
    match Config::load(path) {
        Ok(loaded) => {
            // Formatted first, written at once: stderr is unbuffered, and a file may give tens
            // of thousands of lines (a write per piece of each took seconds).
            let warnings: String = loaded.warnings.iter().map(|w| format!("{w}\n")).collect();
            eprint!("{warnings}");
            Some(loaded.config)
        }
        Err(e @ LoadError::Read { .. }) => {
            eprintln!("{e}");
            None
        }
        Err(LoadError::Invalid(errors)) => {
            let text = errors.to_string();
            eprintln!("{text}");
            eprintln!(
                "{}: {} error{}",
                path.display(),
                errors.0.len(),
                if errors.0.len() == 1 { "" } else { "s" }
            );
            None
        }
    }
}

/// Writes `text` to stdout and returns the exit code: 0 when written, or when the reader closed
/// the pipe early (`op25b plan | head`: it wanted no more); 1, with a message on stderr, when
/// stdout cannot be written (a full disk, a closed descriptor). Never panics, unlike `println!`.
pub(crate) fn write_stdout(text: &str) -> i32 {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            1
        }
    }
}

/// Runs the subcommand; returns the process exit code (0 valid, 1 invalid or stdout not
/// writable).
pub fn main(args: &CheckArgs) -> i32 {
    let Some(config) = load_or_report(&args.config) else {
        return 1;
    };
    let controller_tls = config
        .controller()
        .tls
        .as_ref()
        .map(|tls| tls_config::server_config(tls).map(drop));
    let api_tls = config
        .api()
        .tls
        .as_ref()
        .map(|t| tls_config::api_server_config(&t.cert, &t.key).map(drop));
    let mut problems: Vec<String> = [controller_tls, api_tls]
        .into_iter()
        .flatten()
        .filter_map(Result::err)
        .flat_map(|errors| errors.0)
        .map(|e| e.to_string())
        .collect();
    if let Some(command) = &config.policy().reporting().report_command {
        if let Err(e) = report_command::check_program(command) {
            problems.push(e.to_string());
        }
    }
    if !problems.is_empty() {
        for e in &problems {
            eprintln!("error: {e}");
        }
        eprintln!(
            "{}: {} error{}",
            args.config.display(),
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        );
        return 1;
    }
    let p = config.policy();
    let ports: Vec<String> = p.blocked_ports().iter().map(u16::to_string).collect();
    let defaults = match &p.defaults().subscriber {
        SubscriberPorts::All => "all ports but uplinks".to_string(),
        SubscriberPorts::List(l) => format!("{} listed ports", l.len()),
    };
    let ethertypes: Vec<String> = p
        .subscriber_ethertypes()
        .iter()
        .map(|t| {
            t.name()
                .map_or_else(|| format!("{:#06x}", t.0), str::to_string)
        })
        .collect();
    let bound: usize = p.switches().values().map(|s| s.exempt.len()).sum();
    write_stdout(&format!(
        "OK: {}, {}, {}, blocked ports [{}], fragments {}, forwarding {}, reporting {}, defaults police {}, subscriber EtherTypes [{}], {} bound to ports, {}\n",
        count(p.switches().len(), "switch", "switches"),
        count(p.relays().len(), "relay", "relays"),
        count(p.exempt_sources().len(), "exempt source", "exempt sources"),
        ports.join(", "),
        p.fragments(),
        p.forwarding(),
        if p.reporting().enabled { "on" } else { "off" },
        defaults,
        ethertypes.join(", "),
        count(bound, "exempt source", "exempt sources"),
        listeners(config.controller())
    ))
}

/// `OpenFlow on mutual TLS 192.0.2.10:6653 and plain TCP 127.0.0.1:6653`.
fn listeners(c: &ControllerSettings) -> String {
    let mut on = Vec::new();
    if let Some(t) = &c.tls {
        on.push(format!("mutual TLS {}", t.listen));
    }
    if let Some(a) = c.listen {
        on.push(format!("plain TCP {a}"));
    }
    format!("OpenFlow on {}", on.join(" and "))
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
