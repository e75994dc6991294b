//! The materialized views `call_log` and `call_reports`: `cdrlake compact` stores their rows,
//! queries read them while they are current and compute the view otherwise — after new calls
//! or refunds, under other settings, and as of an earlier instant — with the same answers
//! either way.

use crate::support::{Scratch, split_csv};

/// Every column of every row, in a stable order.
const ALL: &str = "SELECT * FROM call_log ORDER BY tenant, call_id";

/// Queries that push filters, projections, limits and time zones into the view.
const SHAPES: &[&str] = &[
    "SELECT call_status, count(*), sum(talk_time), min(sales_cycle) FROM call_log GROUP BY 1 ORDER BY 1",
    "SELECT call_id, call_status, is_unique, talk_time FROM call_log \
     WHERE tenant = 'contact' AND call_status IN ('Proper', 'Repeat call') \
     AND start_time >= (SELECT min(start_time) + INTERVAL '1 day' FROM cdrs) ORDER BY call_id LIMIT 50",
    "SELECT count(*) FROM call_log WHERE is_unique AND duration_s > 30",
    "SET timezone = 'Europe/Amsterdam'; SELECT date_trunc('day', start_time), count(*) \
     FROM call_log WHERE call_status = 'Proper' GROUP BY 1 ORDER BY 1",
    "SELECT call_id FROM call_log WHERE source = (SELECT min(source) FROM cdrs) ORDER BY 1 LIMIT 3",
];

/// Whether the plan of `sql` (its last statement) reads stored rows of `call_log`
/// (`config`: a configuration file).
fn reads_stored(s: &Scratch, config: Option<&str>, sql: &str) -> bool {
    reads_stored_of(s, config, sql, "call_log")
}

/// Whether the plan of `sql` (its last statement) reads stored rows of `view`.
fn reads_stored_of(s: &Scratch, config: Option<&str>, sql: &str, view: &str) -> bool {
    let explain = match sql.rsplit_once("; ") {
        Some((set, last)) => format!("{set}; EXPLAIN {last}"),
        None => format!("EXPLAIN {sql}"),
    };
    let mut args = vec![];
    if let Some(c) = config {
        args.extend(["--config", c]);
    }
    args.extend(["query", "--csv", explain.as_str()]);
    s.ok(&args).contains(&format!("_materialized/{view}"))
}

fn answers(s: &Scratch) -> Vec<Vec<Vec<String>>> {
    std::iter::once(ALL)
        .chain(SHAPES.iter().copied())
        .map(|q| s.rows(q))
        .collect()
}

fn ingest(s: &Scratch, file: &std::path::Path) {
    s.ok(&["ingest", file.to_str().expect("path")]);
}

/// Splits a generated CSV into two files: the rows before `at` (text order of its header's
/// `start_time`) and the others.
fn split_by_start(
    path: &std::path::Path,
    s: &Scratch,
    at: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let text = std::fs::read_to_string(path).expect("read generated cdrs");
    let (early, late) = split_csv(&text, "start_time", |start| start < at);
    (s.write("early.csv", early), s.write("late.csv", late))
}

#[test]
fn stored_rows_answer_as_the_computed_view_and_go_stale_on_new_calls() {
    let s = Scratch::new();
    let generated = s.generate(3000, &["--seed", "11", "--format", "canonical"]);
    let (early, late) = split_by_start(&generated.join("cdrs.csv"), &s, "2026-11-02T12");
    // The later calls first, so that the earlier ones arrive late: their callers' first
    // calls and target calls move.
    ingest(&s, &late);
    assert!(!reads_stored(&s, None, ALL), "nothing stored yet");
    let computed = answers(&s);

    let out = s.ok(&["compact"]);
    assert!(out.contains("call_log: stored "), "{out}");
    assert!(s.store().join("_materialized/call_log.json").exists());
    for sql in std::iter::once(ALL).chain(SHAPES.iter().copied()) {
        assert!(reads_stored(&s, None, sql), "{sql}");
    }
    assert_eq!(answers(&s), computed);
    // Nothing changed: the next compaction keeps them.
    assert!(s.ok(&["compact"]).contains("call_log: stored rows current"));

    // Late calls make the stored rows stale: the view is computed, with the new rows.
    ingest(&s, &early);
    assert!(!reads_stored(&s, None, ALL));
    let both = answers(&s);
    assert_ne!(both, computed);
    let fresh = Scratch::new();
    ingest(&fresh, &generated.join("cdrs.csv"));
    assert_eq!(
        both,
        answers(&fresh),
        "late calls computed as if loaded at once"
    );

    s.ok(&["compact"]);
    assert!(reads_stored(&s, None, ALL));
    assert_eq!(answers(&s), both);
}

