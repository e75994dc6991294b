//! The call reports of SPEC 4 (`call_reports`) over a real store: every billing result of the
//! call-report seed, rating of unrated calls, full, partial, two-part and custom refunds,
//! NULLs and 0-second calls.

use crate::inproc::Lake;

const CDRS: &str = "call_id,tenant,direction,start_time,connect_time,end_time,duration_s,billed_s,source,destination,cabin,billing_account,charge,currency";

/// The calls of tenant `ship`, one per case; times are 2026-11-02 UTC.
const CALLS: &[&str] = &[
    "c-ok,ship,outbound,2026-11-02T08:00:00Z,2026-11-02T08:00:05Z,2026-11-02T08:01:05Z,60,60,7012,+31201234567,7012,ACC-1,1.20,EUR",
    "c-fail,ship,outbound,2026-11-02T08:10:00Z,2026-11-02T08:10:05Z,2026-11-02T08:11:05Z,60,60,7012,+31201234568,7012,ACC-1,0.50,EUR",
    "c-open,ship,outbound,2026-11-02T08:20:00Z,2026-11-02T08:20:05Z,2026-11-02T08:21:05Z,60,60,7013,+31201234569,7013,ACC-2,0.30,EUR",
    "c-retry,ship,outbound,2026-11-02T08:30:00Z,2026-11-02T08:30:05Z,2026-11-02T08:31:05Z,60,60,7013,+31201234570,7013,ACC-2,0.40,EUR",
    // No billing event yet, and no cabin or billing account.
    "c-noevent,ship,outbound,2026-11-02T08:40:00Z,2026-11-02T08:40:05Z,2026-11-02T08:41:05Z,60,60,7014,+31201234571,,,0.25,EUR",
    // Never connected: 0 s, unrated, rated to 0, so nothing to charge and no event: OK.
    "c-zero,ship,outbound,2026-11-02T08:50:00Z,,2026-11-02T08:50:30Z,0,,7014,+447700900124,7014,ACC-3,,",
    "c-internal,ship,internal,2026-11-02T09:00:00Z,2026-11-02T09:00:02Z,2026-11-02T09:01:02Z,60,,7012,7013,7012,ACC-1,,",
    "c-incoming,ship,inbound,2026-11-02T09:10:00Z,2026-11-02T09:10:02Z,2026-11-02T09:11:02Z,60,,+31201111111,7012,7012,,,",
    "c-excluded,ship,outbound,2026-11-02T09:20:00Z,2026-11-02T09:20:01Z,2026-11-02T09:21:01Z,60,,7012,112,7012,ACC-1,,",
    // Unrated: 32 s to 447… at 0.12/min 60/60 → 60 s, 0.12 EUR.
    "c-rated,ship,outbound,2026-11-02T09:30:00Z,2026-11-02T09:30:05Z,2026-11-02T09:30:37Z,32,,7015,+447700900123,7015,ACC-3,,",
    // No rate for the destination: charge 0, so OK although no event came.
    "c-norate,ship,outbound,2026-11-02T09:35:00Z,2026-11-02T09:35:05Z,2026-11-02T09:35:37Z,32,,7015,+33123456789,7015,ACC-3,,",
    "c-full,ship,outbound,2026-11-02T09:40:00Z,2026-11-02T09:40:05Z,2026-11-02T09:41:05Z,60,60,7016,+31201234572,7016,ACC-4,1.00,EUR",
    "c-partial,ship,outbound,2026-11-02T09:50:00Z,2026-11-02T09:50:05Z,2026-11-02T09:51:05Z,60,60,7016,+31201234573,7016,ACC-4,2.00,EUR",
    "c-two,ship,outbound,2026-11-02T10:00:00Z,2026-11-02T10:00:05Z,2026-11-02T10:01:05Z,60,60,7016,+31201234574,7016,ACC-4,1.00,EUR",
    // Two events at the same instant: the one stored last wins (within a file, across files).
    "c-tie,ship,outbound,2026-11-02T10:10:00Z,2026-11-02T10:10:05Z,2026-11-02T10:11:05Z,60,60,7017,+31201234575,7017,ACC-5,0.60,EUR",
    "c-tie2,ship,outbound,2026-11-02T10:20:00Z,2026-11-02T10:20:05Z,2026-11-02T10:21:05Z,60,60,7017,+31201234576,7017,ACC-5,0.70,EUR",
];

