//! `COPY … FROM STDIN (FORMAT binary)`: PostgreSQL's binary copy file (what ADBC's bulk ingest
//! and psycopg's binary copy write) read into the CSV the ingest pipeline takes, one row a
//! tuple, so binary rows are validated, deduplicated and rejected like any others (a reject's
//! line is its tuple's number plus one, for the header line). Each field is read as the
//! binary form of its column's type, as PostgreSQL reads it: `text`; `int2`, `int4` or `int8`
//! for an integer column (told apart by their lengths); `numeric`; `timestamptz`
//! (microseconds since 2000-01-01 UTC); `date` (days since 2000-01-01); `bool`.

use std::io::{ErrorKind, Read, Write};

use chrono::{DateTime, NaiveDate, TimeDelta};

use crate::schema::ColumnType;

/// The first bytes of every binary copy file.
const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";
/// The header flag saying each tuple carries an OID.
const WITH_OIDS: u32 = 1 << 16;
/// 2000-01-01, PostgreSQL's epoch, in Unix microseconds.
const EPOCH_MICROS: i64 = 946_684_800_000_000;

/// Binary copy data that cannot be read, and where.
#[derive(Debug, thiserror::Error)]
pub enum BinaryCopyError {
    /// Not a binary copy file.
    #[error("COPY file signature not recognized")]
    Signature,
    /// Tuples with OIDs (PostgreSQL 11 and older).
    #[error("COPY data with OIDs is not supported")]
    Oids,
    /// A tuple that breaks its columns' binary forms.
    #[error("row {row}: {message}")]
    Row {
        /// 1-based tuple number.
        row: u64,
        /// What is wrong.
        message: String,
    },
    /// The data ends inside a tuple or before the trailer.
    #[error("unexpected end of the binary COPY data")]
    Truncated,
    /// Reading the spooled data or writing the CSV failed.
    #[error(transparent)]
    Io(std::io::Error),
}

impl From<std::io::Error> for BinaryCopyError {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            ErrorKind::UnexpectedEof => BinaryCopyError::Truncated,
            _ => BinaryCopyError::Io(e),
        }
    }
}

/// Writes the tuples of `input`, whose fields are `columns`, to `out` as CSV rows (without a
/// header); returns how many.
pub fn to_csv(
    mut input: impl Read,
    columns: &[ColumnType],
    out: &mut impl Write,
) -> Result<u64, BinaryCopyError> {
    let mut signature = [0u8; 11];
    input.read_exact(&mut signature)?;
    if &signature != SIGNATURE {
        return Err(BinaryCopyError::Signature);
    }
    if u32::from_be_bytes(read(&mut input)?) & WITH_OIDS != 0 {
        return Err(BinaryCopyError::Oids);
    }
    let extension = u32::from_be_bytes(read(&mut input)?);
    std::io::copy(
        &mut (&mut input).take(u64::from(extension)),
        &mut std::io::sink(),
    )?;
    let mut rows = 0;
    let mut field = Vec::new();
    loop {
        // The trailer ends the data; so does its end between tuples, as PostgreSQL takes it
        // (ADBC sends no trailer).
        let count = match read(&mut input).map(i16::from_be_bytes) {
            Ok(-1) => return Ok(rows),
            Ok(count) => count,
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(rows),
            Err(e) => return Err(e.into()),
        };
        rows += 1;
        let bad = |message: String| BinaryCopyError::Row { row: rows, message };
        if usize::try_from(count).ok() != Some(columns.len()) {
            return Err(bad(format!(
                "row field count is {count}, expected {}",
                columns.len()
            )));
        }
        for (i, ty) in columns.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            let Ok(len) = usize::try_from(i32::from_be_bytes(read(&mut input)?)) else {
                continue; // -1: NULL, an empty unquoted field
            };
            field.resize(len, 0);
            input.read_exact(&mut field)?;
            write_field(*ty, &field, out)?.map_err(|m| bad(format!("column {}: {m}", i + 1)))?;
        }
        out.write_all(b"\n")?;
    }
}

