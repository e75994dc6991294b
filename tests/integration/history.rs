//! `cdrlake history` and time travel with `SET cdrlake.as_of`: a query as of an earlier
//! instant returns the earlier result after later ingest and compaction.

use std::path::Path;

use crate::compact::checksums;
use crate::support::{Scratch, cdrlake};

/// Copies a directory tree the way a backup restore or an upload to another store does:
/// the contents, with new modification times.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Splits a CSV file into two files with the header: the first `n` rows and the rest.
fn split_csv(s: &Scratch, path: &std::path::Path, n: usize) -> (String, String) {
    let text = std::fs::read_to_string(path).expect("read csv");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let rows: Vec<&str> = lines.collect();
    let part = |name: &str, rows: &[&str]| {
        let body = format!("{header}\n{}\n", rows.join("\n"));
        s.write(name, body).to_str().expect("path").to_string()
    };
    (
        part("first.csv", &rows[..n]),
        part("second.csv", &rows[n..]),
    )
}

#[test]
fn queries_as_of_an_instant_see_the_store_as_it_was() {
    let s = Scratch::new();
    let gen_dir = s.generate(3000, &["--seed", "9"]);
    let (first, second) = split_csv(&s, &gen_dir.join("cdrs.csv"), 1000);
    s.ok(&["ingest", "--batch-rows", "300", &first]);
    let sql = "SELECT count(*), sum(charge), count(DISTINCT tenant) FROM cdrs";
    let status = "SELECT call_status, count(*) FROM call_log GROUP BY 1 ORDER BY 1";
    let then_rows = s.rows(sql);
    let then_status = s.rows(status);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let at = chrono::Utc::now().to_rfc3339();
    std::thread::sleep(std::time::Duration::from_millis(20));

    s.ok(&["ingest", "--batch-rows", "500", &second]);
    s.ok(&["compact"]);
    let now = checksums(&s);
    assert_ne!(s.rows(sql), then_rows);

    let as_of = format!("SET cdrlake.as_of = '{at}'");
    assert_eq!(s.rows(&format!("{as_of}; {sql}")), then_rows);
    assert_eq!(s.rows(&format!("{as_of}; {status}")), then_status);
    // Back to the newest commit.
    assert_eq!(
        s.rows(&format!("{as_of}; SET cdrlake.as_of = 'latest'; {sql}")),
        s.rows(sql)
    );
    assert_eq!(checksums(&s), now);

    // A copy of the store, every file written anew, still knows when each commit was made.
    let copy = s.path("copy");
    copy_tree(&s.store(), &copy);
    let csv = |store: &Path, sql: &str| {
        let out = cdrlake(store, &["query", "--csv", sql]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    for sql in [sql, status] {
        let then = format!("{as_of}; {sql}");
        assert_eq!(csv(&copy, &then), csv(&s.store(), &then), "{sql}");
    }
    assert_eq!(csv(&copy, sql), csv(&s.store(), sql));
    // Before the first commit the table did not exist: it reads empty.
    assert_eq!(
        s.rows(&format!("SET cdrlake.as_of = '2000-01-01'; {sql}")),
        [["0", "", "0"]]
    );

    let err = s.fails(&["query", "SET cdrlake.as_of = 'soon'; SELECT 1 FROM cdrs"]);
    assert!(err.contains("cdrlake.as_of"), "{err}");

    let history = s.ok(&["history", "cdrs"]);
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(
        lines[0],
        "table,version,time,operation,files_added,files_removed,rows_added,rows_deleted"
    );
    assert!(lines[1].starts_with("cdrs,0,") && lines[1].contains(",CREATE TABLE,"));
    let written: u64 = lines
        .iter()
        .filter(|l| l.contains(",WRITE,"))
        .map(|l| {
            l.split(',')
                .nth(6)
                .expect("rows")
                .parse::<u64>()
                .expect("n")
        })
        .sum();
    assert_eq!(written, 3000, "{history}");
    assert!(lines.iter().any(|l| l.contains(",COMPACT,")), "{history}");
    assert!(s.fails(&["history", "nope"]).contains("unknown table nope"));
}
