//! SYNs the kernel dropped because a listen queue was full (`TcpExt: ListenOverflows` in
//! /proc/net/netstat). Counted for the whole network namespace: other listeners on the machine
//! add to it too, so a non-zero delta says "a backlog overflowed", most likely the controller's.
//! Each dropped SYN costs its switch a retransmit (1 s, then 3 s, 7 s...).

/// `ListenOverflows` from the text of /proc/net/netstat (a header line of names followed by a
/// line of values, both starting with `TcpExt:`).
pub fn parse_listen_overflows(text: &str) -> Option<u64> {
    let mut lines = text.lines().filter(|l| l.starts_with("TcpExt:"));
    let names = lines.next()?;
    let values = lines.next()?;
    let at = names
        .split_whitespace()
        .position(|n| n == "ListenOverflows")?;
    values.split_whitespace().nth(at)?.parse().ok()
}

/// The counter now, if readable.
pub fn listen_overflows() -> Option<u64> {
    parse_listen_overflows(&std::fs::read_to_string("/proc/net/netstat").ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_column_by_name() {
        let text = "TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 3 99 101\nIpExt: InNoRoutes\nIpExt: 0\n";
        assert_eq!(parse_listen_overflows(text), Some(99));
        assert_eq!(parse_listen_overflows("TcpExt: A\nTcpExt: 1\n"), None);
        assert_eq!(parse_listen_overflows(""), None);
    }

    #[test]
    fn this_machine_has_the_counter() {
        assert!(listen_overflows().is_some());
    }
}
