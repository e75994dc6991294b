//! One mapping from errors to PostgreSQL SQLSTATE codes (SPEC 6), applied to every error the
//! server sends, whether raised while planning, executing or streaming.

use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::ParserError;
use pgwire::error::{ErrorInfo, PgWireError};

/// Unknown table or view.
pub const UNDEFINED_TABLE: &str = "42P01";
/// Unknown column.
pub const UNDEFINED_COLUMN: &str = "42703";
/// Unknown function.
pub const UNDEFINED_FUNCTION: &str = "42883";
/// SQL syntax error.
pub const SYNTAX_ERROR: &str = "42601";
/// Malformed value of a type.
pub const INVALID_TEXT: &str = "22P02";
/// Division by zero.
pub const DIVISION_BY_ZERO: &str = "22012";
/// Invalid argument or option value.
pub const INVALID_PARAMETER: &str = "22023";
/// A date or time field out of its range.
pub const DATETIME_FIELD_OVERFLOW: &str = "22008";
/// The role may not do this.
pub const INSUFFICIENT_PRIVILEGE: &str = "42501";
/// Cancelled or timed out.
pub const QUERY_CANCELED: &str = "57014";
/// Out of memory (the per-query limit).
pub const OUT_OF_MEMORY: &str = "53200";
/// Feature not supported.
pub const FEATURE_NOT_SUPPORTED: &str = "0A000";
/// Data exception (a rule of the data was broken).
pub const DATA_EXCEPTION: &str = "22000";
/// Binary COPY data that is not PostgreSQL's binary copy file.
pub const BAD_COPY_FILE_FORMAT: &str = "22P04";
/// A message that breaks the wire protocol.
pub const PROTOCOL_VIOLATION: &str = "08P01";
/// A number too large for its type.
pub const NUMERIC_VALUE_OUT_OF_RANGE: &str = "22003";
/// A scalar subquery returned more than one row.
pub const CARDINALITY_VIOLATION: &str = "21000";
/// A column name that names columns of several tables.
pub const AMBIGUOUS_COLUMN: &str = "42702";
/// A column neither grouped by nor aggregated.
pub const GROUPING_ERROR: &str = "42803";
/// Anything else.
pub const INTERNAL: &str = "XX000";

/// An `ERROR` with `code` and `message`.
pub fn error(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        code.into(),
        message.into(),
    )))
}

/// The SQLSTATE of a DataFusion error.
pub fn code_of(e: &DataFusionError) -> &'static str {
    match e {
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
            code_of(inner)
        }
        DataFusionError::Shared(inner) => code_of(inner),
        DataFusionError::Collection(errors) => errors.first().map_or(INTERNAL, code_of),
        DataFusionError::SQL(..) => SYNTAX_ERROR,
        DataFusionError::SchemaError(inner, _) => match inner.as_ref() {
            datafusion::common::SchemaError::FieldNotFound { .. } => UNDEFINED_COLUMN,
            datafusion::common::SchemaError::AmbiguousReference { .. } => AMBIGUOUS_COLUMN,
            _ => SYNTAX_ERROR,
        },
        DataFusionError::ResourcesExhausted(_) => OUT_OF_MEMORY,
        DataFusionError::NotImplemented(_) => FEATURE_NOT_SUPPORTED,
        DataFusionError::ArrowError(inner, _) => match inner.as_ref() {
            arrow::error::ArrowError::DivideByZero => DIVISION_BY_ZERO,
            arrow::error::ArrowError::CastError(_) | arrow::error::ArrowError::ParseError(_) => {
                INVALID_TEXT
            }
            arrow::error::ArrowError::InvalidArgumentError(m)
                if m.contains("too large to store") =>
            {
                NUMERIC_VALUE_OUT_OF_RANGE
            }
            _ => INTERNAL,
        },
        DataFusionError::External(inner) => {
            if let Some(df) = inner.downcast_ref::<DataFusionError>() {
                code_of(df)
            } else if let Some(ours) = inner.downcast_ref::<crate::Error>() {
                crate_code(ours)
            } else {
                match inner.downcast_ref::<arrow::error::ArrowError>() {
                    Some(arrow::error::ArrowError::CastError(_)) => INVALID_TEXT,
                    _ => INTERNAL,
                }
            }
        }
        DataFusionError::Plan(message) => plan_code(message),
        DataFusionError::Execution(message) => {
            if message.contains("Cannot cast") || message.contains("Error parsing") {
                INVALID_TEXT
            } else if message.contains("Divide by zero") {
                DIVISION_BY_ZERO
            } else if message.contains("Scalar subquery returned more than one row")
                || message.contains("more than one row returned by a subquery")
            {
                CARDINALITY_VIOLATION
            } else {
                DATA_EXCEPTION
            }
        }
        _ => INTERNAL,
    }
}

/// Planning errors carry their kind only in the message; these are DataFusion's wordings.
fn plan_code(message: &str) -> &'static str {
    let relation = message.starts_with("relation \"") && message.ends_with("does not exist");
    if relation || (message.contains("table '") && message.contains("not found")) {
        UNDEFINED_TABLE
    } else if message.contains("Invalid function")
        || message.contains("function '")
        || message.contains("No function matches")
    {
        UNDEFINED_FUNCTION
    } else if message.contains("Ambiguous reference") {
        AMBIGUOUS_COLUMN
    } else if message.contains("must be in GROUP BY or an aggregate function") {
        GROUPING_ERROR
    } else if message.contains("Correlated scalar subquery must be aggregated") {
        FEATURE_NOT_SUPPORTED
    } else if message.contains("No field named") {
        UNDEFINED_COLUMN
    } else if message.contains("Cannot cast") {
        INVALID_TEXT
    } else {
        SYNTAX_ERROR
    }
}

/// Gives `error` its SQLSTATE: errors from DataFusion or the SQL parser, which pgwire would
/// all send as XX000, get the code of their kind.
pub fn classify(error: &mut PgWireError) {
    if let PgWireError::UserError(info) = error
        && info.code == "25P01"
        && info.message.contains("aborted")
    {
        // datafusion-postgres says 25P01 (no active transaction) where PostgreSQL says 25P02.
        info.code = "25P02".into();
    }
    let PgWireError::ApiError(inner) = error else {
        return;
    };
    let code = if let Some(df) = inner.downcast_ref::<DataFusionError>() {
        code_of(df)
    } else if inner.downcast_ref::<ParserError>().is_some() {
        SYNTAX_ERROR
    } else if let Some(e) = inner.downcast_ref::<crate::Error>() {
        crate_code(e)
    } else {
        INTERNAL
    };
    let message = match inner.downcast_ref::<DataFusionError>() {
        Some(df) => message_of(df),
        None => inner.to_string(),
    };
    *error = PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        code.into(),
        message,
    )));
}

/// The SQLSTATE of one of our own errors.
pub fn crate_code(e: &crate::Error) -> &'static str {
    match e {
        crate::Error::DataFusion(df) => code_of(df),
        crate::Error::StrictRejected { .. } | crate::Error::UnknownFormat { .. } => DATA_EXCEPTION,
        crate::Error::InvalidArgument(_) | crate::Error::HistoryNotRetained { .. } => {
            INVALID_PARAMETER
        }
        crate::Error::DatetimeField(_) => DATETIME_FIELD_OVERFLOW,
        _ => INTERNAL,
    }
}

/// DataFusion's message without its "Error during planning: " style prefixes, which mean
/// nothing to a SQL user.
fn message_of(e: &DataFusionError) -> String {
    e.find_root().message().into_owned()
}
