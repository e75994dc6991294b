//! Point look-ups read only the files whose bloom filters may hold the key, stay correct as
//! files are added and replaced, and return the same rows as without the index.

use arrow::util::pretty::pretty_format_batches;
use cdrlake::query;
use datafusion::prelude::SessionContext;

use crate::inproc::Lake;
use crate::support;

const HEADER: &str = "call_id,tenant,direction,start_time,end_time,duration_s,source,destination";

/// `per_day` calls on each of `days` days of November 2026 (one file per day partition),
/// ids `{prefix}-{day}-{n}`.
fn calls(prefix: &str, days: std::ops::Range<u32>, per_day: u32) -> String {
    let mut text = format!("{HEADER}\n");
    for day in days {
        for n in 0..per_day {
            let t = format!("2026-11-{day:02}T10:{:02}:00Z", n % 60);
            text.push_str(&format!(
                "{prefix}-{day}-{n},t{},outbound,{t},{t},0,100{n},200{n}\n",
                n % 3
            ));
        }
    }
    text
}

fn run(lake: &Lake, ctx: &SessionContext, sql: &str) -> String {
    lake.block_on(async {
        let batches = query::collect(ctx, sql).await.expect(sql);
        pretty_format_batches(&batches).expect("format").to_string()
    })
}

/// The files the scan of `sql` reads: the `count_files_scanned` metric of Delta's scan, or
/// for a look-up's own Parquet scan the row groups left after statistics and bloom filters
/// (the tests' files hold one row group each; a listed file whose row group is pruned is
/// opened from the cached footer but not read).
fn files_scanned(lake: &Lake, ctx: &SessionContext, sql: &str) -> u64 {
    let plan = run(lake, ctx, &format!("EXPLAIN ANALYZE {sql}"));
    files_read(&plan)
}

