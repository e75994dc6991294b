//! `cdrlake ingest` on generated files of every format and on broken input.

use std::collections::{BTreeMap, HashSet};

use crate::support::{Scratch, micros, read_csv, summary};

/// Every generated format loads completely; stored values match what the input says.
#[test]
fn every_format_round_trips_with_values_intact() {
    let s = Scratch::new();
    let gen_dir = s.generate(3000, &["--seed", "7"]);
    let file = |name: &str| gen_dir.join(name).display().to_string();
    let files = [
        "cdrs.csv",
        "didww-inbound.csv",
        "didww-outbound.csv",
        "rates.csv",
        "billing_events.csv",
    ];
    for name in files {
        let path = file(name);
        let out = s.ok(&["ingest", "--tenant", "carrier", &path]);
        let (_, rows) = read_csv(std::path::Path::new(&path));
        assert_eq!(
            summary(&out, &path),
            (rows.len() as u64, 0, 0),
            "{name}: {out}"
        );
    }

    // Per tenant: calls, connected seconds and charges, computed from the canonical CSV.
    let (header, rows) = read_csv(&gen_dir.join("cdrs.csv"));
    let col = |n: &str| header.iter().position(|h| h == n).expect(n);
    let (tenant, duration, charge) = (col("tenant"), col("duration_s"), col("charge"));
    let mut expected: BTreeMap<String, (u64, i64, i128)> = BTreeMap::new();
    for r in &rows {
        let e = expected.entry(r[tenant].clone()).or_default();
        e.0 += 1;
        e.1 += r[duration].parse::<i64>().expect("duration");
        e.2 += micros(&r[charge]);
    }
    let got = s.rows(
        "SELECT tenant, count(*), sum(duration_s), coalesce(sum(charge), 0) FROM cdrs \
         WHERE call_id NOT LIKE 'didww-%' GROUP BY tenant ORDER BY tenant",
    );
    let got: BTreeMap<String, (u64, i64, i128)> = got
        .iter()
        .map(|r| {
            let v = (
                r[1].parse().expect("n"),
                r[2].parse().expect("sum"),
                micros(&r[3]),
            );
            (r[0].clone(), v)
        })
        .collect();
    assert_eq!(got, expected);

    // The carrier's exports: derived ids, USD, the tenant given on the command line.
    let (_, outbound) = read_csv(&gen_dir.join("didww-outbound.csv"));
    let charged: i128 = outbound.iter().map(|r| micros(&r[11])).sum();
    let row = &s.rows(
        "SELECT count(*), sum(charge), min(currency), max(currency), count(DISTINCT tenant) \
         FROM cdrs WHERE call_id LIKE 'didww-out-%'",
    )[0];
    assert_eq!(row[0], outbound.len().to_string());
    assert_eq!(micros(&row[1]), charged);
    assert_eq!(
        (row[2].as_str(), row[3].as_str(), row[4].as_str()),
        ("USD", "USD", "1")
    );
    // Inbound: the initiator's label maps to the stored enum.
    let initiators = s.rows(
        "SELECT DISTINCT disconnect_initiator FROM cdrs WHERE call_id LIKE 'didww-in-%' ORDER BY 1",
    );
    assert_eq!(initiators, [["destination"], ["origination"]]);
    // Rates and billing events keep exact decimals and enum values.
    let (_, rates) = read_csv(&gen_dir.join("rates.csv"));
    let deck: i128 = rates.iter().map(|r| micros(&r[2])).sum();
    assert_eq!(
        micros(&s.value("SELECT sum(rate_per_min) FROM rates")),
        deck
    );
    let results = s.rows("SELECT DISTINCT result FROM billing_events ORDER BY 1");
    assert_eq!(results, [["failure"], ["ok"], ["retry_sent"], ["sent"]]);
}

