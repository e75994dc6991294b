//! The rate deck in memory: rates by destination prefix and tenant, each prefix's rates in
//! `valid_from` order, and the longest-prefix look-up of SPEC 2.4.
//!
//! The prefixes of every tenant form one trie of digits. A look-up walks the destination's
//! digits down it, one array index per digit, to the deepest node that holds rates, then asks
//! that node and each rated node above it, deepest first, for the tenant's own and the `*`
//! rates' newest whose `valid_from` is not after the call (a binary search each). The deepest
//! node with an applicable rate decides, so a longer `*` prefix beats a shorter prefix of the
//! tenant's own. At one node the newer `valid_from` wins,
//! and at the same `valid_from` the tenant's own rate beats `*` (SPEC 2.4: "the newest
//! applicable wins; at the same prefix and valid_from a tenant's own row beats `*`").
//!
//! The deck also holds its rates as Arrow columns ([`RateDeck::columns`]): `rate_lookup`
//! finds each row's rate as a position and gathers the result's fields with Arrow's `take`.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

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

/// A tenant's number in the deck ([`RateDeck::tenant`]).
pub type TenantId = u32;

/// A node of the prefix trie: the node of each next digit (0 for none: the root is no one's
/// child), the node's rates as `(tenant, range of RateDeck::rates)` pairs, and the nearest
/// node above it that has rates (0 for none: the root has none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Node {
    children: [u32; 10],
    rates: Vec<(TenantId, Range<usize>)>,
    rated_above: u32,
}

/// An immutable rate deck, built once per version of the `rates` table.
#[derive(Debug, Clone)]
pub struct RateDeck {
    /// Different for every deck built in the process (never 0): what a memo of trie nodes
    /// ([`RateDeck::deepest_rated`]) was computed against.
    stamp: u32,
    /// The trie; node 0 is the root (the empty prefix, which holds no rate).
    nodes: Vec<Node>,
    /// Every rate, grouped by node and tenant, each group in `valid_from` order.
    rates: Vec<Rate>,
    /// The `valid_from` of each rate, apart: a look-up searches them.
    valid_from: Vec<i64>,
    tenants: HashMap<String, TenantId, foldhash::fast::RandomState>,
    /// The number of [`ALL_TENANTS`], when it has rates.
    all: Option<TenantId>,
    /// The fields of `rates`, in order, as `rate_lookup`'s result has them.
    columns: Vec<ArrayRef>,
}

impl Default for RateDeck {
    fn default() -> Self {
        RateDeck::new([])
    }
}

impl RateDeck {
    /// A deck of `(tenant, rate)` pairs. Of two rates with the same tenant, prefix and
    /// `valid_from`, the later one given wins. A rate whose prefix is not digits (or empty)
    /// could never apply and is left out.
    pub fn new(rates: impl IntoIterator<Item = (String, Rate)>) -> Self {
        let mut tenants = HashMap::default();
        let mut nodes = vec![Node::default()];
        // (node, tenant, position given, rate): sorted, it groups each node's tenants.
        let mut placed = Vec::new();
        for (position, (tenant, rate)) in rates.into_iter().enumerate() {
            // Such a prefix could never match a destination's digits.
            if rate.prefix.is_empty() || !rate.prefix.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let next = tenants.len() as TenantId;
            let tenant = *tenants.entry(tenant).or_insert(next);
            let mut node = 0;
            for digit in rate.prefix.bytes() {
                let slot = usize::from(digit - b'0');
                if nodes[node].children[slot] == 0 {
                    nodes[node].children[slot] = nodes.len() as u32;
                    nodes.push(Node::default());
                }
                node = nodes[node].children[slot] as usize;
            }
            placed.push((node, tenant, rate.valid_from, position, rate));
        }
        // Stable by position: equal valid_from keep their input order, the later one last.
        placed.sort_by_key(|&(node, tenant, valid_from, position, _)| {
            (node, tenant, valid_from, position)
        });
        let mut rates = Vec::with_capacity(placed.len());
        for (node, tenant, _, _, rate) in placed {
            let at = rates.len();
            match nodes[node].rates.last_mut() {
                Some((last, range)) if *last == tenant => range.end = at + 1,
                _ => nodes[node].rates.push((tenant, at..at + 1)),
            }
            rates.push(rate);
        }
        // A child comes after its parent: each node's nearest rated node above is known
        // before its children are reached.
        for node in 0..nodes.len() {
            let above = if nodes[node].rates.is_empty() {
                nodes[node].rated_above
            } else {
                node as u32
            };
            for child in nodes[node].children {
                if child != 0 {
                    nodes[child as usize].rated_above = above;
                }
            }
        }
        let columns = super::lookup::rate_columns(&rates);
        static BUILT: AtomicU32 = AtomicU32::new(0);
        RateDeck {
            // Wrapping after 4 billion decks could only meet a memo entry of that old a deck.
            stamp: BUILT.fetch_add(1, Ordering::Relaxed).wrapping_add(1).max(1),
            valid_from: rates.iter().map(|r| r.valid_from).collect(),
            nodes,
            rates,
            all: tenants.get(ALL_TENANTS).copied(),
            tenants,
            columns,
        }
    }

    /// Number of rates in the deck.
    pub fn len(&self) -> usize {
        self.rates.len()
    }

    /// Whether the deck holds no rate.
    pub fn is_empty(&self) -> bool {
        self.rates.is_empty()
    }

    /// The number of a tenant that has rates of its own; `None` for one that has none (and
    /// for [`ALL_TENANTS`], whose rates every look-up reads anyway).
    pub fn tenant(&self, tenant: &str) -> Option<TenantId> {
        (tenant != ALL_TENANTS)
            .then(|| self.tenants.get(tenant).copied())
            .flatten()
    }

