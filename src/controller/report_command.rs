//! `[reporting] report_command`: a program run once per abuse report, the report's JSON line on
//! its standard input (a ticket system's intake, a mailer, a queue client).
//!
//! The program is run directly, without a shell: `argv[0]` is an absolute path, the rest its
//! arguments, exactly as listed in the policy. Its stdout goes to `/dev/null`, its stderr to
//! op25b's (the journal under systemd). It runs in its own process group.
//!
//! In front of it sits a bounded queue ([`ReportCommandRunner::offer`], `report_command_queue`,
//! default 256) drained by one thread that runs one command at a time:
//! - exit status 0: `delivered`;
//! - not started (missing, not executable, fork failed) or its stdin could not be written:
//!   failure `spawn`;
//! - non-zero exit or killed by a signal: failure `exit`;
//! - still running after `report_command_timeout_secs` (default 10): the whole process group
//!   is killed with SIGKILL and reaped, failure `timeout`; the next report runs at once.
//! - queue full (the command is slower than reports arrive): the report is not handed to the
//!   command, counted as `dropped`.
//!
//! None of this touches the report file or the offender service: the writer thread only
//! `try_send`s into the queue, so a hung or failing command never blocks sample handling or
//! the file sink. Metrics: `op25b_report_command_delivered_total`,
//! `op25b_report_command_dropped_total` and
//! `op25b_report_command_failures_total{reason="spawn|exit|timeout"}` ([`CommandCounters`]).
//!
//! [`check_program`] is what `op25b check`, `op25b run` and a reload ask of the program: a
//! regular file with an execute bit, reported at the key's `file:line:column`.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::{Duration, Instant};

use serde::Serialize;
use tracing::{debug, warn};

use crate::policy::{ReportCommand, Reporting};

/// How often a running command is polled for its exit.
const POLL: Duration = Duration::from_millis(10);

/// What the runner needs from `[reporting]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandSpec {
    /// Program (absolute) and arguments.
    pub argv: Vec<String>,
    pub timeout: Duration,
    /// Reports that may wait for the command.
    pub queue: usize,
}

impl CommandSpec {
    /// The command `reporting` asks for, if any (its program is not checked here).
    pub fn from_reporting(reporting: &Reporting) -> Option<Self> {
        reporting.report_command.as_ref().map(|c| Self {
            argv: c.argv.clone(),
            timeout: Duration::from_secs(reporting.report_command_timeout_secs),
            queue: reporting.report_command_queue,
        })
    }
}

/// Why the program named by `report_command` cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum ReportCommandProblem {
    #[error("{command}: cannot use the program: {source}")]
    Unreadable {
        command: ReportCommand,
        #[source]
        source: std::io::Error,
    },
    #[error("{command}: not a regular file")]
    NotAFile { command: ReportCommand },
    #[error("{command}: not executable (mode {mode:o}): chmod +x it")]
    NotExecutable { command: ReportCommand, mode: u32 },
}

/// Checks that `command`'s program is a regular file (symlinks followed) with an execute bit.
pub fn check_program(command: &ReportCommand) -> Result<(), ReportCommandProblem> {
    let meta = std::fs::metadata(command.program()).map_err(|source| {
        ReportCommandProblem::Unreadable {
            command: command.clone(),
            source,
        }
    })?;
    if !meta.is_file() {
        return Err(ReportCommandProblem::NotAFile {
            command: command.clone(),
        });
    }
    let mode = meta.permissions().mode();
    if mode & 0o111 == 0 {
        return Err(ReportCommandProblem::NotExecutable {
            command: command.clone(),
            mode: mode & 0o7777,
        });
    }
    Ok(())
}

/// Running totals over the process's life (they survive reloads that replace the runner).
#[derive(Debug, Default)]
pub struct CommandCounters {
    delivered: AtomicU64,
    dropped: AtomicU64,
    spawn: AtomicU64,
    exit: AtomicU64,
    timeout: AtomicU64,
}

/// A snapshot of [`CommandCounters`], for metrics and the API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CommandCounts {
    /// Commands that exited with status 0.
    pub delivered: u64,
    /// Reports not handed to the command: its queue was full.
    pub dropped: u64,
    /// The command could not be started or fed.
    pub failed_spawn: u64,
    /// The command exited non-zero or was killed by a signal.
    pub failed_exit: u64,
    /// The command ran past its timeout and was killed.
    pub failed_timeout: u64,
}

impl CommandCounters {
    pub fn snapshot(&self) -> CommandCounts {
        CommandCounts {
            delivered: self.delivered.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            failed_spawn: self.spawn.load(Ordering::Relaxed),
            failed_exit: self.exit.load(Ordering::Relaxed),
            failed_timeout: self.timeout.load(Ordering::Relaxed),
        }
    }
}

