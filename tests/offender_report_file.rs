//! The abuse report file: never written through a symlink, rotated by size keeping
//! `report_keep` files.

use std::io::Write;

use op25b::offenders::report_file::rotated_name;
use op25b::offenders::{ReportFile, ReportSink, Rotation};
use op25b_test_support::temp::temp_dir;

#[test]
fn a_symlink_at_report_path_is_refused_not_followed() {
    let dir = temp_dir("report-link");
    let victim = dir.join("victim");
    std::fs::write(&victim, "precious\n").expect("write");
    let link = dir.join("reports.jsonl");
    std::os::unix::fs::symlink(&victim, &link).expect("symlink");
    let err =
        ReportSink::rotating_file(&link, Rotation::default()).expect_err("a symlink is refused");
    assert!(err.to_string().contains("symbolic link"), "{err}");
    let dangling = dir.join("dangling.jsonl");
    std::os::unix::fs::symlink(dir.join("created-through-link"), &dangling).expect("symlink");
    assert!(ReportSink::file(&dangling).is_err());
    assert_eq!(
        std::fs::read_to_string(&victim).expect("read"),
        "precious\n"
    );
    assert!(!dir.join("created-through-link").exists());
}

#[test]
fn rotation_at_max_bytes_keeps_report_keep_files() {
    let dir = temp_dir("report-rotate");
    let path = dir.join("reports.jsonl");
    let rotation = Rotation {
        max_bytes: Some(100),
        keep: 3,
    };
    let mut file = ReportFile::open(&path, rotation).expect("open");
    // 30 lines of 40 bytes: 2 lines fit in 100 bytes, so each file holds 2 lines.
    for i in 0..30 {
        let line = format!("{{\"report\": {i:>5}, \"pad\": \"xxxxxxxxxxx\"}}\n");
        assert_eq!(line.len(), 40);
        file.write_all(line.as_bytes()).expect("write");
    }
    file.flush().expect("flush");
    let lines = |p: &std::path::Path| -> Vec<String> {
        std::fs::read_to_string(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .lines()
            .map(str::to_owned)
            .collect()
    };
    for p in [
        path.clone(),
        rotated_name(&path, 1),
        rotated_name(&path, 2),
        rotated_name(&path, 3),
    ] {
        let size = std::fs::metadata(&p).expect("exists").len();
        assert!(size <= 100, "{}: {size} bytes", p.display());
    }
    assert!(
        !rotated_name(&path, 4).exists(),
        "only report_keep = 3 rotated files"
    );
    // Newest in the file itself, older ones in .1, .2, .3 in order.
    assert!(lines(&path)[1].contains("29"));
    assert!(lines(&rotated_name(&path, 1))[1].contains("27"));
    assert!(lines(&rotated_name(&path, 3))[0].contains("22"));
}
