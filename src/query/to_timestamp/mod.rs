//! `to_timestamp(text, pattern)` and `to_date(text, pattern)` with PostgreSQL's template
//! patterns (`to_date('23.11.2026', 'DD.MM.YYYY')`, [`read`]): a timestamp read without an
//! offset is a wall-clock time in the session's `TimeZone` (a time a spring-forward night skips
//! takes the offset of before it, a repeated one the offset of after it, as PostgreSQL reads
//! them), one with `TZH`/`TZM` is read at that offset. A field out of range is an error naming
//! the text.
//!
//! DataFusion's own functions take chrono's `strftime` patterns (`'%Y-%m-%d'`); a literal
//! pattern holding `%`, and the other forms (`to_timestamp(epoch_seconds)`, several
//! patterns), still go to them.

mod read;

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, Date32Array, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, FieldRef, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};

use super::text_arg::Texts;
use super::time_zone::instant_of;
use super::to_char::{Parsed, pattern};

/// `to_timestamp` or `to_date`; see the [module docs](self).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ToTimestamp {
    signature: Signature,
    /// `to_date` rather than `to_timestamp`.
    date: bool,
    /// DataFusion's function of the same name.
    strftime: Arc<ScalarUDF>,
}

impl ToTimestamp {
    /// `to_timestamp`, DataFusion's under it made for `config` (its zone).
    pub fn timestamp(config: &ConfigOptions) -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Stable),
            date: false,
            strftime: datafusion::functions::datetime::to_timestamp(config),
        }
    }

    /// `to_date`.
    pub fn date() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Stable),
            date: true,
            strftime: datafusion::functions::datetime::to_date(),
        }
    }

    /// The type PostgreSQL's form gives.
    fn ours(&self) -> DataType {
        match self.date {
            true => DataType::Date32,
            false => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        }
    }
}

/// Whether a call with these argument types and this literal pattern (if any) is PostgreSQL's
/// form: text and a pattern, the pattern not a strftime one.
fn is_postgres_form(types: &[DataType], pattern: Option<&ScalarValue>) -> bool {
    let text = |t: &DataType| {
        matches!(
            t,
            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null
        )
    };
    let strftime = pattern.is_some_and(|p| p.to_string().contains('%'));
    matches!(types, [a, b] if text(a) && text(b)) && !strftime
}

impl ScalarUDFImpl for ToTimestamp {
    fn name(&self) -> &str {
        self.strftime.name()
    }

    fn with_updated_config(&self, config: &ConfigOptions) -> Option<ScalarUDF> {
        let updated = self.strftime.inner().with_updated_config(config)?;
        Some(ScalarUDF::new_from_impl(Self {
            signature: self.signature.clone(),
            date: self.date,
            strftime: Arc::new(updated),
        }))
    }

    fn aliases(&self) -> &[String] {
        self.strftime.aliases()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        // DataFusion's functions take their arguments as they come.
        Ok(types.to_vec())
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.ours())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = args
            .arg_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let pattern = args.scalar_arguments.get(1).copied().flatten();
        if is_postgres_form(&types, pattern) {
            return Ok(Arc::new(Field::new(self.name(), self.ours(), true)));
        }
        self.strftime.return_field_from_args(args)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let types: Vec<DataType> = args.args.iter().map(ColumnarValue::data_type).collect();
        let pattern = match args.args.get(1) {
            Some(ColumnarValue::Scalar(p)) => Some(p),
            _ => None,
        };
        if !is_postgres_form(&types, pattern) {
            return self.strftime.invoke_with_args(args);
        }
        let scalar = super::udf::all_scalar(&args.args);
        let zone = super::udf::session_zone(&args.config_options)?;
        let texts = Texts::of(&args.args[0])?;
        let patterns = Texts::of(&args.args[1])?;
        let invalid = super::udf::invalid;
        let mut parsed = Parsed::default();
        let mut micros = Vec::with_capacity(args.number_rows);
        for r in 0..args.number_rows {
            let (Some(text), Some(source)) = (texts.get(r), patterns.get(r)) else {
                micros.push(None);
                continue;
            };
            let pieces = parsed.of(source, |s| Ok(pattern::parse(s)))?;
            let fields = read::read(pieces, text).map_err(invalid)?;
            let local = fields.local(text).map_err(invalid)?;
            let local_micros = local.and_utc().timestamp_micros();
            let at = match (self.date, fields.offset) {
                (true, _) => Some(local_micros),
                (false, Some(offset)) => local_micros.checked_sub(i64::from(offset) * 1_000_000),
                (false, None) => instant_of(zone, local_micros),
            };
            micros.push(Some(at.ok_or_else(|| {
                invalid(format!("timestamp out of range: \"{text}\""))
            })?));
        }
        let out: Arc<dyn Array> = if self.date {
            let days: Date32Array = micros
                .iter()
                .map(|m| m.and_then(|m| i32::try_from(m.div_euclid(86_400_000_000)).ok()))
                .collect();
            Arc::new(days)
        } else {
            Arc::new(TimestampMicrosecondArray::from(micros).with_timezone("UTC"))
        };
        super::udf::result(out, scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCS: LazyLock<[Documentation; 2]> = LazyLock::new(|| {
            let doc = |syntax, what, example| {
                super::udf::documentation("Time and Date Functions", what, syntax)
                    .with_sql_example(example)
                    .with_argument("text", "The text to read.")
                    .with_argument("pattern", "A PostgreSQL template pattern (YYYY, MM, DD, HH24, MI, SS, US, Mon, Month, AM, TZH, TZM…); one with % is a strftime pattern, as DataFusion reads it.")
                    .build()
            };
            [
                doc(
                    "to_timestamp(text, pattern)",
                    "The instant text names, read by a PostgreSQL template pattern as a wall-clock time in the session's TimeZone (or at its TZH/TZM offset).",
                    "```sql\n> select to_timestamp('23.11.2026 14:05', 'DD.MM.YYYY HH24:MI');\n2026-11-23 14:05:00+00\n```",
                ),
                doc(
                    "to_date(text, pattern)",
                    "The date text names, read by a PostgreSQL template pattern.",
                    "```sql\n> select to_date('23 Nov 2026', 'DD Mon YYYY');\n2026-11-23\n```",
                ),
            ]
        });
        let [timestamp, date] = &*DOCS;
        Some(if self.date { date } else { timestamp })
    }
}
