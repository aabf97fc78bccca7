//! The private etcd of `test_support::etcd`: starts on free ports, keeps data across a kill and
//! restart (an outage), and leaves nothing behind.

use op25b_test_support::etcd::PrivateEtcd;

#[test]
fn a_private_etcd_serves_survives_a_restart_and_is_removed_on_drop() {
    let mut etcd = PrivateEtcd::start();
    assert!(etcd.endpoint().starts_with("http://127.0.0.1:"));
    etcd.ctl(&["put", "/op25b-test/k", "v1"]);
    assert_eq!(
        etcd.ctl(&["get", "--print-value-only", "/op25b-test/k"])
            .trim(),
        "v1"
    );
    etcd.kill();
    assert!(!etcd.healthy(), "killed: no answer");
    etcd.restart();
    assert_eq!(
        etcd.ctl(&["get", "--print-value-only", "/op25b-test/k"])
            .trim(),
        "v1",
        "the data survived the outage"
    );
    let dir = etcd.data_dir().to_path_buf();
    assert!(dir.exists());
    drop(etcd);
    assert!(!dir.exists(), "the temporary directory is removed");
}
