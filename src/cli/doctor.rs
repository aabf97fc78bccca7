//! `op25b doctor [--ovsdb ENDPOINT] [--config FILE] [--json]`: reads Open vSwitch's database
//! once and prints one line per problem with a bridge's settings, each with the `ovs-vsctl`
//! command that fixes it ([`crate::doctor`] has the checks; [`crate::ovsdb`] reads the
//! database).
//!
//! Exit codes: 0 no problem; 1 problems found (or stdout not writable); 2 nothing could be
//! checked: the database cannot be reached or read, or the policy file is invalid (and, from
//! clap, a malformed command line or endpoint, `ssl:` included).
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde::Serialize;

use crate::cli::check::{load_or_report, write_stdout};
use crate::doctor::{diagnose, CheckedBridge, Diagnosis, Expectations, Problem};
use crate::ovsdb::read_database;
use crate::policy::{OvsdbEndpoint, DEFAULT_OVSDB_ENDPOINT};

/// Arguments of `op25b doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Open vSwitch's database: unix:PATH, or tcp:HOST:PORT (6640 when left out); ssl: is not
    /// supported yet.
    #[arg(long, value_name = "ENDPOINT", default_value = DEFAULT_OVSDB_ENDPOINT)]
    pub ovsdb: OvsdbEndpoint,
    /// Also check the bridges against this policy file: dpids, controller targets, timers,
    /// vlan-limit.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Seconds to wait for the database.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub timeout_secs: u64,
}

/// `--json`: the endpoint and the [`Diagnosis`].
#[derive(Debug, Serialize)]
struct Report<'a> {
    endpoint: String,
    checked: &'a [CheckedBridge],
    problems: &'a [Problem],
    skipped: &'a [String],
}

/// The text output: one line per problem, or one `OK:` line.
pub fn render_text(endpoint: &OvsdbEndpoint, d: &Diagnosis) -> String {
    if d.problems.is_empty() {
        return format!(
            "OK: {} with a controller at {endpoint}, no problems\n",
            bridges(d.checked.len())
        );
    }
    d.problems.iter().map(|p| format!("{p}\n")).collect()
}

fn bridges(n: usize) -> String {
    format!("{n} bridge{}", if n == 1 { "" } else { "s" })
}

/// Runs the subcommand; returns the process exit code.
pub fn main(args: &DoctorArgs) -> i32 {
    let config = match &args.config {
        None => None,
        Some(path) => match load_or_report(path) {
            Some(c) => Some(c),
            None => return 2,
        },
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("op25b doctor: cannot start the async runtime: {e}");
            return 2;
        }
    };
    let timeout = Duration::from_secs(args.timeout_secs.max(1));
    let db = match runtime.block_on(read_database(&args.ovsdb, timeout)) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("op25b doctor: {e}");
            return 2;
        }
    };
    let expect = config.as_ref().map(Expectations::of);
    let d = diagnose(&db, expect.as_ref());
    let written = if args.json {
        let report = Report {
            endpoint: args.ovsdb.to_string(),
            checked: &d.checked,
            problems: &d.problems,
            skipped: &d.skipped,
        };
        match serde_json::to_string_pretty(&report) {
            Ok(text) => write_stdout(&(text + "\n")),
            Err(e) => {
                eprintln!("op25b doctor: cannot encode JSON: {e}");
                1
            }
        }
    } else {
        if config.is_none() {
            for s in &d.skipped {
                eprintln!("note: not checked: {s}");
            }
        }
        if !d.problems.is_empty() {
            eprintln!(
                "{}: {} problem{} on {} with a controller",
                args.ovsdb,
                d.problems.len(),
                if d.problems.len() == 1 { "" } else { "s" },
                bridges(d.checked.len())
            );
        }
        write_stdout(&render_text(&args.ovsdb, &d))
    };
    if written != 0 || !d.problems.is_empty() {
        1
    } else {
        0
    }
}
