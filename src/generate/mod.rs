//! Synthetic, realistic CDR data sets for demos, tests and benchmarks (`cdrlake generate`).
//!
//! [`generate`] writes up to six CSV files into a directory:
//!
//! | file | content |
//! |---|---|
//! | `cdrs.csv` | canonical CDRs (the `cdrs` columns), start times increasing through the file |
//! | `didww-inbound.csv`, `didww-outbound.csv` | the SIP carrier's own exports (no call id, no tenant) |
//! | `rates.csv` | a rate deck: `*` rows, cruise overrides, a price change mid-range |
//! | `refunds.csv` | full, partial and split refunds of charged cruise calls, and custom refunds |
//! | `billing_events.csv` | PMS responses to cruise outbound calls (`sent`, `ok`, `failure`, `retry_sent`) |
//!
//! Tenant `i` has one of five kinds, one per seed page (cruise PMS, hosted PBX, call
//! tracking, contact center, SIP carrier), and calls follow that kind's mix of directions,
//! causes and fields. Every call is internally consistent (times, duration, SIP code, cause,
//! exact 6-decimal money).
//!
//! Output is a pure function of the options: the same options give byte-identical files, and
//! each file is the same whether it is written alone (`only`) or with the others. Memory does
//! not grow with `rows`: rows are streamed to buffered writers, follow-ups (refunds, billing
//! events) are written as their calls are generated.

mod billing;
mod calls;
mod carrier;
mod contact;
mod cruise;
mod fields;
mod followups;
mod numbers;
mod out;
mod tenants;
#[cfg(test)]
mod tests;
mod timeline;

use std::path::PathBuf;

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use billing::Deck;
use calls::Call;
use fields::Direction;
use followups::Followups;
use out::CsvOut;
use tenants::{Gen, Kind, Tenant, Tenants};
use timeline::{Span, Timeline, unix_day};

/// Which file to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputKind {
    /// Canonical CDRs, `cdrs.csv`.
    Canonical,
    /// The SIP carrier's inbound export, `didww-inbound.csv`.
    DidwwInbound,
    /// The SIP carrier's outbound export, `didww-outbound.csv`.
    DidwwOutbound,
    /// The rate deck, `rates.csv`.
    Rates,
    /// Refunds of cruise calls, `refunds.csv`.
    Refunds,
    /// PMS billing events of cruise calls, `billing_events.csv`.
    BillingEvents,
}

impl OutputKind {
    /// Every kind, in the order files are reported.
    pub const ALL: [OutputKind; 6] = [
        OutputKind::Canonical,
        OutputKind::DidwwInbound,
        OutputKind::DidwwOutbound,
        OutputKind::Rates,
        OutputKind::Refunds,
        OutputKind::BillingEvents,
    ];

    /// Name used on the command line (`canonical`, `didww-inbound`, …).
    pub fn name(self) -> &'static str {
        match self {
            OutputKind::Canonical => "canonical",
            OutputKind::DidwwInbound => "didww-inbound",
            OutputKind::DidwwOutbound => "didww-outbound",
            OutputKind::Rates => "rates",
            OutputKind::Refunds => "refunds",
            OutputKind::BillingEvents => "billing-events",
        }
    }

    /// Name of the file written into the output directory.
    pub fn file_name(self) -> &'static str {
        match self {
            OutputKind::Canonical => "cdrs.csv",
            OutputKind::DidwwInbound => "didww-inbound.csv",
            OutputKind::DidwwOutbound => "didww-outbound.csv",
            OutputKind::Rates => "rates.csv",
            OutputKind::Refunds => "refunds.csv",
            OutputKind::BillingEvents => "billing_events.csv",
        }
    }

    /// The kind named `s` (as [`OutputKind::name`] spells it), if any.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// CDR rows in the canonical file (or in the one CDR format chosen with `only`); with all
    /// files, each carrier export gets `max(rows / 10, 1)` rows.
    pub rows: u64,
    /// Write only this file; `None` writes all six.
    pub only: Option<OutputKind>,
    /// Seed of every random choice.
    pub seed: u64,
    /// First UTC day of the calls.
    pub start_date: NaiveDate,
    /// Number of days the calls span (at least 1).
    pub days: u32,
    /// Number of tenants (at least 1); tenant `i` has kind `i % 5`.
    pub tenants: u32,
    /// Output directory, created if missing.
    pub out: PathBuf,
}