/// How one run of the command ended.
#[derive(Debug)]
enum Outcome {
    Delivered,
    Spawn(String),
    Exit(ExitStatus),
    Timeout,
}

/// The queue in front of the command and the thread that runs it. Dropping the runner closes
/// the queue; the thread runs what is queued and ends.
#[derive(Debug)]
pub struct ReportCommandRunner {
    queue: std_mpsc::SyncSender<Vec<u8>>,
    counters: Arc<CommandCounters>,
}

impl ReportCommandRunner {
    /// Starts the thread; `counters` are shared with whoever reads the metrics.
    pub fn start(spec: CommandSpec, counters: Arc<CommandCounters>) -> std::io::Result<Self> {
        let (tx, rx) = std_mpsc::sync_channel::<Vec<u8>>(spec.queue.max(1));
        let thread_counters = counters.clone();
        std::thread::Builder::new()
            .name("op25b-report-cmd".to_owned())
            .spawn(move || {
                for line in rx {
                    let counter = match run_once(&spec, &line) {
                        Outcome::Delivered => &thread_counters.delivered,
                        Outcome::Spawn(reason) => {
                            warn!(program = %spec.argv[0], %reason, "report_command could not be run");
                            &thread_counters.spawn
                        }
                        Outcome::Exit(status) => {
                            warn!(program = %spec.argv[0], %status, "report_command failed");
                            &thread_counters.exit
                        }
                        Outcome::Timeout => {
                            warn!(program = %spec.argv[0], timeout_secs = spec.timeout.as_secs(), "report_command timed out: killed");
                            &thread_counters.timeout
                        }
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                debug!("report_command runner stopped");
            })?;
        Ok(Self {
            queue: tx,
            counters,
        })
    }

    /// Queues one report line for the command without waiting; false (and counted as dropped)
    /// when the queue is full.
    pub fn offer(&self, line: Vec<u8>) -> bool {
        match self.queue.try_send(line) {
            Ok(()) => true,
            Err(_) => {
                let dropped = self.counters.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if dropped.is_power_of_two() {
                    warn!(
                        dropped,
                        "report_command queue full: report not handed to the command (the report file still has it)"
                    );
                }
                false
            }
        }
    }
}

/// Kills `child`'s whole process group (it leads one: `process_group(0)`), then the child.
fn kill_group(child: &mut Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        #[allow(unsafe_code, reason = "killpg(2) has no safe wrapper in libc")]
        // SAFETY: killpg only sends a signal; `pid` is our child's pid, which is also its
        // process group id (set with process_group(0)), and the child is not reaped yet, so
        // the id cannot have been reused.
        unsafe {
            libc::killpg(pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
}

/// Runs the command once with `line` on stdin, within the timeout.
fn run_once(spec: &CommandSpec, line: &[u8]) -> Outcome {
    let Some((program, args)) = spec.argv.split_first() else {
        return Outcome::Spawn("empty argv".to_owned());
    };
    let mut child = match Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => return Outcome::Spawn(e.to_string()),
    };
    // Fed from a thread: a command that never reads cannot block this one past the timeout
    // (a line is a few KiB, under a pipe's capacity, but nothing here relies on it).
    let feeder = child.stdin.take().map(|mut stdin| {
        let line = line.to_vec();
        std::thread::spawn(move || stdin.write_all(&line))
    });
    let deadline = Instant::now() + spec.timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if Instant::now() >= deadline => break Err(None),
            Ok(None) => std::thread::sleep(POLL),
            Err(e) => break Err(Some(e)),
        }
    };
    let outcome = match status {
        Ok(status) => {
            let fed = feeder.map(|f| f.join().map_err(|_| None).and_then(|r| r.map_err(Some)));
            match fed {
                Some(Err(e)) if status.success() => Outcome::Spawn(format!(
                    "exited 0 without reading the report from stdin: {}",
                    e.map_or_else(|| "writer panicked".to_owned(), |e| e.to_string())
                )),
                _ if status.success() => Outcome::Delivered,
                _ => Outcome::Exit(status),
            }
        }
        Err(None) => {
            kill_group(&mut child);
            let _ = child.wait();
            Outcome::Timeout
        }
        Err(Some(e)) => {
            kill_group(&mut child);
            let _ = child.wait();
            Outcome::Spawn(format!("cannot wait for it: {e}"))
        }
    };
    outcome
}

#[cfg(test)]
#[path = "report_command_tests.rs"]
mod tests;
