//! The API token file: made 0600 with a random token on first start, read back the same
//! afterwards, refused when its group or others may read it, never followed through a symlink.

use std::os::unix::fs::PermissionsExt;

use op25b::api::token::{load_or_create, read_token, TokenError, TokenSource};
use op25b_test_support::temp::temp_dir;

#[test]
fn a_missing_token_file_is_created_0600_with_a_random_token_and_then_reused() {
    let dir = temp_dir("token-create");
    let path = dir.join("api-token");
    let (token, source) = load_or_create(&path).expect("created");
    assert_eq!(source, TokenSource::Created);
    let mode = std::fs::metadata(&path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "mode {mode:o}");
    let text = read_token(&path).expect("readable by its owner");
    assert_eq!(text.len(), 64, "{text}");
    assert!(text.chars().all(|c| c.is_ascii_hexdigit()), "{text}");
    assert!(token.matches(text.as_bytes()));

    let (again, source) = load_or_create(&path).expect("read back");
    assert_eq!(source, TokenSource::Existing);
    assert!(
        again.matches(text.as_bytes()),
        "the same token on the next start"
    );

    let other = temp_dir("token-create-2").join("api-token");
    load_or_create(&other).expect("created");
    assert_ne!(read_token(&other).expect("read"), text, "tokens are random");
}

#[test]
fn a_token_file_others_can_read_is_refused_with_a_clear_error() {
    let dir = temp_dir("token-open");
    let path = dir.join("api-token");
    std::fs::write(&path, "0123456789abcdef0123456789abcdef\n").expect("write");
    for mode in [0o644, 0o640, 0o604] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        let err = load_or_create(&path).expect_err("refused");
        assert!(
            matches!(err, TokenError::TooOpen { mode: m, .. } if m == mode),
            "{mode:o}: {err}"
        );
        let text = err.to_string();
        assert!(text.contains("chmod 600"), "{text}");
        assert!(text.contains(&path.display().to_string()), "{text}");
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let (token, source) = load_or_create(&path).expect("0600 is fine");
    assert_eq!(source, TokenSource::Existing);
    assert!(token.matches(b"0123456789abcdef0123456789abcdef"));
}

#[test]
fn a_symlink_at_the_token_path_is_not_followed() {
    let dir = temp_dir("token-link");
    let target = dir.join("elsewhere");
    std::fs::write(&target, "0123456789abcdef0123456789abcdef\n").expect("write");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let link = dir.join("api-token");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    assert!(load_or_create(&link).is_err(), "followed a symlink");
    let dangling = dir.join("api-token-2");
    std::os::unix::fs::symlink(dir.join("nothing-here"), &dangling).expect("symlink");
    assert!(
        load_or_create(&dangling).is_err(),
        "created through a symlink"
    );
    assert!(!dir.join("nothing-here").exists());
}
