//! Stored rows completed by appended calls (`Scope::Appends`, what the server does when its
//! tables change): `call_reports` and `call_log` get the new calls' rows added, and answer as
//! the views computed over all the calls; after anything but appended calls (refunds, a refund
//! stored before its call, calls older than their callers' stored ones) they are left for a
//! whole refresh.

use cdrlake::catalog::materialized::{self, Refreshed, Scope};
use cdrlake::storage::{Location, Store};
use cdrlake_udfs::Settings;

use crate::inproc::Lake;
use crate::support::{Scratch, csv_column, split_csv};

/// Every column of every row of `call_reports`, in a stable order.
const REPORTS: &str =
    "SELECT * FROM call_reports ORDER BY record_type, tenant, call_id, start_time";

/// Every column of every row of `call_log`, in a stable order.
pub(crate) const LOG: &str = "SELECT * FROM call_log ORDER BY tenant, call_id";

/// A month's totals per account, as a report asks them.
const TOTALS: &str = "SELECT tenant, billing_account, count(*), sum(charge), sum(net_charge) \
                      FROM call_reports WHERE record_type = 'charge' GROUP BY 1, 2 ORDER BY 1, 2";

/// Asserts `got` equals `want`, naming the first row that differs (not every row).
pub(crate) fn same(got: &[Vec<String>], want: &[Vec<String>]) {
    assert_eq!(got.len(), want.len(), "row counts");
    if let Some((g, w)) = got.iter().zip(want).find(|(g, w)| g != w) {
        panic!("rows differ: got {g:?}, want {w:?}");
    }
}

/// The lake's store.
pub(crate) fn location(lake: &Lake) -> Location {
    Location::parse(lake.dir.path().join("store").to_str().expect("path")).expect("location")
}

/// Runs a refresh of `scope` over the lake's store; each view's outcome.
fn refresh(lake: &Lake, scope: Scope) -> Vec<(String, Refreshed)> {
    let ctx = lake.session();
    lake.block_on(async {
        let store = Store::open(location(lake)).await.expect("store");
        materialized::refresh(&ctx, &store, &Settings::default(), scope)
            .await
            .expect("refresh")
    })
}

/// Deletes the stored views' replaced files at once, as compaction's vacuum does (a Delta
/// vacuum commits to the table without changing its files).
fn vacuum(lake: &Lake) {
    lake.block_on(async {
        let (store, _lock) = Store::open_for_writing(location(lake))
            .await
            .expect("store");
        materialized::vacuum(&store, chrono::Duration::zero())
            .await
            .expect("vacuum");
    });
}

/// The outcome of `view` in `outcomes`.
pub(crate) fn outcome<'a>(outcomes: &'a [(String, Refreshed)], view: &str) -> &'a Refreshed {
    &outcomes
        .iter()
        .find(|(v, _)| v == view)
        .unwrap_or_else(|| panic!("{view} not refreshed: {outcomes:?}"))
        .1
}

/// Whether `call_reports` is read from its stored rows.
fn reads_stored(lake: &Lake) -> bool {
    reads_stored_of(lake, TOTALS, "call_reports")
}

/// Whether `sql` reads the stored rows of `view`.
pub(crate) fn reads_stored_of(lake: &Lake, sql: &str, view: &str) -> bool {
    let plan = lake.rows(&format!("EXPLAIN {sql}"));
    let stored = format!("_materialized/{view}");
    plan.iter().flatten().any(|cell| cell.contains(&stored))
}

/// The generated files' text: (early calls, late calls, the late calls' refunds, other refunds,
/// billing events, rates). Late calls start at or after `at`.
struct Generated {
    early: String,
    late: String,
    late_refunds: String,
    early_refunds: String,
    events: String,
    rates: String,
}

fn generated(at: &str) -> Generated {
    let s = Scratch::new();
    let dir = s.generate(3000, &["--seed", "21"]);
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("generated file");
    let (early, late) = split_csv(&read("cdrs.csv"), "start_time", |v| v < at);
    let late_ids: Vec<String> = csv_column(&late, "call_id");
    let (early_refunds, late_refunds) = split_csv(&read("refunds.csv"), "call_id", |id| {
        !late_ids.iter().any(|l| l == id)
    });
    Generated {
        early,
        late,
        late_refunds,
        early_refunds,
        events: read("billing_events.csv"),
        rates: read("rates.csv"),
    }
}

