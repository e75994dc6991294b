//! `cdrlake export --format xlsx`: a workbook a real reader (openpyxl) opens with the right
//! types, values and formats.

use std::process::Command;

use crate::support::Scratch;

/// Makes `openpyxl` importable, installing it with pip when missing.
fn openpyxl() -> bool {
    let has = |_: ()| {
        Command::new("python3")
            .args(["-c", "import openpyxl"])
            .status()
            .is_ok_and(|s| s.success())
    };
    has(())
        || (Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "openpyxl"])
            .status()
            .is_ok_and(|s| s.success())
            && has(()))
}

/// Dumps the first sheet: frozen cell, then per row the cells as `type:value:format`.
const DUMP: &str = r#"
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb.active
print(ws.freeze_panes)
for row in ws.iter_rows():
    print("\t".join(
        "%s:%s:%s" % (type(c.value).__name__, c.value, c.number_format) for c in row))
"#;

#[test]
fn xlsx_has_typed_cells_a_frozen_header_and_opens_in_openpyxl() {
    assert!(
        openpyxl(),
        "python3 with openpyxl is needed (pip install openpyxl)"
    );
    let s = Scratch::new();
    let gen_dir = s.generate(500, &["--seed", "4"]);
    let cdrs = gen_dir.join("cdrs.csv");
    s.ok(&["ingest", cdrs.to_str().expect("path")]);
    let out = s.path("calls.xlsx");
    let out_str = out.to_str().expect("path");
    let sql = "SELECT call_id, duration_s, charge, start_time, call_date, connect_time IS NOT NULL \
               AS answered, talk_time FROM call_log WHERE charge IS NOT NULL \
               ORDER BY start_time, call_id LIMIT 50";
    let printed = s.ok(&["export", "--format", "xlsx", "--output", out_str, sql]);
    assert!(printed.contains("50 row(s)"), "{printed}");

    let dump = Command::new("python3")
        .args(["-c", DUMP, out_str])
        .output()
        .expect("python3");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let dump = String::from_utf8(dump.stdout).expect("utf-8");
    let mut lines = dump.lines();
    assert_eq!(lines.next(), Some("A2"));
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    assert_eq!(header[0], "str:call_id:General");
    assert_eq!(header.len(), 7);
    let cells: Vec<Vec<String>> = lines
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    assert_eq!(cells.len(), 50);
    let expected =
        s.rows(&sql.replace("talk_time FROM", "CAST(duration_s AS BIGINT) AS talk FROM"));
    for (got, want) in cells.iter().zip(&expected) {
        assert_eq!(got[0], format!("str:{}:General", want[0]));
        assert_eq!(got[1], format!("int:{}:General", want[1]));
        let charge = got[2]
            .strip_prefix("float:")
            .or(got[2].strip_prefix("int:"));
        let (value, format) = charge.expect("number").rsplit_once(':').expect("format");
        assert_eq!(format, "#,##0.00####");
        let want_charge: f64 = want[2].parse().expect("charge");
        assert!((value.parse::<f64>().expect("f") - want_charge).abs() < 1e-9);
        // 2026-11-01 00:10:24+00:00 → datetime 2026-11-01 00:10:24
        let start = want[3].replace('T', " ");
        assert_eq!(
            got[3],
            format!("datetime:{}:yyyy-mm-dd hh:mm:ss", &start[..19])
        );
        assert_eq!(got[4], format!("datetime:{} 00:00:00:yyyy-mm-dd", want[4]));
        let answered = if want[5] == "true" { "True" } else { "False" };
        assert_eq!(got[5], format!("bool:{answered}:General"));
        assert!(
            got[6].starts_with("timedelta:") && got[6].ends_with(":[h]:mm:ss"),
            "{}",
            got[6]
        );
    }
}

/// A store holding a generated rate deck.
fn rates_store() -> Scratch {
    let s = Scratch::new();
    s.generate(10, &[]);
    let rates = s.path("gen").join("rates.csv");
    s.ok(&["ingest", rates.to_str().expect("path")]);
    s
}

/// The CSV file `export` writes for `sql`.
fn export_csv(s: &Scratch, sql: &str) -> String {
    let out = s.path("out.csv");
    let out = out.to_str().expect("path");
    s.ok(&["export", "--format", "csv", "--output", out, sql]);
    std::fs::read_to_string(out).expect("csv")
}

/// `export --format csv` writes PostgreSQL's CSV: what `COPY … TO STDOUT WITH (FORMAT csv,
/// HEADER)` and psql's `\copy` give for the same values.
#[test]
fn csv_export_is_postgresql_csv() {
    let s = rates_store();
    let sql = "SELECT 1 AS n, 'a,b' AS s, CAST(NULL AS TEXT) AS missing, '' AS empty, true AS t, \
               CAST(1.50 AS DECIMAL(10,2)) AS money, \
               CAST('2026-11-01 10:00:00.5' AS TIMESTAMP) AS at, 'say \"hi\"' AS quote";
    assert_eq!(
        export_csv(&s, sql),
        "n,s,missing,empty,t,money,at,quote\n\
         1,\"a,b\",,\"\",t,1.50,2026-11-01 10:00:00.5,\"say \"\"hi\"\"\"\n"
    );
}

