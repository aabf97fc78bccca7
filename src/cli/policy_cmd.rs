//! `op25b policy push|show|history`: the cluster's shared policy in etcd.
//!
//! - `push --config FILE`: validates FILE exactly as `op25b check` does, and refuses it if it
//!   holds an instance-local section (`[controller]`, `[api]`, `[cluster]`, `[ovsdb]` stay in
//!   each instance's file); stores the text verbatim with a compare-and-swap on the revision it
//!   read (or on `--expect-revision R`, the revision an edit was based on); `--force` skips the
//!   comparison. Every instance watching the key applies it.
//! - `show`: the stored text on stdout (`op25b policy show > policy.toml` round-trips), its
//!   revision and pusher on stderr.
//! - `history [-n N]`: the last N pushes, newest first, each with who pushed it, when, and a
//!   unified diff against the push before it.
//!
//! etcd is named by an instance's local file (`--instance FILE`, its `[cluster]`) or by
//! `--etcd URL` (repeatable) and `--key-prefix`. Exit codes like `check`: 0 done; 1 invalid,
//! refused (conflict) or nothing stored; 2 etcd unreachable or the target unusable.

use super::check::{load_or_report, write_stdout};
use crate::cluster::keys::Keys;
use crate::cluster::policy_key::{self, Expect, HistoryRecord, PolicyKeyError};
use crate::policy::{parse_shared, DEFAULT_KEY_PREFIX};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Which etcd and which prefix.
#[derive(Debug, Args)]
pub struct EtcdTarget {
    /// An instance's local file: its `[cluster]` names etcd and the key prefix.
    #[arg(long, value_name = "FILE", conflicts_with = "etcd")]
    pub instance: Option<PathBuf>,
    /// etcd client URL (repeat for several), instead of --instance.
    #[arg(long, value_name = "URL")]
    pub etcd: Vec<String>,
    /// The cluster's key prefix (with --etcd).
    #[arg(long, value_name = "PREFIX", default_value = DEFAULT_KEY_PREFIX, conflicts_with = "instance")]
    pub key_prefix: String,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate FILE like `check` and store it as the cluster's policy (compare-and-swap).
    Push(PushArgs),
    /// Print the cluster's policy (text on stdout, revision and pusher on stderr).
    Show(ShowArgs),
    /// The last pushes: who, when, and a diff against the one before.
    History(HistoryArgs),
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// The shared policy file to push (no `[controller]`, `[api]`, `[cluster]` or `[ovsdb]`).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,
    /// Push only if the stored policy is still at this revision (the one the edit was based on,
    /// from `op25b policy show`; 0: none stored). Default: the revision read just before.
    #[arg(long, value_name = "REV", conflicts_with = "force")]
    pub expect_revision: Option<i64>,
    /// Overwrite whatever is stored (no compare-and-swap).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub target: EtcdTarget,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub target: EtcdTarget,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// How many pushes to show.
    #[arg(short = 'n', long, default_value_t = 10)]
    pub count: usize,
    #[command(flatten)]
    pub target: EtcdTarget,
}

/// Runs the subcommand; returns the process exit code.
pub fn main(cmd: PolicyCommand) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("op25b policy: cannot start the async runtime: {e}");
            return 2;
        }
    };
    runtime.block_on(async move {
        match cmd {
            PolicyCommand::Push(a) => push(&a).await,
            PolicyCommand::Show(a) => show(&a).await,
            PolicyCommand::History(a) => history(&a).await,
        }
    })
}

