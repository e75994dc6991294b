//! PostgreSQL's number patterns of `to_char`: `to_char(charge, 'FM999G990D00')`,
//! `'9,999.99'`, `'S9999'`, `'9999PR'`. The keywords (any case): `9` a digit (a blank where
//! the number has none), `0` a digit (a zero there), `.` or `D` the decimal point, `,` or `G`
//! a group separator (a blank before the first digit), `FM` no padding and no trailing zeros
//! in `9` places, `S` a sign anchored to the number (`+` or `-`), `MI` `-` or a blank in its
//! place, `PL` `+` in its place, `SG` `+` or `-` in its place, `PR` a negative number in angle
//! brackets; `"text"` and other characters are written as they are. Without `S`, `MI`, `SG`
//! or `PR` a sign column precedes the number: `-`, or a blank. The number is rounded to the
//! pattern's decimals (half away from zero; a float as C's `printf` rounds it), and a number
//! with more integer digits than the pattern has places is written as `#`s.
//!
//! `L`, `V`, `EEEE`, `RN` and `TH` (currency, shifting, scientific, roman and ordinal forms)
//! are refused.

use datafusion::common::{Result, plan_err};

/// One keyword or literal of a number pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A digit place: `0` (`zero`) or `9`.
    Digit {
        zero: bool,
    },
    Point,
    Group,
    /// `S`.
    Sign,
    /// `MI`.
    Minus,
    /// `PL`.
    Plus,
    /// `SG`.
    PlusMinus,
    /// `PR`.
    Brackets,
    Text(String),
}

/// A parsed number pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    tokens: Vec<Token>,
    fill: bool,
    /// Digit places before and after the decimal point.
    pre: usize,
    post: usize,
    /// The first integer place that is a `0`.
    zero_from: Option<usize>,
    /// Which fraction places are `0` (kept in fill mode) rather than `9`.
    fraction_zeros: Vec<bool>,
    /// `S` before the first digit place (anchored to the number's start).
    leading_sign: bool,
    /// Where the sign goes before the number.
    sign: SignColumn,
}

/// What is written just before a number's first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignColumn {
    /// `S` before the digits: `+` or `-`.
    Anchored,
    /// `PR`: `<` for a negative number.
    Bracket,
    /// Nothing: `MI`, `SG` or a trailing `S` write the sign in their place.
    None,
    /// No sign keyword: `-`, or a blank.
    Minus,
}

/// Keywords, longest first, and what they are.
const KEYWORDS: &[(&str, Option<Token>)] = &[
    ("EEEE", None),
    ("FM", Some(Token::Text(String::new()))),
    ("MI", Some(Token::Minus)),
    ("PL", Some(Token::Plus)),
    ("SG", Some(Token::PlusMinus)),
    ("PR", Some(Token::Brackets)),
    ("RN", None),
    ("TH", None),
    ("9", Some(Token::Digit { zero: false })),
    ("0", Some(Token::Digit { zero: true })),
    (".", Some(Token::Point)),
    ("D", Some(Token::Point)),
    (",", Some(Token::Group)),
    ("G", Some(Token::Group)),
    ("S", Some(Token::Sign)),
    ("L", None),
    ("V", None),
];

/// Parses `pattern`; an unsupported keyword is an error naming it.
pub fn parse(pattern: &str) -> Result<Pattern> {
    let mut tokens = Vec::new();
    let mut fill = false;
    let mut rest = pattern;
    'next: while let Some(c) = rest.chars().next() {
        if c == '"' {
            let quoted = &rest[1..];
            let end = quoted.find('"').unwrap_or(quoted.len());
            tokens.push(Token::Text(quoted[..end].to_owned()));
            rest = quoted.get(end + 1..).unwrap_or("");
            continue;
        }
        for (keyword, token) in KEYWORDS {
            let Some(head) = rest.get(..keyword.len()) else {
                continue;
            };
            if !head.eq_ignore_ascii_case(keyword) {
                continue;
            }
            match token {
                None => return plan_err!("to_char: the number pattern {keyword} is not supported"),
                Some(Token::Text(_)) => fill = true,
                Some(t) => tokens.push(t.clone()),
            }
            rest = &rest[keyword.len()..];
            continue 'next;
        }
        tokens.push(Token::Text(c.to_string()));
        rest = &rest[c.len_utf8()..];
    }
    let point = tokens.iter().position(|t| *t == Token::Point);
    let digits = |range: &[Token]| {
        range
            .iter()
            .filter(|t| matches!(t, Token::Digit { .. }))
            .count()
    };
    let (before, after) = tokens.split_at(point.unwrap_or(tokens.len()));
    let zero_from = before
        .iter()
        .filter(|t| matches!(t, Token::Digit { .. }))
        .position(|t| *t == Token::Digit { zero: true });
    let first_digit = tokens.iter().position(|t| matches!(t, Token::Digit { .. }));
    let leading_sign = tokens
        .iter()
        .position(|t| *t == Token::Sign)
        .is_some_and(|s| first_digit.is_none_or(|d| s < d));
    let fraction_zeros = after
        .iter()
        .filter(|t| matches!(t, Token::Digit { .. }))
        .map(|t| *t == Token::Digit { zero: true })
        .collect();
    let in_place = tokens.contains(&Token::Minus)
        || tokens.contains(&Token::PlusMinus)
        || (tokens.contains(&Token::Sign) && !leading_sign);
    let sign = if leading_sign {
        SignColumn::Anchored
    } else if tokens.contains(&Token::Brackets) {
        SignColumn::Bracket
    } else if in_place {
        SignColumn::None
    } else {
        SignColumn::Minus
    };
    Ok(Pattern {
        pre: digits(before),
        post: digits(after),
        zero_from,
        fraction_zeros,
        leading_sign,
        sign,
        fill,
        tokens,
    })
}

