//! Phone numbers: a small numbering plan per country, number styles (E.164 digits, `+`,
//! national), per-tenant identities derived from a hash, Zipf-like caller pools, emergency
//! and `116xxx` short codes.
//!
//! Number ranges are chosen to be valid in the real numbering plans (first subscriber digit
//! 2–9, real area and mobile codes), so that a phone-number library accepts them.

use rand::Rng;

/// Destination network type as the carrier names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Network {
    /// Geographic fixed line.
    Fixed,
    /// Mobile network.
    Mobile,
    /// Toll-free (freephone) range; only used for DIDs.
    TollFree,
}

impl Network {
    /// The carrier's network name (`Fixed`, `Mobile`, `Toll-free`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Network::Fixed => "Fixed",
            Network::Mobile => "Mobile",
            Network::TollFree => "Toll-free",
        }
    }
}

/// A block of numbers: national significant number prefix and length.
pub(crate) struct Range {
    /// Leading digits of the national significant number.
    pub prefix: &'static str,
    /// Total length of the national significant number.
    pub nsn_len: u8,
    /// Network of the block.
    pub network: Network,
}

/// A country of the synthetic numbering plan.
pub(crate) struct Country {
    /// English name, as the carrier prints it.
    pub name: &'static str,
    /// Country calling code.
    pub cc: &'static str,
    /// Member of the EEA (EU 27, Iceland, Liechtenstein, Norway).
    pub eea: bool,
    /// Number blocks; the first ones are fixed, then mobile.
    pub ranges: &'static [Range],
}

const fn r(prefix: &'static str, nsn_len: u8, network: Network) -> Range {
    Range {
        prefix,
        nsn_len,
        network,
    }
}

use Network::{Fixed as F, Mobile as M, TollFree as T};

/// Index of the United States in [`COUNTRIES`].
pub(crate) const US: usize = 0;
/// Index of the United Kingdom in [`COUNTRIES`].
pub(crate) const GB: usize = 1;
/// Index of Germany in [`COUNTRIES`].
pub(crate) const DE: usize = 2;
/// Index of the Netherlands in [`COUNTRIES`].
pub(crate) const NL: usize = 3;
/// Index of France in [`COUNTRIES`].
pub(crate) const FR: usize = 4;
/// Index of Spain in [`COUNTRIES`].
pub(crate) const ES: usize = 5;
/// Index of Italy in [`COUNTRIES`].
pub(crate) const IT: usize = 6;
/// Index of Belgium in [`COUNTRIES`].
pub(crate) const BE: usize = 7;
/// Index of Switzerland in [`COUNTRIES`].
pub(crate) const CH: usize = 8;
/// Index of Ukraine in [`COUNTRIES`].
pub(crate) const UA: usize = 9;
/// Index of India in [`COUNTRIES`].
pub(crate) const IN: usize = 10;
/// Index of China in [`COUNTRIES`].
pub(crate) const CN: usize = 11;

/// The numbering plan. `GB` includes Leicester (`116 2…`), whose digits contain `116` but
/// which is an ordinary geographic number.
#[rustfmt::skip]
pub(crate) static COUNTRIES: [Country; 12] = [
    Country { name: "United States", cc: "1", eea: false, ranges: &[r("212", 10, F), r("415", 10, F), r("312", 10, F), r("646", 10, M), r("917", 10, M), r("800", 10, T), r("888", 10, T)] },
    Country { name: "United Kingdom", cc: "44", eea: false, ranges: &[r("207", 10, F), r("161", 10, F), r("1162", 10, F), r("77", 10, M), r("79", 10, M), r("800", 10, T)] },
    Country { name: "Germany", cc: "49", eea: true, ranges: &[r("30", 10, F), r("89", 10, F), r("151", 11, M), r("170", 10, M)] },
    Country { name: "Netherlands", cc: "31", eea: true, ranges: &[r("20", 9, F), r("10", 9, F), r("61", 9, M), r("62", 9, M), r("64", 9, M), r("65", 9, M)] },
    Country { name: "France", cc: "33", eea: true, ranges: &[r("1", 9, F), r("4", 9, F), r("61", 9, M), r("64", 9, M), r("67", 9, M), r("75", 9, M), r("78", 9, M)] },
    Country { name: "Spain", cc: "34", eea: true, ranges: &[r("91", 9, F), r("93", 9, F), r("6", 9, M)] },
    Country { name: "Italy", cc: "39", eea: true, ranges: &[r("06", 10, F), r("02", 10, F), r("3", 10, M)] },
    Country { name: "Belgium", cc: "32", eea: true, ranges: &[r("2", 8, F), r("3", 8, F), r("47", 9, M)] },
    Country { name: "Switzerland", cc: "41", eea: false, ranges: &[r("44", 9, F), r("22", 9, F), r("79", 9, M)] },
    Country { name: "Ukraine", cc: "380", eea: false, ranges: &[r("44", 9, F), r("67", 9, M), r("50", 9, M)] },
    Country { name: "India", cc: "91", eea: false, ranges: &[r("11", 10, F), r("22", 10, F), r("98", 10, M)] },
    Country { name: "China", cc: "86", eea: false, ranges: &[r("10", 10, F), r("21", 10, F), r("139", 11, M)] },
];

