//! What a statement is, as far as the server is concerned: which ones it answers itself
//! (COPY, session no-ops, version queries, DDL with PostgreSQL's command tags), which go to
//! the query engine, and who may run each (the roles of SPEC 6).

use std::ops::ControlFlow;

use datafusion::sql::parser::{DFParser, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::{
    CopySource, CopyTarget, DiscardObject, ObjectName, ObjectNamePart, ObjectType, Set, Statement,
    TableObject, visit_relations,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use pgwire::error::PgWireError;

use super::sqlstate::{self, FEATURE_NOT_SUPPORTED, INSUFFICIENT_PRIVILEGE};
use super::temp_tables::TempTables;
use crate::config::Role;

/// How the server handles a statement.
#[derive(Debug, PartialEq, Eq)]
pub enum Kind {
    /// `COPY … TO STDOUT`.
    CopyOut,
    /// `COPY table FROM STDIN`, into the named table.
    CopyIn(String),
    /// Accepted and ignored, answered with this command tag (`RESET`, `DISCARD ALL`, …).
    NoOp(&'static str),
    /// `SHOW` of a parameter the server answers itself, with its value.
    Show(&'static str, String),
    /// `SET TimeZone`, to this zone name.
    SetTimeZone(String),
    /// `SHOW TimeZone`.
    ShowTimeZone,
    /// A statement that changes the catalog or data, answered with this command tag.
    Command(&'static str),
    /// Everything else: queries, `SET`/`SHOW`, transactions, cursors, `INSERT`.
    Engine,
}

/// Classifies `stmt`.
pub fn kind(stmt: &Statement) -> Kind {
    match stmt {
        Statement::Copy {
            to: true,
            target: CopyTarget::Stdout,
            ..
        } => Kind::CopyOut,
        Statement::Copy {
            to: false,
            target: CopyTarget::Stdin,
            source: CopySource::Table { table_name, .. },
            ..
        } => Kind::CopyIn(unqualified(table_name)),
        Statement::Reset(_) => Kind::NoOp("RESET"),
        Statement::Discard { object_type } => Kind::NoOp(match object_type {
            DiscardObject::ALL => "DISCARD ALL",
            DiscardObject::PLANS => "DISCARD PLANS",
            DiscardObject::SEQUENCES => "DISCARD SEQUENCES",
            DiscardObject::TEMP => "DISCARD TEMP",
        }),
        Statement::UNLISTEN { .. } => Kind::NoOp("UNLISTEN"),
        Statement::LISTEN { .. } => Kind::NoOp("LISTEN"),
        Statement::Savepoint { .. } => Kind::NoOp("SAVEPOINT"),
        Statement::ReleaseSavepoint { .. } => Kind::NoOp("RELEASE"),
        Statement::Deallocate { .. } => Kind::NoOp("DEALLOCATE"),
        Statement::ShowVariable { variable } => show(
            &variable
                .iter()
                .map(|i| i.value.to_lowercase())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Statement::Set(Set::SingleAssignment {
            variable, values, ..
        }) if is_time_zone(&variable.to_string()) => Kind::SetTimeZone(
            values
                .first()
                .map(|v| v.to_string().trim_matches('\'').to_owned())
                .unwrap_or_default(),
        ),
        Statement::Set(Set::SetTimeZone { value, .. }) => {
            Kind::SetTimeZone(value.to_string().trim_matches('\'').to_owned())
        }
        Statement::CreateTable(_) => Kind::Command("CREATE TABLE"),
        Statement::CreateView(_) => Kind::Command("CREATE VIEW"),
        Statement::CreateSchema { .. } => Kind::Command("CREATE SCHEMA"),
        Statement::Drop { object_type, .. } => Kind::Command(match object_type {
            ObjectType::View => "DROP VIEW",
            ObjectType::Schema => "DROP SCHEMA",
            _ => "DROP TABLE",
        }),
        _ => Kind::Engine,
    }
}

fn is_time_zone(name: &str) -> bool {
    name.eq_ignore_ascii_case("timezone") || name.eq_ignore_ascii_case("time zone")
}

/// Parameters whose values the server states itself rather than DataFusion's.
fn show(name: &str) -> Kind {
    let value = |name: &'static str, v: &str| Kind::Show(name, v.to_owned());
    match name {
        "timezone" | "time zone" => Kind::ShowTimeZone,
        "server_version" => value("server_version", super::auth::SERVER_VERSION),
        "server_version_num" => value("server_version_num", super::auth::SERVER_VERSION_NUM),
        "standard_conforming_strings" => value("standard_conforming_strings", "on"),
        "transaction isolation level" | "transaction_isolation" => {
            value("transaction_isolation", "read committed")
        }
        "default_transaction_isolation" => value("default_transaction_isolation", "read committed"),
        "client_encoding" => value("client_encoding", "UTF8"),
        "server_encoding" => value("server_encoding", "UTF8"),
        "integer_datetimes" => value("integer_datetimes", "on"),
        "max_identifier_length" => value("max_identifier_length", "63"),
        "lc_collate" => value("lc_collate", "C.UTF-8"),
        "is_superuser" => value("is_superuser", "off"),
        _ => Kind::Engine,
    }
}

fn unqualified(name: &ObjectName) -> String {
    name.0
        .last()
        .map(|part| part.to_string().trim_matches('"').to_owned())
        .unwrap_or_default()
}

/// Refuses `stmt` unless a user of `role` (bound to tenants or not) may run it: reading is
/// for everyone; loading CDRs and rates is for `ingest`; refunds and billing events are for
/// `billing`; changing the catalog is for `admin`; reading or writing server files is for no
/// one over the wire. Writes look calls up outside the tenant filter of the plan, so a
/// tenant-bound user may not write at all.
pub fn authorize(
    role: Role,
    tenant_bound: bool,
    stmt: &Statement,
    temp: &TempTables,
) -> Result<(), PgWireError> {
    if on_temp_tables(stmt, temp) {
        return Ok(());
    }
    let writes = matches!(
        stmt,
        Statement::Insert(_) | Statement::Copy { to: false, .. }
    );
    if tenant_bound && writes {
        return Err(sqlstate::error(
            INSUFFICIENT_PRIVILEGE,
            "permission denied: a user bound to tenants may not write",
        ));
    }
    let denied = |what: &str| {
        Err(sqlstate::error(
            INSUFFICIENT_PRIVILEGE,
            format!("permission denied: role {role:?} may not {what}").to_lowercase(),
        ))
    };
    if role != Role::Admin
        && let Some(file) = file_relation(stmt)
    {
        return denied(&format!("read server files ({file})"));
    }
    match stmt {
        Statement::Copy {
            target: CopyTarget::File { .. } | CopyTarget::Program { .. },
            ..
        } => {
            if role == Role::Admin {
                Err(sqlstate::error(
                    FEATURE_NOT_SUPPORTED,
                    "COPY to or from a server file is not supported; use COPY … TO STDOUT / FROM STDIN (psql \\copy)",
                ))
            } else {
                denied("read or write server files")
            }
        }
        Statement::Copy { to: false, .. } => match kind(stmt) {
            Kind::CopyIn(table) if may_load(role, &table) => Ok(()),
            Kind::CopyIn(table) => denied(&format!("load {table}")),
            _ => denied("copy into this target"),
        },
        Statement::Insert(insert) => {
            let table = match &insert.table {
                TableObject::TableName(name) => unqualified(name),
                _ => String::new(),
            };
            if may_load(role, &table) {
                Ok(())
            } else {
                denied(&format!("insert into {table}"))
            }
        }
        Statement::Query(_)
        | Statement::Explain { .. }
        | Statement::ExplainTable { .. }
        | Statement::ShowVariable { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowTables { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowFunctions { .. }
        | Statement::Set(_)
        | Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Declare { .. }
        | Statement::Fetch { .. }
        | Statement::Close { .. }
        | Statement::Copy { .. } => Ok(()),
        _ if matches!(kind(stmt), Kind::NoOp(_)) => Ok(()),
        _ if role == Role::Admin => Ok(()),
        _ => denied("change the catalog or data"),
    }
}

/// Whether `stmt` creates, fills or drops the connection's temporary tables, which every
/// user may do ([`super::temp_tables`]): the rows put in come from the user's own queries.
fn on_temp_tables(stmt: &Statement, temp: &TempTables) -> bool {
    match stmt {
        Statement::CreateTable(_) => super::temp_tables::creates(stmt),
        Statement::Insert(insert) => {
            matches!(&insert.table, TableObject::TableName(name) if temp.holds(name))
        }
        Statement::Drop {
            object_type: ObjectType::Table,
            names,
            if_exists,
            ..
        } => {
            let droppable = |n: &ObjectName| temp.holds(n) || (*if_exists && temp.names_nothing(n));
            !names.is_empty() && names.iter().all(droppable)
        }
        _ => false,
    }
}

/// Table functions that read files (DuckDB's and DataFusion CLI's names): no session
/// registers them today, but a non-admin is refused them before planning even if one does.
const FILE_FUNCTIONS: [&str; 9] = [
    "read_csv",
    "read_csv_auto",
    "read_parquet",
    "read_json",
    "read_ndjson",
    "read_avro",
    "read_arrow",
    "read_text",
    "parquet_metadata",
];

/// The first relation of `stmt` that names a file rather than a table: a file-reading table
/// function, or a path or URL in place of a table name (`SELECT * FROM '/etc/passwd'`,
/// `FROM "s3://bucket/x.parquet"`), which DataFusion reads as a file when URL tables are on.
fn file_relation(stmt: &Statement) -> Option<String> {
    let found = visit_relations(stmt, |name: &ObjectName| {
        let parts: Vec<(&str, Option<char>)> = name
            .0
            .iter()
            .filter_map(ObjectNamePart::as_ident)
            .map(|i| (i.value.as_str(), i.quote_style))
            .collect();
        let is_file = parts.iter().any(|(value, quote)| {
            *quote == Some('\'')
                || value.contains('/')
                || value.contains('\\')
                || value.contains("://")
        }) || parts
            .last()
            .is_some_and(|(v, _)| FILE_FUNCTIONS.contains(&v.to_lowercase().as_str()));
        if is_file {
            ControlFlow::Break(name.to_string())
        } else {
            ControlFlow::Continue(())
        }
    });
    match found {
        ControlFlow::Break(name) => Some(name),
        ControlFlow::Continue(()) => None,
    }
}

/// For SQL the PostgreSQL parser refused: a non-admin's `CREATE EXTERNAL TABLE … STORED AS
/// CSV` or file `COPY` in DataFusion's own syntax is refused as a permission error (42501),
/// not reported as a syntax error that hints it could work.
pub fn refuse_unparsed(role: Role, sql: &str) -> Option<PgWireError> {
    if role == Role::Admin {
        return None;
    }
    let statements = DFParser::parse_sql_with_dialect(sql, &PostgreSqlDialect {}).ok()?;
    let what = statements.iter().find_map(|s| match s {
        DfStatement::CreateExternalTable(t) => Some(format!("create external table {}", t.name)),
        DfStatement::CopyTo(_) => Some("copy to a server file".to_owned()),
        _ => None,
    })?;
    Some(sqlstate::error(
        INSUFFICIENT_PRIVILEGE,
        format!("permission denied: role {role:?} may not {what}").to_lowercase(),
    ))
}

/// Whether `sql`, which the PostgreSQL parser refused, is one `CREATE EXTERNAL TABLE` in
/// DataFusion's syntax: an admin may run it (others are refused by [`refuse_unparsed`]).
pub fn is_external_table(sql: &str) -> bool {
    DFParser::parse_sql_with_dialect(sql, &PostgreSqlDialect {}).is_ok_and(|statements| {
        statements.len() == 1
            && matches!(
                statements.front(),
                Some(DfStatement::CreateExternalTable(_))
            )
    })
}

/// Which tables a role may load (COPY FROM STDIN, INSERT).
fn may_load(role: Role, table: &str) -> bool {
    match role {
        Role::Admin => table != "ingest_rejects",
        Role::Ingest => matches!(table, "cdrs" | "rates"),
        Role::Billing => matches!(table, "refunds" | "billing_events"),
        Role::Analyst => false,
    }
}

/// Whether `stmt` ends a transaction (the only statements an aborted transaction accepts).
pub fn ends_transaction(stmt: &Statement) -> bool {
    matches!(stmt, Statement::Commit { .. } | Statement::Rollback { .. })
}
