//! `cdrlake compact`: small files merged per partition, query results unchanged, queries
//! running during compaction unaffected, replaced files deleted only after the grace period.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::layout::assert_sorted_zstd_with_bloom_filters;
use crate::support::Scratch;

/// Queries whose results must not change when files are rewritten.
pub const CHECKSUMS: &[&str] = &[
    "SELECT count(*), count(DISTINCT call_id), sum(duration_s), sum(charge) FROM cdrs",
    "SELECT call_date, tenant, count(*), sum(charge), min(start_time), max(end_time), \
     sum(billed_s) FROM cdrs GROUP BY 1, 2 ORDER BY 1, 2",
    "SELECT call_status, count(*) FROM call_log GROUP BY 1 ORDER BY 1",
    "SELECT result, count(*), min(at), max(at) FROM billing_events GROUP BY 1 ORDER BY 1",
];

/// The results of [`CHECKSUMS`].
pub fn checksums(s: &Scratch) -> Vec<Vec<Vec<String>>> {
    CHECKSUMS.iter().map(|q| s.rows(q)).collect()
}

/// Parquet files on disk under `dir`, recursively.
pub fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("list dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            found.extend(parquet_files(&path));
        } else if path.extension().is_some_and(|e| e == "parquet") {
            found.push(path);
        }
    }
    found
}

/// Ingests generated CDRs and billing events in many small commits.
pub fn small_files_store(s: &Scratch) {
    let gen_dir = s.generate(4000, &["--seed", "5"]);
    for (file, batch) in [("cdrs.csv", "300"), ("billing_events.csv", "400")] {
        let path = gen_dir.join(file);
        s.ok(&[
            "ingest",
            "--batch-rows",
            batch,
            path.to_str().expect("path"),
        ]);
    }
}

/// `files N → M` of `table` in compact's output.
fn files_line(out: &str, table: &str) -> (usize, usize) {
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("{table}: ")))
        .unwrap_or_else(|| panic!("no line for {table} in:\n{out}"));
    let rest = &line[line.find("files ").expect("files") + 6..];
    let mut nums = rest
        .split(|c: char| !c.is_ascii_digit())
        .filter(|n| !n.is_empty());
    let before = nums.next().expect("before").parse().expect("n");
    let after = nums.next().expect("after").parse().expect("n");
    (before, after)
}

#[test]
fn compaction_merges_files_and_changes_no_result() {
    let s = Scratch::new();
    small_files_store(&s);
    let before = checksums(&s);
    let cdrs_dir = s.store().join("cdrs");
    let files_on_disk = parquet_files(&cdrs_dir).len();
    let partitions = s.value("SELECT count(DISTINCT call_date) FROM cdrs");
    let partitions: usize = partitions.parse().expect("n");
    assert!(files_on_disk > 2 * partitions, "{files_on_disk} files");

    // Queries keep running while compaction rewrites the files under them.
    let stop = Arc::new(AtomicBool::new(false));
    let total = s.value("SELECT count(*) || '/' || sum(charge) FROM cdrs");
    let reader = {
        let stop = stop.clone();
        let store = s.store();
        std::thread::spawn(move || {
            let mut runs = 0;
            while !stop.load(Ordering::SeqCst) || runs == 0 {
                let out = crate::support::cdrlake(
                    &store,
                    &[
                        "query",
                        "--csv",
                        "SELECT count(*) || '/' || sum(charge) AS t FROM cdrs",
                    ],
                );
                assert!(
                    out.status.success(),
                    "query during compaction failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let text = String::from_utf8(out.stdout).expect("utf-8");
                runs += 1;
                assert_eq!(text.lines().nth(1), Some(total.as_str()));
            }
            runs
        })
    };
    let out = s.ok(&["compact"]);
    stop.store(true, Ordering::SeqCst);
    let runs = reader.join().expect("reader thread");
    assert!(runs >= 1);

    let (was, now) = files_line(&out, "cdrs");
    assert_eq!(was, files_on_disk, "{out}");
    assert_eq!(now, partitions, "{out}");
    let (was, now) = files_line(&out, "billing_events");
    assert!(was > 1 && now == 1, "{out}");
    assert_eq!(checksums(&s), before);
    // Within the grace period the replaced files are still there for running queries.
    assert_eq!(
        parquet_files(&cdrs_dir).len(),
        files_on_disk + partitions,
        "{out}"
    );

    // Without grace they go; what is left is sorted, compressed, with bloom filters.
    let out = s.ok(&["compact", "--grace-minutes", "0"]);
    assert_eq!(files_line(&out, "cdrs"), (partitions, partitions), "{out}");
    let left = parquet_files(&cdrs_dir);
    assert_eq!(left.len(), partitions);
    for file in &left {
        assert_sorted_zstd_with_bloom_filters(file);
    }
    assert_eq!(checksums(&s), before);

    // The log still remembers the removed files; a vacuum with nothing left to delete
    // commits nothing, so the table's version and the views stored from it stay current.
    let log = cdrs_dir.join("_delta_log");
    let commits = || std::fs::read_dir(&log).expect("log").count();
    let versions = commits();
    // (The first of these stores the views computed from the vacuum's version whole.)
    for _ in 0..2 {
        let out = s.ok(&["compact", "--grace-minutes", "0"]);
        assert_eq!(commits(), versions, "{out}");
    }
    let out = s.ok(&["compact", "--grace-minutes", "0"]);
    assert!(out.contains("call_log: stored rows current"), "{out}");
    assert!(out.contains("call_reports: stored rows current"), "{out}");
}

#[test]
fn compaction_splits_at_the_target_size() {
    let s = Scratch::new();
    small_files_store(&s);
    let before = checksums(&s);
    // 1 MiB target on a store far smaller: still one file per partition, never more files.
    let out = s.ok(&["compact", "--target-file-mb", "1", "--grace-minutes", "0"]);
    let (was, now) = files_line(&out, "cdrs");
    assert!(now < was, "{out}");
    assert_eq!(checksums(&s), before);
    assert!(
        s.fails(&["compact", "--target-file-mb", "0"])
            .contains("--target-file-mb")
    );
}