/// Re-ingesting stores nothing; a repeat within a file is a duplicate; the carrier's derived
/// ids are the same whatever the batch size.
#[test]
fn dedup_against_stored_rows_and_within_a_batch() {
    let s = Scratch::new();
    let gen_dir = s.generate(2000, &["--seed", "3"]);
    let cdrs = gen_dir.join("cdrs.csv").display().to_string();
    let outbound = gen_dir.join("didww-outbound.csv").display().to_string();
    let first = s.ok(&["ingest", &cdrs, &outbound]);
    assert_eq!(summary(&first, &cdrs), (2000, 0, 0));
    assert_eq!(summary(&first, &outbound), (200, 0, 0));
    let ids_before = s.rows("SELECT call_id FROM cdrs ORDER BY call_id");

    let again = s.ok(&["ingest", "--batch-rows", "77", &cdrs, &outbound]);
    assert_eq!(summary(&again, &cdrs), (0, 2000, 0));
    assert_eq!(summary(&again, &outbound), (0, 200, 0));
    assert_eq!(
        s.rows("SELECT call_id FROM cdrs ORDER BY call_id"),
        ids_before
    );

    // The same call twice in one file (and a third time in the next batch).
    let header = "call_id,tenant,direction,start_time,end_time,duration_s,source,destination";
    let row = "dup-1,acme,outbound,2026-11-02 10:00:00,2026-11-02 10:01:00,60,201,0612345678";
    let file = s.write("dup.csv", format!("{header}\n{row}\n{row}\n{row}\n"));
    let file = file.display().to_string();
    let out = s.ok(&["ingest", "--batch-rows", "2", &file]);
    assert_eq!(summary(&out, &file), (1, 2, 0));
    assert_eq!(
        s.value("SELECT count(*) FROM cdrs WHERE call_id = 'dup-1'"),
        "1"
    );
    // Same call id in another tenant is another call.
    let other = s.write(
        "other.csv",
        format!("{header}\n{}\n", row.replace("acme", "globex")),
    );
    let other = other.display().to_string();
    assert_eq!(summary(&s.ok(&["ingest", &other]), &other), (1, 0, 0));
}

const HEADER: &str =
    "call_id,tenant,direction,start_time,connect_time,end_time,duration_s,source,destination";

/// Each kind of malformed row is rejected with its line number and a reason; good rows of
/// the same file are stored.
#[test]
fn malformed_rows_are_rejected_with_line_and_reason() {
    let s = Scratch::new();
    let mut input = format!("{HEADER}\n").into_bytes();
    let rows: &[&[u8]] = &[
        b"ok-1,acme,inbound,2026-11-02T10:00:00Z,2026-11-02T10:00:05Z,2026-11-02T10:01:00Z,55,0612345678,201",
        b"bad-ts,acme,inbound,2026-11-31 10:00:00,,2026-11-02 10:01:00,0,0612345678,201",
        b"bad-order,acme,inbound,2026-11-02 10:00:00,,2026-11-02 09:00:00,0,0612345678,201",
        b"bad-dur,acme,inbound,2026-11-02 10:00:00,,2026-11-02 10:01:00,-5,0612345678,201",
        b"bad-dir,acme,sideways,2026-11-02 10:00:00,,2026-11-02 10:01:00,0,0612345678,201",
        b",acme,inbound,2026-11-02 10:00:00,,2026-11-02 10:01:00,0,0612345678,201",
        b"short,acme,inbound,2026-11-02 10:00:00",
        b"bad-utf8,acme,inbound,2026-11-02 10:00:00,,2026-11-02 10:01:00,0,06\xff12,201",
        b"bad-num,acme,inbound,2026-11-02 10:00:00,,2026-11-02 10:01:00,0,call me,201",
        b"\"quoted\nnewline\",acme,inbound,2026-11-02 10:00:00,,2026-11-02 10:01:00,0,0612345678,201",
        b"ok-2,acme,outbound,2026-11-02 11:00:00,,2026-11-02 11:00:00,0,201,0031201234567",
    ];
    for row in rows {
        input.extend_from_slice(row);
        input.push(b'\n');
    }
    let file = s.write("bad.csv", &input).display().to_string();
    let out = s.ok(&["ingest", &file]);
    assert_eq!(summary(&out, &file), (3, 0, 8), "{out}");
    assert_eq!(
        s.rows("SELECT call_id FROM cdrs ORDER BY call_id"),
        [["ok-1"], ["ok-2"], ["quoted\nnewline"]]
    );
    let rejects = s.rows(
        "SELECT line, reason, file, table_name, format, tenant FROM ingest_rejects ORDER BY line",
    );
    let expected = [
        (3, "start_time: \"2026-11-31 10:00:00\" is not a timestamp"),
        (
            4,
            "end_time 2026-11-02T09:00:00+00:00 is before start_time 2026-11-02T10:00:00+00:00",
        ),
        (5, "duration_s: -5 is negative"),
        (
            6,
            "direction: unknown value \"sideways\" (expected one of inbound, outbound, internal)",
        ),
        (7, "call_id: missing"),
        (8, "expected 9 fields, found 4"),
        (9, "source: invalid UTF-8"),
        (10, "source: \"call me\" is not a phone number"),
    ];
    assert_eq!(rejects.len(), expected.len(), "{rejects:?}");
    for (row, (line, reason)) in rejects.iter().zip(expected) {
        assert_eq!(row[0], line.to_string(), "{row:?}");
        assert!(
            row[1].starts_with(reason),
            "line {line}: {} (wanted {reason})",
            row[1]
        );
        assert_eq!(&row[2..], [file.as_str(), "cdrs", "canonical", "acme"]);
    }
    let raw = s.value("SELECT raw FROM ingest_rejects WHERE line = 9");
    assert!(
        raw.starts_with("bad-utf8,acme,inbound") && raw.contains('\u{fffd}'),
        "{raw}"
    );
}

