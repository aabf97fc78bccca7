//! `ofproto/trace` output read by a test: its last `Datapath actions:` line, the top-level
//! actions in it, and what they do with the packet (forwarded, to the controller only, dropped).

/// The last `Datapath actions:` line of an `ofproto/trace` output, whole.
pub fn last_datapath_actions(trace: &str) -> Option<&str> {
    trace
        .lines()
        .rev()
        .find(|l| l.starts_with("Datapath actions:"))
}

/// The top-level actions of a `Datapath actions:` line (commas inside parentheses kept).
pub fn datapath_actions(line: &str) -> Vec<String> {
    let list = line.trim_start_matches("Datapath actions:").trim();
    let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0i32);
    for c in list.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether a `Datapath actions:` line (the prefix is optional) outputs to at least one datapath
/// port: one of its top-level actions is a port number.
pub fn forwards(line: &str) -> bool {
    datapath_actions(line).iter().any(|a| {
        let a = a.trim();
        !a.is_empty() && a.chars().all(|c| c.is_ascii_digit())
    })
}

/// What a trace's datapath actions do with the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceFate {
    /// `drop`.
    Drop,
    /// Only to the controller (`userspace(...)`, maybe metered).
    ControllerOnly,
    /// Out of at least one datapath port.
    Forwarded,
}

/// Classifies a `Datapath actions:` line.
pub fn trace_fate(line: &str) -> TraceFate {
    if forwards(line) {
        TraceFate::Forwarded
    } else if datapath_actions(line)
        .iter()
        .any(|a| a.contains("userspace("))
    {
        TraceFate::ControllerOnly
    } else {
        TraceFate::Drop
    }
}
