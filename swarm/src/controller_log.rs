//! The soak's reading of the controller's log: every WARN or ERROR line must be explained by
//! what the swarm itself did, else the soak fails. Pure: lines in, a [`LogSummary`] out (the
//! runner reads the file).
//!
//! Explained lines:
//! - `closing switch connection` with a broken pipe, a reset, or a peer close as the reason:
//!   a switch the swarm disconnected (the churn). There may be at most as many as the swarm
//!   made disconnects ([`LogSummary::churn_disconnects`], checked by [`crate::soak_judge`]).
//! - the policy lint on the swarm's own policy: global `exempt_sources` (the swarm's policies
//!   carry some, and the controller repeats the lint at every reload).
//! - `likely infected subscriber` naming a (switch, port) the swarm made spray port 25 (the
//!   outbreak mix has a few percent of sprayers); a subscriber that did not spray is not
//!   explained.
//!
//! Anything else (an echo timeout, a switch error, a failed reload, a refused claim, a
//! panic...) is unexplained.
use std::collections::HashSet;

use serde::Serialize;

/// Unexplained lines kept as examples in the summary.
const EXAMPLES: usize = 5;

/// What one log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineClass {
    /// Not a WARN or ERROR line.
    Quiet,
    /// A connection the swarm closed, as the controller saw it end.
    ChurnDisconnect,
    /// The lint on the swarm's global `exempt_sources`.
    SwarmPolicyLint,
    /// An offender the swarm made spray.
    SprayerReported,
    /// A WARN or ERROR the swarm's churn does not explain.
    Unexplained,
}

/// `line` without ANSI colour sequences (`ESC [ ... letter`).
fn without_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The level of a `tracing` fmt line (`2026-12-07T03:03:39.33Z  WARN target: message`): the
/// first level word among its first three words.
fn level(line: &str) -> Option<&str> {
    line.split_whitespace()
        .take(3)
        .find(|w| matches!(*w, "WARN" | "ERROR" | "INFO" | "DEBUG" | "TRACE"))
}

/// What the swarm did that explains lines: the (dpid, port) of every subscriber it made spray.
#[derive(Debug, Clone, Default)]
pub struct Explains {
    pub sprayers: HashSet<(u64, u32)>,
}

/// The value of ` key=` in a fmt line, up to the next space.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(&format!(" {key}="))? + key.len() + 2;
    line[at..].split_whitespace().next()
}

/// The (dpid, port) a `likely infected subscriber` line names.
fn subscriber(line: &str) -> Option<(u64, u32)> {
    let dpid = u64::from_str_radix(&field(line, "switch")?.replace(':', ""), 16).ok()?;
    Some((dpid, field(line, "port")?.parse().ok()?))
}

/// Classifies one line (see the module docs).
pub fn classify(line: &str, explains: &Explains) -> LineClass {
    let line = &without_ansi(line);
    if !matches!(level(line), Some("WARN" | "ERROR")) {
        return LineClass::Quiet;
    }
    let closed_by_peer = [
        "Broken pipe",
        "Connection reset by peer",
        "switch closed the connection",
    ];
    if line.contains("closing switch connection") && closed_by_peer.iter().any(|r| line.contains(r))
    {
        return LineClass::ChurnDisconnect;
    }
    if line.contains("policy.exempt_sources: these sources are exempt on every policed port") {
        return LineClass::SwarmPolicyLint;
    }
    if line.contains("likely infected subscriber")
        && subscriber(line).is_some_and(|k| explains.sprayers.contains(&k))
    {
        return LineClass::SprayerReported;
    }
    LineClass::Unexplained
}

/// The WARN/ERROR lines of a log, by class.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LogSummary {
    /// Lines read.
    pub lines: usize,
    pub warn_error_lines: usize,
    pub churn_disconnects: usize,
    pub swarm_policy_lints: usize,
    pub sprayers_reported: usize,
    pub unexplained: usize,
    /// The first few unexplained lines.
    pub unexplained_examples: Vec<String>,
}

