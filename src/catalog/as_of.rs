//! Time travel: the session option `cdrlake.as_of` (`SET cdrlake.as_of =
//! '2026-11-01T00:00:00Z'`) makes every table, and so every view, read the newest commit made
//! at or before that instant; empty (the default) or `latest` reads the newest commit.
//! History reaches back as far as replaced files are kept (see `cdrlake compact`).

use chrono::{DateTime, Utc};
use datafusion::catalog::Session;
use datafusion::common::extensions_options;
use datafusion::config::ConfigExtension;
use datafusion::error::{DataFusionError, Result as DfResult};

use crate::ingest::parse_timestamp;

extensions_options! {
    /// Options of a cdrlake session, set with `SET cdrlake.NAME = 'value'`.
    pub struct CdrlakeOptions {
        /// Read tables as of this instant (ISO 8601; without an offset it is UTC; a date
        /// alone means its midnight UTC). Empty or `latest`: the newest commit.
        pub as_of: String, default = String::new()
    }
}

impl ConfigExtension for CdrlakeOptions {
    const PREFIX: &'static str = "cdrlake";
}

/// The instant the session reads tables as of, `None` for the newest commit.
pub fn as_of(state: &dyn Session) -> DfResult<Option<DateTime<Utc>>> {
    let Some(options) = state.config_options().extensions.get::<CdrlakeOptions>() else {
        return Ok(None);
    };
    parse_as_of(&options.as_of)
}

/// Parses a `cdrlake.as_of` value.
pub fn parse_as_of(text: &str) -> DfResult<Option<DateTime<Utc>>> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("latest") {
        return Ok(None);
    }
    let with_time = if text.len() == 10 {
        format!("{text} 00:00:00")
    } else {
        text.to_string()
    };
    parse_timestamp(&with_time)
        .and_then(DateTime::from_timestamp_micros)
        .map(Some)
        .ok_or_else(|| {
            DataFusionError::Plan(format!(
                "cdrlake.as_of = '{text}' is not a timestamp; use ISO 8601 such as \
                 '2026-11-01T00:00:00Z', a date such as '2026-11-01', or 'latest'"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::parse_as_of;

    #[test]
    fn parses_instants_dates_and_latest() {
        let t = |s: &str| parse_as_of(s).unwrap().map(|t| t.to_rfc3339());
        assert_eq!(t(""), None);
        assert_eq!(t("latest"), None);
        assert_eq!(
            t("2026-11-01T10:00:00+01:00").as_deref(),
            Some("2026-11-01T09:00:00+00:00")
        );
        assert_eq!(
            t("2026-11-01").as_deref(),
            Some("2026-11-01T00:00:00+00:00")
        );
        assert!(parse_as_of("yesterday").is_err());
    }
}