impl Pattern {
    /// The decimals the number is rounded to.
    pub fn decimals(&self) -> usize {
        self.post
    }

    /// Writes a number, rounded to [`Self::decimals`]: its sign, its integer digits (no leading
    /// zeros, `"0"` for none) and exactly `decimals` fraction digits. A float keeps the sign of
    /// a negative value that rounds to zero (`-0`), as `printf` and PostgreSQL do.
    pub fn write(&self, negative: bool, int: &str, frac: &str, out: &mut String) {
        let overflow = int.len() > self.pre;
        // The fraction places written: in fill mode trailing zeros of `9` places are not.
        let mut shown_frac = frac.len();
        if self.fill && !overflow {
            while shown_frac > 0
                && !self.fraction_zeros[shown_frac - 1]
                && frac.as_bytes()[shown_frac - 1] == b'0'
            {
                shown_frac -= 1;
            }
        }
        // "0.5" is written ".5"; in fill mode a zero with no fraction written is "0.".
        let zero_shown = frac.is_empty() || (self.fill && shown_frac == 0);
        let int = match int {
            "0" if !zero_shown => "",
            other => other,
        };
        let pad = self.pre.saturating_sub(int.len());
        let blank = if self.fill { "" } else { " " };
        let anchored = match (self.sign, negative) {
            (SignColumn::Anchored, true) | (SignColumn::Minus, true) => "-",
            (SignColumn::Anchored, false) => "+",
            (SignColumn::Bracket, true) => "<",
            (SignColumn::None, _) => "",
            (SignColumn::Bracket | SignColumn::Minus, false) => blank,
        };
        let mut started = false;
        let mut place = 0;
        let start = |out: &mut String, started: &mut bool| {
            if !*started {
                out.push_str(anchored);
                *started = true;
            }
        };
        for token in &self.tokens {
            match token {
                Token::Digit { .. } if place < self.pre => {
                    if overflow {
                        start(out, &mut started);
                        out.push('#');
                    } else if place >= pad {
                        start(out, &mut started);
                        out.push(char::from(int.as_bytes()[place - pad]));
                    } else if self.zero_from.is_some_and(|z| place >= z) {
                        start(out, &mut started);
                        out.push('0');
                    } else {
                        out.push_str(blank);
                    }
                    place += 1;
                }
                // Places past the digits a float holds are left out, `#` or not.
                Token::Digit { .. } => {
                    let at = place - self.pre;
                    if overflow && at < frac.len() {
                        out.push('#');
                    } else if !overflow && at < shown_frac {
                        out.push(char::from(frac.as_bytes()[at]));
                    }
                    place += 1;
                }
                // No point for a number rounded to no decimals (`'9999.'`).
                Token::Point if overflow || !frac.is_empty() => {
                    start(out, &mut started);
                    out.push('.');
                }
                Token::Point => {}
                Token::Group if started => out.push(','),
                Token::Group => out.push_str(blank),
                Token::Sign if !self.leading_sign => out.push(if negative { '-' } else { '+' }),
                Token::Sign => {}
                Token::Minus => out.push_str(if negative { "-" } else { blank }),
                Token::Plus => out.push_str(if negative { blank } else { "+" }),
                Token::PlusMinus => out.push(if negative { '-' } else { '+' }),
                Token::Brackets => out.push_str(if negative { ">" } else { blank }),
                Token::Text(text) => out.push_str(text),
            }
        }
    }
}

