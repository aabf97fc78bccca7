//! The soak's verdict, a pure function of what the run saw ([`judge_soak`]): the controller's
//! footprint came back, every switch ended in sync, the churn and the reloads really happened,
//! the API always answered, and its log holds nothing the churn does not explain.
//!
//! Footprint: for each series (RSS, open descriptors, threads, registry entries) the
//! **baseline** is the median of the samples in the window right after the warm-up
//! (`[warmup, warmup + window)`, one churn period: the median skips the moments when a tenth of
//! the switches are away) and the **end** is the median of the samples taken once the churn
//! stopped and every switch was back in sync. The end must be within 10% of the baseline
//! (either way: fewer descriptors or entries than at the start means lost switches), with an
//! allowance of at least one for the small counts (10% of 3 threads is less than a thread).
use serde::Serialize;

use crate::controller_log::LogSummary;
use crate::judge::Verdict;

/// Allowed change from the baseline, as a fraction of it.
pub const TOLERANCE: f64 = 0.10;

/// One reading during the soak (`None`: not available, e.g. attached without a pid).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SoakSample {
    /// Seconds since the churn began.
    pub t_secs: f64,
    pub rss_kib: Option<u64>,
    pub fds: Option<u64>,
    pub threads: Option<u64>,
    /// Registry entries: `op25b_switches_known`, else the length of `/api/switches`.
    pub registry: Option<u64>,
    /// The offender table's size (`op25b_offenders_tracked`): shown, not judged (it follows
    /// the subscribers the samples come from, bounded by `max_offenders`).
    pub offenders: Option<u64>,
}

/// Which series of a [`SoakSample`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Series {
    RssKib,
    Fds,
    Threads,
    Registry,
}

impl Series {
    pub const ALL: [Series; 4] = [
        Series::RssKib,
        Series::Fds,
        Series::Threads,
        Series::Registry,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Series::RssKib => "rss_kib",
            Series::Fds => "fds",
            Series::Threads => "threads",
            Series::Registry => "registry_entries",
        }
    }

    pub fn of(self, s: &SoakSample) -> Option<u64> {
        match self {
            Series::RssKib => s.rss_kib,
            Series::Fds => s.fds,
            Series::Threads => s.threads,
            Series::Registry => s.registry,
        }
    }

    /// The least change always allowed (in the series' unit).
    fn floor(self) -> f64 {
        match self {
            Series::RssKib => 0.0,
            Series::Fds | Series::Threads | Series::Registry => 1.0,
        }
    }
}

/// One series, summarised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesSummary {
    pub name: &'static str,
    pub samples: usize,
    pub baseline: Option<f64>,
    pub end: Option<f64>,
    pub min: Option<u64>,
    pub max: Option<u64>,
    /// (end - baseline) / baseline, percent.
    pub change_percent: Option<f64>,
}

/// One check of the verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

/// The verdict: every check must pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoakVerdict {
    pub ok: bool,
    pub series: Vec<SeriesSummary>,
    pub checks: Vec<Check>,
}

/// What the churn did, as counted by the runner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ChurnCounts {
    pub switches: usize,
    /// Churn rounds run, and planned (`secs / period`).
    pub rounds: u64,
    pub rounds_planned: u64,
    /// Disconnects the swarm made.
    pub disconnects: u64,
    /// Reconnects that failed.
    pub connect_errors: u64,
    /// Reloads asked for, and how many of them failed (an API error or a failed signal).
    pub reloads: u64,
    pub reload_failures: u64,
    /// The controller's policy generation before the first reload and at the end.
    pub generation_start: Option<u64>,
    pub generation_end: Option<u64>,
    /// API polls made, and those without a 200 answer.
    pub api_polls: u64,
    pub api_failures: u64,
}

/// Everything the verdict is made from.
#[derive(Debug, Clone)]
pub struct SoakInput<'a> {
    pub samples: &'a [SoakSample],
    pub warmup_secs: f64,
    /// Length of the baseline window after the warm-up (one churn period).
    pub window_secs: f64,
    /// The quiet end begins here (churn stopped, every switch back in sync).
    pub end_from_secs: f64,
    /// The final sync, by the switches' tables and the controller's confirmation.
    pub sync: &'a Verdict,
    pub churn: ChurnCounts,
    /// The controller's log (`None`: not read, which fails the verdict).
    pub log: Option<&'a LogSummary>,
}

