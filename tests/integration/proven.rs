//! A scan does not evaluate the conditions its files' statistics prove true for all rows
//! (`query::proven_predicates`): a time range covering whole day files leaves the Parquet
//! predicate, a range cutting into a file keeps its cutting bound, and both count the same
//! rows as the data holds. A date minus whole days stays a date, so a filter on the partition
//! column keeps skipping partitions (`query::interval`).

use crate::inproc::Lake;

const HEADER: &str = "call_id,tenant,direction,start_time,end_time,duration_s,source,destination";

/// 60 calls on each of November 1–10, 2026, 10:00–10:59 UTC, tenants `t0`–`t2` in turn.
fn calls() -> String {
    let mut text = format!("{HEADER}\n");
    for day in 1..=10 {
        for n in 0..60 {
            let t = format!("2026-11-{day:02}T10:{n:02}:00Z");
            text.push_str(&format!(
                "c-{day}-{n},t{},outbound,{t},{t},0,100{n},200{n}\n",
                n % 3
            ));
        }
    }
    text
}

/// The predicate of the plan's Parquet scan (`predicate=…` of `DataSourceExec`).
fn scan_predicate(lake: &Lake, sql: &str) -> String {
    let plan: String = lake
        .rows(&format!("EXPLAIN {sql}"))
        .into_iter()
        .map(|row| row.join(" "))
        .collect::<Vec<_>>()
        .join("\n");
    let at = plan
        .find(", predicate=")
        .unwrap_or_else(|| panic!("no scan predicate in {plan}"));
    let rest = &plan[at + ", predicate=".len()..];
    rest[..rest.find(", pruning_predicate=").unwrap_or(rest.len())].to_string()
}

#[test]
fn a_range_covering_whole_files_is_not_evaluated_by_the_scan() {
    let lake = Lake::new();
    let (stored, _, rejected) = lake.ingest("a.csv", "canonical", &calls());
    assert_eq!((stored, rejected), (600, 0));
    let month = "SELECT count(*) FROM cdrs WHERE start_time >= '2026-11-01T00:00:00Z' \
                 AND start_time < '2026-12-01T00:00:00Z' AND tenant = 't1'";
    let predicate = scan_predicate(&lake, month);
    assert!(!predicate.contains("start_time"), "{predicate}");
    assert!(predicate.contains("tenant"), "{predicate}");
    assert_eq!(lake.value(month), "200");

    // Days 3–4 are whole files after Delta's file skipping; the range starts inside day 3's
    // file and ends after day 4's: the lower bound stays, the upper one goes.
    let cut = "SELECT count(*) FROM cdrs WHERE start_time >= '2026-11-03T10:30:00Z' \
               AND start_time < '2026-11-05T00:00:00Z'";
    let predicate = scan_predicate(&lake, cut);
    assert!(
        predicate.contains("start_time@") && predicate.contains(">="),
        "{predicate}"
    );
    assert!(!predicate.contains('<'), "{predicate}");
    assert_eq!(lake.value(cut), "90");

    // The last call starts at 10:59:00 on Nov 10: a bound at 10:59:00 cuts it and stays; a
    // bound one second later is beyond the maximum plus its one-millisecond margin and goes.
    let edge = "SELECT count(*) FROM cdrs WHERE start_time < '2026-11-10T10:59:00Z'";
    assert!(scan_predicate(&lake, edge).contains("start_time"));
    assert_eq!(lake.value(edge), "599");
    let after = "SELECT count(*) FROM cdrs WHERE start_time < '2026-11-10T10:59:01Z' \
                 AND tenant = 't0'";
    assert!(!scan_predicate(&lake, after).contains("start_time"));
    assert_eq!(lake.value(after), "200");
}

#[test]
fn whole_days_off_a_date_keep_the_partition_filter_a_time_of_day_makes_a_timestamp() {
    let lake = Lake::new();
    let (stored, _, rejected) = lake.ingest("a.csv", "canonical", &calls());
    assert_eq!((stored, rejected), (600, 0));
    // `call_date >= DATE … - interval '2 days'` stays a date comparison on the partition
    // column (a timestamp there would cast every partition's date and read every file).
    let week = "SELECT count(*) FROM cdrs WHERE call_date >= DATE '2026-11-08' - interval '2 days'";
    let plan: String = lake
        .rows(&format!("EXPLAIN {week}"))
        .into_iter()
        .map(|row| row.join(" "))
        .collect();
    assert!(!plan.contains("CAST(call_date"), "{plan}");
    assert_eq!(lake.value(week), "300");
    // With a time of day the sum is a timestamp, as in PostgreSQL: the time is kept.
    let later = "SELECT CAST(DATE '2026-11-08' + interval '90 minutes' AS TEXT)";
    assert_eq!(lake.value(later), "2026-11-08T01:30:00");
}
