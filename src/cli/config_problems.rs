//! The bridge settings problems part of `op25b status`: the `switch_config` field of
//! `/api/switches` (filled by `[ovsdb] endpoints`) as one line per database and one line per
//! problem with its fix. Nothing is printed when no database is monitored.
use std::fmt::Write as _;

use crate::fleet::EndpointReport;
use crate::policy::Dpid;

/// The section, empty when `endpoints` is.
pub fn render(endpoints: &[EndpointReport]) -> String {
    let mut out = String::new();
    for e in endpoints {
        let state = if e.connected {
            "monitored".to_owned()
        } else {
            format!(
                "NOT REACHABLE ({}), last seen",
                e.last_error.as_deref().unwrap_or("not connected yet")
            )
        };
        let _ = writeln!(
            out,
            "\nswitch settings at {}: {state}: {} bridge{} with a controller, {} problem{}",
            e.endpoint,
            e.bridges.len(),
            if e.bridges.len() == 1 { "" } else { "s" },
            e.problems.len(),
            if e.problems.len() == 1 { "" } else { "s" },
        );
        for p in &e.problems {
            let _ = writeln!(
                out,
                "  {} ({}): {}: {}; fix: {}",
                p.bridge,
                p.dpid
                    .map_or_else(|| "dpid unknown".to_owned(), |d: Dpid| d.to_string()),
                p.problem.name(),
                p.found,
                p.fix
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_each_database_and_its_problems_with_fixes() {
        let rows: Vec<EndpointReport> = serde_json::from_str(
            r#"[{"endpoint": "unix:/db.sock", "connected": true, "last_error": null,
                 "checked_at": "2026-11-27T21:00:00.000Z",
                 "bridges": [{"name": "br0", "dpid": "00:00:00:00:00:00:00:01"}],
                 "problems": [{"bridge": "br0", "dpid": "00:00:00:00:00:00:00:01",
                   "problem": "fail_mode", "controller": null, "column": "fail_mode",
                   "found": "standalone", "why": "...", "fix": "ovs-vsctl set-fail-mode br0 secure"}]},
                {"endpoint": "tcp:192.0.2.9:6640", "connected": false,
                 "last_error": "connection refused", "bridges": [], "problems": []}]"#,
        )
        .expect("parses");
        let text = render(&rows);
        assert!(text.contains(
            "switch settings at unix:/db.sock: monitored: 1 bridge with a controller, 1 problem\n"
        ));
        assert!(text.contains(
            "\n  br0 (00:00:00:00:00:00:00:01): fail_mode: standalone; fix: ovs-vsctl set-fail-mode br0 secure\n"
        ));
        assert!(text.contains(
            "tcp:192.0.2.9:6640: NOT REACHABLE (connection refused), last seen: 0 bridges"
        ));
        assert_eq!(render(&[]), "");
    }
}
