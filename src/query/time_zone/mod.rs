//! Time zones as PostgreSQL reads them: `AT TIME ZONE` and `timezone()` ([`Timezone`], through
//! the statement rewrite [`rewrite`]), and the calendar of instants in the session's
//! `TimeZone` ([`SessionTimeZone`]). Instants are stored in UTC; what a client sees of their
//! days, hours and dates follows its session, as with PostgreSQL (SPEC 6, mission anchor D9).

mod function;
mod session;
mod statement;

pub use function::{Timezone, instant_of, zone_named, zone_or_invalid};
pub use session::SessionTimeZone;
pub use statement::rewrite;

use chrono_tz::Tz;
use datafusion::common::config::ConfigOptions;
use datafusion::prelude::SessionContext;

use crate::error::{Error, Result};

/// The session's `TimeZone` (`SET TimeZone = …`), UTC when none was set.
pub fn session_zone(ctx: &SessionContext) -> Result<Tz> {
    zone_of(ctx.state().config().options())
}

/// The `TimeZone` of a session's configuration, UTC when none was set; a name that is no zone
/// is an error naming it.
pub fn zone_of(options: &ConfigOptions) -> Result<Tz> {
    let Some(name) = options.execution.time_zone.as_deref() else {
        return Ok(Tz::UTC);
    };
    function::zone_named(name)
        .or_else(|| session::is_utc(name).then_some(Tz::UTC))
        .ok_or_else(|| Error::InvalidArgument(format!("time zone \"{name}\" not recognized")))
}
