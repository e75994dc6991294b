//! PostgreSQL's names for the types cdrlake columns and functions have, shared by the
//! catalog views: `format_type`-style names (`timestamp with time zone`), `udt_name`s
//! (`timestamptz`) and type modifiers (`numeric(18,6)` is typmod `(18 << 16 | 6) + 4`).
//! The Arrow → PostgreSQL type mapping itself is arrow-pg's, the one result rows use.

use datafusion::arrow::datatypes::DataType;
use pgwire::api::Type;

/// SQL names of the types cdrlake shows, by OID (PostgreSQL's `format_type` without typmod).
const NAMES: &[(u32, &str)] = &[
    (16, "boolean"),
    (17, "bytea"),
    (20, "bigint"),
    (21, "smallint"),
    (23, "integer"),
    (25, "text"),
    (700, "real"),
    (701, "double precision"),
    (1043, "character varying"),
    (1082, "date"),
    (1083, "time without time zone"),
    (1114, "timestamp without time zone"),
    (1184, "timestamp with time zone"),
    (1186, "interval"),
    (1700, "numeric"),
    (2283, "anyelement"),
    (2950, "uuid"),
];

/// The SQL name of `ty` (`timestamp with time zone`); arrays and types without a long
/// name by their `pg_type` name (`_text`, `json`).
pub fn name(ty: &Type) -> &str {
    NAMES
        .iter()
        .find(|(oid, _)| *oid == ty.oid())
        .map_or_else(|| ty.name(), |(_, n)| n)
}

/// How a column of Arrow type `arrow` looks in PostgreSQL's catalogs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnType {
    /// The PostgreSQL type (as result rows describe it).
    pub ty: Type,
    /// `pg_attribute.atttypmod`: -1, or the packed precision and scale of a numeric.
    pub typmod: i32,
    /// Precision and scale of a numeric.
    pub numeric: Option<(u8, i8)>,
}

impl ColumnType {
    /// The catalog view of `arrow`; types arrow-pg cannot send read as `text`.
    pub fn of(arrow: &DataType) -> ColumnType {
        let ty = arrow_pg::datatypes::into_pg_type(arrow).unwrap_or(Type::TEXT);
        let numeric = match arrow {
            DataType::Decimal32(p, s)
            | DataType::Decimal64(p, s)
            | DataType::Decimal128(p, s)
            | DataType::Decimal256(p, s) => Some((*p, *s)),
            _ => None,
        };
        let typmod = match numeric {
            Some((p, s)) if s >= 0 => ((i32::from(p) << 16) | i32::from(s)) + 4,
            _ => -1,
        };
        ColumnType {
            ty,
            typmod,
            numeric,
        }
    }

    /// `information_schema.columns.data_type`: the SQL name, `ARRAY` for arrays.
    pub fn data_type(&self) -> &str {
        if self.ty.name().starts_with('_') {
            "ARRAY"
        } else {
            name(&self.ty)
        }
    }

    /// `numeric_precision`, with PostgreSQL's values for integers and floats (base 2).
    pub fn numeric_precision(&self) -> Option<i32> {
        match (self.numeric, self.ty.oid()) {
            (Some((p, _)), _) => Some(i32::from(p)),
            (None, 21) => Some(16),
            (None, 23) => Some(32),
            (None, 20) => Some(64),
            (None, 700) => Some(24),
            (None, 701) => Some(53),
            _ => None,
        }
    }

    /// `numeric_precision_radix`: 10 for numeric, 2 for integers and floats.
    pub fn numeric_radix(&self) -> Option<i32> {
        match (self.numeric, self.numeric_precision()) {
            (Some(_), _) => Some(10),
            (None, Some(_)) => Some(2),
            _ => None,
        }
    }

    /// `numeric_scale`: the numeric's scale, 0 for integers.
    pub fn numeric_scale(&self) -> Option<i32> {
        match (self.numeric, self.ty.oid()) {
            (Some((_, s)), _) => Some(i32::from(s)),
            (None, 20 | 21 | 23) => Some(0),
            _ => None,
        }
    }

    /// `datetime_precision`: 6 for timestamps and times, 0 for dates.
    pub fn datetime_precision(&self) -> Option<i32> {
        match self.ty.oid() {
            1083 | 1114 | 1184 | 1266 => Some(6),
            1082 => Some(0),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::TimeUnit;

    #[test]
    fn columns_read_as_postgres_types() {
        let money = ColumnType::of(&DataType::Decimal128(18, 6));
        assert_eq!(
            (money.data_type(), money.ty.name(), money.typmod),
            ("numeric", "numeric", (18 << 16 | 6) + 4)
        );
        assert_eq!(
            (money.numeric_precision(), money.numeric_scale()),
            (Some(18), Some(6))
        );
        let ts = ColumnType::of(&DataType::Timestamp(
            TimeUnit::Microsecond,
            Some("UTC".into()),
        ));
        assert_eq!(
            (ts.data_type(), ts.ty.name()),
            ("timestamp with time zone", "timestamptz")
        );
        assert_eq!(ColumnType::of(&DataType::Utf8View).data_type(), "text");
        assert_eq!(ColumnType::of(&DataType::Int32).data_type(), "integer");
        assert_eq!(
            ColumnType::of(&DataType::Int64).numeric_precision(),
            Some(64)
        );
    }
}
