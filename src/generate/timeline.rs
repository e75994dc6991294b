//! Start times: rows spread evenly over the days of the range, with random gaps and a daily
//! shape (quiet nights, busy office hours), never decreasing through a file.

use chrono::NaiveDate;

use super::GenerateError;

/// The generated time range, `[start, end)` in Unix seconds.
pub(crate) struct Span {
    /// First second.
    pub start: i64,
    /// First second after the range.
    pub end: i64,
    /// Number of days.
    pub days: u32,
}

impl Span {
    /// The `days` days from `start`, which must lie between 1970-01-01 and 9999-12-31.
    pub(crate) fn new(start: NaiveDate, days: u32) -> Result<Self, GenerateError> {
        let first = NaiveDate::from_ymd_opt(1970, 1, 1);
        let last = NaiveDate::from_ymd_opt(9999, 12, 31);
        let end = start.checked_add_days(chrono::Days::new(u64::from(days)));
        match (first, last, end) {
            (Some(first), Some(last), Some(end)) if start >= first && end <= last => Ok(Span {
                start: unix_day(start),
                end: unix_day(end),
                days,
            }),
            _ => Err(GenerateError::InvalidOptions(format!(
                "start date {start} plus {days} days must lie between 1970-01-01 and 9999-12-31"
            ))),
        }
    }
}

/// Unix time of midnight UTC starting `d`.
pub(crate) fn unix_day(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp())
}

/// Relative call volume per UTC hour: quiet nights, busy office hours.
const HOURLY: [u32; 24] = [
    2, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 11, 10, 11, 12, 12, 11, 10, 8, 7, 6, 5, 4, 3,
];

/// Spreads `n` rows evenly over the days of a span, with random gaps and a daily shape;
/// start times never decrease.
pub(crate) struct Timeline {
    start: i64,
    days: u32,
    n: f64,
    cum: [f64; 25],
    last: i64,
}

impl Timeline {
    /// A timeline of `n` rows over `span`.
    pub(crate) fn new(span: &Span, n: u64) -> Self {
        let total: u32 = HOURLY.iter().sum();
        let mut cum = [0.0; 25];
        let mut acc = 0;
        for (h, w) in HOURLY.iter().enumerate() {
            acc += w;
            cum[h + 1] = f64::from(acc) / f64::from(total);
        }
        Timeline {
            start: span.start,
            days: span.days,
            n: n.max(1) as f64,
            cum,
            last: span.start,
        }
    }

    /// Start time of row `i`, `u` uniform in `[0, 1)`.
    pub(crate) fn at(&mut self, i: u64, u: f64) -> i64 {
        let p = (i as f64 + u) / self.n * f64::from(self.days);
        let day = (p.floor() as i64).clamp(0, i64::from(self.days) - 1);
        let frac = (p - day as f64).clamp(0.0, 1.0);
        let h = (self.cum.partition_point(|&c| c <= frac).max(1) - 1).min(23);
        let within = ((frac - self.cum[h]) / (self.cum[h + 1] - self.cum[h])).clamp(0.0, 0.999_999);
        let t = self.start + day * 86_400 + h as i64 * 3600 + (within * 3600.0) as i64;
        self.last = self.last.max(t);
        self.last
    }
}