    /// The rate at `position` ([`RateDeck::position`]).
    pub fn rate(&self, position: usize) -> Option<&Rate> {
        self.rates.get(position)
    }

    /// The rates' fields as Arrow columns, in the order of `rate_lookup`'s result; row `i` is
    /// the rate at position `i`.
    pub fn columns(&self) -> &[ArrayRef] {
        &self.columns
    }

    /// The rate of a call from `tenant` to `digits` (E.164 digits without `+`) starting at
    /// `at` (microseconds since the Unix epoch): see the module documentation.
    pub fn lookup(&self, tenant: &str, digits: &str, at: i64) -> Option<&Rate> {
        self.position(self.tenant(tenant), digits, at)
            .and_then(|p| self.rate(p))
    }

    /// [`RateDeck::lookup`] with the tenant's number already found, answering the rate's
    /// position.
    pub fn position(&self, tenant: Option<TenantId>, digits: &str, at: i64) -> Option<usize> {
        self.position_from(self.deepest_rated(digits), tenant, at)
    }

    /// The deck's stamp: different for every deck the process builds, never 0.
    pub(crate) fn stamp(&self) -> u32 {
        self.stamp
    }

    /// The deepest trie node on the path of `digits` that holds rates (0 for none): where
    /// [`RateDeck::position_from`] starts. It depends on the digits alone, so it can be
    /// remembered per number for as long as the deck ([`RateDeck::stamp`]) stands.
    pub(crate) fn deepest_rated(&self, digits: &str) -> u32 {
        let mut node = 0;
        let mut rated = 0;
        for digit in digits.bytes() {
            let slot = usize::from(digit.wrapping_sub(b'0'));
            match self.nodes[node].children.get(slot) {
                Some(&child) if child != 0 => node = child as usize,
                _ => break,
            }
            if !self.nodes[node].rates.is_empty() {
                rated = node;
            }
        }
        rated as u32
    }

    /// [`RateDeck::position`] from the [`RateDeck::deepest_rated`] node of the digits: that
    /// node, then the rated nodes above it, the first with an applicable rate deciding.
    pub(crate) fn position_from(
        &self,
        deepest_rated: u32,
        tenant: Option<TenantId>,
        at: i64,
    ) -> Option<usize> {
        let mut rated = deepest_rated as usize;
        while rated != 0 {
            let here = self.nodes.get(rated)?;
            if let Some(position) = self.applicable(&here.rates, tenant, at) {
                return Some(position);
            }
            rated = here.rated_above as usize;
        }
        None
    }

    /// Of a node's rates, the one that applies to `tenant` at `at`: the newest `valid_from`
    /// not after `at` of the tenant's own and of [`ALL_TENANTS`], the tenant's at a tie.
    fn applicable(
        &self,
        rates: &[(TenantId, Range<usize>)],
        tenant: Option<TenantId>,
        at: i64,
    ) -> Option<usize> {
        let newest = |who: Option<TenantId>| {
            let (_, range) = rates.iter().find(|(t, _)| Some(*t) == who)?;
            let applicable = self.valid_from[range.clone()].partition_point(|&v| v <= at);
            applicable.checked_sub(1).map(|i| range.start + i)
        };
        match (newest(tenant), newest(self.all)) {
            (Some(mine), Some(every)) if self.valid_from[every] > self.valid_from[mine] => {
                Some(every)
            }
            (Some(mine), _) => Some(mine),
            (None, every) => every,
        }
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
    fn a_deep_prefix_that_does_not_apply_falls_back_past_unrated_digits() {
        let d = RateDeck::new([
            ("*".into(), rate("4", 1, 0)),
            ("acme".into(), rate("441234", 2, 0)),
            ("*".into(), rate("4412345", 3, 100)),
        ]);
        assert_eq!(per_min(&d, "acme", "4412345678", 0), Some(2));
        assert_eq!(per_min(&d, "acme", "4412345678", 100), Some(3));
        assert_eq!(per_min(&d, "other", "4412345678", 0), Some(1));
        assert_eq!(per_min(&d, "other", "4412345678", 100), Some(3));
        assert_eq!(per_min(&d, "other", "44123", 100), Some(1));
        assert_eq!(per_min(&d, "other", "4", -1), None);
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
    fn prefixes_that_are_not_digits_never_apply() {
        let d = RateDeck::new([
            ("*".into(), rate("4a", 1, 0)),
            ("*".into(), rate("", 2, 0)),
            ("*".into(), rate("4", 3, 0)),
        ]);
        assert_eq!(d.len(), 1);
        assert_eq!(per_min(&d, "t", "49", 0), Some(3));
        assert_eq!(per_min(&d, "t", "4a", 0), Some(3));
        assert_eq!(per_min(&d, "t", "x4", 0), None);
    }

    #[test]
    fn columns_hold_the_rates_in_position_order() {
        let d = deck();
        let prefixes = d.columns()[0].as_string_view();
        for (tenant, digits, at) in [
            ("acme", "447700", 2_000),
            ("x", "1212", 0),
            ("acme", "31", 0),
        ] {
            let position = d.position(d.tenant(tenant), digits, at).expect("a rate");
            let rate = d.rate(position).expect("in the deck");
            assert_eq!(Some(rate), d.lookup(tenant, digits, at));
            assert_eq!(prefixes.value(position), rate.prefix);
        }
    }

    #[test]
    fn later_duplicate_wins() {
        let d = RateDeck::new([("*".into(), rate("1", 1, 0)), ("*".into(), rate("1", 2, 0))]);
        assert_eq!(per_min(&d, "t", "1", 0), Some(2));
        assert_eq!(d.len(), 2);
    }
}
