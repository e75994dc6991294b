//! SIP carrier traffic (DIDWW): inbound calls to DIDs delivered to a SIP URI with the
//! carrier's toll-free, termination and metered-channel amounts, and outbound calls with CLI,
//! trunk, 60/60 billing, rate, charge, CDR type, country and network; plus the writers of the
//! carrier's own inbound and outbound CSV exports.

use rand::Rng;

use super::GenerateError;
use super::billing::{billable_seconds, charge_micros};
use super::calls::{Call, Talk, talk_secs};
use super::fields::{CallType, Cause, CdrType, Direction, Initiator, sip_reason};
use super::numbers::{
    self, COUNTRIES, DE, GB, NL, Network, Style, US, mix2, pick_weighted, push_identity,
    push_random,
};
use super::out::CsvOut;
use super::tenants::{Gen, Tenant, push_u64_str};
use super::timeline::Timeline;

/// Header of the carrier's inbound export.
pub(crate) const INBOUND_HEADER: [&str; 13] = [
    "Date/Time Start (UTC)",
    "Date/Time Connect (UTC)",
    "Date/Time End (UTC)",
    "Source",
    "DID",
    "Destination",
    "Duration (secs)",
    "Disconnect Initiator",
    "Disconnect Code",
    "Disconnect Response",
    "Toll-free Amount (USD)",
    "Termination Amount (USD)",
    "Metered Channels Amount (USD)",
];

/// Header of the carrier's outbound export.
pub(crate) const OUTBOUND_HEADER: [&str; 16] = [
    "Date/Time Start (UTC)",
    "Date/Time Connect (UTC)",
    "Date/Time End (UTC)",
    "Source",
    "CLI",
    "Destination",
    "Duration (secs)",
    "Billing Duration",
    "Disconnect Code",
    "Disconnect Reason",
    "Rate (USD per minute)",
    "Charged (USD)",
    "CDR Type",
    "Country Name",
    "Network Name",
    "Trunk Name",
];

/// Countries the carrier's customers call, by weight.
const DESTINATIONS: [(usize, u32); 12] = [
    (US, 30),
    (GB, 14),
    (DE, 12),
    (NL, 8),
    (numbers::FR, 7),
    (numbers::ES, 6),
    (numbers::IT, 6),
    (numbers::BE, 4),
    (numbers::CH, 3),
    (numbers::UA, 3),
    (numbers::IN, 4),
    (numbers::CN, 3),
];
/// Carrier price per minute (USD micro-units), fixed and mobile, indexed like `COUNTRIES`.
const PRICES: [(i64, i64); 12] = [
    (12_300, 12_300),
    (9_800, 41_500),
    (11_200, 78_000),
    (14_500, 65_000),
    (10_100, 52_000),
    (9_500, 38_000),
    (12_000, 44_000),
    (16_000, 71_000),
    (28_000, 195_000),
    (105_000, 120_000),
    (24_000, 21_000),
    (19_000, 19_000),
];
/// DIDs per carrier tenant; about a quarter are toll-free.
const DIDS: u64 = 120;
/// Customer caller IDs per carrier tenant.
const CLIS: u64 = 25;

impl Tenant {
    /// Fills `call` with one carrier call at `start`; `direction` forces inbound or outbound
    /// (the carrier's exports), `None` picks one.
    pub(crate) fn carrier(
        &self,
        g: &mut Gen<'_>,
        call: &mut Call,
        start: i64,
        direction: Option<Direction>,
    ) {
        let rng = &mut g.rng;
        let inbound = match direction {
            Some(d) => d == Direction::Inbound,
            None => rng.random_bool(0.5),
        };
        let ct = if inbound {
            CallType::Inbound
        } else {
            CallType::Outbound
        };
        call.reset(start, ct);
        call.currency = "USD";
        let cause = pick_weighted(rng, &[(Cause::Normal, 72), (Cause::Unanswered, 28)]);
        let talk = talk_secs(rng, cause, Talk::Conversation);
        call.settle(rng, cause, talk);
        if call.initiator == Initiator::System {
            call.initiator = Initiator::Destination;
        }
        if inbound {
            let k = rng.random_range(0..DIDS);
            let toll_free = mix2(self.salt, k).is_multiple_of(4);
            let (countries, network): (&[usize], Network) = if toll_free {
                (&[US, US, US, GB], Network::TollFree)
            } else {
                (&[US, US, GB, DE, NL], Network::Fixed)
            };
            push_identity(
                &mut call.did,
                self.salt,
                k,
                countries,
                network,
                Style::Digits,
            );
            self.pool.push_caller(rng, &mut call.source);
            call.destination.push_str("sip:");
            call.destination.push_str(&call.did);
            call.destination.push_str("@pbx");
            if self.ordinal > 0 {
                push_u64_str(&mut call.destination, u64::from(self.ordinal) + 1);
            }
            call.destination.push_str(".example.net");
            let minutes = billable_seconds(call.duration_s, 60, 60);
            let metered = mix2(self.salt, k + DIDS).is_multiple_of(3);
            let forwarded = call.connected() && rng.random_range(0..5) == 0;
            call.toll_free = Some(if toll_free {
                charge_micros(minutes, 25_000, 0)
            } else {
                0
            });
            call.termination = Some(if forwarded {
                charge_micros(minutes, 9_000, 0)
            } else {
                0
            });
            let per_second = billable_seconds(call.duration_s, 1, 1);
            call.metered = Some(if metered {
                charge_micros(per_second, 1_200, 0)
            } else {
                0
            });
        } else {
            let k = rng.random_range(0..CLIS);
            let src_country = push_identity(
                &mut call.source,
                self.salt ^ 0xC11,
                k,
                &[US, US, GB, DE, NL],
                Network::Fixed,
                Style::Digits,
            );
            if rng.random_range(0..10) == 0 {
                let other = (k + 1 + rng.random_range(0..CLIS - 1)) % CLIS;
                push_identity(
                    &mut call.cli,
                    self.salt ^ 0xC11,
                    other,
                    &[US, US, GB, DE, NL],
                    Network::Fixed,
                    Style::Digits,
                );
            } else {
                call.cli.push_str(&call.source);
            }
            let (dst, network) =
                push_random(rng, &mut call.destination, &DESTINATIONS, 40, Style::Digits);
            call.trunk.push_str("Outbound Trunk ");
            push_u64_str(&mut call.trunk, 1 + rng.random_range(0..3));
            let (fixed, mobile) = PRICES[dst];
            let rate = if network == Network::Mobile {
                mobile
            } else {
                fixed
            };
            let billed = billable_seconds(call.duration_s, 60, 60);
            call.billed_s = Some(billed);
            call.rate = Some(rate);
            call.charge = Some(charge_micros(billed, rate, 0));
            call.cdr_type = Some(cdr_type(src_country, dst));
            call.country = COUNTRIES[dst].name;
            call.network = network.name();
        }
    }
}

