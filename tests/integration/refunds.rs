//! Concurrent refunds of one call (SPEC 2.2) are serialised: what `.slt` cannot say. The rest
//! of the refund rules is the executable spec in `tests/slt/views/refunds.slt`.

use crate::inproc::Lake;

/// The cruise ship's store of `tests/slt/views/refunds.slt`: calls, billing events, refunds.
fn ship() -> Lake {
    let lake = Lake::new();
    let dir = crate::support::manifest_dir().join("tests/slt/fixtures/ship");
    let inputs = [
        ("calls.csv", "canonical"),
        ("events.csv", "billing-events"),
        ("later-events.csv", "billing-events"),
        ("refunds.csv", "refunds"),
        ("rates.csv", "rates"),
    ];
    for (name, format) in inputs {
        let text = std::fs::read_to_string(dir.join(name)).expect("fixture");
        let (_, _, rejected) = lake.ingest(name, format, &text);
        assert_eq!(rejected, 0, "{name}");
    }
    lake
}

/// (billing_result, refunded_amount, net_charge) of a call in `call_reports`.
fn state(lake: &Lake, call_id: &str) -> String {
    lake.rows(&format!(
        "SELECT billing_result, refunded_amount, net_charge FROM call_reports \
         WHERE record_type = 'charge' AND call_id = '{call_id}'"
    ))
    .concat()
    .join("|")
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
