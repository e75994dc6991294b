//! Money: billing increments and exact charges in micro-units, and the rate deck
//! (`rates.csv`).
//!
//! Rounding happens once per call, in [`charge_micros`]: half away from zero to 6 places.

use super::GenerateError;
use super::out::CsvOut;

/// `billable_seconds` of SPEC 3: 0 when nothing was connected, `min_s` up to `min_s`, then
/// whole `increment_s` steps.
pub(crate) fn billable_seconds(duration_s: u32, min_s: u32, increment_s: u32) -> u32 {
    if duration_s == 0 {
        0
    } else if duration_s <= min_s {
        min_s
    } else {
        let inc = increment_s.max(1);
        min_s + (duration_s - min_s).div_ceil(inc) * inc
    }
}

/// `call_charge` of SPEC 3 in micro-units: `fee + billed_s × rate / 60`, rounded half away
/// from zero; 0 when `billed_s` is 0.
pub(crate) fn charge_micros(billed_s: u32, rate_micros: i64, fee_micros: i64) -> i64 {
    if billed_s == 0 {
        return 0;
    }
    let num = i128::from(billed_s) * i128::from(rate_micros);
    let q = (num.abs() + 30) / 60;
    let q = if num < 0 { -q } else { q };
    fee_micros + q as i64
}

/// One prefix of the deck: the `*` price and the cruise lines' satellite price, before and
/// after the price change in the middle of the generated range (when there is one).
struct Entry {
    prefix: &'static str,
    rate: i64,
    new_rate: Option<i64>,
    min_s: u32,
    increment_s: u32,
    fee: i64,
    cruise: i64,
    cruise_new: i64,
}

const fn e(
    prefix: &'static str,
    rate: i64,
    new_rate: i64,
    min_inc: (u32, u32),
    fee: i64,
    cruise: i64,
) -> Entry {
    Entry {
        prefix,
        rate,
        new_rate: if new_rate > 0 { Some(new_rate) } else { None },
        min_s: min_inc.0,
        increment_s: min_inc.1,
        fee,
        cruise,
        cruise_new: if new_rate > 0 {
            cruise + cruise / 10
        } else {
            cruise
        },
    }
}

/// The `*` deck (EUR) and cruise overrides (USD, 60/60), micro-units per minute.
#[rustfmt::skip]
static DECK: [Entry; 25] = [
    e("1", 10_000, 9_000, (1, 1), 0, 1_990_000),
    e("31", 15_000, 0, (60, 60), 0, 2_490_000),
    e("316", 90_000, 0, (60, 60), 0, 2_990_000),
    e("32", 20_000, 0, (30, 6), 0, 2_490_000),
    e("3247", 110_000, 0, (30, 6), 0, 2_990_000),
    e("33", 15_000, 0, (60, 60), 0, 2_490_000),
    e("336", 80_000, 0, (60, 60), 0, 2_990_000),
    e("337", 80_000, 0, (60, 60), 0, 2_990_000),
    e("34", 15_000, 0, (30, 6), 0, 2_490_000),
    e("346", 60_000, 0, (30, 6), 0, 2_990_000),
    e("39", 18_000, 0, (60, 60), 0, 2_490_000),
    e("393", 70_000, 0, (60, 60), 0, 2_990_000),
    e("41", 35_000, 0, (30, 6), 0, 2_490_000),
    e("417", 250_000, 0, (30, 6), 0, 3_490_000),
    e("44", 12_000, 13_500, (60, 60), 0, 2_490_000),
    e("447", 50_000, 42_500, (60, 60), 0, 2_990_000),
    e("49", 11_000, 0, (60, 60), 0, 2_490_000),
    e("4915", 85_000, 0, (60, 60), 0, 2_990_000),
    e("4917", 85_000, 0, (60, 60), 0, 2_990_000),
    e("380", 120_000, 135_000, (1, 1), 0, 3_990_000),
    e("38067", 160_000, 0, (1, 1), 0, 3_990_000),
    e("91", 30_000, 0, (1, 1), 50_000, 4_990_000),
    e("86", 25_000, 0, (1, 1), 50_000, 4_990_000),
    e("8613", 28_000, 0, (1, 1), 50_000, 4_990_000),
    e("38050", 150_000, 0, (1, 1), 0, 3_990_000),
];

/// The rate deck of one generated data set.
pub(crate) struct Deck {
    /// `valid_from` of the first generation (2020-01-01 or the start date, if earlier).
    pub base_from: i64,
    /// `valid_from` of the price changes: the middle of the generated range.
    pub change_at: i64,
}

/// A rate found for a destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rate {
    /// Price per minute, micro-units.
    pub rate: i64,
    /// Currency of the price.
    pub currency: &'static str,
}

/// Cruise price for the cruise tenant with 0-based `ordinal` among the cruise tenants.
fn cruise_price(base: i64, ordinal: u32) -> i64 {
    base + base * i64::from(ordinal % 5) / 10
}

