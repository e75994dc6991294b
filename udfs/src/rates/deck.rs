//! The rate deck in memory: rates by tenant and destination prefix, each prefix's rates in
//! `valid_from` order, and the longest-prefix look-up of SPEC 2.4.
//!
//! A look-up walks the destination's digits from the longest prefix the deck holds down to one
//! digit; at each length it asks two hash maps (the tenant's own rates and the `*` rates) and,
//! in each, binary-searches the newest rate whose `valid_from` is not after the call. The first
//! length with an applicable rate decides, so a longer `*` prefix beats a shorter prefix of the
//! tenant's own. At one length the newer `valid_from` wins, and at the same `valid_from` the
//! tenant's own rate beats `*` (SPEC 2.4: "the newest applicable wins; at the same prefix and
//! valid_from a tenant's own row beats `*`").

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Decimal128Array, Int32Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Decimal128Type, Int32Type, TimeUnit, TimestampMicrosecondType,
};
use datafusion::arrow::error::ArrowError;

use crate::billing::{CHARGE_PRECISION, CHARGE_SCALE};

/// The tenant of rates that apply to every tenant.
pub const ALL_TENANTS: &str = "*";

/// One rate of the deck (a row of `rates` without its tenant). Money is raw `DECIMAL(18,6)`
/// (millionths); `valid_from` is microseconds since 1970-01-01 UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rate {
    /// Destination digits prefix the rate applies to.
    pub prefix: String,
    /// Price per minute, in millionths.
    pub rate_per_min: i128,
    /// First billing block in seconds.
    pub min_s: i32,
    /// Following billing blocks in seconds.
    pub increment_s: i32,
    /// Price charged once for a connected call, in millionths.
    pub connect_fee: i128,
    /// ISO 4217 currency of the prices.
    pub currency: String,
    /// First instant the rate applies to (microseconds since the Unix epoch).
    pub valid_from: i64,
}

/// Why a `rates` table could not be read into a deck.
#[derive(Debug, thiserror::Error)]
pub enum RateDeckError {
    /// A column the deck needs is not in the table.
    #[error("rates: column {column} is missing")]
    MissingColumn {
        /// The missing column.
        column: &'static str,
    },
    /// A column has a type that does not convert to what the deck needs.
    #[error("rates: column {column} cannot be read as {expected}: {source}")]
    BadColumn {
        /// The column.
        column: &'static str,
        /// The type it should convert to.
        expected: DataType,
        /// Arrow's reason.
        source: ArrowError,
    },
    /// A required value is NULL.
    #[error("rates row {row}: {column} is NULL")]
    Null {
        /// 1-based row number over all batches read.
        row: usize,
        /// The column.
        column: &'static str,
    },
    /// A prefix holds something other than digits, or nothing.
    #[error("rates row {row}: prefix '{prefix}' is not a string of digits")]
    BadPrefix {
        /// 1-based row number over all batches read.
        row: usize,
        /// The prefix as stored.
        prefix: String,
    },
}

/// The deck's maps hash short keys (a tenant, a prefix) up to twice per digit of every number
/// rated: foldhash, not the standard library's SipHash.
type Hasher = foldhash::fast::RandomState;

/// Rates of one tenant: prefix → rates in `valid_from` order.
type Prefixes = HashMap<String, Vec<Rate>, Hasher>;

/// An immutable rate deck, built once per version of the `rates` table.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RateDeck {
    tenants: HashMap<String, Prefixes, Hasher>,
    longest: usize,
    rows: usize,
}

impl RateDeck {
    /// A deck of `(tenant, rate)` pairs. Of two rates with the same tenant, prefix and
    /// `valid_from`, the later one given wins.
    pub fn new(rates: impl IntoIterator<Item = (String, Rate)>) -> Self {
        let mut deck = RateDeck::default();
        for (tenant, rate) in rates {
            deck.longest = deck.longest.max(rate.prefix.len());
            deck.rows += 1;
            deck.tenants
                .entry(tenant)
                .or_default()
                .entry(rate.prefix.clone())
                .or_default()
                .push(rate);
        }
        for prefixes in deck.tenants.values_mut() {
            for rates in prefixes.values_mut() {
                // Stable: equal valid_from keep their input order, the later one last.
                rates.sort_by_key(|r| r.valid_from);
            }
        }
        deck
    }