/// The sign, integer digits and `decimals` fraction digits of `value / 10^scale`, rounded half
/// away from zero; a number that rounds to zero has no sign.
pub fn decimal_parts(value: i128, scale: i8, decimals: usize) -> (bool, String, String) {
    let mut magnitude = value.unsigned_abs();
    let mut scale = i32::from(scale);
    let decimals = i32::try_from(decimals).unwrap_or(i32::MAX).min(38);
    if scale > decimals {
        let divisor = 10u128.pow((scale - decimals).unsigned_abs());
        let (quotient, remainder) = (magnitude / divisor, magnitude % divisor);
        magnitude = quotient + u128::from(remainder * 2 >= divisor);
        scale = decimals;
    }
    let negative = value < 0 && magnitude != 0;
    let digits = magnitude.to_string();
    let (int, frac) = if scale > 0 {
        let scale = scale.unsigned_abs() as usize;
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        (int.to_owned(), frac.to_owned())
    } else {
        let zeros = "0".repeat(scale.unsigned_abs() as usize);
        (format!("{digits}{zeros}"), String::new())
    };
    let frac = format!("{frac:0<width$}", width = decimals.unsigned_abs() as usize);
    let int = match int.trim_start_matches('0') {
        "" => "0".to_owned(),
        trimmed => trimmed.to_owned(),
    };
    (negative, int, frac)
}

/// The sign, integer digits and fraction digits of `value`, as C's `printf("%.*f")` rounds it
/// (PostgreSQL's float `to_char`): `decimals` of them, or fewer where the digits would pass
/// the `significant` ones the float holds (15 for a double, 6 for a real).
pub fn float_parts(value: f64, decimals: usize, significant: usize) -> (bool, String, String) {
    let int_len = format!("{:.0}", value.abs()).len();
    let decimals = match int_len + decimals > significant {
        true => significant.saturating_sub(int_len),
        false => decimals,
    };
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    (value.is_sign_negative(), int.to_owned(), frac.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_char(value: &str, pattern: &str) -> String {
        let pattern = parse(pattern).expect("pattern");
        let (unsigned, negative) = match value.strip_prefix('-') {
            Some(v) => (v, true),
            None => (value, false),
        };
        let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let scale = i8::try_from(frac.len()).expect("scale");
        let digits: i128 = format!("{int}{frac}").parse().expect("digits");
        let (neg, int, frac) = decimal_parts(
            if negative { -digits } else { digits },
            scale,
            pattern.decimals(),
        );
        let mut out = String::new();
        pattern.write(neg, &int, &frac, &mut out);
        out
    }

    /// (value, pattern, PostgreSQL 15's output), from a PostgreSQL 15 server.
    const CASES: &[(&str, &str, &str)] = &[
        ("5", "9999", "    5"),
        ("-5", "9999", "   -5"),
        ("0.5", "9999", "    1"),
        ("123456789", "9999", " ####"),
        ("-5", "0000", "-0005"),
        ("0", "9999.99", "     .00"),
        ("-0.004", "9999.99", "     .00"),
        ("1234.5", "9999.99", " 1234.50"),
        ("-1234.567", "9999.99", "-1234.57"),
        ("0", "FM9999.99", "0."),
        ("0.5", "FM9999.99", ".5"),
        ("5", "FM9999.99", "5."),
        ("1234.5", "FM9999.99", "1234.5"),
        ("0", "FM9999.00", ".00"),
        ("-5", "9,999.99", "    -5.00"),
        ("1234.5", "9,999.99", " 1,234.50"),
        ("123456789", "9,999.99", " #,###.##"),
        ("123456789", "FM999,999,990.00", "123,456,789.00"),
        ("0", "FM990.00", "0.00"),
        ("-1234.567", "999G999D99", "  -1,234.57"),
        ("0.5", "0.99", " 0.50"),
        ("12.345", "0.99", " #.##"),
        ("0.5", ".99", " .##"),
        ("-5", "S9999", "   -5"),
        ("5", "S9999", "   +5"),
        ("5", "9999S", "   5+"),
        ("-5", "9999MI", "   5-"),
        ("-5", "MI9999", "-   5"),
        ("5", "PL9999", "+    5"),
        ("-5", "PL9999", "    -5"),
        ("-5", "SG9999", "-   5"),
        ("-5", "9999PR", "   <5>"),
        ("5", "9999PR", "    5 "),
        ("-5", "FM9999PR", "<5>"),
        ("0", "FMS9999.9", "+0."),
        ("-5", "\"EUR\" FM999.00", "EUR -5.00"),
        ("1234.5", "\"EUR\" FM999.00", "EUR ###.##"),
        ("0", "99", "  0"),
        ("5", "9999.", "    5"),
    ];

    #[test]
    fn numbers_as_postgresql_writes_them() {
        for (value, pattern, expected) in CASES {
            assert_eq!(to_char(value, pattern), *expected, "{value} {pattern}");
        }
    }

    #[test]
    fn unsupported_keywords_are_refused() {
        for pattern in ["9.99EEEE", "RN", "L999", "99V9", "999TH"] {
            assert!(parse(pattern).is_err(), "{pattern}");
        }
    }

    #[test]
    fn floats_round_as_printf() {
        assert_eq!(float_parts(2.5, 0, 15), (false, "2".into(), String::new()));
        assert_eq!(float_parts(-1.25, 1, 15), (true, "1".into(), "2".into()));
        assert_eq!(
            float_parts(1e16, 1, 15),
            (false, "10000000000000000".into(), String::new())
        );
    }
}