/// `Local` within one country, `Origin based` between two EEA countries, else
/// `International`.
fn cdr_type(from: usize, to: usize) -> CdrType {
    if from == to {
        CdrType::Local
    } else if COUNTRIES[from].eea && COUNTRIES[to].eea {
        CdrType::OriginBased
    } else {
        CdrType::International
    }
}

/// Writes `rows` calls of `carrier` in one direction in the carrier's export format.
pub(crate) fn write_export(
    out: &mut CsvOut,
    g: &mut Gen<'_>,
    carrier: &Tenant,
    timeline: &mut Timeline,
    rows: u64,
    direction: Direction,
) -> Result<(), GenerateError> {
    let mut call = Call::new();
    for i in 0..rows {
        let start = timeline.at(i, g.rng.random());
        carrier.carrier(g, &mut call, start, Some(direction));
        match direction {
            Direction::Inbound => write_inbound(out, &call)?,
            _ => write_outbound(out, &call)?,
        }
    }
    Ok(())
}

/// Writes one row of the carrier's inbound export.
fn write_inbound(out: &mut CsvOut, call: &Call) -> Result<(), GenerateError> {
    out.opt_ts_plain(Some(call.start));
    out.opt_ts_plain(call.connect);
    out.opt_ts_plain(Some(call.end));
    out.text(&call.source);
    out.text(&call.did);
    out.text(&call.destination);
    out.uint(u64::from(call.duration_s));
    out.text(match call.initiator {
        Initiator::Origination => "Origination",
        _ => "Destination",
    });
    out.uint(u64::from(call.sip_code));
    out.text(sip_reason(call.sip_code));
    out.money(call.toll_free.unwrap_or(0));
    out.money(call.termination.unwrap_or(0));
    out.money(call.metered.unwrap_or(0));
    out.end_row()
}

/// Writes one row of the carrier's outbound export.
fn write_outbound(out: &mut CsvOut, call: &Call) -> Result<(), GenerateError> {
    out.opt_ts_plain(Some(call.start));
    out.opt_ts_plain(call.connect);
    out.opt_ts_plain(Some(call.end));
    out.text(&call.source);
    out.text(&call.cli);
    out.text(&call.destination);
    out.uint(u64::from(call.duration_s));
    out.uint(u64::from(call.billed_s.unwrap_or(0)));
    out.uint(u64::from(call.sip_code));
    out.text(sip_reason(call.sip_code));
    out.money(call.rate.unwrap_or(0));
    out.money(call.charge.unwrap_or(0));
    out.text(call.cdr_type.map_or("", CdrType::label));
    out.text(call.country);
    out.text(call.network);
    out.text(&call.trunk);
    out.end_row()
}

#[cfg(test)]
mod tests {
    use super::super::numbers::country_of;
    use super::*;

    #[test]
    fn cdr_types() {
        assert_eq!(cdr_type(US, US), CdrType::Local);
        assert_eq!(cdr_type(DE, NL), CdrType::OriginBased);
        assert_eq!(cdr_type(GB, DE), CdrType::International);
        assert_eq!(cdr_type(numbers::CH, DE), CdrType::International);
        assert_eq!(country_of("4930123456"), Some(DE));
    }
}