#[test]
fn other_settings_and_time_travel_compute_the_view() {
    let s = Scratch::new();
    let generated = s.generate(2000, &["--seed", "12", "--format", "canonical"]);
    ingest(&s, &generated.join("cdrs.csv"));
    let status = "SELECT call_status, count(*) FROM call_log GROUP BY 1 ORDER BY 1";
    let before = s.rows(status);
    let commit = chrono::Utc::now().to_rfc3339();
    s.ok(&["compact"]);
    assert!(reads_stored(&s, None, status));

    // A longer target call: stored under other settings, so computed, and different.
    let config = s.write("long.toml", "[tenants.\"*\"]\ntarget_call_s = 600\n");
    let config = config.to_str().expect("path");
    assert!(!reads_stored(&s, Some(config), status));
    let long = s.ok(&["--config", config, "query", "--csv", status]);
    assert!(!s.rows(status).is_empty());
    let stored = s.ok(&["query", "--csv", status]);
    assert_ne!(long, stored);
    assert_eq!(s.rows(status), before);

    // As of an instant before the compaction: computed from that version.
    let as_of = format!("SET cdrlake.as_of = '{commit}'; {status}");
    assert!(!reads_stored(&s, None, &as_of));
    assert_eq!(s.rows(&as_of), before);

    // A record naming rows that are not there (a version never written): computed.
    let record = s.store().join("_materialized/call_log.json");
    let text = std::fs::read_to_string(&record).expect("record");
    let version = text
        .lines()
        .find(|l| l.trim_start().starts_with("\"version\""))
        .expect("version line")
        .to_string();
    std::fs::write(&record, text.replace(&version, "  \"version\": 99,")).expect("write");
    assert!(!reads_stored(&s, None, status));
    assert_eq!(s.rows(status), before);
}

#[test]
fn a_refund_makes_the_stored_call_reports_stale_and_not_the_call_log() {
    let s = Scratch::new();
    let generated = s.generate(2000, &["--seed", "13"]);
    for file in ["cdrs.csv", "rates.csv", "refunds.csv", "billing_events.csv"] {
        ingest(&s, &generated.join(file));
    }
    let reports = "SELECT * FROM call_reports ORDER BY tenant, call_id, record_type, start_time";
    let month = "SELECT tenant, billing_account, count(*), sum(charge) FROM call_reports \
                 WHERE record_type = 'charge' AND start_time >= '2026-11-02' GROUP BY 1, 2 ORDER BY 1, 2";
    let computed = (s.rows(reports), s.rows(month));
    let out = s.ok(&["compact"]);
    assert!(out.contains("call_reports: stored "), "{out}");
    for sql in [reports, month] {
        assert!(reads_stored_of(&s, None, sql, "call_reports"), "{sql}");
    }
    assert_eq!((s.rows(reports), s.rows(month)), computed);

    let call = s.value(
        "SELECT call_id FROM call_reports WHERE record_type = 'charge' AND charge > 0 \
         AND refunded_amount = 0 ORDER BY call_id LIMIT 1",
    );
    s.ok(&[
        "query",
        &format!("INSERT INTO refunds (call_id, reason) VALUES ('{call}', 'stale test')"),
    ]);
    assert!(!reads_stored_of(&s, None, reports, "call_reports"));
    assert!(
        reads_stored(&s, None, ALL),
        "call_log does not read refunds"
    );
    let refunded = format!(
        "SELECT record_type, billing_result, net_charge FROM call_reports \
         WHERE call_id = '{call}' ORDER BY 1"
    );
    let rows = s.rows(&refunded);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0][1], "Refunded");
    assert_eq!(rows[0][2].parse::<f64>().expect("net"), 0.0);
    let after = (s.rows(reports), s.rows(month));
    assert_ne!(after.0, computed.0);

    s.ok(&["compact"]);
    assert!(reads_stored_of(&s, None, reports, "call_reports"));
    assert_eq!((s.rows(reports), s.rows(month)), after);
    assert_eq!(s.rows(&refunded), rows);
}
