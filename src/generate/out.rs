//! Buffered CSV row writer and the allocation-free formatting the generator needs.
//!
//! Every output file goes through [`CsvOut`]: a row is assembled field by field in a reused
//! byte buffer (integers, 6-decimal money, RFC 3339 and `YYYY-MM-DD HH:MM:SS` timestamps are
//! formatted by hand, without `format!`), then handed to a large `BufWriter`. Text fields are
//! quoted per RFC 4180 only when they contain a comma, a quote or a line break; an empty
//! field is a null.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::GenerateError;

/// Micro-units per unit: money is carried as `i64` millionths and printed with at most six
/// fractional digits.
pub(crate) const MICROS: i64 = 1_000_000;

/// A CSV file being written: header first, then one row per [`CsvOut::end_row`].
pub(crate) struct CsvOut {
    path: PathBuf,
    w: BufWriter<File>,
    line: Vec<u8>,
    rows: u64,
    bytes: u64,
}

impl CsvOut {
    /// Creates (truncates) `path` and writes the header row.
    pub(crate) fn create(path: &Path, header: &[&str]) -> Result<Self, GenerateError> {
        let file = File::create(path).map_err(|source| GenerateError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut out = CsvOut {
            path: path.to_path_buf(),
            w: BufWriter::with_capacity(1 << 20, file),
            line: Vec::with_capacity(512),
            rows: 0,
            bytes: 0,
        };
        for h in header {
            out.text(h);
        }
        out.end_line()?;
        Ok(out)
    }

    /// Appends a text field, quoting it only when needed.
    pub(crate) fn text(&mut self, s: &str) {
        if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
            self.line.push(b'"');
            for b in s.bytes() {
                if b == b'"' {
                    self.line.push(b'"');
                }
                self.line.push(b);
            }
            self.line.push(b'"');
        } else {
            self.line.extend_from_slice(s.as_bytes());
        }
        self.line.push(b',');
    }

