//! The verdict on a scenario's switches, shared by every scenario: a switch counts as reached
//! only when its table holds exactly the desired flows (the switch side, `fleet`) **and** the
//! controller confirms it in sync at the current policy generation (its own `/api/switches`).
//!
//! The table alone is not enough: switches preloaded with the desired flows already hold them,
//! so a controller that fails every sync (it once refused to read more than 100,000 flows)
//! would pass on the table alone (`growth` printed `reached: 5` while the controller said 0 in
//! sync). Without an API to ask (attaching without `--api`), the verdict says so in a note.
use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::api_probe::{self, Confirmations, ControllerView};
use crate::fleet::SyncOutcome;

/// How a scenario's switches ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Verdict {
    /// Switches with the desired table that the controller confirms: when the table got there.
    pub reached: Vec<Duration>,
    /// Desired table, but the controller does not list them in sync (dpids, sorted).
    pub unconfirmed: Vec<u64>,
    /// Never held the desired table within the timeout (dpids, sorted).
    pub missing: Vec<u64>,
    pub notes: Vec<String>,
}

/// Judges `outcome` (the switch side) against `confirmed` (the controller side; `None`: no
/// API to ask, the table alone decides and a note says so).
pub fn judge(outcome: SyncOutcome, confirmed: Option<&Confirmations>) -> Verdict {
    let mut v = Verdict {
        missing: outcome.missing,
        ..Verdict::default()
    };
    match confirmed {
        None => {
            v.reached = outcome.reached.iter().map(|&(_, t)| t).collect();
            v.notes.push(
                "UNCONFIRMED: no controller API to ask (--api); judged by the tables alone".into(),
            );
        }
        Some(c) => {
            for (dpid, t) in outcome.reached {
                if c.in_sync.contains(&dpid) {
                    v.reached.push(t);
                } else {
                    v.unconfirmed.push(dpid);
                }
            }
            v.unconfirmed.sort_unstable();
            if let Some(&dpid) = v.unconfirmed.first() {
                v.notes.push(format!(
                    "{} switches hold the desired flows but the controller does not confirm them in sync, e.g. dpid {dpid:#x}",
                    v.unconfirmed.len()
                ));
            }
            if let Some((dpid, error)) = c.errors.first() {
                v.notes.push(format!(
                    "controller: {} switches with an error, e.g. dpid {dpid:#x}: {error}",
                    c.errors.len()
                ));
            }
        }
    }
    v
}

/// Polls `/api/switches` (one request at a time, every 100 ms) until the controller confirms
/// every dpid of `want`, or `timeout` since `start`: when it did (ms since `start`), and the
/// last answer. `None` for both when there is no API or it does not answer.
pub async fn confirmations(
    api: Option<SocketAddr>,
    want: &HashSet<u64>,
    start: Instant,
    timeout: Duration,
) -> (Option<f64>, Option<Confirmations>) {
    let Some(api) = api else {
        return (None, None);
    };
    let mut last = None;
    loop {
        let answer = tokio::task::spawn_blocking(move || api_probe::fetch_confirmations(api))
            .await
            .ok()
            .and_then(Result::ok);
        let t = start.elapsed();
        match answer {
            None => return (None, last),
            Some(c) if want.is_subset(&c.in_sync) => {
                return (Some(t.as_secs_f64() * 1000.0), Some(c));
            }
            Some(c) => last = Some(c),
        }
        if start.elapsed() >= timeout {
            return (None, last);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The view a verdict was made with (for the report).
pub fn view_of(c: Option<&Confirmations>) -> Option<ControllerView> {
    c.map(|c| c.view)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome() -> SyncOutcome {
        SyncOutcome {
            reached: vec![(1, Duration::from_millis(5)), (2, Duration::from_millis(7))],
            missing: vec![3],
        }
    }

    fn confirming(dpids: &[u64]) -> Confirmations {
        Confirmations {
            in_sync: dpids.iter().copied().collect(),
            errors: vec![(
                2,
                "switch reported 100050 flows with our cookie, more than 100000".into(),
            )],
            ..Confirmations::default()
        }
    }

    #[test]
    fn a_table_the_controller_does_not_confirm_is_not_reached() {
        let v = judge(outcome(), Some(&confirming(&[1, 3])));
        assert_eq!(v.reached, vec![Duration::from_millis(5)]);
        assert_eq!(v.unconfirmed, vec![2]);
        assert_eq!(v.missing, vec![3]);
        assert!(
            v.notes.iter().any(|n| n.contains("more than 100000")),
            "{v:?}"
        );
    }

    #[test]
    fn the_growth_false_positive_reaches_nothing() {
        // Preloaded tables equal the desired flows; the controller confirms none.
        let v = judge(outcome(), Some(&confirming(&[])));
        assert!(v.reached.is_empty());
        assert_eq!(v.unconfirmed, vec![1, 2]);
    }

    #[test]
    fn without_an_api_the_tables_decide_and_a_note_says_so() {
        let v = judge(outcome(), None);
        assert_eq!(v.reached.len(), 2);
        assert!(v.notes[0].starts_with("UNCONFIRMED"));
    }
}
