//! `rate_lookup` over a real store: the deck comes from the `rates` Delta table, and a session
//! sees a new rates commit at its next query.

use arrow::util::display::array_value_to_string;
use cdrlake::query;

use crate::inproc::Lake;

const RATES_HEADER: &str =
    "tenant,prefix,rate_per_min,min_s,increment_s,connect_fee,currency,valid_from";

/// A store holding a rate deck: `*` rates for 44 and 447, a tenant's own 4420.
pub fn store_with_rates() -> Lake {
    let lake = Lake::new();
    let rates = format!(
        "{RATES_HEADER}\n\
         *,44,0.05,60,60,0,EUR,2020-01-01T00:00:00Z\n\
         *,447,0.12,60,60,0,EUR,2020-01-01T00:00:00Z\n\
         *,447,0.10,30,6,0.01,EUR,2026-12-01T00:00:00Z\n\
         acme,4420,0.03,1,1,0,EUR,2026-06-01T00:00:00Z\n"
    );
    assert_eq!(lake.ingest("rates.csv", "rates", &rates), (4, 0, 0));
    lake
}

/// One text value of a query over a session.
async fn value(ctx: &datafusion::prelude::SessionContext, sql: &str) -> String {
    let batches = query::collect(ctx, sql).await.expect(sql);
    let batch = batches.iter().find(|b| b.num_rows() > 0).expect("a row");
    array_value_to_string(batch.column(0), 0).expect("displayable")
}

#[test]
fn rate_lookup_reads_the_stored_deck() {
    let s = store_with_rates();
    let rates = |tenant: &str, destination: &str, at: &str| {
        s.value(&format!(
            "SELECT concat_ws('/', r['prefix'], r['rate_per_min'], r['min_s'], r['increment_s'], \
             r['connect_fee'], r['currency']) FROM (SELECT rate_lookup('{tenant}', '{destination}', \
             TIMESTAMP '{at}') AS r)"
        ))
    };
    let cases = [
        (
            "acme",
            "+447700900123",
            "2026-11-02T10:00:00Z",
            "447/0.120000/60/60/0.000000/EUR",
        ),
        (
            "acme",
            "442071234567",
            "2026-11-02T10:00:00Z",
            "4420/0.030000/1/1/0.000000/EUR",
        ),
        (
            "other",
            "442071234567",
            "2026-11-02T10:00:00Z",
            "44/0.050000/60/60/0.000000/EUR",
        ),
        (
            "other",
            "447700900123",
            "2026-12-01T00:00:00Z",
            "447/0.100000/30/6/0.010000/EUR",
        ),
    ];
    for (tenant, destination, at, want) in cases {
        assert_eq!(
            rates(tenant, destination, at),
            want,
            "{tenant} {destination} {at}"
        );
    }
    assert_eq!(rates("other", "33123456789", "2026-11-02T10:00:00Z"), "");
}

#[test]
fn a_session_sees_new_rates_at_its_next_query() {
    let lake = store_with_rates();
    let ctx = lake.session();
    let sql =
        "SELECT rate_lookup('acme', '447700900123', TIMESTAMP '2026-11-02T10:00:00Z')['prefix']";
    assert_eq!(lake.block_on(value(&ctx, sql)), "447");
    let more = format!("{RATES_HEADER}\nacme,4477,0.2,1,1,0,EUR,2020-01-01T00:00:00Z\n");
    assert_eq!(lake.ingest("more.csv", "rates", &more), (1, 0, 0));
    assert_eq!(lake.block_on(value(&ctx, sql)), "4477");
}

#[test]
fn a_session_as_of_an_earlier_instant_rates_with_the_deck_of_then() {
    let lake = store_with_rates();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let at = chrono::Utc::now().to_rfc3339();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let more = format!("{RATES_HEADER}\nacme,4477,0.2,1,1,0,EUR,2020-01-01T00:00:00Z\n");
    assert_eq!(lake.ingest("more.csv", "rates", &more), (1, 0, 0));
    let ctx = lake.session();
    let sql =
        "SELECT rate_lookup('acme', '447700900123', TIMESTAMP '2026-11-02T10:00:00Z')['prefix']";
    assert_eq!(lake.block_on(value(&ctx, sql)), "4477");
    let set = |at: &str| {
        let set = format!("SET cdrlake.as_of = '{at}'");
        lake.block_on(query::collect(&ctx, &set)).expect("SET");
    };
    set(&at);
    assert_eq!(lake.block_on(value(&ctx, sql)), "447", "as of {at}");
    set("latest");
    assert_eq!(lake.block_on(value(&ctx, sql)), "4477");
}
