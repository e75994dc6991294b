//! `cdrlake retention`: exactly the calls older than their tenant's retention go, with their
//! billing events; partitions holding only expired calls are dropped whole.

use crate::support::Scratch;

/// Calls expired with cruise kept 2 days and contact 3, as of 2026-11-05.
const EXPIRED: &str = "(tenant = 'cruise' AND call_date < DATE '2026-11-03') \
                       OR (tenant = 'contact' AND call_date < DATE '2026-11-02')";

#[test]
fn retention_removes_exactly_the_expired_calls_and_their_billing_events() {
    let s = Scratch::new();
    let gen_dir = s.path("gen");
    s.ok(&[
        "generate",
        "--rows",
        "3000",
        "--days",
        "5",
        "--start-date",
        "2026-11-01",
        "--seed",
        "3",
        "--out",
        gen_dir.to_str().expect("path"),
    ]);
    for file in ["cdrs.csv", "billing_events.csv"] {
        let path = gen_dir.join(file);
        s.ok(&["ingest", path.to_str().expect("path")]);
    }
    let config = s.write(
        "cdrlake.toml",
        "[tenants.cruise]\nretention_days = 2\n[tenants.contact]\nretention_days = 3\n",
    );
    let config = config.to_str().expect("path");
    let expired = s.rows(&format!(
        "SELECT tenant, count(*) FROM cdrs WHERE {EXPIRED} GROUP BY 1 ORDER BY 1"
    ));
    assert_eq!(expired.len(), 2, "{expired:?}");
    let kept_sql = format!(
        "SELECT tenant, call_date, count(*), sum(charge) FROM cdrs WHERE NOT ({EXPIRED}) \
         GROUP BY 1, 2 ORDER BY 1, 2"
    );
    let kept = s.rows(&kept_sql);
    let events_sql = "SELECT count(*) FROM billing_events";
    let events = s.value(events_sql).parse::<u64>().expect("n");
    let expired_events: u64 = s
        .value(&format!(
            "SELECT count(*) FROM billing_events b JOIN cdrs c ON b.tenant = c.tenant \
             AND b.call_id = c.call_id WHERE {}",
            EXPIRED
                .replace("tenant", "c.tenant")
                .replace("call_date", "c.call_date")
        ))
        .parse()
        .expect("n");
    assert!(expired_events > 0);

    let out = s.ok(&["--config", config, "retention", "--today", "2026-11-05"]);
    for row in &expired {
        assert!(
            out.contains(&format!("{}: removed {} call(s)", row[0], row[1])),
            "{out}"
        );
    }
    assert!(
        out.contains(&format!("billing_events: removed {expired_events} row(s)")),
        "{out}"
    );
    assert!(out.contains("partitions dropped whole: none"), "{out}");
    assert_eq!(s.rows(&kept_sql), kept);
    assert_eq!(
        s.value(&format!("SELECT count(*) FROM cdrs WHERE {EXPIRED}")),
        "0"
    );
    assert_eq!(
        s.value(events_sql).parse::<u64>().expect("n"),
        events - expired_events
    );
    // Nothing more to do.
    let out = s.ok(&["--config", config, "retention", "--today", "2026-11-05"]);
    assert!(out.contains("nothing expired"), "{out}");

    // Every tenant kept one day: the days before yesterday go as whole partitions.
    let all = s.write("all.toml", "[tenants.\"*\"]\nretention_days = 1\n");
    let out = s.ok(&[
        "--config",
        all.to_str().expect("path"),
        "retention",
        "--today",
        "2026-11-05",
    ]);
    assert!(
        out.contains("partitions dropped whole: 2026-11-01, 2026-11-02, 2026-11-03"),
        "{out}"
    );
    assert_eq!(s.value("SELECT min(call_date) FROM cdrs"), "2026-11-04");
    assert!(
        s.fails(&["retention", "--today", "5/11/2026"])
            .contains("--today")
    );
}