/// One file written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Which file.
    pub kind: OutputKind,
    /// Where it was written.
    pub path: PathBuf,
    /// Data rows, header excluded.
    pub rows: u64,
    /// Size in bytes, header included.
    pub bytes: u64,
}

/// What [`generate`] wrote, in [`OutputKind::ALL`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateReport {
    /// The files written.
    pub files: Vec<GeneratedFile>,
}

/// Why generating failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The options cannot be honoured.
    #[error("invalid generate options: {0}")]
    InvalidOptions(String),
    /// Creating the output directory or writing a file failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The directory or file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Random stream of the canonical calls.
const STREAM_CALLS: u64 = 1;
/// Random stream of the carrier's inbound export.
const STREAM_DIDWW_IN: u64 = 2;
/// Random stream of the carrier's outbound export.
const STREAM_DIDWW_OUT: u64 = 3;
/// Random stream of the refunds.
const STREAM_REFUNDS: u64 = 4;
/// Random stream of the billing events.
const STREAM_EVENTS: u64 = 5;
/// Largest number of tenants accepted.
const MAX_TENANTS: u32 = 100_000;

/// Writes the requested files into `opts.out` and reports what was written.
pub fn generate(opts: &GenerateOptions) -> Result<GenerateReport, GenerateError> {
    let span = validate(opts)?;
    std::fs::create_dir_all(&opts.out).map_err(|source| GenerateError::Io {
        path: opts.out.clone(),
        source,
    })?;
    let wants = |k: OutputKind| opts.only.is_none_or(|only| only == k);
    let base = NaiveDate::from_ymd_opt(2020, 1, 1).map_or(span.start, unix_day);
    let deck = Deck {
        base_from: base.min(span.start),
        change_at: span.start + (span.end - span.start) / 2,
    };
    let tenants = Tenants::new(
        opts.tenants,
        opts.seed,
        opts.rows as f64 / f64::from(opts.days),
    );
    let tag = run_tag(opts);
    let mut files = Vec::new();
    let path = |k: OutputKind| opts.out.join(k.file_name());
    let mut record = |kind: OutputKind, out: CsvOut| -> Result<(), GenerateError> {
        let (path, rows, bytes) = out.finish()?;
        files.push(GeneratedFile {
            kind,
            path,
            rows,
            bytes,
        });
        Ok(())
    };

    if wants(OutputKind::Canonical)
        || wants(OutputKind::Refunds)
        || wants(OutputKind::BillingEvents)
    {
        let open = |k: OutputKind, header: &[&str]| -> Result<Option<CsvOut>, GenerateError> {
            if wants(k) {
                CsvOut::create(&path(k), header).map(Some)
            } else {
                Ok(None)
            }
        };
        let cdrs = open(OutputKind::Canonical, &calls::CANONICAL_HEADER)?;
        let refunds = open(OutputKind::Refunds, &followups::REFUNDS_HEADER)?;
        let events = open(OutputKind::BillingEvents, &followups::EVENTS_HEADER)?;
        let mut followups = Followups::new(refunds, events, opts.seed, &tag);
        let mut g = gen_for(opts.seed, STREAM_CALLS, &deck);
        let cdrs = write_calls(
            &mut g,
            &span,
            opts.rows,
            &tenants,
            &tag,
            cdrs,
            &mut followups,
        )?;
        if let Some(out) = cdrs {
            record(OutputKind::Canonical, out)?;
        }
        let (refunds, events) = followups.into_files();
        for (kind, out) in [
            (OutputKind::Refunds, refunds),
            (OutputKind::BillingEvents, events),
        ] {
            if let Some(out) = out {
                record(kind, out)?;
            }
        }
    }
    let carrier_rows = if opts.only.is_some() {
        opts.rows
    } else {
        (opts.rows / 10).max(1)
    };
    let carrier = Tenant::new(4, opts.seed, carrier_rows as f64 / f64::from(opts.days));
    for (kind, stream, direction) in [
        (
            OutputKind::DidwwInbound,
            STREAM_DIDWW_IN,
            Direction::Inbound,
        ),
        (
            OutputKind::DidwwOutbound,
            STREAM_DIDWW_OUT,
            Direction::Outbound,
        ),
    ] {
        if wants(kind) {
            let header: &[&str] = if direction == Direction::Inbound {
                &carrier::INBOUND_HEADER
            } else {
                &carrier::OUTBOUND_HEADER
            };
            let mut out = CsvOut::create(&path(kind), header)?;
            let mut g = gen_for(opts.seed, stream, &deck);
            let mut timeline = Timeline::new(&span, carrier_rows);
            carrier::write_export(
                &mut out,
                &mut g,
                &carrier,
                &mut timeline,
                carrier_rows,
                direction,
            )?;
            record(kind, out)?;
        }
    }
    if wants(OutputKind::Rates) {
        let mut out = CsvOut::create(&path(OutputKind::Rates), &billing::RATES_HEADER)?;
        let cruise: Vec<&str> = tenants
            .list
            .iter()
            .filter(|t| t.kind == Kind::Cruise)
            .map(|t| t.name.as_str())
            .collect();
        deck.write(&mut out, &cruise)?;
        record(OutputKind::Rates, out)?;
    }
    files.sort_by_key(|f| OutputKind::ALL.iter().position(|k| *k == f.kind));
    Ok(GenerateReport { files })
}