fn files_read(plan: &str) -> u64 {
    if let Some(at) = plan.find("count_files_scanned=") {
        let digits: String = plan[at + "count_files_scanned=".len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        return digits.parse().expect("file count");
    }
    if plan.contains("row_groups_pruned_bloom_filter=") {
        return pruning(plan, "row_groups_pruned_bloom_filter").1 as u64;
    }
    assert!(
        !plan.contains("DataSourceExec"),
        "no scan metrics in {plan}"
    );
    0
}

#[test]
fn a_call_id_look_up_reads_only_the_file_that_holds_it() {
    let lake = Lake::new();
    let (stored, _, rejected) = lake.ingest("a.csv", "canonical", &calls("a", 1..11, 50));
    assert_eq!((stored, rejected), (500, 0));
    let ctx = lake.session();
    let by_id = "SELECT call_id, tenant, call_date FROM cdrs WHERE call_id = 'a-7-12'";
    assert_eq!(files_scanned(&lake, &ctx, by_id), 1);
    let row = run(&lake, &ctx, by_id);
    assert!(
        row.contains("a-7-12") && row.contains("t0") && row.contains("2026-11-07"),
        "{row}"
    );
    // pgbench's form: one (tenant, call_id) branch per tenant.
    let either = "SELECT call_id FROM cdrs WHERE (tenant = 't0' AND call_id = 'a-3-3') \
                  OR (tenant = 't1' AND call_id = 'a-9-4') ORDER BY call_id";
    assert_eq!(files_scanned(&lake, &ctx, either), 2);
    assert_eq!(run(&lake, &ctx, either).matches("| a-").count(), 2);
    let listed = "SELECT count(*) AS n FROM cdrs WHERE call_id IN ('a-1-1', 'a-2-2', 'nope')";
    assert_eq!(files_scanned(&lake, &ctx, listed), 2);
    assert!(run(&lake, &ctx, listed).contains("| 2 |"));
    let unknown = "SELECT count(*) AS n FROM cdrs WHERE call_id = 'nope'";
    assert_eq!(files_scanned(&lake, &ctx, unknown), 0);
    assert!(run(&lake, &ctx, unknown).contains("| 0 |"));
    // Not pinned to a finite set: every file is read.
    let open = "SELECT count(*) AS n FROM cdrs WHERE call_id = 'a-1-1' OR duration_s = 0";
    assert_eq!(files_scanned(&lake, &ctx, open), 10);
    assert!(run(&lake, &ctx, open).contains("| 500 |"));
}

#[test]
fn look_ups_see_files_added_and_replaced_after_the_session_opened() {
    let lake = Lake::new();
    lake.ingest("a.csv", "canonical", &calls("a", 1..4, 20));
    let ctx = lake.session();
    let new_id = "SELECT call_id FROM cdrs WHERE call_id = 'b-2-5'";
    assert!(!run(&lake, &ctx, new_id).contains("b-2-5"));
    // A second file in the same day partition, ingested after the index was filled.
    lake.ingest("b.csv", "canonical", &calls("b", 2..3, 20));
    assert!(run(&lake, &ctx, new_id).contains("b-2-5"));
    assert_eq!(files_scanned(&lake, &ctx, new_id), 1);
    // Compaction replaces the day's two files by one; the look-ups still find both ids.
    let out = support::cdrlake(&lake.dir.path().join("store"), &["compact"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let both = "SELECT call_id FROM cdrs WHERE call_id IN ('a-2-5', 'b-2-5') ORDER BY 1";
    let rows = run(&lake, &ctx, both);
    assert!(rows.contains("a-2-5") && rows.contains("b-2-5"), "{rows}");
    assert_eq!(files_scanned(&lake, &ctx, both), 1);
}

/// `rows` calls of tenant `t` on 2026-11-05, one a second, ids `p-{n:05}` in time order (so
/// the stored order, tenant then start time, is also id order).
fn day_of_calls(rows: u32) -> String {
    let mut text = format!("{HEADER}\n");
    for n in 0..rows {
        let t = format!(
            "2026-11-05T{:02}:{:02}:{:02}Z",
            n / 3600,
            n / 60 % 60,
            n % 60
        );
        text.push_str(&format!("p-{n:05},t,outbound,{t},{t},0,100{n},200{n}\n"));
    }
    text
}

/// The `(total, matched)` of metric `name` in an `EXPLAIN ANALYZE` plan
/// (`name=12.00 K total → 4.10 K matched`).
fn pruning(plan: &str, name: &str) -> (f64, f64) {
    let at = plan
        .find(&format!("{name}="))
        .unwrap_or_else(|| panic!("no {name} in {plan}"));
    let text = &plan[at + name.len() + 1..];
    let number = |part: &str| -> f64 {
        let mut words = part.split_whitespace();
        let value: f64 = words.next().and_then(|v| v.parse().ok()).expect("number");
        match words.next() {
            Some("K") => value * 1e3,
            Some("M") => value * 1e6,
            _ => value,
        }
    };
    let (total, rest) = text.split_once(" total → ").expect("total");
    let matched = rest.split_once(" matched").expect("matched").0;
    (number(total), number(matched))
}

#[test]
fn a_look_up_decodes_only_the_data_page_that_holds_the_row() {
    let s = support::Scratch::new();
    let file = s.write("day.csv", day_of_calls(12_000));
    s.ok(&["ingest", file.to_str().expect("path")]);
    for sql in [
        "SELECT * FROM cdrs WHERE call_id = 'p-07777'",
        "SELECT * FROM cdrs WHERE tenant = 't' AND call_id = 'p-07777'",
    ] {
        let plan = s.ok(&["query", &format!("EXPLAIN ANALYZE {sql}")]);
        // One file, one row group, and of its 12,000 rows (three data pages of at most 4096
        // rows; a store written with parquet's default has one page) some pages are skipped
        // by the page index.
        assert_eq!(files_read(&plan), 1, "{plan}");
        let (groups, kept) = pruning(&plan, "row_groups_pruned_bloom_filter");
        assert_eq!((groups, kept), (1.0, 1.0), "{plan}");
        let (rows, read) = pruning(&plan, "page_index_rows_pruned");
        assert_eq!(rows, 12_000.0, "{plan}");
        assert!(read > 0.0 && read <= 8_192.0, "{read} rows read:\n{plan}");
        let found = s.rows(sql);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0][0], "p-07777");
    }
}

#[test]
fn a_session_sees_a_commit_another_process_made_between_two_statements() {
    let lake = Lake::new();
    lake.ingest("a.csv", "canonical", &calls("a", 1..3, 10));
    let ctx = lake.session();
    let id = "SELECT call_id FROM cdrs WHERE call_id = 'c-2-7'";
    let count = "SELECT count(*) AS n FROM cdrs";
    assert!(!run(&lake, &ctx, id).contains("c-2-7"));
    assert!(run(&lake, &ctx, count).contains("| 20 |"));
    let file = lake.dir.path().join("c.csv");
    std::fs::write(&file, calls("c", 2..3, 10)).expect("write input");
    let store = lake.dir.path().join("store");
    let out = support::cdrlake(&store, &["ingest", file.to_str().expect("path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(run(&lake, &ctx, id).contains("c-2-7"));
    assert!(run(&lake, &ctx, count).contains("| 30 |"));
    assert_eq!(files_scanned(&lake, &ctx, id), 1);
}
