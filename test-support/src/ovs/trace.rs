//! `ofproto/trace` output read by a test: its last `Datapath actions:` line and the top-level
//! actions in it.

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