/// Streams `rows` canonical calls, writing their follow-ups as it goes.
fn write_calls(
    g: &mut Gen<'_>,
    span: &Span,
    rows: u64,
    tenants: &Tenants,
    tag: &str,
    mut cdrs: Option<CsvOut>,
    followups: &mut Followups,
) -> Result<Option<CsvOut>, GenerateError> {
    let width = digits(rows.saturating_sub(1)).max(8);
    let mut timeline = Timeline::new(span, rows);
    let mut call = Call::new();
    let mut call_id = String::with_capacity(48);
    let mut scratch = Vec::with_capacity(20);
    for i in 0..rows {
        let start = timeline.at(i, g.rng.random());
        let tenant = tenants.pick(&mut g.rng);
        tenant.generate(g, &mut call, start);
        call_id.clear();
        call_id.push_str(&tenant.name);
        call_id.push('-');
        call_id.push_str(tag);
        call_id.push('-');
        scratch.clear();
        out::push_padded(&mut scratch, i, width);
        call_id.extend(scratch.iter().map(|&b| char::from(b)));
        if let Some(out) = cdrs.as_mut() {
            calls::write_canonical(out, &call, &tenant.name, &call_id)?;
        }
        if tenant.kind == Kind::Cruise {
            followups.after_cruise_call(&call, &tenant.name, &call_id)?;
        }
    }
    Ok(cdrs)
}

fn digits(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

fn gen_for(seed: u64, stream: u64, deck: &Deck) -> Gen<'_> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    Gen {
        rng,
        deck,
        forced: 0,
    }
}

/// Eight hex digits identifying the data set (seed, start date, days, tenants and rows) inside
/// call and refund ids, so that data sets generated with other options never share an id,
/// while regenerating the same data set gives the same ids.
fn run_tag(opts: &GenerateOptions) -> String {
    let mut h = numbers::mix2(opts.seed, unix_day(opts.start_date) as u64);
    for v in [u64::from(opts.days), u64::from(opts.tenants), opts.rows] {
        h = numbers::mix2(h, v);
    }
    let mut tag = String::with_capacity(8);
    tenants::push_hex(&mut tag, h >> 32, 8);
    tag
}

fn validate(opts: &GenerateOptions) -> Result<Span, GenerateError> {
    let invalid = |m: String| Err(GenerateError::InvalidOptions(m));
    if opts.days == 0 {
        return invalid("days must be at least 1".into());
    }
    if opts.tenants == 0 || opts.tenants > MAX_TENANTS {
        return invalid(format!("tenants must be between 1 and {MAX_TENANTS}"));
    }
    Span::new(opts.start_date, opts.days)
}