/// An export's header and `cdrlake query`'s have PostgreSQL's names, as COPY's header over the
/// wire: `count`, `sum`, `?column?`, a cast named after its column, and columns that share a
/// name (which DataFusion alone refuses to plan).
#[test]
fn exports_and_queries_name_columns_as_postgresql() {
    let s = rates_store();
    let sql = "SELECT count(*), sum(min_s), 1 + 1, max(valid_from)::date, max(valid_from)::text, \
               'x', 'x' FROM rates WHERE false";
    assert_eq!(
        export_csv(&s, sql),
        "count,sum,?column?,max,max,?column?,?column?\n0,,2,,,x,x\n"
    );
    let printed = s.ok(&[
        "query",
        "--csv",
        "SELECT prefix, prefix, count(*) FROM rates \
                         GROUP BY prefix ORDER BY prefix LIMIT 1",
    ]);
    assert!(printed.starts_with("prefix,prefix,count\n"), "{printed}");
}

/// An export in a customer's zone (mission anchor D9): after `SET TimeZone`, the CSV writes
/// instants in that zone as `COPY` does, the workbook their wall-clock time there, and the
/// day of a call at 23:30 UTC is the next one in Amsterdam; an unknown zone is an error.
#[test]
fn exports_follow_the_time_zone_the_script_sets() {
    assert!(
        openpyxl(),
        "python3 with openpyxl is needed (pip install openpyxl)"
    );
    let s = Scratch::new();
    let calls = s.write(
        "calls.csv",
        "call_id,tenant,direction,start_time,end_time,duration_s,source,destination\n\
         late,acme,outbound,2026-11-02T23:30:00Z,2026-11-02T23:31:00Z,60,+31201234567,+31612345678\n\
         summer,acme,outbound,2026-07-01T10:00:00Z,2026-07-01T10:01:00Z,60,+31201234567,+31612345678\n",
    );
    s.ok(&["ingest", calls.to_str().expect("path")]);
    let sql = "SET TimeZone = 'Europe/Amsterdam'; SELECT call_id, start_time, \
               start_time::date AS day FROM cdrs ORDER BY start_time";
    let csv = s.path("local.csv");
    s.ok(&[
        "export",
        "--format",
        "csv",
        "--output",
        csv.to_str().expect("path"),
        sql,
    ]);
    assert_eq!(
        std::fs::read_to_string(&csv).expect("csv"),
        "call_id,start_time,day\n\
         summer,2026-07-01 12:00:00+02,2026-07-01\n\
         late,2026-11-03 00:30:00+01,2026-11-03\n"
    );

    let xlsx = s.path("local.xlsx");
    let xlsx_str = xlsx.to_str().expect("path");
    s.ok(&["export", "--format", "xlsx", "--output", xlsx_str, sql]);
    let dump = Command::new("python3")
        .args(["-c", DUMP, xlsx_str])
        .output()
        .expect("python3");
    let dump = String::from_utf8(dump.stdout).expect("utf-8");
    let rows: Vec<&str> = dump.lines().skip(2).collect();
    assert_eq!(
        rows,
        [
            "str:summer:General\tdatetime:2026-07-01 12:00:00:yyyy-mm-dd hh:mm:ss\tdatetime:2026-07-01 00:00:00:yyyy-mm-dd",
            "str:late:General\tdatetime:2026-11-03 00:30:00:yyyy-mm-dd hh:mm:ss\tdatetime:2026-11-03 00:00:00:yyyy-mm-dd",
        ]
    );

    let err = s.fails(&[
        "export",
        "--format",
        "csv",
        "--output",
        s.path("none.csv").to_str().expect("path"),
        "SET TimeZone = 'Mars/Olympus'; SELECT 1",
    ]);
    assert!(
        err.contains("time zone \"Mars/Olympus\" not recognized"),
        "{err}"
    );
}

#[test]
fn more_rows_than_a_sheet_holds_is_an_error_and_leaves_no_file() {
    let s = Scratch::new();
    s.ok(&[
        "ingest",
        s.generate(10, &[]).join("rates.csv").to_str().expect("p"),
    ]);
    let out = s.path("big.xlsx");
    let err = s.fails(&[
        "export",
        "--format",
        "xlsx",
        "--output",
        out.to_str().expect("path"),
        "SELECT value FROM generate_series(1, 1048576)",
    ]);
    assert!(err.contains("1048575 rows"), "{err}");
    assert!(!out.exists());
}
