//! Tests of the policy store and the file watch, on real files in a temporary directory.

use super::policy_store::{PolicyStore, ReloadOutcome};
use super::reload::{run_reloader, watch_file};
use crate::policy::Config;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub(crate) fn policy_text(relay: &str) -> String {
    format!(
        r#"
[controller]
listen = "127.0.0.1:0"

[policy]
blocked_ports = [25]
relays = ["{relay}"]
exempt_sources = []
cookie = "0x4f50323542000000"
"#
    )
}

fn temp_dir() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "op25b-reload-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn store_for(text: &str) -> (PathBuf, PolicyStore) {
    let dir = temp_dir();
    let path = dir.join("policy.toml");
    std::fs::write(&path, text).unwrap();
    let config = Config::load(&path).unwrap().config;
    let store = PolicyStore::new(config, Some(path.clone()));
    (path, store)
}

#[test]
fn an_invalid_file_is_rejected_and_the_policy_in_force_stays() {
    let (path, store) = store_for(&policy_text("192.0.2.25/32"));
    let mut rx = store.subscribe();
    std::fs::write(&path, policy_text("192.0.2.25/24")).unwrap(); // host bits beyond the mask
    let err = store.reload("test").unwrap_err();
    assert!(err.to_string().contains("policy.toml"), "{err}");
    assert_eq!(store.current().generation(), 1);
    assert!(!rx.has_changed().unwrap(), "sessions are not told anything");
    let status = store.reload_status();
    assert_eq!(
        (
            status.reloads_failed,
            status.reloads_ok,
            store.current().generation()
        ),
        (1, 0, 1)
    );
    assert!(status.last_reload_error.is_some());
    rx.mark_unchanged();
}

#[test]
fn an_installed_reload_after_a_rejected_one_counts_both_and_clears_the_error() {
    let (path, store) = store_for(&policy_text("192.0.2.25/32"));
    std::fs::write(&path, "[policy]\nblocked_ports = [\"x\"]\n").unwrap();
    assert!(store.reload("test").is_err());
    std::fs::write(&path, policy_text("192.0.2.26/32")).unwrap();
    assert_eq!(
        store.reload("test").unwrap(),
        ReloadOutcome::Installed { generation: 2 }
    );
    let status = store.reload_status();
    assert_eq!(
        (
            status.reloads_ok,
            status.reloads_failed,
            store.current().generation()
        ),
        (1, 1, 2)
    );
    assert_eq!(status.last_reload_error, None);
}

#[test]
fn a_valid_change_gets_the_next_generation_and_identical_is_unchanged() {
    let (path, store) = store_for(&policy_text("192.0.2.25/32"));
    let mut rx = store.subscribe();
    assert_eq!(
        store.reload("test").unwrap(),
        ReloadOutcome::Unchanged { generation: 1 }
    );
    std::fs::write(&path, policy_text("192.0.2.26/32")).unwrap();
    assert_eq!(
        store.reload("test").unwrap(),
        ReloadOutcome::Installed { generation: 2 }
    );
    assert!(rx.has_changed().unwrap());
    assert_eq!(rx.borrow_and_update().generation(), 2);
    assert_eq!(store.reload_status().reloads_ok, 1);
}

#[tokio::test]
async fn saving_by_rename_triggers_the_watch() {
    let (path, _store) = store_for(&policy_text("192.0.2.25/32"));
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let _w = watch_file(&path, tx).unwrap();
    let tmp = path.with_file_name(".policy.toml.swp");
    std::fs::write(&tmp, policy_text("192.0.2.27/32")).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    assert_eq!(got.ok().flatten(), Some(()));
}

#[tokio::test]
async fn the_reloader_installs_a_changed_file_and_ignores_an_invalid_one() {
    let (path, store) = store_for(&policy_text("192.0.2.25/32"));
    let store = Arc::new(store);
    let token = CancellationToken::new();
    let task = tokio::spawn(run_reloader(store.clone(), token.clone()));
    let mut rx = store.subscribe();
    // Give the watcher a moment to be installed.
    tokio::time::sleep(Duration::from_millis(100)).await;
    std::fs::write(&path, "[policy]\nblocked_ports = [\"x\"]\n").unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(store.current().generation(), 1);
    std::fs::write(&path, policy_text("192.0.2.28/32")).unwrap();
    tokio::time::timeout(Duration::from_secs(5), rx.changed())
        .await
        .expect("reload within 5 s")
        .unwrap();
    assert_eq!(store.current().generation(), 2);
    token.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn sighup_reloads_at_once_while_file_events_keep_the_debounce_waiting() {
    let (path, store) = store_for(&policy_text("192.0.2.25/32"));
    let store = Arc::new(store);
    let token = CancellationToken::new();
    let task = tokio::spawn(run_reloader(store.clone(), token.clone()));
    let mut rx = store.subscribe();
    // Give the watcher and the signal handler a moment to be installed.
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Keep writing the file every 20 ms for 3 s: the debounce (200 ms of quiet) never ends.
    let writer_path = path.clone();
    let writer = tokio::spawn(async move {
        for _ in 0..150 {
            std::fs::write(&writer_path, policy_text("192.0.2.29/32")).unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(store.current().generation(), 1, "debounce still waiting");
    // SAFETY: kill(2) on our own pid with a signal the reloader handles.
    #[allow(unsafe_code, reason = "kill(2) on our own pid has no safe wrapper")]
    let rc = unsafe { libc::kill(libc::getpid(), libc::SIGHUP) };
    assert_eq!(rc, 0);
    tokio::time::timeout(Duration::from_secs(1), rx.changed())
        .await
        .expect("SIGHUP reloaded within 1 s although file events were still arriving")
        .unwrap();
    assert_eq!(store.current().generation(), 2);
    assert!(!writer.is_finished(), "the file events were still arriving");
    writer.abort();
    token.cancel();
    task.await.unwrap().unwrap();
}
