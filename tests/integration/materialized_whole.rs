//! Whole refreshes: `call_log` over more calls than its memory limit holds at once is computed
//! in passes over parts of the callers, streamed into one write, and its stored rows are the
//! view's; a view whose rows cannot be stored leaves the others refreshed.

use cdrlake::catalog::materialized::{self, Refreshed, Scope, passes};
use cdrlake::storage::Store;
use cdrlake_udfs::Settings;
use datafusion::execution::memory_pool::MemoryLimit;

use crate::inproc::Lake;
use crate::materialized_append::{LOG, location, outcome, reads_stored_of, same};
use crate::support::{Scratch, split_csv};

/// Calls generated.
const CALLS: u64 = 60_000;

/// Memory a refresh may use: less than computing `call_log` over the calls at once takes by
/// [`passes`]' measure, so two passes (a small table needs more memory a call than a large
/// one: its hash tables grow in larger steps for its size).
const LIMIT: usize = 19_000_000;

#[test]
fn a_call_log_over_the_memory_limit_is_stored_in_passes_over_parts_of_the_callers() {
    let s = Scratch::new();
    let dir = s.generate(CALLS, &["--seed", "21"]);
    let calls = std::fs::read_to_string(dir.join("cdrs.csv")).expect("generated calls");
    let lake = Lake::new();
    lake.ingest("cdrs.csv", "canonical", &calls);
    let computed = lake.rows(LOG);
    assert_eq!(computed.len() as u64, CALLS);
    assert!(
        computed
            .iter()
            .any(|row| row.iter().any(|v| v == "Repeat call")),
        "callers with several calls"
    );

    let ctx = cdrlake::query::with_memory_limit(&lake.session(), LIMIT).expect("session");
    let limit = ctx.runtime_env().memory_pool.memory_limit();
    assert_eq!(passes(CALLS, limit), 2);
    assert_eq!(passes(CALLS, MemoryLimit::Infinite), 1);
    let outcomes = lake.block_on(async {
        let store = Store::open(location(&lake)).await.expect("store");
        materialized::refresh(&ctx, &store, &Settings::default(), Scope::All)
            .await
            .expect("refresh")
    });
    let Refreshed::Stored(record) = outcome(&outcomes, "call_log") else {
        panic!("call_log not stored: {outcomes:?}");
    };
    assert_eq!(record.rows, CALLS);
    assert!(reads_stored_of(&lake, LOG, "call_log"));
    same(&lake.rows(LOG), &computed);
}

#[test]
fn a_view_that_cannot_be_stored_leaves_the_others_refreshed() {
    let s = Scratch::new();
    let dir = s.generate(500, &["--seed", "5"]);
    let calls = std::fs::read_to_string(dir.join("cdrs.csv")).expect("generated calls");
    let lake = Lake::new();
    lake.ingest("cdrs.csv", "canonical", &calls);
    // A file where `call_log`'s stored table would be.
    let tables = lake.dir.path().join("store").join("_materialized");
    std::fs::create_dir_all(&tables).expect("directory");
    std::fs::write(tables.join("call_log"), "not a table").expect("file");
    let ctx = lake.session();
    let outcomes = lake.block_on(async {
        let store = Store::open(location(&lake)).await.expect("store");
        materialized::refresh(&ctx, &store, &Settings::default(), Scope::All)
            .await
            .expect("refresh")
    });
    assert!(
        matches!(outcome(&outcomes, "call_log"), Refreshed::Failed(e) if e.contains("call_log")),
        "{outcomes:?}"
    );
    assert!(
        matches!(outcome(&outcomes, "call_reports"), Refreshed::Stored(_)),
        "{outcomes:?}"
    );
    assert!(!reads_stored_of(&lake, LOG, "call_log"));
    assert!(reads_stored_of(
        &lake,
        "SELECT tenant, sum(charge) FROM call_reports GROUP BY 1",
        "call_reports"
    ));
}

#[test]
fn a_bulk_load_over_the_memory_limit_is_left_to_a_whole_refresh_in_passes() {
    let s = Scratch::new();
    let dir = s.generate(CALLS, &["--seed", "21"]);
    let calls = std::fs::read_to_string(dir.join("cdrs.csv")).expect("generated calls");
    let (early, late) = split_csv(&calls, "start_time", |v| v < "2026-11-02");
    let late_calls = late.lines().count() as u64 - 1;
    assert!(late_calls > CALLS / 3, "{late_calls} late calls");
    let lake = Lake::new();
    lake.ingest("early.csv", "canonical", &early);
    let store = || lake.block_on(Store::open(location(&lake))).expect("store");
    let refresh = |ctx: &datafusion::prelude::SessionContext, scope| {
        let store = store();
        lake.block_on(materialized::refresh(
            ctx,
            &store,
            &Settings::default(),
            scope,
        ))
        .expect("refresh")
    };
    let roomy = cdrlake::query::with_memory_limit(&lake.session(), LIMIT).expect("session");
    assert!(matches!(
        outcome(&refresh(&roomy, Scope::All), "call_log"),
        Refreshed::Stored(_)
    ));

    // The late calls arrive at once: too many for one pass under this limit.
    lake.ingest("late.csv", "canonical", &late);
    let computed = lake.rows(LOG);
    let small = LIMIT / 3;
    assert!(passes(late_calls, MemoryLimit::Finite(small)) > 1);
    let tight = cdrlake::query::with_memory_limit(&lake.session(), small).expect("session");
    let appends = refresh(&tight, Scope::Appends);
    assert_eq!(
        outcome(&appends, "call_log"),
        &Refreshed::Left,
        "{appends:?}"
    );
    assert!(!reads_stored_of(&lake, LOG, "call_log"));

    let all = refresh(&roomy, Scope::All);
    assert!(
        matches!(outcome(&all, "call_log"), Refreshed::Stored(_)),
        "{all:?}"
    );
    assert!(reads_stored_of(&lake, LOG, "call_log"));
    same(&lake.rows(LOG), &computed);
}