impl Deck {
    /// Longest-prefix rate for a cruise tenant calling `destination` at `at`: the cruise
    /// override rows cover every prefix, so they always win (60/60, no connect fee).
    pub(crate) fn cruise_rate(&self, ordinal: u32, destination: &str, at: i64) -> Option<Rate> {
        let digits = destination.strip_prefix('+').unwrap_or(destination);
        let entry = DECK
            .iter()
            .filter(|e| digits.starts_with(e.prefix))
            .max_by_key(|e| e.prefix.len())?;
        let base = if at >= self.change_at {
            entry.cruise_new
        } else {
            entry.cruise
        };
        Some(Rate {
            rate: cruise_price(base, ordinal),
            currency: "USD",
        })
    }

    /// Writes `rates.csv`: the `*` deck (EUR, with its own increments and a few connect
    /// fees), then each cruise tenant's overrides (USD, 60/60, no fee), each with a second
    /// generation at the price change where the `*` row has one.
    pub(crate) fn write(
        &self,
        out: &mut CsvOut,
        cruise_tenants: &[&str],
    ) -> Result<(), GenerateError> {
        for entry in &DECK {
            let mut row = RateRow {
                tenant: "*",
                prefix: entry.prefix,
                rate: entry.rate,
                min_s: entry.min_s,
                increment_s: entry.increment_s,
                fee: entry.fee,
                currency: "EUR",
                valid_from: self.base_from,
            };
            row.write(out)?;
            if let Some(new_rate) = entry.new_rate {
                row.rate = new_rate;
                row.valid_from = self.change_at;
                row.write(out)?;
            }
        }
        for (ordinal, tenant) in cruise_tenants.iter().enumerate() {
            let ordinal = ordinal as u32;
            for entry in &DECK {
                let mut row = RateRow {
                    tenant,
                    prefix: entry.prefix,
                    rate: cruise_price(entry.cruise, ordinal),
                    min_s: 60,
                    increment_s: 60,
                    fee: 0,
                    currency: "USD",
                    valid_from: self.base_from,
                };
                row.write(out)?;
                if entry.new_rate.is_some() {
                    row.rate = cruise_price(entry.cruise_new, ordinal);
                    row.valid_from = self.change_at;
                    row.write(out)?;
                }
            }
        }
        Ok(())
    }
}

/// One row of `rates.csv`.
struct RateRow<'a> {
    tenant: &'a str,
    prefix: &'a str,
    rate: i64,
    min_s: u32,
    increment_s: u32,
    fee: i64,
    currency: &'a str,
    valid_from: i64,
}

impl RateRow<'_> {
    fn write(&self, out: &mut CsvOut) -> Result<(), GenerateError> {
        out.text(self.tenant);
        out.text(self.prefix);
        out.money(self.rate);
        out.uint(u64::from(self.min_s));
        out.uint(u64::from(self.increment_s));
        out.money(self.fee);
        out.text(self.currency);
        out.ts(self.valid_from);
        out.end_row()
    }
}

/// Header of `rates.csv`.
pub(crate) const RATES_HEADER: [&str; 8] = [
    "tenant",
    "prefix",
    "rate_per_min",
    "min_s",
    "increment_s",
    "connect_fee",
    "currency",
    "valid_from",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billable_seconds_matches_spec_examples() {
        assert_eq!(billable_seconds(32, 60, 60), 60);
        assert_eq!(billable_seconds(61, 60, 60), 120);
        assert_eq!(billable_seconds(32, 30, 6), 36);
        assert_eq!(billable_seconds(1, 1, 1), 1);
        assert_eq!(billable_seconds(0, 60, 60), 0);
        assert_eq!(billable_seconds(60, 60, 60), 60);
    }

    #[test]
    fn charge_is_exact() {
        // 32 s at 0.0123/min, 60/60: billed 60 s, charged 0.0123.
        let billed = billable_seconds(32, 60, 60);
        assert_eq!(billed, 60);
        assert_eq!(charge_micros(billed, 12_300, 0), 12_300);
        // 36 s at 0.0123/min: 0.00738 exactly.
        assert_eq!(charge_micros(36, 12_300, 0), 7_380);
        // 1 s at 0.000001/min: 1/60 micro rounds to 0; 30 s rounds half away from zero to 1.
        assert_eq!(charge_micros(1, 1, 0), 0);
        assert_eq!(charge_micros(30, 1, 0), 1);
        assert_eq!(charge_micros(0, 12_300, 50_000), 0);
        assert_eq!(charge_micros(60, 12_300, 50_000), 62_300);
    }

    #[test]
    fn cruise_rates_follow_the_deck() {
        let deck = Deck {
            base_from: 0,
            change_at: 1000,
        };
        let r = deck.cruise_rate(0, "447700900123", 10).map(|r| r.rate);
        assert_eq!(r, Some(2_990_000));
        let r = deck.cruise_rate(0, "+447700900123", 2000).map(|r| r.rate);
        assert_eq!(r, Some(3_289_000));
        assert_eq!(
            deck.cruise_rate(1, "4930123456", 10).map(|r| r.rate),
            Some(2_739_000)
        );
        // Emergency codes start with 1 and would match the US prefix: exclusion comes first.
        assert_eq!(deck.cruise_rate(0, "2712345678", 10), None);
    }
}
