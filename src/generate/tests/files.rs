//! Refunds and billing events agree with their calls; the carrier exports and the rate deck
//! have the documented shape and exact money.

use std::collections::{HashMap, HashSet};

use super::super::billing::{billable_seconds, charge_micros};
use super::super::fields::sip_reason;
use super::super::*;
use super::{TempDir, micros, opt, options, plain_ts, rows, ts};

#[test]
fn refunds_and_billing_events_follow_the_calls() {
    let dir = TempDir::new("followups");
    let opts = GenerateOptions {
        tenants: 5,
        ..options(&dir.0, 60_000, 5)
    };
    generate(&opts).expect("generate");
    let calls: HashMap<(String, String), HashMap<String, String>> = rows(&dir.0.join("cdrs.csv"))
        .into_iter()
        .map(|r| ((r["tenant"].clone(), r["call_id"].clone()), r))
        .collect();
    let mut refunded: HashMap<(String, String), (i64, usize)> = HashMap::new();
    let (mut custom, mut ids) = (0, HashSet::new());
    for r in rows(&dir.0.join("refunds.csv")) {
        assert!(ids.insert(r["refund_id"].clone()));
        assert_eq!(
            (r["destination"].as_str(), r["created_by"].as_str()),
            ("REF0", "billing")
        );
        let amount = micros(&r["amount"]);
        assert!(amount > 0);
        assert!(opt(&r, "cabin").is_some());
        let Some(call_id) = opt(&r, "call_id") else {
            custom += 1;
            continue;
        };
        let call = &calls[&(r["tenant"].clone(), call_id.to_owned())];
        assert!(ts(&r["created_at"]) > ts(&call["end_time"]));
        assert_eq!(r["cabin"], call["cabin"]);
        let entry = refunded
            .entry((r["tenant"].clone(), call_id.to_owned()))
            .or_default();
        entry.0 += amount;
        entry.1 += 1;
    }
    let (mut full, mut partial, mut split) = (0, 0, 0);
    for (key, (total, n)) in &refunded {
        let charge = micros(opt(&calls[key], "charge").expect("refunded calls have a charge"));
        assert!(*total <= charge, "over-refund of {key:?}");
        match (*total == charge, *n) {
            (true, 1) => full += 1,
            (false, 1) => partial += 1,
            (true, 2) => split += 1,
            other => panic!("unexpected refund pattern {other:?}"),
        }
    }
    assert!(
        full > 0 && partial > 0 && split > 0 && custom > 0,
        "{full} {partial} {split} {custom}"
    );

    let mut sequences: HashMap<(String, String), Vec<(i64, String)>> = HashMap::new();
    for r in rows(&dir.0.join("billing_events.csv")) {
        sequences
            .entry((r["tenant"].clone(), r["call_id"].clone()))
            .or_default()
            .push((ts(&r["at"]), r["result"].clone()));
    }
    let mut patterns = HashSet::new();
    for (key, events) in &sequences {
        let call = &calls[key];
        assert!(call["tenant"].starts_with("cruise") && call["direction"] == "outbound");
        let mut last = ts(&call["end_time"]);
        for (at, _) in events {
            assert!(*at > last, "events increase after the call's end");
            last = *at;
        }
        let names: Vec<&str> = events.iter().map(|(_, r)| r.as_str()).collect();
        patterns.insert(names.join(">"));
    }
    let want = [
        "sent>ok",
        "sent>failure",
        "sent>failure>retry_sent>ok",
        "sent",
        "sent>failure>retry_sent",
    ];
    assert_eq!(
        patterns,
        want.iter().map(|s| s.to_string()).collect::<HashSet<_>>()
    );
}

#[test]
fn carrier_exports_are_consistent() {
    let dir = TempDir::new("didww");
    generate(&options(&dir.0, 20_000, 11)).expect("generate");
    let inbound = rows(&dir.0.join("didww-inbound.csv"));
    assert_eq!(inbound.len(), 2000);
    for r in &inbound {
        let (s, e) = (
            plain_ts(&r["Date/Time Start (UTC)"]),
            plain_ts(&r["Date/Time End (UTC)"]),
        );
        let duration: i64 = r["Duration (secs)"].parse().expect("duration");
        match opt(r, "Date/Time Connect (UTC)").map(plain_ts) {
            Some(c) => assert!(s <= c && c <= e && duration == e - c),
            None => assert_eq!(duration, 0),
        }
        assert!(["Origination", "Destination"].contains(&r["Disconnect Initiator"].as_str()));
        let code: u16 = r["Disconnect Code"].parse().expect("code");
        assert_eq!(r["Disconnect Response"], sip_reason(code));
        assert!(r["Destination"].starts_with(&format!("sip:{}@", r["DID"])));
        assert!(r["Source"].bytes().all(|b| b.is_ascii_digit()));
        for k in [
            "Toll-free Amount (USD)",
            "Termination Amount (USD)",
            "Metered Channels Amount (USD)",
        ] {
            micros(&r[k]);
        }
    }
    let outbound = rows(&dir.0.join("didww-outbound.csv"));
    assert_eq!(outbound.len(), 2000);
    for r in &outbound {
        let duration: u32 = r["Duration (secs)"].parse().expect("duration");
        let billed: u32 = r["Billing Duration"].parse().expect("billing duration");
        assert_eq!(billed, billable_seconds(duration, 60, 60));
        assert_eq!(
            micros(&r["Charged (USD)"]),
            charge_micros(billed, micros(&r["Rate (USD per minute)"]), 0)
        );
        assert!(["International", "Local", "Origin based"].contains(&r["CDR Type"].as_str()));
        assert!(["Fixed", "Mobile"].contains(&r["Network Name"].as_str()));
        assert!(r["Trunk Name"].starts_with("Outbound Trunk "));
        assert!(!r["CLI"].is_empty() && !r["Country Name"].is_empty());
    }
}

#[test]
fn rate_deck_has_defaults_overrides_and_a_price_change() {
    let dir = TempDir::new("rates");
    generate(&GenerateOptions {
        only: Some(OutputKind::Rates),
        ..options(&dir.0, 0, 1)
    })
    .expect("generate");
    let deck = rows(&dir.0.join("rates.csv"));
    let prefixes: HashSet<&str> = deck
        .iter()
        .filter(|r| r["tenant"] == "*")
        .map(|r| r["prefix"].as_str())
        .collect();
    for p in [
        "1", "31", "316", "44", "447", "49", "33", "34", "39", "32", "41", "380", "91", "86",
    ] {
        assert!(prefixes.contains(p), "prefix {p}");
    }
    assert!(
        deck.iter()
            .any(|r| r["tenant"] == "cruise" && r["prefix"] == "44")
    );
    assert!(deck.iter().any(|r| r["tenant"] == "cruise-2"));
    let froms: HashSet<i64> = deck.iter().map(|r| ts(&r["valid_from"])).collect();
    assert_eq!(
        froms,
        [ts("2020-01-01T00:00:00Z"), ts("2026-11-02T12:00:00Z")].into()
    );
    let incs: HashSet<(&str, &str)> = deck
        .iter()
        .map(|r| (r["min_s"].as_str(), r["increment_s"].as_str()))
        .collect();
    assert!(
        incs.contains(&("60", "60")) && incs.contains(&("30", "6")) && incs.contains(&("1", "1"))
    );
    for r in &deck {
        micros(&r["rate_per_min"]);
        micros(&r["connect_fee"]);
    }
}