    /// Number of rates in the deck.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether the deck holds no rate.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The rate of a call from `tenant` to `digits` (E.164 digits without `+`) starting at
    /// `at` (microseconds since the Unix epoch): see the module documentation.
    pub fn lookup(&self, tenant: &str, digits: &str, at: i64) -> Option<&Rate> {
        let own = (tenant != ALL_TENANTS)
            .then(|| self.tenants.get(tenant))
            .flatten();
        let all = self.tenants.get(ALL_TENANTS);
        for len in (1..=digits.len().min(self.longest)).rev() {
            let prefix = digits.get(..len)?;
            match (newest(own, prefix, at), newest(all, prefix, at)) {
                (Some(mine), Some(every)) if every.valid_from > mine.valid_from => {
                    return Some(every);
                }
                (Some(mine), _) => return Some(mine),
                (None, Some(every)) => return Some(every),
                (None, None) => {}
            }
        }
        None
    }

    /// A deck from batches of the `rates` table (SPEC 2.4): columns `tenant`, `prefix`,
    /// `rate_per_min`, `min_s`, `increment_s`, `currency`, `valid_from` are required and
    /// non-null; `connect_fee` is optional (missing or NULL means 0). Money is read as
    /// `DECIMAL(18,6)`, integers as `INT`, `valid_from` as microseconds UTC (a timestamp
    /// without zone is UTC). A `+` before a prefix's digits is ignored.
    pub fn from_batches(batches: &[RecordBatch]) -> Result<Self, RateDeckError> {
        let mut rates = Vec::new();
        let mut row = 0;
        for batch in batches {
            let columns = Columns::of(batch)?;
            for i in 0..batch.num_rows() {
                row += 1;
                rates.push(columns.rate(i, row)?);
            }
        }
        Ok(RateDeck::new(rates))
    }
}

/// The newest rate of `prefix` in `prefixes` whose `valid_from` is not after `at`.
fn newest<'d>(prefixes: Option<&'d Prefixes>, prefix: &str, at: i64) -> Option<&'d Rate> {
    let rates = prefixes?.get(prefix)?;
    let applicable = rates.partition_point(|r| r.valid_from <= at);
    applicable.checked_sub(1).and_then(|i| rates.get(i))
}

/// The columns of one batch of `rates`, cast to the deck's types.
struct Columns {
    tenant: StringArray,
    prefix: StringArray,
    rate_per_min: Decimal128Array,
    min_s: Int32Array,
    increment_s: Int32Array,
    connect_fee: Option<Decimal128Array>,
    currency: StringArray,
    valid_from: TimestampMicrosecondArray,
}

fn money() -> DataType {
    DataType::Decimal128(CHARGE_PRECISION, CHARGE_SCALE)
}