const EVENTS: &str = "tenant,call_id,at,result,detail\n\
ship,c-ok,2026-11-02T08:02:00Z,sent,\n\
ship,c-ok,2026-11-02T08:03:00Z,ok,posted\n\
ship,c-fail,2026-11-02T08:12:00Z,sent,\n\
ship,c-fail,2026-11-02T08:13:00Z,failure,room closed\n\
ship,c-open,2026-11-02T08:22:00Z,sent,\n\
ship,c-retry,2026-11-02T08:32:00Z,sent,\n\
ship,c-retry,2026-11-02T08:33:00Z,failure,timeout\n\
ship,c-retry,2026-11-02T08:34:00Z,retry_sent,\n\
ship,c-rated,2026-11-02T09:32:00Z,ok,\n\
ship,c-full,2026-11-02T09:42:00Z,ok,\n\
ship,c-partial,2026-11-02T09:52:00Z,ok,\n\
ship,c-two,2026-11-02T10:02:00Z,ok,\n\
ship,c-internal,2026-11-02T09:02:00Z,ok,\n\
ship,c-tie,2026-11-02T10:12:00Z,ok,first\n\
ship,c-tie,2026-11-02T10:12:00Z,failure,second\n\
ship,c-tie2,2026-11-02T10:22:00Z,failure,first file\n";

/// Events stored after [`EVENTS`].
const LATER_EVENTS: &str = "tenant,call_id,at,result,detail\n\
ship,c-tie2,2026-11-02T10:22:00Z,ok,second file\n";

const REFUNDS: &str = "refund_id,tenant,call_id,cabin,amount,destination,reason,created_at,created_by\n\
r-1,ship,c-full,,1.00,REF0,wrong number,2026-11-03T08:00:00Z,purser\n\
r-2,ship,c-partial,,0.50,REF0,bad line,2026-11-03T08:05:00Z,purser\n\
r-3,ship,c-two,,0.40,REF0,first part,2026-11-03T08:10:00Z,purser\n\
r-4,ship,c-two,,0.60,REF0,second part,2026-11-03T08:15:00Z,purser\n\
r-5,ship,,7012,5.00,REF0,goodwill,2026-11-03T08:20:00Z,purser\n";

const RATES: &str = "tenant,prefix,rate_per_min,min_s,increment_s,connect_fee,currency,valid_from\n\
*,447,0.12,60,60,0,EUR,2020-01-01T00:00:00Z\n";

/// A store with the calls, billing events, refunds and rates above.
pub fn ship() -> Lake {
    let lake = Lake::new();
    let calls = format!("{CDRS}\n{}\n", CALLS.join("\n"));
    let inputs = [
        ("calls.csv", "canonical", calls.as_str()),
        ("events.csv", "billing-events", EVENTS),
        ("later-events.csv", "billing-events", LATER_EVENTS),
        ("refunds.csv", "refunds", REFUNDS),
        ("rates.csv", "rates", RATES),
    ];
    for (name, format, text) in inputs {
        let (_, _, rejected) = lake.ingest(name, format, text);
        assert_eq!(rejected, 0, "{name}");
    }
    lake
}

#[test]
fn call_reports_columns_are_the_contract() {
    let s = ship();
    assert_eq!(
        s.columns("SELECT * FROM call_reports").join(","),
        "record_type,call_id,tenant,start_time,end_time,cabin,caller_number,called_number,billing_account,duration_s,billed_s,charge,currency,billing_result,refunded_amount,net_charge,refund_reason"
    );
}

