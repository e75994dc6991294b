//! The views of SPEC section 4 over stored CDRs, through the real binary: the seeds' worked
//! examples and the rules each view applies.

use crate::support::Scratch;

const HEADER: &str = "call_id,tenant,direction,call_type,start_time,connect_time,end_time,duration_s,source,destination,extension,sip_code,hangup_cause,session_id";

/// Loads `rows` (after [`HEADER`]) into a fresh store.
fn store_with(rows: &[&str]) -> Scratch {
    let s = Scratch::new();
    let file = s.write("calls.csv", format!("{HEADER}\n{}\n", rows.join("\n")));
    let out = s.ok(&["ingest", file.to_str().expect("path")]);
    assert!(
        out.contains(&format!("stored {}, duplicates 0, rejected 0", rows.len())),
        "{out}"
    );
    s
}

/// The call-tracking seed's example (target 30 s, one-day cycle): Tom unanswered, David 27 s,
/// 24 s, 3 min, again the same day, and the next day judged afresh.
#[test]
fn call_log_target_logic_follows_the_worked_example() {
    let s = store_with(&[
        "tom-1,acme,inbound,inbound,2026-11-02T08:00:00Z,,2026-11-02T08:00:40Z,0,+31611111111,201,,480,,",
        "david-1,acme,inbound,inbound,2026-11-02T09:00:00Z,2026-11-02T09:00:05Z,2026-11-02T09:00:32Z,27,+31622222222,201,201,200,normal,sess-1",
        "david-2,acme,inbound,inbound,2026-11-02T09:30:00Z,2026-11-02T09:30:05Z,2026-11-02T09:30:29Z,24,+31622222222,201,201,200,normal,",
        "david-3,acme,inbound,inbound,2026-11-02T11:30:00Z,2026-11-02T11:30:05Z,2026-11-02T11:33:05Z,180,+31622222222,201,201,200,normal,",
        "david-4,acme,inbound,inbound,2026-11-02T15:00:00Z,2026-11-02T15:00:05Z,2026-11-02T15:00:45Z,40,+31622222222,201,201,200,normal,",
        "david-5,acme,inbound,inbound,2026-11-02T16:00:00Z,,2026-11-02T16:00:20Z,0,+31622222222,201,,486,,",
        // 23:30 UTC on the 2nd is 00:30 on the 3rd in Amsterdam: a new sales cycle.
        "david-6,acme,inbound,inbound,2026-11-02T23:30:00Z,2026-11-02T23:30:05Z,2026-11-02T23:30:45Z,40,+31622222222,201,201,200,normal,",
        "david-7,acme,inbound,inbound,2026-11-03T10:00:00Z,2026-11-03T10:00:05Z,2026-11-03T10:00:15Z,10,+31622222222,201,201,200,normal,",
        "ivr-1,acme,inbound,inbound,2026-11-02T12:00:00Z,2026-11-02T12:00:01Z,2026-11-02T12:02:01Z,120,+31633333333,201,0,200,abandoned_in_queue,sess-9",
    ]);
    let rows = s.rows(
        "SELECT call_id, call_status, is_unique, sales_cycle - min(sales_cycle) OVER (), \
         CAST(talk_time AS VARCHAR) FROM call_log ORDER BY start_time",
    );
    let got: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str(), r[3].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("tom-1", "No answer", "false", "0"),
            ("david-1", "Answered", "true", "0"),
            ("david-2", "Answered", "false", "0"),
            ("david-3", "Proper", "false", "0"),
            ("ivr-1", "No answer", "true", "0"),
            ("david-4", "Repeat call", "false", "0"),
            ("david-5", "Busy", "false", "0"),
            ("david-6", "Proper", "false", "1"),
            ("david-7", "Repeat call", "false", "1"),
        ]
    );
    assert_eq!(
        s.value("SELECT CAST(talk_time AS VARCHAR) FROM call_log WHERE call_id = 'david-3'"),
        s.value("SELECT CAST(arrow_cast(180, 'Duration(Second)') AS VARCHAR)")
    );
}