fn median(mut v: Vec<u64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m] as f64
    } else {
        (v[m - 1] as f64 + v[m] as f64) / 2.0
    })
}

/// Summarises `series` over `input`'s windows.
pub fn summarise_series(series: Series, input: &SoakInput<'_>) -> SeriesSummary {
    let values = |from: f64, to: f64| -> Vec<u64> {
        input
            .samples
            .iter()
            .filter(|s| s.t_secs >= from && s.t_secs < to)
            .filter_map(|s| series.of(s))
            .collect()
    };
    let all: Vec<u64> = input.samples.iter().filter_map(|s| series.of(s)).collect();
    let baseline = median(values(
        input.warmup_secs,
        (input.warmup_secs + input.window_secs).min(input.end_from_secs),
    ));
    let end = median(values(input.end_from_secs, f64::INFINITY));
    SeriesSummary {
        name: series.name(),
        samples: all.len(),
        baseline,
        end,
        min: all.iter().copied().min(),
        max: all.iter().copied().max(),
        change_percent: baseline
            .zip(end)
            .filter(|(b, _)| *b > 0.0)
            .map(|(b, e)| (e - b) / b * 100.0),
    }
}

fn check(name: impl Into<String>, ok: bool, detail: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        ok,
        detail: detail.into(),
    }
}

