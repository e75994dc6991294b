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

/// The `count_files_scanned` metric of the Delta scan of `sql`.
fn files_scanned(lake: &Lake, ctx: &SessionContext, sql: &str) -> u64 {
    let plan = run(lake, ctx, &format!("EXPLAIN ANALYZE {sql}"));
    let Some(at) = plan.find("count_files_scanned=") else {
        assert!(
            !plan.contains("DataSourceExec"),
            "no scan metrics in {plan}"
        );
        return 0;
    };
    let digits: String = plan[at + "count_files_scanned=".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().expect("file count")
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
