//! Every canonical row parses and is internally consistent; every hang-up cause appears.

use std::collections::HashSet;

use super::super::billing::{billable_seconds, charge_micros};
use super::super::calls::CANONICAL_HEADER;
use super::super::fields::{Cause, sip_reason};
use super::super::*;
use super::{TempDir, micros, opt, options, rows, ts};

#[test]
fn every_canonical_row_is_consistent() {
    let dir = TempDir::new("consistent");
    let opts = GenerateOptions {
        tenants: 10,
        ..options(&dir.0, 5000, 9)
    };
    generate(&opts).expect("generate");
    let header = std::fs::read_to_string(dir.0.join("cdrs.csv")).expect("read");
    assert_eq!(
        header.lines().next(),
        Some(CANONICAL_HEADER.join(",").as_str())
    );
    let (start, end) = (ts("2026-11-01T00:00:00Z"), ts("2026-11-04T00:00:00Z"));
    let mut ids = HashSet::new();
    let mut last_start = start;
    let mut causes = HashSet::new();
    let tenants: HashSet<&str> = [
        "cruise",
        "pbx",
        "tracking",
        "contact",
        "carrier",
        "cruise-2",
        "pbx-2",
        "tracking-2",
        "contact-2",
        "carrier-2",
    ]
    .into();
    for row in rows(&dir.0.join("cdrs.csv")) {
        let tenant = &row["tenant"];
        assert!(tenants.contains(tenant.as_str()), "{tenant}");
        assert!(
            ids.insert((tenant.clone(), row["call_id"].clone())),
            "duplicate id {}",
            row["call_id"]
        );
        assert!(row["call_id"].starts_with(&format!("{tenant}-")));
        let (s, e) = (ts(&row["start_time"]), ts(&row["end_time"]));
        assert!(
            s >= last_start && s < end,
            "start times increase within the range"
        );
        last_start = s;
        let connect = opt(&row, "connect_time").map(ts);
        let duration: i64 = row["duration_s"].parse().expect("duration");
        let cause = Cause::ALL
            .into_iter()
            .find(|c| c.as_str() == row["hangup_cause"])
            .expect("known cause");
        causes.insert(cause.as_str());
        let sip: u16 = row["sip_code"].parse().expect("sip");
        assert!(!sip_reason(sip).is_empty(), "known SIP code {sip}");
        match connect {
            Some(c) => {
                assert!(s <= c && c <= e);
                assert_eq!(duration, e - c);
                assert_eq!(sip, 200);
                assert!(!matches!(
                    cause,
                    Cause::Unanswered
                        | Cause::RoutingFailed
                        | Cause::ForbiddenDestination
                        | Cause::CallbackNoAnswer
                ));
            }
            None => {
                assert!(s <= e);
                assert_eq!(duration, 0);
                assert_ne!(sip, 200);
                assert_ne!(cause, Cause::Normal);
            }
        }
        assert!(
            ["origination", "destination", "system"]
                .contains(&row["disconnect_initiator"].as_str())
        );
        let ok_type = match row["direction"].as_str() {
            "inbound" => row["call_type"] == "inbound",
            "internal" => row["call_type"] == "internal",
            "outbound" => ["outbound", "predictive_outbound", "conference", "callback"]
                .contains(&row["call_type"].as_str()),
            other => panic!("direction {other}"),
        };
        assert!(ok_type, "{} / {}", row["direction"], row["call_type"]);
        assert!(!row["source"].is_empty() && !row["destination"].is_empty());
        if let (Some(billed), Some(rate), Some(charge)) = (
            opt(&row, "billed_s"),
            opt(&row, "rate_per_min"),
            opt(&row, "charge"),
        ) {
            let billed: u32 = billed.parse().expect("billed");
            assert_eq!(billed, billable_seconds(duration as u32, 60, 60));
            assert_eq!(micros(charge), charge_micros(billed, micros(rate), 0));
            assert!(opt(&row, "currency").is_some());
        } else {
            assert!(opt(&row, "charge").is_none() && opt(&row, "rate_per_min").is_none());
        }
        for k in [
            "toll_free_amount",
            "termination_amount",
            "metered_channels_amount",
        ] {
            if let Some(v) = opt(&row, k) {
                micros(v);
            }
        }
        match opt(&row, "recording_url") {
            Some(url) => {
                assert_eq!(
                    url,
                    format!("https://rec.example.com/{}.mp3", row["call_id"])
                );
                assert!(cause == Cause::Normal && connect.is_some());
            }
            None => assert!(!(tenant.starts_with("contact") && cause == Cause::Normal)),
        }
        if tenant.starts_with("cruise") && row["direction"] != "inbound" {
            assert!(opt(&row, "cabin").is_some() && opt(&row, "billing_account").is_some());
        }
        if tenant.starts_with("carrier") && row["direction"] == "inbound" {
            assert!(row["destination"].starts_with("sip:") && opt(&row, "did").is_some());
        }
        if tenant.starts_with("carrier") && row["direction"] == "outbound" {
            assert!(
                opt(&row, "cli").is_some()
                    && opt(&row, "trunk").is_some()
                    && opt(&row, "cdr_type").is_some()
            );
            assert_eq!(opt(&row, "currency"), Some("USD"));
        }
    }
    assert_eq!(ids.len(), 5000);
    assert_eq!(
        causes.len(),
        Cause::ALL.len(),
        "every cause appears: {causes:?}"
    );
}

#[test]
fn every_hangup_cause_appears_in_a_thousand_rows() {
    for (seed, tenants) in [(1, 5), (2, 4), (3, 23), (4, 1000)] {
        let dir = TempDir::new(&format!("causes-{seed}"));
        let opts = GenerateOptions {
            only: Some(OutputKind::Canonical),
            tenants,
            ..options(&dir.0, 1000, seed)
        };
        generate(&opts).expect("generate");
        let seen: HashSet<String> = rows(&dir.0.join("cdrs.csv"))
            .into_iter()
            .map(|r| r["hangup_cause"].clone())
            .collect();
        for cause in Cause::ALL {
            assert!(
                seen.contains(cause.as_str()),
                "seed {seed}: {} missing",
                cause.as_str()
            );
        }
    }
}
