//! The report file: appended to, never through a symbolic link, and rotated by size.
//!
//! Opened with `O_NOFOLLOW`, so a symlink planted at `report_path` (say to a file the
//! controller's user may write) is refused instead of followed. With a size limit, a line
//! that would take the file past it first rotates: `path.{keep-1}` -> `path.{keep}`, ...,
//! `path` -> `path.1` (the oldest, `path.{keep}`, is replaced), then a fresh `path` is opened.
//! Without one, rotation is left to logrotate and a reopen (SIGHUP).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Built-in rotation settings (`[reporting] report_max_bytes`, `report_keep`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Rotate before a line would take the file past this; `None`: never.
    pub max_bytes: Option<u64>,
    /// Rotated files kept (at least 1).
    pub keep: u32,
}

impl Default for Rotation {
    fn default() -> Self {
        Self {
            max_bytes: None,
            keep: 5,
        }
    }
}

/// An append-only report file with optional rotation.
#[derive(Debug)]
pub struct ReportFile {
    path: PathBuf,
    file: File,
    size: u64,
    rotation: Rotation,
}

/// Opens `path` for appending (created `0640` if missing) without following a final symlink.
fn open_append(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                io::Error::other("it is a symbolic link; refusing to follow it")
            } else {
                e
            }
        })?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("it is not a regular file"));
    }
    Ok(file)
}

/// `path` with `.n` appended.
pub fn rotated_name(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

impl ReportFile {
    /// Opens (or creates) `path` for appending.
    pub fn open(path: &Path, rotation: Rotation) -> io::Result<Self> {
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(Self {
            path: path.to_owned(),
            file,
            size,
            rotation,
        })
    }

    /// Shifts the rotated files up by one, renames the current file to `.1` and opens a new
    /// one. The renames never follow links (rename acts on names).
    fn rotate(&mut self) -> io::Result<()> {
        let keep = self.rotation.keep.max(1);
        for n in (1..keep).rev() {
            let from = rotated_name(&self.path, n);
            match std::fs::rename(&from, rotated_name(&self.path, n + 1)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        std::fs::rename(&self.path, rotated_name(&self.path, 1))?;
        self.file = open_append(&self.path)?;
        self.size = self.file.metadata()?.len();
        Ok(())
    }
}

impl Write for ReportFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(max) = self.rotation.max_bytes {
            let len = u64::try_from(buf.len()).unwrap_or(u64::MAX);
            if self.size > 0 && self.size.saturating_add(len) > max {
                self.rotate()?;
            }
        }
        let n = self.file.write(buf)?;
        self.size = self
            .size
            .saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}