/// Writes one non-NULL field of type `ty` as CSV text; the inner error says why the bytes are
/// not a value of the type.
fn write_field(
    ty: ColumnType,
    bytes: &[u8],
    out: &mut impl Write,
) -> std::io::Result<Result<(), String>> {
    let text = match ty {
        ColumnType::Text => {
            let Ok(text) = std::str::from_utf8(bytes) else {
                return Ok(Err("invalid UTF-8".into()));
            };
            out.write_all(b"\"")?;
            out.write_all(text.replace('"', "\"\"").as_bytes())?;
            out.write_all(b"\"")?;
            return Ok(Ok(()));
        }
        ColumnType::Int | ColumnType::Bigint => match *bytes {
            [a, b] => i16::from_be_bytes([a, b]).to_string(),
            [a, b, c, d] => i32::from_be_bytes([a, b, c, d]).to_string(),
            [a, b, c, d, e, f, g, h] => i64::from_be_bytes([a, b, c, d, e, f, g, h]).to_string(),
            _ => return Ok(Err(format!("{} bytes are no integer", bytes.len()))),
        },
        ColumnType::Decimal => match numeric(bytes) {
            Ok(text) => text,
            Err(m) => return Ok(Err(m)),
        },
        ColumnType::Timestamptz => {
            let at = <[u8; 8]>::try_from(bytes)
                .ok()
                .map(i64::from_be_bytes)
                .and_then(|micros| micros.checked_add(EPOCH_MICROS))
                .and_then(DateTime::from_timestamp_micros);
            match at {
                Some(at) if at.timestamp_subsec_micros() == 0 => {
                    at.format("%Y-%m-%d %H:%M:%S+00").to_string()
                }
                Some(at) => at.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string(),
                None => return Ok(Err("not a finite timestamptz".into())),
            }
        }
        ColumnType::Date => {
            let day = <[u8; 4]>::try_from(bytes)
                .ok()
                .map(i32::from_be_bytes)
                .and_then(|days| {
                    NaiveDate::from_ymd_opt(2000, 1, 1)?
                        .checked_add_signed(TimeDelta::days(i64::from(days)))
                });
            match day {
                Some(day) => day.to_string(),
                None => return Ok(Err("not a finite date".into())),
            }
        }
        ColumnType::Boolean => match bytes {
            [0] => "false".into(),
            [1] => "true".into(),
            _ => return Ok(Err("not a bool".into())),
        },
    };
    out.write_all(text.as_bytes())?;
    Ok(Ok(()))
}

/// PostgreSQL's binary `numeric` (digit count, weight, sign, display scale, base-10000
/// digits) as decimal text with its display scale.
fn numeric(bytes: &[u8]) -> Result<String, String> {
    let word = |i: usize| -> Result<i32, String> {
        bytes
            .get(2 * i..2 * i + 2)
            .map(|b| i32::from(i16::from_be_bytes([b[0], b[1]])))
            .ok_or_else(|| "a numeric shorter than its digits".to_owned())
    };
    let (ndigits, weight, sign, dscale) = (word(0)?, word(1)?, word(2)? & 0xFFFF, word(3)?);
    let negative = match sign {
        0x0000 => false,
        0x4000 => true,
        _ => return Err("NaN and infinity are not numbers a column holds".into()),
    };
    let digit = |i: i32| -> Result<i32, String> {
        match usize::try_from(i) {
            Ok(i) if i < usize::try_from(ndigits).unwrap_or(0) => word(4 + i),
            _ => Ok(0),
        }
    };
    let mut text = String::new();
    if negative {
        text.push('-');
    }
    if weight < 0 {
        text.push('0');
    }
    for i in 0..=weight {
        let d = digit(i)?;
        if i == 0 {
            text.push_str(&d.to_string());
        } else {
            text.push_str(&format!("{d:04}"));
        }
    }
    if dscale > 0 {
        text.push('.');
        let mut fraction = String::new();
        let mut i = weight + 1;
        while fraction.len() < usize::try_from(dscale).unwrap_or(0) {
            fraction.push_str(&format!("{:04}", digit(i)?));
            i += 1;
        }
        fraction.truncate(usize::try_from(dscale).unwrap_or(0));
        text.push_str(&fraction);
    }
    Ok(text)
}

