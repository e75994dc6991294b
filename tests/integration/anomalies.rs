//! The data-quality view `cdr_anomalies`: one row per CDR and broken invariant.

use crate::inproc::Lake;

const CDRS: &str = "call_id,tenant,direction,start_time,connect_time,end_time,duration_s,billed_s,sip_code,source,destination,charge,currency";

#[test]
fn cdr_anomalies_name_each_broken_rule() {
    let lake = Lake::new();
    let calls = [
        // Clean calls: answered, unanswered, internal, emergency, a 0-second call.
        "ok-1,t,outbound,2026-11-02T08:00:00Z,2026-11-02T08:00:05Z,2026-11-02T08:01:05Z,60,60,200,201,+31201234567,0.10,EUR",
        "ok-2,t,inbound,2026-11-02T08:10:00Z,,2026-11-02T08:10:30Z,0,,486,0612345678,201,,",
        "ok-3,t,internal,2026-11-02T08:20:00Z,2026-11-02T08:20:01Z,2026-11-02T08:21:01Z,60,,200,201,202,,",
        "ok-4,t,outbound,2026-11-02T08:30:00Z,2026-11-02T08:30:01Z,2026-11-02T08:31:01Z,60,,200,201,112,,",
        "ok-5,t,outbound,2026-11-02T08:40:00Z,,2026-11-02T08:40:00Z,0,0,487,201,+31201234567,0,",
        // Broken ones.
        "bad-1,t,outbound,2026-11-02T09:00:00Z,,2026-11-02T09:01:00Z,60,60,200,201,+31201234567,0.10,EUR",
        "bad-2,t,outbound,2026-11-02T09:10:00Z,2026-11-02T09:10:30Z,2026-11-02T09:11:00Z,45,60,200,201,+31201234567,0.10,EUR",
        "bad-3,t,outbound,2026-11-02T09:20:00Z,2026-11-02T09:20:00Z,2026-11-02T09:22:00Z,120,60,200,201,+31201234567,0.10,",
        "bad-4,t,internal,2026-11-02T09:30:00Z,2026-11-02T09:30:01Z,2026-11-02T09:31:01Z,60,,200,201,0612345678,,",
        "bad-5,t,outbound,2026-11-02T09:40:00Z,2026-11-02T09:40:01Z,2026-11-02T09:41:01Z,60,,200,201,sip:bob@example.com,,",
        "bad-6,t,inbound,2026-11-02T09:50:00Z,2026-11-02T09:50:01Z,2026-11-02T09:51:01Z,60,,200,anonymous,201,,",
    ];
    let input = format!("{CDRS}\n{}\n", calls.join("\n"));
    assert_eq!(lake.ingest("calls.csv", "canonical", &input), (11, 0, 0));
    let rows = lake.rows(
        "SELECT call_id, tenant, CAST(start_time AS VARCHAR), rule, detail FROM cdr_anomalies \
         ORDER BY call_id, rule",
    );
    let rows: Vec<String> = rows.iter().map(|r| r.join("|")).collect();
    assert_eq!(
        rows,
        [
            "bad-1|t|2026-11-02T09:00:00Z|connected_without_connect_time|duration_s 60, sip_code 200, connect_time NULL",
            "bad-2|t|2026-11-02T09:10:00Z|duration_exceeds_connected_time|duration_s 45 > 30 s from connect_time to end_time",
            "bad-3|t|2026-11-02T09:20:00Z|billed_below_duration|billed_s 60 < duration_s 120, charge 0.100000",
            "bad-3|t|2026-11-02T09:20:00Z|charge_without_currency|charge 0.100000, currency NULL",
            "bad-4|t|2026-11-02T09:30:00Z|internal_call_with_pstn_number|source 201, destination 0612345678",
            "bad-5|t|2026-11-02T09:40:00Z|outbound_call_to_non_number|destination sip:bob@example.com",
            "bad-6|t|2026-11-02T09:50:00Z|inbound_call_from_non_number|source anonymous",
        ]
    );
    assert_eq!(
        lake.columns("SELECT * FROM cdr_anomalies").join(","),
        "call_id,tenant,start_time,rule,detail"
    );
}