/// Classifies every line of `text`.
pub fn summarise(text: &str, explains: &Explains) -> LogSummary {
    let mut s = LogSummary::default();
    for line in text.lines() {
        s.lines += 1;
        match classify(line, explains) {
            LineClass::Quiet => continue,
            LineClass::ChurnDisconnect => s.churn_disconnects += 1,
            LineClass::SwarmPolicyLint => s.swarm_policy_lints += 1,
            LineClass::SprayerReported => s.sprayers_reported += 1,
            LineClass::Unexplained => {
                s.unexplained += 1;
                if s.unexplained_examples.len() < EXAMPLES {
                    s.unexplained_examples.push(line.to_string());
                }
            }
        }
        s.warn_error_lines += 1;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIPE: &str = "2026-12-07T03:03:53.961690Z  WARN op25b::session::connection: closing switch connection reason=write error: Broken pipe (os error 32)";
    const RESET: &str = "2026-12-07T03:03:53.9Z  WARN switch{peer=127.1.0.1:4242 dpid=00:00:00:5a:00:00:00:01}: op25b::session::connection: closing switch connection reason=read error: Connection reset by peer (os error 104)";
    const LINT: &str = "2026-12-07T03:03:39.335862Z  WARN op25b::cli::run: warning: target/swarm/policy-soak.toml:16:18: policy.exempt_sources: these sources are exempt on every policed port of every switch, so any subscriber who spoofs one of these addresses is exempt too";
    const SILENT: &str = "2026-12-07T03:04:00Z  WARN op25b::session::connection: closing switch connection reason=switch silent: no echo reply for 15s";
    const FAILED_RELOAD: &str = "2026-12-07T03:04:00Z ERROR op25b::controller::reload: policy reload task failed; the policy in force stays error=boom";

    const INFECTED: &str = "2026-12-07T03:48:20Z  WARN op25b::controller::offender_service: likely infected subscriber switch=00:00:00:5a:00:00:00:c8 port=21 source_mac=02:00:00:00:00:15 source_ip=2001:db8:c7:1::9";

    fn none() -> Explains {
        Explains::default()
    }

    #[test]
    fn only_the_swarms_own_sprayers_are_explained_offenders() {
        let sprayer = Explains {
            sprayers: [(0x5a_0000_00c8, 21)].into_iter().collect(),
        };
        assert_eq!(classify(INFECTED, &sprayer), LineClass::SprayerReported);
        assert_eq!(classify(INFECTED, &none()), LineClass::Unexplained);
        let other_port = Explains {
            sprayers: [(0x5a_0000_00c8, 22)].into_iter().collect(),
        };
        assert_eq!(classify(INFECTED, &other_port), LineClass::Unexplained);
        assert_eq!(
            subscriber("likely infected subscriber switch=zz port=1"),
            None
        );
    }

    #[test]
    fn churn_and_the_swarms_own_lint_are_explained() {
        assert_eq!(classify(PIPE, &none()), LineClass::ChurnDisconnect);
        assert_eq!(classify(RESET, &none()), LineClass::ChurnDisconnect);
        assert_eq!(classify(LINT, &none()), LineClass::SwarmPolicyLint);
    }

    #[test]
    fn anything_else_at_warn_or_error_is_unexplained() {
        assert_eq!(classify(SILENT, &none()), LineClass::Unexplained);
        assert_eq!(classify(FAILED_RELOAD, &none()), LineClass::Unexplained);
        let coloured = "\u{1b}[2m2026-12-07T03:04:00Z\u{1b}[0m \u{1b}[33m WARN\u{1b}[0m op25b: switch answered with ERROR";
        assert_eq!(classify(coloured, &none()), LineClass::Unexplained);
    }

    #[test]
    fn info_lines_and_messages_that_merely_mention_warn_are_quiet() {
        let info = "2026-12-07T03:04:00Z  INFO op25b::session::connection: switch connection closed reason=switch closed the connection";
        assert_eq!(classify(info, &none()), LineClass::Quiet);
        let mention = "2026-12-07T03:04:00Z  INFO op25b: next WARN ERROR ahead";
        assert_eq!(classify(mention, &none()), LineClass::Quiet);
        assert_eq!(classify("", &none()), LineClass::Quiet);
    }

    #[test]
    fn a_summary_counts_each_class_and_keeps_examples() {
        let text = [PIPE, RESET, LINT, SILENT, "plain", FAILED_RELOAD].join("\n");
        let s = summarise(&text, &none());
        assert_eq!(s.lines, 6);
        assert_eq!(s.warn_error_lines, 5);
        assert_eq!(s.churn_disconnects, 2);
        assert_eq!(s.swarm_policy_lints, 1);
        assert_eq!(s.unexplained, 2);
        assert_eq!(s.unexplained_examples, vec![SILENT, FAILED_RELOAD]);
    }
}