    /// Appends raw bytes to the current field without a separator (for composed values such
    /// as a recording URL); finish the field with [`CsvOut::sep`]. The bytes must not need
    /// quoting.
    pub(crate) fn raw(&mut self, s: &str) {
        debug_assert!(!s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')));
        self.line.extend_from_slice(s.as_bytes());
    }

    /// Ends the current field.
    pub(crate) fn sep(&mut self) {
        self.line.push(b',');
    }

    /// Appends an empty (null) field.
    pub(crate) fn empty(&mut self) {
        self.line.push(b',');
    }

    /// Appends an unsigned integer field.
    pub(crate) fn uint(&mut self, v: u64) {
        push_u64(&mut self.line, v);
        self.line.push(b',');
    }

    /// Appends an optional unsigned integer field.
    pub(crate) fn opt_uint(&mut self, v: Option<u64>) {
        match v {
            Some(v) => self.uint(v),
            None => self.empty(),
        }
    }

    /// Appends a money field given in micro-units.
    pub(crate) fn money(&mut self, micros: i64) {
        push_micros(&mut self.line, micros);
        self.line.push(b',');
    }

    /// Appends an optional money field given in micro-units.
    pub(crate) fn opt_money(&mut self, micros: Option<i64>) {
        match micros {
            Some(v) => self.money(v),
            None => self.empty(),
        }
    }

    /// Appends an RFC 3339 UTC timestamp (`2026-11-01T08:15:02Z`).
    pub(crate) fn ts(&mut self, unix: i64) {
        push_timestamp(&mut self.line, unix, b'T');
        self.line.extend_from_slice(b"Z,");
    }

    /// Appends an optional RFC 3339 UTC timestamp.
    pub(crate) fn opt_ts(&mut self, unix: Option<i64>) {
        match unix {
            Some(v) => self.ts(v),
            None => self.empty(),
        }
    }

    /// Appends an optional `YYYY-MM-DD HH:MM:SS` timestamp (the carrier's export format).
    pub(crate) fn opt_ts_plain(&mut self, unix: Option<i64>) {
        if let Some(v) = unix {
            push_timestamp(&mut self.line, v, b' ');
        }
        self.line.push(b',');
    }

    /// Finishes the row: replaces the trailing separator with `\n` and writes it.
    pub(crate) fn end_row(&mut self) -> Result<(), GenerateError> {
        self.end_line()?;
        self.rows += 1;
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), GenerateError> {
        match self.line.last_mut() {
            Some(last) if *last == b',' => *last = b'\n',
            _ => self.line.push(b'\n'),
        }
        if let Err(source) = self.w.write_all(&self.line) {
            return Err(GenerateError::Io {
                path: self.path.clone(),
                source,
            });
        }
        self.bytes += self.line.len() as u64;
        self.line.clear();
        Ok(())
    }

    /// Flushes the file and returns (path, data rows, bytes written including the header).
    pub(crate) fn finish(mut self) -> Result<(PathBuf, u64, u64), GenerateError> {
        if let Err(source) = self.w.flush() {
            return Err(GenerateError::Io {
                path: self.path,
                source,
            });
        }
        Ok((self.path, self.rows, self.bytes))
    }
}

/// Appends the decimal digits of `v`.
pub(crate) fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Appends `v` zero-padded to `width` digits (more digits when `v` needs them).
pub(crate) fn push_padded(buf: &mut Vec<u8>, v: u64, width: usize) {
    let mut digits = 1;
    let mut x = v / 10;
    while x > 0 {
        digits += 1;
        x /= 10;
    }
    for _ in digits..width {
        buf.push(b'0');
    }
    push_u64(buf, v);
}

/// Appends a micro-unit amount as plain decimal text: `12300` → `0.0123`, `1250000` → `1.25`,
/// `0` → `0`. At most six fractional digits, trailing zeros dropped, never an exponent.
pub(crate) fn push_micros(buf: &mut Vec<u8>, micros: i64) {
    if micros < 0 {
        buf.push(b'-');
    }
    let abs = micros.unsigned_abs();
    push_u64(buf, abs / MICROS as u64);
    let mut frac = abs % MICROS as u64;
    if frac > 0 {
        buf.push(b'.');
        let mut width = 6;
        while frac.is_multiple_of(10) {
            frac /= 10;
            width -= 1;
        }
        push_padded(buf, frac, width);
    }
}

/// Formats a micro-unit amount as a `String` (see [`push_micros`]).
#[cfg(test)]
pub(crate) fn micros_to_string(micros: i64) -> String {
    let mut buf = Vec::with_capacity(24);
    push_micros(&mut buf, micros);
    String::from_utf8_lossy(&buf).into_owned()
}

/// Appends `YYYY-MM-DD<sep>HH:MM:SS` for a Unix time in seconds (UTC).
pub(crate) fn push_timestamp(buf: &mut Vec<u8>, unix: i64, sep: u8) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400) as u64;
    let (y, m, d) = civil_from_days(days);
    push_padded(buf, y.max(0) as u64, 4);
    buf.push(b'-');
    push_padded(buf, u64::from(m), 2);
    buf.push(b'-');
    push_padded(buf, u64::from(d), 2);
    buf.push(sep);
    push_padded(buf, secs / 3600, 2);
    buf.push(b':');
    push_padded(buf, secs / 60 % 60, 2);
    buf.push(b':');
    push_padded(buf, secs % 60, 2);
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn ts(unix: i64, sep: u8) -> String {
        let mut b = Vec::new();
        push_timestamp(&mut b, unix, sep);
        String::from_utf8(b).expect("ascii")
    }

    #[test]
    fn money_is_plain_decimal() {
        assert_eq!(micros_to_string(0), "0");
        assert_eq!(micros_to_string(12_300), "0.0123");
        assert_eq!(micros_to_string(1_250_000), "1.25");
        assert_eq!(micros_to_string(2_000_000), "2");
        assert_eq!(micros_to_string(1), "0.000001");
        assert_eq!(micros_to_string(-1_500_000), "-1.5");
        assert_eq!(micros_to_string(123_456_789), "123.456789");
    }

    #[test]
    fn timestamps_match_chrono() {
        for unix in [
            0i64,
            951_782_400,
            1_793_520_902,
            4_102_444_799,
            1_709_164_800,
        ] {
            let want = DateTime::<Utc>::from_timestamp(unix, 0).expect("in range");
            assert_eq!(ts(unix, b'T'), want.format("%Y-%m-%dT%H:%M:%S").to_string());
            assert_eq!(ts(unix, b' '), want.format("%Y-%m-%d %H:%M:%S").to_string());
        }
    }

    #[test]
    fn padding() {
        let mut b = Vec::new();
        push_padded(&mut b, 42, 6);
        push_padded(&mut b, 1_234_567, 3);
        assert_eq!(b, b"0000421234567");
    }
}