/// Emergency short codes dialled from the generated tenants.
pub(crate) const EMERGENCY: [&str; 2] = ["112", "911"];
/// Harmonised European services of social value dialled by PBX users.
pub(crate) const SERVICES_116: [&str; 3] = ["116000", "116111", "116123"];

/// How a number is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// E.164 digits without `+` (`12125550143`), as carriers write them.
    Digits,
    /// E.164 with `+` (`+4930123456`).
    Plus,
    /// As a Dutch PBX writes numbers: national format with trunk prefix `0` for Dutch numbers
    /// (`0612345678`), `+` E.164 for the others.
    Dutch,
}

/// SplitMix64 finaliser: a fast, well-mixed 64-bit hash used for derived identities.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Hash of two values (order matters).
pub(crate) fn mix2(a: u64, b: u64) -> u64 {
    mix(mix(a) ^ b.rotate_left(17))
}

/// Appends `n` pseudo-random digits taken from `x`; the first is 2–9 (a valid subscriber
/// number start in every plan used here).
pub(crate) fn push_digits(buf: &mut String, n: usize, mut x: u64) {
    for i in 0..n {
        let d = if i == 0 {
            let d = 2 + (x % 8) as u8;
            x /= 8;
            d
        } else {
            let d = (x % 10) as u8;
            x /= 10;
            d
        };
        buf.push(char::from(b'0' + d));
    }
}

/// Appends the number of block `range` of `country` in `style`, subscriber digits from `x`.
pub(crate) fn push_number(buf: &mut String, country: usize, range: &Range, style: Style, x: u64) {
    let c = &COUNTRIES[country];
    match style {
        Style::Digits => buf.push_str(c.cc),
        Style::Plus => {
            buf.push('+');
            buf.push_str(c.cc);
        }
        Style::Dutch if country == NL => buf.push('0'),
        Style::Dutch => {
            buf.push('+');
            buf.push_str(c.cc);
        }
    }
    buf.push_str(range.prefix);
    push_digits(buf, usize::from(range.nsn_len) - range.prefix.len(), x);
}

/// Picks a block of `country` of the wanted network (`Fixed` or `Mobile`).
pub(crate) fn pick_range(country: usize, network: Network, x: u64) -> &'static Range {
    let ranges = COUNTRIES[country].ranges;
    let n = ranges
        .iter()
        .filter(|r| r.network == network)
        .count()
        .max(1);
    let k = (x % n as u64) as usize;
    ranges
        .iter()
        .filter(|r| r.network == network)
        .nth(k)
        .unwrap_or(&ranges[0])
}

/// Picks an index from `(item, weight)` pairs with probability proportional to weight.
pub(crate) fn pick_weighted<T: Copy, R: Rng + ?Sized>(rng: &mut R, table: &[(T, u32)]) -> T {
    let total: u32 = table.iter().map(|&(_, w)| w).sum();
    let mut x = rng.random_range(0..total.max(1));
    for &(item, w) in table {
        if x < w {
            return item;
        }
        x -= w;
    }
    table[table.len() - 1].0
}

/// Appends a random number of a country drawn from `countries`, mobile with probability
/// `mobile_pct` %, and returns (country, network).
pub(crate) fn push_random<R: Rng + ?Sized>(
    rng: &mut R,
    buf: &mut String,
    countries: &[(usize, u32)],
    mobile_pct: u32,
    style: Style,
) -> (usize, Network) {
    let country = pick_weighted(rng, countries);
    let network = if rng.random_range(0..100) < mobile_pct {
        Network::Mobile
    } else {
        Network::Fixed
    };
    let range = pick_range(country, network, rng.random());
    push_number(buf, country, range, style, rng.random());
    (country, range.network)
}