/// The endpoints and keys, or the exit code 2 after saying why.
fn resolve(target: &EtcdTarget) -> Result<(Vec<String>, Keys), i32> {
    if let Some(path) = &target.instance {
        let Some(config) = load_or_report(path) else {
            return Err(2);
        };
        return match config.cluster() {
            Some(c) => Ok((c.etcd.clone(), Keys::new(&c.key_prefix))),
            None => {
                eprintln!(
                    "op25b policy: {} has no [cluster] section naming etcd",
                    path.display()
                );
                Err(2)
            }
        };
    }
    if target.etcd.is_empty() {
        eprintln!("op25b policy: name etcd with --instance FILE or --etcd URL");
        return Err(2);
    }
    if !(target.key_prefix.starts_with('/') && target.key_prefix.ends_with('/')) {
        eprintln!(
            "op25b policy: --key-prefix {:?}: expected a path starting and ending with '/'",
            target.key_prefix
        );
        return Err(2);
    }
    Ok((target.etcd.clone(), Keys::new(&target.key_prefix)))
}

/// 1 for a refusal, 2 for etcd trouble.
fn failed(what: &str, e: &PolicyKeyError) -> i32 {
    eprintln!("op25b policy {what}: {e}");
    match e {
        PolicyKeyError::Etcd(_) => 2,
        _ => 1,
    }
}

/// `user@host` of whoever runs this.
fn pusher() -> String {
    let user = ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(user_of_this_process);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned());
    format!("{user}@{host}")
}

/// The login name of this process's uid (from /etc/passwd), or `uid N`.
fn user_of_this_process() -> String {
    use std::os::unix::fs::MetadataExt;
    let Ok(uid) = std::fs::metadata("/proc/self").map(|m| m.uid()) else {
        return "unknown".to_owned();
    };
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|p| {
            p.lines().find_map(|l| {
                let mut f = l.split(':');
                let name = f.next()?;
                (f.nth(1)? == uid.to_string()).then(|| name.to_owned())
            })
        })
        .unwrap_or_else(|| format!("uid {uid}"))
}

async fn push(args: &PushArgs) -> i32 {
    // Exactly `check`'s validation (and its output), then the shared-part rule.
    if load_or_report(&args.config).is_none() {
        eprintln!("op25b policy push: refused; nothing was written");
        return 1;
    }
    let text = match std::fs::read_to_string(&args.config) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "op25b policy push: cannot read {}: {e}",
                args.config.display()
            );
            return 1;
        }
    };
    if let Err(errors) = parse_shared(&text, &args.config.display().to_string()) {
        eprintln!("{errors}");
        eprintln!("op25b policy push: refused; nothing was written");
        return 1;
    }
    let (endpoints, keys) = match resolve(&args.target) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let mut client = match policy_key::connect(&endpoints).await {
        Ok(c) => c,
        Err(e) => return failed("push", &e.into()),
    };
    let current = match policy_key::read(&mut client, &keys).await {
        Ok((current, _)) => current,
        Err(e) => return failed("push", &e),
    };
    let expect = if args.force {
        Expect::Any
    } else {
        match args.expect_revision {
            Some(0) => Expect::Revision(None),
            Some(r) => Expect::Revision(Some(r)),
            None => Expect::Revision(current.as_ref().map(|c| c.mod_revision)),
        }
    };
    // The same text at the expected revision: nothing to write (no empty history record).
    if let Some(c) = current.as_ref().filter(|c| c.text == text) {
        if expect == Expect::Any || expect == Expect::Revision(Some(c.mod_revision)) {
            println!(
                "unchanged: the cluster's policy is already this text (revision {})",
                c.mod_revision
            );
            return 0;
        }
    }
    let record = HistoryRecord {
        pushed_by: pusher(),
        pushed_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        forced: args.force,
        text,
    };
    match policy_key::push(&mut client, &keys, expect, &record).await {
        Ok(rev) => {
            let was = current.map_or_else(|| "none".to_owned(), |c| c.mod_revision.to_string());
            println!("pushed: revision {rev} (was {was}) by {}", record.pushed_by);
            0
        }
        Err(e @ PolicyKeyError::Conflict { .. }) => {
            eprintln!("op25b policy push: refused: {e}; nothing was written. Review it with `op25b policy show` / `op25b policy history` and push again, or push with --force");
            1
        }
        Err(e) => failed("push", &e),
    }
}