impl Columns {
    fn of(batch: &RecordBatch) -> Result<Self, RateDeckError> {
        let column = |name: &'static str, to: &DataType| -> Result<Option<ArrayRef>, _> {
            let Some(array) = batch.column_by_name(name) else {
                return Ok(None);
            };
            cast(array, to)
                .map(Some)
                .map_err(|source| RateDeckError::BadColumn {
                    column: name,
                    expected: to.clone(),
                    source,
                })
        };
        let required = |name: &'static str, to: &DataType| {
            column(name, to)?.ok_or(RateDeckError::MissingColumn { column: name })
        };
        let text = |name| required(name, &DataType::Utf8).map(|a| a.as_string::<i32>().clone());
        let int =
            |name| required(name, &DataType::Int32).map(|a| a.as_primitive::<Int32Type>().clone());
        let instant = DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from(crate::time::UTC)));
        Ok(Columns {
            tenant: text("tenant")?,
            prefix: text("prefix")?,
            rate_per_min: required("rate_per_min", &money())?
                .as_primitive::<Decimal128Type>()
                .clone(),
            min_s: int("min_s")?,
            increment_s: int("increment_s")?,
            connect_fee: column("connect_fee", &money())?
                .map(|a| a.as_primitive::<Decimal128Type>().clone()),
            currency: text("currency")?,
            valid_from: required("valid_from", &instant)?
                .as_primitive::<TimestampMicrosecondType>()
                .clone(),
        })
    }

    /// Row `i` of the batch, `row` being its number over all batches (for messages).
    fn rate(&self, i: usize, row: usize) -> Result<(String, Rate), RateDeckError> {
        fn get<A: Array, T>(
            array: &A,
            i: usize,
            row: usize,
            column: &'static str,
            value: impl Fn(&A, usize) -> T,
        ) -> Result<T, RateDeckError> {
            if array.is_valid(i) {
                Ok(value(array, i))
            } else {
                Err(RateDeckError::Null { row, column })
            }
        }
        let text = |a: &StringArray, i| a.value(i).to_owned();
        let prefix = get(&self.prefix, i, row, "prefix", text)?;
        let digits = prefix.strip_prefix('+').unwrap_or(&prefix);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RateDeckError::BadPrefix { row, prefix });
        }
        let rate = Rate {
            prefix: digits.to_owned(),
            rate_per_min: get(&self.rate_per_min, i, row, "rate_per_min", |a, i| {
                a.value(i)
            })?,
            min_s: get(&self.min_s, i, row, "min_s", |a, i| a.value(i))?,
            increment_s: get(&self.increment_s, i, row, "increment_s", |a, i| a.value(i))?,
            connect_fee: self
                .connect_fee
                .as_ref()
                .filter(|a| a.is_valid(i))
                .map_or(0, |a| a.value(i)),
            currency: get(&self.currency, i, row, "currency", text)?,
            valid_from: get(&self.valid_from, i, row, "valid_from", |a, i| a.value(i))?,
        };
        Ok((get(&self.tenant, i, row, "tenant", text)?, rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(prefix: &str, per_min: i128, valid_from: i64) -> Rate {
        Rate {
            prefix: prefix.into(),
            rate_per_min: per_min,
            min_s: 60,
            increment_s: 60,
            connect_fee: 0,
            currency: "EUR".into(),
            valid_from,
        }
    }

    fn deck() -> RateDeck {
        RateDeck::new([
            ("*".into(), rate("44", 100, 0)),
            ("*".into(), rate("447", 200, 0)),
            ("*".into(), rate("447", 250, 1_000)),
            ("acme".into(), rate("44", 50, 0)),
            ("acme".into(), rate("4420", 40, 500)),
            ("acme".into(), rate("31", 30, 0)),
            ("*".into(), rate("31", 35, 0)),
            ("*".into(), rate("1", 10, 0)),
            ("acme".into(), rate("1", 11, 2_000)),
            ("*".into(), rate("1", 12, 3_000)),
        ])
    }

    fn per_min(deck: &RateDeck, tenant: &str, digits: &str, at: i64) -> Option<i128> {
        deck.lookup(tenant, digits, at).map(|r| r.rate_per_min)
    }

    #[test]
    fn longest_prefix_wins_over_the_tenant() {
        let d = deck();
        assert_eq!(per_min(&d, "acme", "447700900123", 0), Some(200));
        assert_eq!(per_min(&d, "acme", "442071234567", 0), Some(50));
        assert_eq!(per_min(&d, "acme", "442071234567", 500), Some(40));
        assert_eq!(per_min(&d, "other", "442071234567", 500), Some(100));
        assert_eq!(per_min(&d, "other", "33123", 500), None);
        assert_eq!(per_min(&d, "other", "", 500), None);
    }

    #[test]
    fn newest_valid_from_not_after_the_call() {
        let d = deck();
        assert_eq!(per_min(&d, "x", "447700", 999), Some(200));
        assert_eq!(per_min(&d, "x", "447700", 1_000), Some(250));
        // Before any 4420 rate of acme applies, the shorter 44 decides.
        assert_eq!(per_min(&d, "acme", "4420", 499), Some(50));
        assert_eq!(per_min(&d, "x", "447", -1), None);
    }

    #[test]
    fn tenant_beats_star_only_at_the_same_valid_from() {
        let d = deck();
        assert_eq!(per_min(&d, "acme", "3120", 0), Some(30));
        assert_eq!(per_min(&d, "other", "3120", 0), Some(35));
        assert_eq!(per_min(&d, "*", "3120", 0), Some(35));
        assert_eq!(per_min(&d, "acme", "1212", 1_000), Some(10));
        assert_eq!(per_min(&d, "acme", "1212", 2_500), Some(11));
        assert_eq!(per_min(&d, "acme", "1212", 3_000), Some(12));
    }

    #[test]
    fn later_duplicate_wins() {
        let d = RateDeck::new([("*".into(), rate("1", 1, 0)), ("*".into(), rate("1", 2, 0))]);
        assert_eq!(per_min(&d, "t", "1", 0), Some(2));
        assert_eq!(d.len(), 2);
    }
}
