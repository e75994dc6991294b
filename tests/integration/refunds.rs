//! Refunds issued with `INSERT INTO refunds` (SPEC 2.2): the remaining charge by default, no
//! over-refunds, unknown or uncharged calls rejected, all or nothing per statement, and
//! concurrent refunds of one call serialised.

use crate::inproc::Lake;
use crate::reports::ship;

/// (billing_result, refunded_amount, net_charge) of a call in `call_reports`.
fn state(lake: &Lake, call_id: &str) -> String {
    lake.rows(&format!(
        "SELECT billing_result, refunded_amount, net_charge FROM call_reports \
         WHERE record_type = 'charge' AND call_id = '{call_id}'"
    ))
    .concat()
    .join("|")
}

fn refund_count(lake: &Lake) -> String {
    lake.value("SELECT count(*) FROM refunds")
}

#[test]
fn a_refund_without_amount_refunds_the_rest() {
    let lake = ship();
    lake.rows("INSERT INTO refunds (call_id, reason) VALUES ('c-ok', 'wrong number')");
    assert_eq!(state(&lake, "c-ok"), "Refunded|1.200000|0.000000");
    let row = lake.rows(
        "SELECT tenant, cabin, amount, destination, reason, created_by, refund_id LIKE 'rf-%' \
         FROM refunds WHERE call_id = 'c-ok'",
    );
    assert_eq!(
        row.concat().join("|"),
        "ship|7012|1.200000|REF0|wrong number|cdrlake|true"
    );
    // created_at comes from the clock.
    let recent =
        "SELECT created_at > TIMESTAMP '2026-01-01T00:00:00Z' FROM refunds WHERE call_id = 'c-ok'";
    assert_eq!(lake.value(recent), "true");
    // The partly refunded call: the rest is what is left.
    lake.rows("INSERT INTO refunds (call_id, reason) VALUES ('c-partial', 'the rest')");
    assert_eq!(state(&lake, "c-partial"), "Refunded|2.000000|0.000000");
}

#[test]
fn partial_refunds_add_up_to_the_charge_and_no_further() {
    let lake = ship();
    lake.rows("INSERT INTO refunds (call_id, amount, reason) VALUES ('c-fail', 0.2, 'first')");
    assert_eq!(state(&lake, "c-fail"), "Failure|0.200000|0.300000");
    lake.rows("INSERT INTO refunds (call_id, amount, reason) VALUES ('c-fail', 0.3, 'second')");
    assert_eq!(state(&lake, "c-fail"), "Refunded|0.500000|0.000000");
    let before = refund_count(&lake);
    let err = lake
        .try_rows("INSERT INTO refunds (call_id, amount) VALUES ('c-fail', 0.01)")
        .unwrap_err();
    assert!(
        err.contains("over-refund of call c-fail: 0.010000 asked, 0.000000 of its charge 0.500000 left to refund"),
        "{err}"
    );
    assert_eq!(refund_count(&lake), before);
}

#[test]
fn bad_refunds_are_rejected_and_write_nothing() {
    let lake = ship();
    let before = refund_count(&lake);
    let cases = [
        (
            "INSERT INTO refunds (call_id, amount) VALUES ('nope', 1)",
            "refund of unknown call nope",
        ),
        (
            "INSERT INTO refunds (call_id) VALUES ('c-internal')",
            "call c-internal has nothing charged",
        ),
        (
            "INSERT INTO refunds (call_id, amount) VALUES ('c-open', 0.31)",
            "over-refund of call c-open",
        ),
        (
            "INSERT INTO refunds (call_id, amount) VALUES ('c-open', 0)",
            "refund amount must be positive",
        ),
        (
            "INSERT INTO refunds (cabin, reason) VALUES ('7012', 'no amount')",
            "needs a cabin and an amount",
        ),
        // All or nothing: the first row is fine, the second over-refunds the same call.
        (
            "INSERT INTO refunds (call_id, amount) VALUES ('c-open', 0.2), ('c-open', 0.2)",
            "over-refund of call c-open: 0.200000 asked, 0.100000",
        ),
    ];
    for (sql, want) in cases {
        let err = lake.try_rows(sql).unwrap_err();
        assert!(err.contains(want), "{sql}: {err}");
    }
    assert_eq!(refund_count(&lake), before);
    assert_eq!(state(&lake, "c-open"), "Open|0.000000|0.300000");
}