/// Appends the `k`-th fixed identity number of a tenant (main number, tracking number, DID,
/// customer CLI): the same `(salt, k)` always gives the same number.
pub(crate) fn push_identity(
    buf: &mut String,
    salt: u64,
    k: u64,
    countries: &[usize],
    network: Network,
    style: Style,
) -> usize {
    let h = mix2(salt, k);
    let country = countries[(h % countries.len() as u64) as usize];
    let range = pick_range(country, network, h >> 32);
    push_number(buf, country, range, style, mix(h));
    country
}

/// Spread of caller ranks: the least active rank drawn is `RANK_SPREAD` times the most active.
const RANK_SPREAD: f64 = 1000.0;

/// A tenant's population of callers with a Zipf-like repeat pattern: caller ranks follow a
/// Zipf–Mandelbrot law of exponent 1 (rank `k` drawn with weight `1/k` from
/// `[q, q · RANK_SPREAD)`), the offset `q` scaled to the tenant's call volume so that the most
/// active caller calls about `top_per_day` times a day whatever the volume, a few others call
/// several times a day (repeat calls), and most call once. A rank's number never changes.
pub(crate) struct CallerPool {
    offset: f64,
    salt: u64,
    countries: &'static [(usize, u32)],
    mobile_pct: u64,
    style: Style,
}

impl CallerPool {
    /// A pool for a tenant with `calls_per_day` calls drawing on it.
    pub(crate) fn new(
        calls_per_day: f64,
        top_per_day: f64,
        salt: u64,
        countries: &'static [(usize, u32)],
        mobile_pct: u64,
        style: Style,
    ) -> Self {
        let offset = (calls_per_day / (top_per_day * RANK_SPREAD.ln())).max(1.0);
        CallerPool {
            offset,
            salt,
            countries,
            mobile_pct,
            style,
        }
    }

    /// Appends the number of a caller drawn from the pool; returns its country.
    pub(crate) fn push_caller<R: Rng + ?Sized>(&self, rng: &mut R, buf: &mut String) -> usize {
        let u: f64 = rng.random();
        let rank = (self.offset * (u * RANK_SPREAD.ln()).exp()) as u64;
        let h = mix2(self.salt, rank);
        let total: u64 = self.countries.iter().map(|&(_, w)| u64::from(w)).sum();
        let mut x = h % total.max(1);
        let mut country = self.countries[0].0;
        for &(c, w) in self.countries {
            if x < u64::from(w) {
                country = c;
                break;
            }
            x -= u64::from(w);
        }
        let h2 = mix(h);
        let network = if h2 % 100 < self.mobile_pct {
            Network::Mobile
        } else {
            Network::Fixed
        };
        let range = pick_range(country, network, h2 >> 8);
        push_number(buf, country, range, self.style, mix(h2));
        country
    }
}

/// Country of an E.164 number written as digits or `+digits`, by longest calling code.
#[cfg(test)]
pub(crate) fn country_of(number: &str) -> Option<usize> {
    let digits = number.strip_prefix('+').unwrap_or(number);
    COUNTRIES
        .iter()
        .enumerate()
        .filter(|(_, c)| digits.starts_with(c.cc))
        .max_by_key(|(_, c)| c.cc.len())
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn numbers_have_plan_lengths() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for (ci, c) in COUNTRIES.iter().enumerate() {
            for range in c.ranges {
                let mut s = String::new();
                push_number(&mut s, ci, range, Style::Digits, rng.random());
                assert_eq!(s.len(), c.cc.len() + usize::from(range.nsn_len), "{s}");
                assert!(s.bytes().all(|b| b.is_ascii_digit()));
                assert_eq!(country_of(&s), Some(ci), "{s}");
            }
        }
        let mut s = String::new();
        push_number(&mut s, NL, &COUNTRIES[NL].ranges[2], Style::Dutch, 7);
        assert!(s.starts_with("06") && s.len() == 10, "{s}");
    }

    #[test]
    fn zipf_pool_repeats_callers() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let pool = CallerPool::new(5000.0, 12.0, 9, &[(UA, 1)], 70, Style::Digits);
        let mut seen = std::collections::HashMap::new();
        for _ in 0..5000 {
            let mut s = String::new();
            pool.push_caller(&mut rng, &mut s);
            *seen.entry(s).or_insert(0u32) += 1;
        }
        let top = seen.values().copied().max().unwrap_or(0);
        assert!(
            (5..=30).contains(&top),
            "top caller calls about 12 times: {top}"
        );
        let once = seen.values().filter(|&&n| n == 1).count();
        assert!(once * 2 > seen.len(), "most callers call once");
        assert!(
            seen.values().filter(|&&n| n >= 2).count() > 100,
            "many repeat callers"
        );
    }
}