#[test]
fn appended_calls_complete_the_stored_reports() {
    let g = generated("2026-11-01T12");
    assert!(g.late.lines().count() > 100 && g.early.lines().count() > 100);
    let lake = Lake::new();
    lake.ingest("rates.csv", "rates", &g.rates);
    lake.ingest("events.csv", "billing-events", &g.events);
    let (first, second) = split_csv(&g.early, "start_time", |v| v < "2026-11-01T06");
    lake.ingest("first.csv", "canonical", &first);
    // A custom refund to a cabin, of no call: its row is in the view whatever calls there are.
    let custom = "RF-custom,cruise,,3026,1.50,REF0,Goodwill,2026-11-01T10:00:00Z,billing\n";
    let early_refunds = g.early_refunds.clone() + custom;
    lake.ingest("refunds.csv", "refunds", &early_refunds);
    let all = refresh(&lake, Scope::All);
    assert!(
        matches!(outcome(&all, "call_reports"), Refreshed::Stored(_)),
        "{all:?}"
    );
    assert!(reads_stored(&lake));
    // A whole refresh tries appending first; the next one writes the appended rows whole,
    // and the vacuum then deletes the files that replaced, in commits of its own.
    lake.ingest("second.csv", "canonical", &second);
    let all = refresh(&lake, Scope::All);
    assert!(
        matches!(outcome(&all, "call_reports"), Refreshed::Appended(_)),
        "{all:?}"
    );
    let all = refresh(&lake, Scope::All);
    assert!(
        matches!(outcome(&all, "call_reports"), Refreshed::Stored(_)),
        "{all:?}"
    );
    vacuum(&lake);

    // New calls, some with billing events stored before them: appended (after the vacuum's
    // commits, which change no file).
    lake.ingest("late.csv", "canonical", &g.late);
    assert!(!reads_stored(&lake), "stale rows are not read");
    let computed = (lake.rows(REPORTS), lake.rows(TOTALS));
    let log = lake.rows(LOG);
    let appends = refresh(&lake, Scope::Appends);
    let Refreshed::Appended(record) = outcome(&appends, "call_reports") else {
        panic!("call_reports not appended: {appends:?}");
    };
    assert_eq!(record.appends, 1);
    assert_eq!(record.rows as usize, computed.0.len());
    // Every new call starts after the stored ones: no stored call_log row changes.
    let Refreshed::Appended(record) = outcome(&appends, "call_log") else {
        panic!("call_log not appended: {appends:?}");
    };
    assert_eq!(record.rows as usize, log.len());
    assert!(reads_stored(&lake));
    assert!(reads_stored_of(&lake, LOG, "call_log"));
    assert_eq!((lake.rows(REPORTS), lake.rows(TOTALS)), computed);
    same(&lake.rows(LOG), &log);
    assert!(
        log.iter().any(|row| row.iter().any(|v| v == "Repeat call")),
        "callers with stored and new calls"
    );

    // The same calls loaded at once, never stored: the same rows.
    let once = Lake::new();
    once.ingest("rates.csv", "rates", &g.rates);
    once.ingest("events.csv", "billing-events", &g.events);
    once.ingest(
        "all.csv",
        "canonical",
        &(g.early.clone()
            + &g.late
                .lines()
                .skip(1)
                .map(|l| format!("{l}\n"))
                .collect::<String>()),
    );
    once.ingest("refunds.csv", "refunds", &early_refunds);
    assert_eq!(once.rows(REPORTS), computed.0);
    same(&once.rows(LOG), &log);
    assert!(
        computed.0.iter().any(|row| row[0] == "refund"),
        "the custom refund's row is there"
    );

    // Current rows that appends completed are written whole by the next whole refresh.
    let all = refresh(&lake, Scope::All);
    let Refreshed::Stored(record) = outcome(&all, "call_reports") else {
        panic!("call_reports not written whole: {all:?}");
    };
    assert_eq!(record.appends, 0);
    assert_eq!(lake.rows(REPORTS), computed.0);

    // Refunds changed: not appended, left for a whole refresh.
    lake.ingest("late-refunds.csv", "refunds", &g.late_refunds);
    let appends = refresh(&lake, Scope::Appends);
    assert_eq!(outcome(&appends, "call_reports"), &Refreshed::Left);
    assert!(!reads_stored(&lake));
}

#[test]
fn a_refund_stored_before_its_call_leaves_the_reports_to_a_whole_refresh() {
    let g = generated("2026-11-01T12");
    assert!(
        g.late_refunds.lines().count() > 1,
        "the late calls have refunds"
    );
    let lake = Lake::new();
    lake.ingest("rates.csv", "rates", &g.rates);
    lake.ingest("early.csv", "canonical", &g.early);
    // The PMS's refunds of the late calls arrive before the calls.
    lake.ingest("refunds.csv", "refunds", &g.late_refunds);
    refresh(&lake, Scope::All);
    assert!(reads_stored(&lake));

    lake.ingest("late.csv", "canonical", &g.late);
    let computed = lake.rows(REPORTS);
    let appends = refresh(&lake, Scope::Appends);
    assert_eq!(
        outcome(&appends, "call_reports"),
        &Refreshed::Left,
        "the refund rows change"
    );
    assert!(!reads_stored(&lake));
    assert_eq!(lake.rows(REPORTS), computed);

    let all = refresh(&lake, Scope::All);
    assert!(matches!(
        outcome(&all, "call_reports"),
        Refreshed::Stored(_)
    ));
    assert!(reads_stored(&lake));
    assert_eq!(lake.rows(REPORTS), computed);
}

#[test]
fn calls_older_than_their_callers_stored_ones_leave_the_call_log_to_a_whole_refresh() {
    let g = generated("2026-11-01T12");
    let lake = Lake::new();
    // The later calls first: the earlier ones then arrive late, before their callers' stored
    // calls, whose first and target calls they can be.
    lake.ingest("late.csv", "canonical", &g.late);
    refresh(&lake, Scope::All);
    assert!(reads_stored_of(&lake, LOG, "call_log"));

    lake.ingest("early.csv", "canonical", &g.early);
    let log = lake.rows(LOG);
    let appends = refresh(&lake, Scope::Appends);
    assert_eq!(outcome(&appends, "call_log"), &Refreshed::Left);
    assert!(
        matches!(outcome(&appends, "call_reports"), Refreshed::Appended(_)),
        "{appends:?}"
    );
    assert!(!reads_stored_of(&lake, LOG, "call_log"));
    same(&lake.rows(LOG), &log);

    refresh(&lake, Scope::All);
    assert!(reads_stored_of(&lake, LOG, "call_log"));
    same(&lake.rows(LOG), &log);
}
