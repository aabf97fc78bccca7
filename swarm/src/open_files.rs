//! Raises this process's open-files limit (one socket per switch) as far as it may go; a
//! controller child started afterwards inherits it.

/// Raises RLIMIT_NOFILE: soft and hard to `fs.nr_open` when allowed (root), else the soft
/// limit to the hard one. Returns the new soft limit.
pub fn raise_open_files_limit() -> std::io::Result<u64> {
    let ceiling = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok());
    if let Some(max) = ceiling {
        if rlimit::setrlimit(rlimit::Resource::NOFILE, max, max).is_ok() {
            return Ok(max);
        }
    }
    rlimit::increase_nofile_limit(u64::MAX)
}
