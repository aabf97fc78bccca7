use super::*;

/// A real line (from `cat /proc/self/stat`) with the command name changed to hold spaces and
/// parentheses: utime 7, stime 5, starttime 1125346, vsize 3133440.
const STAT: &str =
    "29887 (op25b (x) run) R 29882 29882 19933 0 -1 4194304 99 0 0 0 7 5 0 0 20 0 1 0 \
1125346 3133440 412 18446744073709551615 93916357246976 93916357266857 140728119735376 0 0 0 0 \
0 0 0 0 0 17 1 0 0 0 0 0 93916357282864 93916357284480 93916560130048 140728119741138 \
140728119741158 140728119741158 140728119742443 0\n";

#[test]
fn stat_fields_are_counted_after_the_last_parenthesis() {
    assert_eq!(
        parse_stat(STAT),
        Some(Stat {
            cpu_ticks: 12,
            start_ticks: 1_125_346,
            vsize: 3_133_440,
        })
    );
    assert_eq!(parse_stat("29887 (cat R 1 2"), None);
    assert_eq!(parse_stat(""), None);
    assert_eq!(parse_stat("1 (a) R 1 2 3"), None, "too few fields");
}

#[test]
fn status_limits_and_btime_lines() {
    let status = "Name:\tcat\nVmPeak:\t    5000 kB\nVmRSS:\t    2168 kB\nThreads:\t1\n";
    assert_eq!(parse_status_rss(status), Some(2168 * 1024));
    assert_eq!(parse_status_rss("Name:\tkthreadd\n"), None);
    assert_eq!(
        parse_btime("cpu  1 2 3\nbtime 1796592640\nprocesses 5\n"),
        Some(1_796_592_640)
    );
    let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                  Max processes             63704                63704                processes \n\
                  Max open files            20000                524288               files     \n";
    assert_eq!(parse_max_open_files(limits), Some(20000));
    assert_eq!(
        parse_max_open_files(
            "Max open files            unlimited            unlimited            files\n"
        ),
        None
    );
}

#[cfg(target_os = "linux")]
#[test]
fn this_process_reads_plausibly() {
    let r = ProcessReadings::read();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let start = r.start_time_seconds.expect("start time");
    assert!(
        start <= now + 1.0 && start > now - 86_400.0 * 365.0,
        "{r:?}"
    );
    assert!(r.cpu_seconds.expect("cpu") >= 0.0);
    assert!(r.resident_bytes.expect("rss") > 1024 * 1024, "{r:?}");
    assert!(r.virtual_bytes.expect("vsize") >= r.resident_bytes.unwrap());
    let open = r.open_fds.expect("fds");
    assert!(open >= 3 && open <= r.max_fds.expect("max fds"), "{r:?}");
}