/// The hosted-PBX list: local time in the tenant's zone; no internal, emergency or 116xxx calls.
#[test]
fn call_data_records_hide_internal_emergency_and_service_calls() {
    let s = store_with(&[
        "out-1,pbx,outbound,outbound,2026-07-01T10:00:00Z,2026-07-01T10:00:05Z,2026-07-01T10:01:05Z,60,201,0612345678,201,200,normal,",
        "int-1,pbx,internal,internal,2026-07-01T10:05:00Z,2026-07-01T10:05:02Z,2026-07-01T10:06:02Z,60,201,202,201,200,normal,",
        "sos-1,pbx,outbound,outbound,2026-07-01T10:10:00Z,2026-07-01T10:10:01Z,2026-07-01T10:11:01Z,60,201,112,201,200,normal,",
        "svc-1,pbx,outbound,outbound,2026-07-01T10:15:00Z,2026-07-01T10:15:01Z,2026-07-01T10:16:01Z,60,201,116000,201,200,normal,",
        "lei-1,pbx,outbound,outbound,2026-07-01T10:20:00Z,2026-07-01T10:20:01Z,2026-07-01T10:21:01Z,60,201,01162496000,201,200,normal,",
        "in-1,pbx,inbound,inbound,2026-12-01T10:00:00Z,2026-12-01T10:00:03Z,2026-12-01T10:00:33Z,30,0201234567,0851234567,0,200,normal,",
    ]);
    let rows = s.rows(
        "SELECT CAST(date_time AS VARCHAR) AS local, source, destination, duration, extension, direction \
         FROM call_data_records ORDER BY local",
    );
    assert_eq!(
        rows,
        [
            [
                "2026-07-01T12:00:00",
                "201",
                "0612345678",
                "60",
                "201",
                "outbound"
            ],
            [
                "2026-07-01T12:20:00",
                "201",
                "01162496000",
                "60",
                "201",
                "outbound"
            ],
            [
                "2026-12-01T11:00:00",
                "0201234567",
                "0851234567",
                "30",
                "0",
                "inbound"
            ],
        ]
    );
}

/// The carrier's export layouts: its headers in its order, `YYYY-MM-DD HH:MM:SS`, labels.
#[test]
fn carrier_views_reproduce_the_export_layout() {
    let s = Scratch::new();
    let outbound = s.write(
        "out.csv",
        "Date/Time Start (UTC),Date/Time Connect (UTC),Date/Time End (UTC),Source,CLI,Destination,Duration (secs),Billing Duration,Disconnect Code,Disconnect Reason,Rate (USD per minute),Charged (USD),CDR Type,Country Name,Network Name,Trunk Name\n\
         2020-01-01 11:22:33,2020-01-01 11:22:35,2020-01-01 11:23:37,12345678901,44123456789,44123456789,32,60,200,OK,0.0123,0.0123,International,United Kingdom,Fixed,Outbound Trunk 1\n",
    );
    s.ok(&[
        "ingest",
        "--tenant",
        "carrier",
        outbound.to_str().expect("path"),
    ]);
    let out = s.ok(&["query", "--csv", "SELECT * FROM didww_outbound"]);
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(
            "Date/Time Start (UTC),Date/Time Connect (UTC),Date/Time End (UTC),Source,CLI,Destination,Duration (secs),Billing Duration,Disconnect Code,Disconnect Reason,Rate (USD per minute),Charged (USD),CDR Type,Country Name,Network Name,Trunk Name"
        )
    );
    assert_eq!(
        lines.next(),
        Some(
            "2020-01-01 11:22:33,2020-01-01 11:22:35,2020-01-01 11:23:37,12345678901,44123456789,44123456789,32,60,200,OK,0.012300,0.012300,International,United Kingdom,Fixed,Outbound Trunk 1"
        )
    );
    let inbound = s.rows("SELECT count(*) FROM didww_inbound");
    assert_eq!(inbound, [["0"]]);
}