/// The verdict (see the module docs).
pub fn judge_soak(input: &SoakInput<'_>) -> SoakVerdict {
    let mut checks = Vec::new();
    let mut series = Vec::new();
    for s in Series::ALL {
        let sum = summarise_series(s, input);
        let c = match (sum.baseline, sum.end) {
            (Some(b), Some(e)) => {
                let allowed = (b * TOLERANCE).max(s.floor());
                check(
                    format!("{} back within 10%", s.name()),
                    (e - b).abs() <= allowed,
                    format!("baseline {b:.0} after the warm-up, {e:.0} at the end (allowed +-{allowed:.0})"),
                )
            }
            (b, e) => check(
                format!("{} back within 10%", s.name()),
                false,
                format!(
                    "no samples {} (baseline {b:?}, end {e:?}): run longer than the warm-up, with the controller's pid",
                    if b.is_none() { "after the warm-up" } else { "at the quiet end" }
                ),
            ),
        };
        checks.push(c);
        series.push(sum);
    }

    let v = input.sync;
    let n = input.churn.switches;
    let confirmed = !v.notes.iter().any(|note| note.starts_with("UNCONFIRMED"));
    checks.push(check(
        "every switch in sync at the end (table and controller)",
        n > 0
            && v.reached.len() == n
            && v.missing.is_empty()
            && v.unconfirmed.is_empty()
            && confirmed,
        format!(
            "{} of {n} reached; {} hold other flows; {} hold the flows but are not confirmed{}",
            v.reached.len(),
            v.missing.len(),
            v.unconfirmed.len(),
            if confirmed {
                ""
            } else {
                "; no controller API to confirm"
            }
        ),
    ));

    let c = &input.churn;
    checks.push(check(
        "the churn ran",
        c.rounds >= c.rounds_planned.max(1) && c.disconnects > 0 && c.connect_errors == 0,
        format!(
            "{} of {} rounds, {} disconnects, {} failed reconnects",
            c.rounds, c.rounds_planned, c.disconnects, c.connect_errors
        ),
    ));
    let advanced = c
        .generation_start
        .zip(c.generation_end)
        .map(|(a, b)| b.saturating_sub(a));
    checks.push(check(
        "every reload applied",
        c.reloads > 0 && c.reload_failures == 0 && advanced.is_some_and(|g| g >= c.reloads),
        format!(
            "{} reloads asked ({} failed); policy generation advanced by {}",
            c.reloads,
            c.reload_failures,
            advanced.map_or("?".into(), |g| g.to_string())
        ),
    ));
    checks.push(check(
        "the API always answered",
        c.api_polls > 0 && c.api_failures == 0,
        format!("{} polls, {} failed", c.api_polls, c.api_failures),
    ));
    checks.push(match input.log {
        None => check("no unexplained WARN/ERROR in the log", false, "the controller's log was not read (attached without --controller-log-file?)"),
        Some(l) => {
            let too_many = l.churn_disconnects as u64 > c.disconnects;
            check(
                "no unexplained WARN/ERROR in the log",
                l.unexplained == 0 && !too_many,
                format!(
                    "{} WARN/ERROR lines: {} churn disconnects (swarm made {}), {} policy lints, {} sprayers reported, {} unexplained{}",
                    l.warn_error_lines,
                    l.churn_disconnects,
                    c.disconnects,
                    l.swarm_policy_lints,
                    l.sprayers_reported,
                    l.unexplained,
                    l.unexplained_examples
                        .first()
                        .map_or(String::new(), |e| format!(", e.g. {e}"))
                ),
            )
        }
    });
    SoakVerdict {
        ok: checks.iter().all(|c| c.ok),
        series,
        checks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A 120 s run sampled every second: warm-up 40 s, window 20 s, quiet end from 110 s;
    /// `rss(t)` gives the RSS.
    fn samples(rss: impl Fn(u64) -> u64) -> Vec<SoakSample> {
        (0..120u32)
            .map(|t| SoakSample {
                t_secs: f64::from(t),
                rss_kib: Some(rss(u64::from(t))),
                fds: Some(220),
                threads: Some(4),
                registry: Some(200),
                offenders: None,
            })
            .collect()
    }

    fn in_sync(n: usize) -> Verdict {
        Verdict {
            reached: vec![Duration::from_millis(3); n],
            ..Verdict::default()
        }
    }

    fn churn() -> ChurnCounts {
        ChurnCounts {
            switches: 200,
            rounds: 6,
            rounds_planned: 6,
            disconnects: 120,
            connect_errors: 0,
            reloads: 4,
            reload_failures: 0,
            generation_start: Some(1),
            generation_end: Some(5),
            api_polls: 120,
            api_failures: 0,
        }
    }

    fn log() -> LogSummary {
        LogSummary {
            lines: 130,
            warn_error_lines: 125,
            churn_disconnects: 120,
            swarm_policy_lints: 5,
            ..LogSummary::default()
        }
    }

    fn input<'a>(s: &'a [SoakSample], sync: &'a Verdict, log: &'a LogSummary) -> SoakInput<'a> {
        SoakInput {
            samples: s,
            warmup_secs: 40.0,
            window_secs: 20.0,
            end_from_secs: 110.0,
            sync,
            churn: churn(),
            log: Some(log),
        }
    }

    fn failed(v: &SoakVerdict) -> Vec<&str> {
        v.checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.name.as_str())
            .collect()
    }

    #[test]
    fn a_flat_run_passes() {
        // The warm-up may grow (first connections, allocator pools); after it, flat with noise.
        let s = samples(|t| {
            if t < 40 {
                50_000 + t * 500
            } else {
                70_000 + (t % 7) * 100
            }
        });
        let (sync, log) = (in_sync(200), log());
        let v = judge_soak(&input(&s, &sync, &log));
        assert!(v.ok, "{v:#?}");
        let rss = &v.series[0];
        assert_eq!(rss.name, "rss_kib");
        assert!(rss.change_percent.is_some_and(|p| p.abs() < 1.0), "{rss:?}");
    }

    #[test]
    fn a_steadily_growing_rss_fails() {
        // +0.3% of the baseline a second: +21% at the end.
        let s = samples(|t| 70_000 + t * 210);
        let (sync, log) = (in_sync(200), log());
        let v = judge_soak(&input(&s, &sync, &log));
        assert!(!v.ok);
        assert_eq!(failed(&v), vec!["rss_kib back within 10%"]);
    }

    #[test]
    fn leaked_descriptors_threads_or_entries_fail() {
        let mut s = samples(|_| 70_000);
        for x in s.iter_mut().filter(|x| x.t_secs >= 110.0) {
            x.fds = Some(260);
            x.threads = Some(6);
            x.registry = Some(400);
        }
        let (sync, log) = (in_sync(200), log());
        let v = judge_soak(&input(&s, &sync, &log));
        assert_eq!(
            failed(&v),
            vec![
                "fds back within 10%",
                "threads back within 10%",
                "registry_entries back within 10%"
            ]
        );
    }

    #[test]
    fn one_extra_thread_is_within_the_allowance_but_a_lost_tenth_of_descriptors_is_not() {
        let mut s = samples(|_| 70_000);
        for x in s.iter_mut().filter(|x| x.t_secs >= 110.0) {
            x.threads = Some(5);
            x.fds = Some(190);
        }
        let (sync, log) = (in_sync(200), log());
        let v = judge_soak(&input(&s, &sync, &log));
        assert_eq!(failed(&v), vec!["fds back within 10%"]);
    }

    #[test]
    fn without_samples_after_the_warm_up_or_at_the_end_it_fails() {
        let s: Vec<SoakSample> = samples(|_| 1)
            .into_iter()
            .filter(|x| x.t_secs < 40.0)
            .collect();
        let (sync, log) = (in_sync(200), log());
        let v = judge_soak(&input(&s, &sync, &log));
        assert_eq!(failed(&v).len(), 4, "{v:#?}");
        let mut s = samples(|_| 1);
        for x in &mut s {
            x.threads = None;
        }
        let v = judge_soak(&input(&s, &sync, &log));
        assert_eq!(failed(&v), vec!["threads back within 10%"]);
    }

    #[test]
    fn a_switch_out_of_sync_or_unconfirmed_fails() {
        let s = samples(|_| 70_000);
        let log = log();
        let mut sync = in_sync(199);
        sync.missing = vec![0x5a_0000_0007];
        assert_eq!(
            failed(&judge_soak(&input(&s, &sync, &log))),
            vec!["every switch in sync at the end (table and controller)"]
        );
        let mut sync = in_sync(199);
        sync.unconfirmed = vec![0x5a_0000_0007];
        assert!(!judge_soak(&input(&s, &sync, &log)).ok);
        let mut sync = in_sync(200);
        sync.notes
            .push("UNCONFIRMED: no controller API to ask (--api)".into());
        assert!(!judge_soak(&input(&s, &sync, &log)).ok);
    }

    #[test]
    fn reloads_that_do_not_apply_churn_that_did_not_run_and_api_failures_fail() {
        let s = samples(|_| 70_000);
        let (sync, log) = (in_sync(200), log());
        let with = |f: &dyn Fn(&mut ChurnCounts)| {
            let mut i = input(&s, &sync, &log);
            f(&mut i.churn);
            failed(&judge_soak(&i))
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            with(&|c| c.generation_end = Some(3)),
            vec!["every reload applied"]
        );
        assert_eq!(
            with(&|c| c.reload_failures = 1),
            vec!["every reload applied"]
        );
        assert_eq!(with(&|c| c.rounds = 2), vec!["the churn ran"]);
        assert_eq!(with(&|c| c.connect_errors = 1), vec!["the churn ran"]);
        assert_eq!(
            with(&|c| c.api_failures = 1),
            vec!["the API always answered"]
        );
    }

    #[test]
    fn an_unexplained_log_line_or_more_disconnects_than_the_churn_made_fail() {
        let s = samples(|_| 70_000);
        let sync = in_sync(200);
        let mut bad = log();
        bad.unexplained = 1;
        bad.unexplained_examples =
            vec!["WARN closing switch connection reason=switch silent".into()];
        let v = judge_soak(&input(&s, &sync, &bad));
        assert_eq!(failed(&v), vec!["no unexplained WARN/ERROR in the log"]);
        assert!(v.checks.iter().any(|c| c.detail.contains("switch silent")));
        let mut more = log();
        more.churn_disconnects = 121;
        assert!(!judge_soak(&input(&s, &sync, &more)).ok);
        let mut i = input(&s, &sync, &more);
        i.log = None;
        assert!(!judge_soak(&i).ok);
    }
}