#[test]
fn a_custom_refund_credits_a_cabin_to_ref0() {
    let lake = ship();
    lake.rows("INSERT INTO refunds (cabin, amount, reason) VALUES ('7020', 3, 'goodwill')");
    let row = lake.rows(
        "SELECT record_type, call_id, cabin, called_number, charge, refund_reason \
         FROM call_reports WHERE cabin = '7020'",
    );
    assert_eq!(
        row.concat().join("|"),
        "refund||7020|REF0|-3.000000|goodwill"
    );
}

#[test]
fn concurrent_refunds_of_one_call_never_exceed_its_charge() {
    let lake = ship();
    let (a, b) = (lake.session(), lake.session());
    // c-two (charge 1.00) is refunded in full already: both fail.
    let sql = "INSERT INTO refunds (call_id, amount) VALUES ('c-two', 0.7)";
    let results = lake.block_on(async {
        let run = |ctx: datafusion::prelude::SessionContext| async move {
            ctx.sql(sql).await?.collect().await.map(|_| ())
        };
        tokio::join!(run(a), run(b))
    });
    assert!(results.0.is_err() && results.1.is_err(), "{results:?}");

    let (a, b) = (lake.session(), lake.session());
    let sql = "INSERT INTO refunds (call_id, amount) VALUES ('c-retry', 0.3)";
    let results = lake.block_on(async {
        let run = |ctx: datafusion::prelude::SessionContext| async move {
            ctx.sql(sql).await?.collect().await.map(|_| ())
        };
        tokio::join!(tokio::spawn(run(a)), tokio::spawn(run(b)))
    });
    let ok = [results.0, results.1]
        .into_iter()
        .filter(|r| matches!(r, Ok(Ok(()))))
        .count();
    assert_eq!(
        ok, 1,
        "exactly one of two 0.3 refunds of a 0.4 charge succeeds"
    );
    assert_eq!(state(&lake, "c-retry"), "Retry open|0.300000|0.100000");
}

/// `INSERT INTO billing_events`: the call's tenant, the clock's instant, the newest wins.
#[test]
fn billing_events_are_recorded_with_sql() {
    let lake = ship();
    assert_eq!(state(&lake, "c-open"), "Open|0.000000|0.300000");
    lake.rows(
        "INSERT INTO billing_events (call_id, result, detail) VALUES ('c-open', 'ok', 'posted')",
    );
    assert_eq!(state(&lake, "c-open"), "OK|0.000000|0.300000");
    let row = lake.rows(
        "SELECT tenant, detail, at > TIMESTAMP '2026-01-01T00:00:00Z', stored_seq \
         FROM billing_events WHERE call_id = 'c-open' AND result = 'ok'",
    );
    assert_eq!(row.concat().join("|"), "ship|posted|true|18");
    let cases = [
        (
            "INSERT INTO billing_events (call_id, result) VALUES ('nope', 'ok')",
            "billing event of unknown call nope",
        ),
        (
            "INSERT INTO billing_events (call_id, result) VALUES ('c-open', 'maybe')",
            "result 'maybe' is not one of sent, ok, failure, retry_sent",
        ),
        (
            "INSERT INTO billing_events (call_id) VALUES ('c-open')",
            "needs a call_id and a result",
        ),
        (
            "INSERT INTO billing_events (tenant, call_id, result) VALUES ('other', 'c-open', 'ok')",
            "unknown call c-open",
        ),
    ];
    for (sql, want) in cases {
        let err = lake.try_rows(sql).unwrap_err();
        assert!(err.contains(want), "{sql}: {err}");
    }
    assert_eq!(lake.value("SELECT count(*) FROM billing_events"), "18");
}
