//! Time zones as PostgreSQL reads them: `AT TIME ZONE` and `timezone()` ([`Timezone`], through
//! the statement rewrite [`rewrite`]), and the calendar of instants in the session's
//! `TimeZone` ([`SessionTimeZone`]). Instants are stored in UTC; what a client sees of their
//! days, hours and dates follows its session, as with PostgreSQL (SPEC 6, mission anchor D9).

mod function;
mod session;
mod statement;

pub use function::Timezone;
pub use session::SessionTimeZone;
pub use statement::{rewrite, rewrite_df, rewrite_sql};