/// `--strict` stores nothing of a file with a bad row, says why, and records the rejects.
#[test]
fn strict_mode_rejects_the_whole_file() {
    let s = Scratch::new();
    let good = "s-1,acme,inbound,2026-11-02 10:00:00,,2026-11-02 10:01:00,0,0612345678,201";
    let bad = "s-2,acme,inbound,2026-11-02 10:00:00,,2026-11-02 10:01:00,-1,0612345678,201";
    let file = s.write("strict.csv", format!("{HEADER}\n{good}\n{bad}\n{good}\n"));
    let file = file.display().to_string();
    let err = s.fails(&["ingest", "--strict", "--batch-rows", "1", &file]);
    assert!(
        err.contains("1 row(s) rejected in strict mode, nothing stored"),
        "{err}"
    );
    assert!(err.contains("line 3: duration_s: -1 is negative"), "{err}");
    assert_eq!(s.value("SELECT count(*) FROM cdrs"), "0");
    assert_eq!(s.value("SELECT count(*) FROM ingest_rejects"), "1");
    // Without the bad row, strict mode stores the file.
    let clean = s.write("clean.csv", format!("{HEADER}\n{good}\n"));
    let clean = clean.display().to_string();
    assert_eq!(
        summary(&s.ok(&["ingest", "--strict", &clean]), &clean),
        (1, 0, 0)
    );
}

/// Files, formats and stores that cannot be used fail with a clear message and exit code.
#[test]
fn unusable_inputs_and_stores_fail_clearly() {
    let s = Scratch::new();
    let missing = s.path("nope.csv").display().to_string();
    let err = s.fails(&["ingest", &missing]);
    assert!(
        err.contains("cannot read") && err.contains("nope.csv"),
        "{err}"
    );
    assert!(
        !s.store().exists(),
        "a failed ingest must not create a store"
    );

    let weird = s
        .write("weird.csv", "colour,size\nred,4\n")
        .display()
        .to_string();
    let err = s.fails(&["ingest", &weird]);
    assert!(err.contains("matches no known format"), "{err}");
    let err = s.fails(&["ingest", "--format", "didww-inbound", &weird]);
    assert!(
        err.contains("not in format didww-inbound: unexpected header \"colour\""),
        "{err}"
    );
    let err = s.fails(&["ingest", "--format", "klingon", &weird]);
    assert!(err.contains("unknown format klingon"), "{err}");
    let empty = s.write("empty.csv", "").display().to_string();
    assert!(s.fails(&["ingest", &empty]).contains("empty"));
    let dir = s.dir.path().display().to_string();
    assert!(s.fails(&["ingest", &dir]).contains("it is a directory"));

    // A directory with other things in it is not a store, and is left untouched.
    let other = s.path("photos");
    std::fs::create_dir_all(&other).expect("mkdir");
    std::fs::write(other.join("cat.jpg"), "meow").expect("write");
    let good = s.write(
        "good.csv",
        format!(
            "{HEADER}\ng,acme,inbound,2026-11-02 10:00:00,,2026-11-02 10:01:00,0,0612345678,201\n"
        ),
    );
    let out = crate::support::cdrlake(&other, &["ingest", good.to_str().expect("path")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("is not a cdrlake store"),
        "{err}"
    );
    let names: HashSet<_> = std::fs::read_dir(&other)
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names.len(), 1);
    let out = crate::support::cdrlake(&other, &["query", "SELECT 1"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a cdrlake store"));
    // Querying where nothing was ever stored says so.
    let out = crate::support::cdrlake(&s.path("fresh"), &["query", "SELECT count(*) FROM cdrs"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("no cdrlake store"),
        "{err}"
    );
}
