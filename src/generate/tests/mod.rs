//! End-to-end tests of the generator: determinism, counts and options here; the consistency
//! of every canonical row in [`rows`]; refunds, billing events, carrier exports and the rate
//! deck in [`files`].

mod files;
mod rows;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use super::*;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("cdrlake-generate-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn options(dir: &Path, rows: u64, seed: u64) -> GenerateOptions {
    GenerateOptions {
        rows,
        only: None,
        seed,
        start_date: NaiveDate::from_ymd_opt(2026, 11, 1).expect("valid date"),
        days: 3,
        tenants: 7,
        out: dir.to_path_buf(),
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("generated file is readable")
}

/// Rows of a CSV file as header-keyed maps.
fn rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).expect("csv opens");
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    r.records()
        .map(|rec| {
            let rec = rec.expect("csv row parses");
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

fn ts(s: &str) -> i64 {
    assert!(
        s.ends_with('Z') && s.len() == 20,
        "RFC 3339 UTC without fraction: {s}"
    );
    DateTime::parse_from_rfc3339(s)
        .expect("RFC 3339")
        .timestamp()
}

fn plain_ts(s: &str) -> i64 {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .expect("carrier timestamp")
        .and_utc()
        .timestamp()
}

/// Parses plain decimal text with at most 6 fractional digits into micro-units.
fn micros(s: &str) -> i64 {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    assert!(frac.len() <= 6 && !frac.ends_with('0'), "decimal {s}");
    assert!(
        int.bytes().all(|b| b.is_ascii_digit()) && frac.bytes().all(|b| b.is_ascii_digit()),
        "decimal {s}"
    );
    let int: i64 = int.parse().expect("integer part");
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().expect("fraction")
    };
    int * 1_000_000 + frac
}

fn opt<'a>(row: &'a HashMap<String, String>, k: &str) -> Option<&'a str> {
    row.get(k).map(String::as_str).filter(|s| !s.is_empty())
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, c) = (
        TempDir::new("det-a"),
        TempDir::new("det-b"),
        TempDir::new("det-c"),
    );
    let ra = generate(&options(&a.0, 3000, 42)).expect("generate a");
    generate(&options(&b.0, 3000, 42)).expect("generate b");
    generate(&options(&c.0, 3000, 43)).expect("generate c");
    assert_eq!(ra.files.len(), 6);
    for kind in OutputKind::ALL {
        assert_eq!(
            read(&a.0.join(kind.file_name())),
            read(&b.0.join(kind.file_name())),
            "{kind:?}"
        );
    }
    assert_ne!(read(&a.0.join("cdrs.csv")), read(&c.0.join("cdrs.csv")));
    assert_ne!(
        read(&a.0.join("didww-outbound.csv")),
        read(&c.0.join("didww-outbound.csv"))
    );
}

#[test]
fn a_file_written_alone_equals_the_same_file_written_with_the_others() {
    let (all, one) = (TempDir::new("only-all"), TempDir::new("only-one"));
    generate(&options(&all.0, 2000, 7)).expect("generate all");
    for kind in [
        OutputKind::Canonical,
        OutputKind::Refunds,
        OutputKind::BillingEvents,
        OutputKind::Rates,
    ] {
        let opts = GenerateOptions {
            only: Some(kind),
            ..options(&one.0, 2000, 7)
        };
        let report = generate(&opts).expect("generate one");
        assert_eq!(report.files.len(), 1);
        assert_eq!(
            read(&all.0.join(kind.file_name())),
            read(&one.0.join(kind.file_name())),
            "{kind:?}"
        );
    }
}

#[test]
fn row_counts_and_sizes() {
    let dir = TempDir::new("counts");
    let report = generate(&options(&dir.0, 1234, 1)).expect("generate");
    let by_kind: HashMap<OutputKind, &GeneratedFile> =
        report.files.iter().map(|f| (f.kind, f)).collect();
    assert_eq!(by_kind[&OutputKind::Canonical].rows, 1234);
    assert_eq!(by_kind[&OutputKind::DidwwInbound].rows, 123);
    assert_eq!(by_kind[&OutputKind::DidwwOutbound].rows, 123);
    for f in &report.files {
        assert_eq!(
            std::fs::metadata(&f.path).expect("exists").len(),
            f.bytes,
            "{:?}",
            f.kind
        );
        assert_eq!(rows(&f.path).len() as u64, f.rows, "{:?}", f.kind);
    }
    let opts = GenerateOptions {
        only: Some(OutputKind::DidwwInbound),
        ..options(&dir.0, 250, 1)
    };
    assert_eq!(generate(&opts).expect("generate").files[0].rows, 250);
    let tiny = GenerateOptions {
        rows: 5,
        ..options(&dir.0, 5, 1)
    };
    let report = generate(&tiny).expect("generate");
    assert_eq!(
        report
            .files
            .iter()
            .find(|f| f.kind == OutputKind::DidwwOutbound)
            .map(|f| f.rows),
        Some(1)
    );
}

#[test]
fn names_round_trip() {
    for kind in OutputKind::ALL {
        assert_eq!(OutputKind::from_name(kind.name()), Some(kind));
    }
    assert_eq!(
        OutputKind::from_name("billing-events"),
        Some(OutputKind::BillingEvents)
    );
    assert_eq!(OutputKind::from_name("nope"), None);
}

#[test]
fn invalid_options_are_rejected() {
    let dir = TempDir::new("invalid");
    let bad_days = GenerateOptions {
        days: 0,
        ..options(&dir.0, 10, 1)
    };
    assert!(matches!(
        generate(&bad_days),
        Err(GenerateError::InvalidOptions(_))
    ));
    let bad_tenants = GenerateOptions {
        tenants: 0,
        ..options(&dir.0, 10, 1)
    };
    assert!(matches!(
        generate(&bad_tenants),
        Err(GenerateError::InvalidOptions(_))
    ));
}
