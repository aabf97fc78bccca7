//! Reload triggers: SIGHUP and changes of the policy file. SIGHUP also asks for the abuse
//! report file to be reopened ([`run_reloader_notifying`]).
//!
//! The file is watched through its parent directory (editors save by writing a new file and
//! renaming it over the old one, which a watch on the file itself would miss). Events are
//! forwarded from notify's thread with `try_send` into a small channel and debounced, so one save
//! (several events) gives one reload.

use super::policy_store::PolicyStore;
use notify::{RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, warn};

/// Quiet time after the last file event before reloading.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// Why the reload triggers could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot watch directory {dir} for changes of {file}: {source}")]
    Notify {
        dir: PathBuf,
        file: PathBuf,
        source: notify::Error,
    },
    #[error("cannot install the SIGHUP handler: {0}")]
    Signal(std::io::Error),
}

/// A running file watcher; dropping it stops the watch.
pub struct FileWatch {
    _watcher: notify::RecommendedWatcher,
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Watches `path`'s directory; each event touching `path`'s file name sends `()` on `tx`.
pub fn watch_file(path: &Path, tx: mpsc::Sender<()>) -> Result<FileWatch, WatchError> {
    let dir = parent_dir(path);
    let name = path.file_name().map(std::ffi::OsStr::to_os_string);
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        match res {
            Ok(ev) => {
                let ours = ev
                    .paths
                    .iter()
                    .any(|p| p.file_name().map(std::ffi::OsStr::to_os_string) == name);
                if ours && !matches!(ev.kind, notify::EventKind::Access(_)) {
                    // Full means a reload is already pending: dropping this one loses nothing.
                    let _ = tx.try_send(());
                }
            }
            Err(e) => warn!(error = %e, "policy file watch error"),
        }
    })
    .map_err(|source| WatchError::Notify {
        dir: dir.clone(),
        file: path.to_path_buf(),
        source,
    })?;
    watcher
        .watch(&dir, RecursiveMode::NonRecursive)
        .map_err(|source| WatchError::Notify {
            dir: dir.clone(),
            file: path.to_path_buf(),
            source,
        })?;
    Ok(FileWatch { _watcher: watcher })
}

/// Reads, parses and installs the policy file on the blocking pool: a large policy file (thousands
/// of prefixes) takes milliseconds to parse, which must not hold up a worker thread that answers
/// switches' echoes (`op25b run --workers 1` has only one). The outcome is logged by the store.
async fn reload_off_runtime(store: &Arc<PolicyStore>, why: &'static str) {
    let store = store.clone();
    if let Err(e) = tokio::task::spawn_blocking(move || store.reload(why)).await {
        error!(error = %e, trigger = why, "policy reload task failed; the policy in force stays");
    }
}

/// Reloads `store` on SIGHUP and on changes of its file until `shutdown`.
pub async fn run_reloader(
    store: Arc<PolicyStore>,
    shutdown: CancellationToken,
) -> Result<(), WatchError> {
    run_reloader_notifying(store, None, shutdown).await
}

/// [`run_reloader`], also sending `()` on `on_hangup` at every SIGHUP (the report file is
/// reopened there, for logrotate). A full channel means a reopen is already pending.
pub async fn run_reloader_notifying(
    store: Arc<PolicyStore>,
    on_hangup: Option<mpsc::Sender<()>>,
    shutdown: CancellationToken,
) -> Result<(), WatchError> {
    use tokio::signal::unix::{signal, SignalKind};
    let Some(path) = store.path().map(Path::to_path_buf) else {
        shutdown.cancelled().await;
        return Ok(());
    };
    let mut hup = signal(SignalKind::hangup()).map_err(WatchError::Signal)?;
    let (tx, mut rx) = mpsc::channel::<()>(1);
    let _watch = watch_file(&path, tx)?;
    // The debounce runs as a deadline inside the loop (never an await inside a branch), so a
    // SIGHUP arriving while file events are being debounced reloads at once.
    let mut file_due: Option<tokio::time::Instant> = None;
    loop {
        let debounce = async {
            match file_due {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            got = hup.recv() => {
                if got.is_none() {
                    return Ok(());
                }
                // The reload reads the file as it is now, so it covers pending file events too.
                file_due = None;
                if let Some(tx) = &on_hangup {
                    let _ = tx.try_send(());
                }
                reload_off_runtime(&store, "SIGHUP").await;
            }
            got = rx.recv() => {
                if got.is_none() {
                    return Ok(());
                }
                // Debounce: reload once the events have stopped for DEBOUNCE.
                file_due = Some(tokio::time::Instant::now() + DEBOUNCE);
            }
            () = debounce => {
                file_due = None;
                debug!(path = %path.display(), "policy file changed");
                reload_off_runtime(&store, "file change").await;
            }
        }
    }
}