#[test]
fn every_billing_result_of_the_seed() {
    let s = ship();
    let rows = s.rows(
        "SELECT call_id, billing_result, charge, currency, billed_s, refunded_amount, net_charge, \
         refund_reason FROM call_reports WHERE record_type = 'charge' ORDER BY start_time",
    );
    let want = [
        "c-ok|OK|1.200000|EUR|60|0.000000|1.200000|",
        "c-fail|Failure|0.500000|EUR|60|0.000000|0.500000|",
        "c-open|Open|0.300000|EUR|60|0.000000|0.300000|",
        "c-retry|Retry open|0.400000|EUR|60|0.000000|0.400000|",
        "c-noevent|Open|0.250000|EUR|60|0.000000|0.250000|",
        "c-zero|OK|0.000000|EUR|0|0.000000|0.000000|",
        "c-internal|Internal|0.000000|||0.000000|0.000000|",
        "c-incoming|Incoming|0.000000|||0.000000|0.000000|",
        "c-excluded|Excluded|0.000000|||0.000000|0.000000|",
        "c-rated|OK|0.120000|EUR|60|0.000000|0.120000|",
        "c-norate|OK|0.000000|||0.000000|0.000000|",
        "c-full|Refunded|1.000000|EUR|60|1.000000|0.000000|wrong number",
        "c-partial|OK|2.000000|EUR|60|0.500000|1.500000|bad line",
        "c-two|Refunded|1.000000|EUR|60|1.000000|0.000000|first part; second part",
        "c-tie|Failure|0.600000|EUR|60|0.000000|0.600000|",
        "c-tie2|OK|0.700000|EUR|60|0.000000|0.700000|",
    ];
    let rows: Vec<String> = rows.iter().map(|r| r.join("|")).collect();
    assert_eq!(rows, want);
}

#[test]
fn refunds_are_their_own_negative_records() {
    let s = ship();
    let rows = s.rows(
        "SELECT call_id, cabin, caller_number, called_number, billing_account, duration_s, \
         billed_s, charge, currency, billing_result, refunded_amount, net_charge, refund_reason \
         FROM call_reports WHERE record_type = 'refund' ORDER BY start_time",
    );
    let want = [
        "c-full|7016|7016|REF0|ACC-4|0|0|-1.000000|EUR|Refunded|1.000000|-1.000000|wrong number",
        "c-partial|7016|7016|REF0|ACC-4|0|0|-0.500000|EUR|Refunded|0.500000|-0.500000|bad line",
        "c-two|7016|7016|REF0|ACC-4|0|0|-0.400000|EUR|Refunded|0.400000|-0.400000|first part",
        "c-two|7016|7016|REF0|ACC-4|0|0|-0.600000|EUR|Refunded|0.600000|-0.600000|second part",
        "|7012|7012|REF0||0|0|-5.000000||Refunded|5.000000|-5.000000|goodwill",
    ];
    let rows: Vec<String> = rows.iter().map(|r| r.join("|")).collect();
    assert_eq!(rows, want);
    // Charges and refunds add up: the net of the report is the charges less the refunds.
    assert_eq!(
        s.value("SELECT CAST(sum(charge) AS VARCHAR) FROM call_reports"),
        "0.570000"
    );
    assert_eq!(
        s.value("SELECT count(*) FROM call_reports"),
        (CALLS.len() + 5).to_string()
    );
}

/// The store numbers billing events in the order it receives them: input order within a file,
/// on from the highest stored number across files.
#[test]
fn billing_events_are_numbered_in_stored_order() {
    let s = ship();
    let rows = s.rows(
        "SELECT call_id, result, stored_seq FROM billing_events \
         WHERE call_id IN ('c-ok', 'c-tie', 'c-tie2') ORDER BY stored_seq",
    );
    let rows: Vec<String> = rows.iter().map(|r| r.join("|")).collect();
    assert_eq!(
        rows,
        [
            "c-ok|sent|1",
            "c-ok|ok|2",
            "c-tie|ok|14",
            "c-tie|failure|15",
            "c-tie2|failure|16",
            "c-tie2|ok|17"
        ]
    );
}