/// The next `N` bytes of `input` (a big-endian number of the copy format).
fn read<const N: usize>(input: &mut impl Read) -> std::io::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    input.read_exact(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A binary copy file of `rows`, each field `None` (NULL) or its bytes.
    fn file(rows: &[Vec<Option<Vec<u8>>>]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend([0u8; 8]);
        for row in rows {
            out.extend(i16::try_from(row.len()).expect("fields").to_be_bytes());
            for field in row {
                match field {
                    None => out.extend((-1i32).to_be_bytes()),
                    Some(b) => {
                        out.extend(i32::try_from(b.len()).expect("len").to_be_bytes());
                        out.extend(b);
                    }
                }
            }
        }
        out.extend((-1i16).to_be_bytes());
        out
    }

    /// `numeric` in PostgreSQL's binary form.
    fn numeric_bytes(words: &[i16]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_be_bytes()).collect()
    }

    #[test]
    fn tuples_become_csv_rows() {
        let types = [
            ColumnType::Text,
            ColumnType::Int,
            ColumnType::Decimal,
            ColumnType::Timestamptz,
            ColumnType::Date,
            ColumnType::Text,
        ];
        let at = 847_326_645_123_456i64; // 2026-11-07 00:30:45.123456 UTC
        let rows = vec![
            vec![
                Some(b"say \"hi\", x".to_vec()),
                Some(60i32.to_be_bytes().to_vec()),
                // -12.340000: 1 digit group before the point, 1 after, scale 6
                Some(numeric_bytes(&[2, 0, 0x4000, 6, 12, 3400])),
                Some(at.to_be_bytes().to_vec()),
                Some(9_807i32.to_be_bytes().to_vec()),
                Some(Vec::new()),
            ],
            vec![
                None,
                Some(7i64.to_be_bytes().to_vec()),
                // 0.000500
                Some(numeric_bytes(&[1, -1, 0, 6, 5])),
                Some(0i64.to_be_bytes().to_vec()),
                None,
                None,
            ],
        ];
        let mut out = Vec::new();
        let n = to_csv(file(&rows).as_slice(), &types, &mut out).expect("reads");
        assert_eq!(n, 2);
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "\"say \"\"hi\"\", x\",60,-12.340000,2026-11-07 00:30:45.123456+00,2026-11-07,\"\"\n\
             ,7,0.000500,2000-01-01 00:00:00+00,,\n"
        );
    }

    #[test]
    fn broken_data_names_its_row() {
        let types = [ColumnType::Int];
        let wrong = file(&[vec![Some(vec![1, 2, 3])]]);
        let err = to_csv(wrong.as_slice(), &types, &mut Vec::new()).expect_err("bad int");
        assert_eq!(err.to_string(), "row 1: column 1: 3 bytes are no integer");
        let fields = file(&[vec![None], vec![None, None]]);
        let err = to_csv(fields.as_slice(), &types, &mut Vec::new()).expect_err("count");
        assert_eq!(err.to_string(), "row 2: row field count is 2, expected 1");
        let mut cut = file(&[vec![Some(5i32.to_be_bytes().to_vec())]]);
        cut.truncate(cut.len() - 2);
        let rows = to_csv(cut.as_slice(), &types, &mut Vec::new()).expect("no trailer");
        assert_eq!(rows, 1, "data may end between tuples without the trailer");
        cut.truncate(cut.len() - 2);
        let err = to_csv(cut.as_slice(), &types, &mut Vec::new()).expect_err("cut");
        assert!(matches!(err, BinaryCopyError::Truncated), "{err}");
        let err = to_csv(&b"id,name\n"[..], &types, &mut Vec::new()).expect_err("csv");
        assert!(matches!(
            err,
            BinaryCopyError::Signature | BinaryCopyError::Truncated
        ));
    }
}