async fn show(args: &ShowArgs) -> i32 {
    let (endpoints, keys) = match resolve(&args.target) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let mut client = match policy_key::connect(&endpoints).await {
        Ok(c) => c,
        Err(e) => return failed("show", &e.into()),
    };
    let stored = match policy_key::read(&mut client, &keys).await {
        Ok((Some(s), _)) => s,
        Ok((None, _)) => {
            eprintln!(
                "op25b policy show: no policy stored at {}",
                policy_key::policy_key(&keys)
            );
            return 1;
        }
        Err(e) => return failed("show", &e),
    };
    let by = match policy_key::history(&mut client, &keys, 1).await {
        Ok(h) => h
            .into_iter()
            .find(|(r, _)| *r == stored.mod_revision)
            .map_or_else(
                || "written outside `op25b policy push`".to_owned(),
                |(_, r)| format!("pushed by {} at {}", r.pushed_by, r.pushed_at),
            ),
        Err(e) => return failed("show", &e),
    };
    eprintln!(
        "# {} revision {}, {by}",
        policy_key::policy_key(&keys),
        stored.mod_revision
    );
    write_stdout(&stored.text)
}

async fn history(args: &HistoryArgs) -> i32 {
    let (endpoints, keys) = match resolve(&args.target) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let mut client = match policy_key::connect(&endpoints).await {
        Ok(c) => c,
        Err(e) => return failed("history", &e.into()),
    };
    let current = match policy_key::read(&mut client, &keys).await {
        Ok((c, _)) => c,
        Err(e) => return failed("history", &e),
    };
    // One more than shown: the first shown gets its diff against the one before.
    let records = match policy_key::history(&mut client, &keys, args.count.saturating_add(1)).await
    {
        Ok(r) => r,
        Err(e) => return failed("history", &e),
    };
    write_stdout(&render_history(
        current.map(|c| c.mod_revision),
        &records,
        args.count,
    ))
}

/// The history as printed: newest first, each with a unified diff against the one before.
fn render_history(current: Option<i64>, records: &[(i64, HistoryRecord)], n: usize) -> String {
    let mut out = String::new();
    if let (Some(cur), Some((newest, _))) = (current, records.first()) {
        if cur != *newest {
            out.push_str(&format!(
                "revision {cur}: written outside `op25b policy push` (no record)\n\n"
            ));
        }
    }
    for (i, (rev, rec)) in records.iter().take(n).enumerate() {
        let forced = if rec.forced { " (--force)" } else { "" };
        out.push_str(&format!(
            "revision {rev}: pushed by {} at {}{forced}\n",
            rec.pushed_by, rec.pushed_at
        ));
        let (before, label) = match records.get(i + 1) {
            Some((prev, r)) => (r.text.as_str(), format!("revision {prev}")),
            None => ("", "(nothing before)".to_owned()),
        };
        let diff = similar::TextDiff::from_lines(before, rec.text.as_str());
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(2)
                .header(&label, &format!("revision {rev}"))
                .to_string(),
        );
        out.push('\n');
    }
    if records.is_empty() {
        out.push_str("no pushes recorded\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(text: &str, by: &str) -> HistoryRecord {
        HistoryRecord {
            pushed_by: by.to_owned(),
            pushed_at: "2026-12-07T02:00:00Z".to_owned(),
            forced: false,
            text: text.to_owned(),
        }
    }

    #[test]
    fn history_diffs_each_push_against_the_one_before() {
        let records = [
            (9, rec("[policy]\nrelays = [\"10.0.0.2\"]\n", "bob@h")),
            (5, rec("[policy]\nrelays = [\"10.0.0.1\"]\n", "ann@h")),
        ];
        let out = render_history(Some(12), &records, 1);
        assert!(out.starts_with("revision 12: written outside"), "{out}");
        assert!(out.contains("revision 9: pushed by bob@h"), "{out}");
        assert!(
            out.contains("-relays = [\"10.0.0.1\"]\n+relays = [\"10.0.0.2\"]"),
            "{out}"
        );
        assert!(!out.contains("ann@h"), "only one shown: {out}");
    }
}
