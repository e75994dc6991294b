//! One client connection's SQL session: its own DataFusion session state (so `SET` of one
//! client never changes another's), its user's role and tenants, and the handlers of the
//! simple and extended query protocols. Statements the server answers itself (COPY, session
//! no-ops, version, DDL tags) are handled here; the rest go to datafusion-postgres'
//! `DfSessionService` over this connection's context.

use std::fmt::Debug;
use std::num::NonZeroUsize;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use chrono_tz::Tz;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, ParamValues};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::{EmptyRelation, LogicalPlan};
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::hooks::cursor::CursorStatementHook;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use datafusion_postgres::{DfSessionService, Parser as DfParser, QueryHook};
use futures::{Sink, SinkExt};
use pgwire::api::copy::CopyHandler;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{
    CopyResponse, DataRowEncoder, DescribePortalResponse, FieldInfo, QueryResponse, Response, Tag,
};
use pgwire::api::stmt::QueryParser;
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, Type};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::copy::{CopyData, CopyDone, CopyFail};
use pgwire::messages::response::{NoticeResponse, TransactionStatus};
use pgwire::messages::startup::ParameterStatus;
use tokio_util::sync::CancellationToken;

use super::Shared;
use super::auth::User;
use super::cancel::{self, Guard, Interruptible, Statements};
use super::copy_in::CopyIn;
use super::copy_out::{self, CopyOut};
use super::numeric::UnconstrainedNumeric;
use super::parameters;
use super::row_description;
use super::sqlstate::{self, INVALID_PARAMETER};
use super::statement::{self, Kind};
use super::temp_tables::{SessionCatalogs, TempTables};
use super::tenant::TenantFilter;
use super::text_cast::PgTextCasts;
use super::text_rows;
use crate::catalog::writes::SessionUser;
use crate::config::Role;

/// The statement type of the extended protocol: datafusion-postgres' (SQL, parsed statement,
/// plan), so its cursor hook finds the portals it expects.
pub type DfStatement = (String, Option<(Statement, LogicalPlan)>);

/// Client metadata key under which datafusion-postgres keeps the session's time zone.
const TIMEZONE_KEY: &str = "timezone";
/// Client metadata key under which datafusion-postgres keeps `statement_timeout` (ms).
const TIMEOUT_KEY: &str = "statement_timeout_ms";

/// The state of a connection once its user is known (at its first statement).
struct Conn {
    user: User,
    ctx: Arc<SessionContext>,
    /// The connection's temporary tables.
    temp: TempTables,
    service: Arc<DfSessionService>,
    _registered: Guard,
}

/// A connection's session: the simple and extended query handlers.
pub struct Session {
    shared: Arc<Shared>,
    conn: Arc<OnceLock<Conn>>,
    statements: Arc<Statements>,
    parser: Arc<SessionParser>,
    copy_in: tokio::sync::Mutex<Option<CopyIn>>,
}

impl Session {
    /// A session for a new connection; it is bound to its user at the first statement.
    pub fn new(shared: Arc<Shared>) -> Session {
        let conn = Arc::new(OnceLock::new());
        let statements = Arc::new(Statements::default());
        Session {
            parser: Arc::new(SessionParser {
                shared: shared.clone(),
                conn: conn.clone(),
                statements: statements.clone(),
            }),
            shared,
            conn,
            statements,
            copy_in: tokio::sync::Mutex::new(None),
        }
    }

    fn conn<C: ClientInfo + ?Sized>(&self, client: &C) -> PgWireResult<&Conn> {
        conn(&self.conn, &self.shared, &self.statements, client)
    }

    /// Undoes `created` (a temporary table) when the connection's temporary tables now hold
    /// more than the per-query memory limit.
    async fn bound_temp_tables(&self, conn: &Conn, created: &Statement) -> PgWireResult<()> {
        let (held, limit) = (conn.temp.bytes().await, self.shared.query_memory_bytes);
        if held <= limit {
            return Ok(());
        }
        conn.temp.drop_created(created);
        Err(sqlstate::error(
            sqlstate::OUT_OF_MEMORY,
            format!(
                "temporary tables would hold {} MB, over the limit of {} MB (query_memory_mb); \
                 the table was not kept",
                held >> 20,
                limit >> 20
            ),
        ))
    }

    fn timeout<C: ClientInfo + ?Sized>(&self, client: &C) -> Option<Duration> {
        match client.metadata().get(TIMEOUT_KEY) {
            Some(ms) => ms
                .parse::<u64>()
                .ok()
                .filter(|ms| *ms > 0)
                .map(Duration::from_millis),
            None => self.shared.statement_timeout,
        }
    }

    /// Answers a statement the server handles itself; `None` leaves it to the engine.
    async fn answer<C>(
        &self,
        client: &mut C,
        conn: &Conn,
        stmt: &Statement,
        token: CancellationToken,
    ) -> Option<PgWireResult<Response>>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let timeout = self.timeout(client);
        Some(match statement::kind(stmt) {
            Kind::Engine => return None,
            Kind::CopyOut => match CopyOut::from_statement(stmt) {
                Ok(copy) => {
                    let zone = zone(client);
                    copy_out::run(client, &conn.ctx, copy, zone, token, timeout).await
                }
                Err(e) => Err(e),
            },
            Kind::CopyIn(table) => match CopyIn::start(stmt, &table).await {
                Ok((copy, columns)) => {
                    let format = copy.format();
                    *self.copy_in.lock().await = Some(copy);
                    Ok(Response::CopyIn(CopyResponse::new(
                        format,
                        columns,
                        futures::stream::empty(),
                    )))
                }
                Err(e) => Err(e),
            },
            Kind::NoOp(tag) => {
                use datafusion::sql::sqlparser::ast::DiscardObject;
                if matches!(
                    stmt,
                    Statement::Discard {
                        object_type: DiscardObject::ALL | DiscardObject::TEMP
                    }
                ) {
                    conn.temp.clear();
                }
                Ok(Response::Execution(Tag::new(tag)))
            }
            Kind::Show(name, value) => show(name, &value),
            Kind::ShowTimeZone => show("TimeZone", zone(client).name()),
            Kind::SetTimeZone(name) => set_time_zone(client, conn, &name).await,
            Kind::Command(tag) => {
                let done = command(conn, &stmt.to_string(), tag, token, timeout).await;
                let done = match done {
                    Ok(_) if super::temp_tables::creates(stmt) => {
                        self.bound_temp_tables(conn, stmt).await.and(done)
                    }
                    other => other,
                };
                match (done, stmt) {
                    // `CREATE TABLE … AS`: PostgreSQL's tag counts the rows, `SELECT n`.
                    (Ok(_), Statement::CreateTable(created)) if created.query.is_some() => {
                        rows_of(conn, &created.name.to_string())
                            .await
                            .map(|n| Response::Execution(Tag::new("SELECT").with_rows(n)))
                    }
                    (done, _) => done,
                }
            }
        })
    }
}

fn conn<'a, C: ClientInfo + ?Sized>(
    cell: &'a OnceLock<Conn>,
    shared: &Arc<Shared>,
    statements: &Arc<Statements>,
    client: &C,
) -> PgWireResult<&'a Conn> {
    if let Some(c) = cell.get() {
        return Ok(c);
    }
    let name = client.metadata().get("user").cloned().unwrap_or_default();
    let user = shared.users.get(&name).ok_or_else(|| {
        PgWireError::UserError(Box::new(ErrorInfo::new(
            "FATAL".into(),
            "28000".into(),
            format!("role \"{name}\" does not exist"),
        )))
    })?;
    let temp = TempTables::default();
    let ctx = Arc::new(session_context(shared, &user, &temp)?);
    let (pid, secret) = client.pid_and_secret_key();
    let registered = shared
        .cancels
        .register(pid, secret.to_bytes().to_vec(), statements);
    let hooks: Vec<Arc<dyn QueryHook>> = vec![
        Arc::new(CursorStatementHook),
        Arc::new(SetShowHook),
        Arc::new(TransactionStatementHook),
    ];
    let service = Arc::new(DfSessionService::new_with_hooks(ctx.clone(), hooks));
    let _ = cell.set(Conn {
        user,
        ctx,
        temp,
        service,
        _registered: registered,
    });
    cell.get()
        .ok_or_else(|| sqlstate::error(sqlstate::INTERNAL, "session not initialised"))
}

/// How many of the largest memory consumers a "resources exhausted" error names.
const TOP_CONSUMERS: NonZeroUsize = NonZeroUsize::new(5).expect("non-zero");

/// The connection's own session state: the shared catalog (with `temp`, its temporary
/// tables) and functions, its own configuration, a memory pool of the per-query limit, and
/// the user's tenant filter.
fn session_context(
    shared: &Shared,
    user: &User,
    temp: &TempTables,
) -> PgWireResult<SessionContext> {
    // A fair pool rather than DataFusion's greedy default. With the greedy pool one
    // partition's sorter took most of the limit, and the other partition's merge of its sorted
    // batches (ExternalSorterMerge, not spillable, 0.5-0.85 GB at 10M CDRs) found nothing
    // left: window queries over 10M CDRs failed with 53200 in over half the runs
    // (apache/datafusion#16979). The fair pool caps each spilling consumer at its share, so
    // they spill earlier and the merges fit; measured 0 failures and faster runs
    // (benches/RESULTS.md, 10M rows). The limit itself is unchanged.
    let pool =
        TrackConsumersPool::new(FairSpillPool::new(shared.query_memory_bytes), TOP_CONSUMERS);
    let runtime = RuntimeEnvBuilder::from_runtime_env(shared.base.runtime_env())
        .with_memory_pool(Arc::new(pool))
        .build_arc()
        .map_err(|e| PgWireError::ApiError(Box::new(e)))?;
    let mut rules = shared.base.analyzer().rules.clone();
    if let Some(tenants) = &user.tenants {
        rules.insert(0, Arc::new(TenantFilter::new(tenants.clone())));
    }
    // Before type coercion, which then works with the types it chose.
    let coercion = rules
        .iter()
        .position(|r| r.name() == "type_coercion")
        .unwrap_or(rules.len());
    rules.insert(coercion, Arc::new(UnconstrainedNumeric));
    // After type coercion: it needs the types of what is cast.
    rules.push(Arc::new(PgTextCasts));
    // Writes record who issued them (`refunds.created_by`).
    let config = shared
        .base
        .config()
        .clone()
        .with_extension(Arc::new(SessionUser(user.name.clone())));
    let catalogs = SessionCatalogs::new(shared.base.catalog_list().clone(), temp)
        .ok_or_else(|| sqlstate::error(sqlstate::INTERNAL, "catalog cdr is not registered"))?;
    let state = SessionStateBuilder::new_from_existing(shared.base.clone())
        .with_catalog_list(Arc::new(catalogs))
        .with_config(config)
        .with_runtime_env(runtime)
        .with_analyzer_rules(rules)
        .build();
    Ok(SessionContext::new_with_state(state))
}

/// The session's `TimeZone` (UTC unless set).
fn zone<C: ClientInfo + ?Sized>(client: &C) -> Tz {
    client
        .metadata()
        .get(TIMEZONE_KEY)
        .and_then(|z| z.parse().ok())
        .unwrap_or(Tz::UTC)
}

fn show(name: &str, value: &str) -> PgWireResult<Response> {
    let field = FieldInfo::new(
        name.into(),
        None,
        None,
        Type::TEXT,
        pgwire::api::results::FieldFormat::Text,
    );
    let schema = Arc::new(vec![field]);
    let mut encoder = DataRowEncoder::new(schema.clone());
    encoder.encode_field(&Some(value))?;
    let row = encoder.take_row();
    Ok(Response::Query(QueryResponse::new(
        schema,
        futures::stream::iter(vec![Ok(row)]),
    )))
}

async fn set_time_zone<C>(client: &mut C, conn: &Conn, name: &str) -> PgWireResult<Response>
where
    C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let name = if name.eq_ignore_ascii_case("local") || name.eq_ignore_ascii_case("default") {
        "UTC"
    } else {
        name
    };
    let zone: Tz = crate::query::time_zone::zone_named(name).ok_or_else(|| {
        sqlstate::error(
            INVALID_PARAMETER,
            format!("invalid value for parameter \"TimeZone\": \"{name}\""),
        )
    })?;
    client
        .metadata_mut()
        .insert(TIMEZONE_KEY.into(), zone.name().into());
    conn.ctx
        .state_ref()
        .write()
        .config_mut()
        .options_mut()
        .execution
        .time_zone = Some(zone.name().into());
    client
        .send(PgWireBackendMessage::ParameterStatus(ParameterStatus::new(
            "TimeZone".into(),
            zone.name().into(),
        )))
        .await?;
    Ok(Response::Execution(Tag::new("SET")))
}

/// Runs a catalog-changing statement and answers with PostgreSQL's command tag.
async fn command(
    conn: &Conn,
    sql: &str,
    tag: &'static str,
    token: CancellationToken,
    timeout: Option<Duration>,
) -> PgWireResult<Response> {
    let api = |e: datafusion::error::DataFusionError| PgWireError::ApiError(Box::new(e));
    let run = async {
        let df = conn.ctx.sql(sql).await.map_err(api)?;
        df.collect().await.map_err(api)
    };
    tokio::select! {
        r = run => r.map(|_| Response::Execution(Tag::new(tag))),
        timed_out = cancel::stopped(token, timeout) => Err(cancel::canceled(timed_out)),
    }
}

/// How many rows the table `name` holds.
async fn rows_of(conn: &Conn, name: &str) -> PgWireResult<usize> {
    let api = |e: datafusion::error::DataFusionError| PgWireError::ApiError(Box::new(e));
    let df = conn.ctx.table(name).await.map_err(api)?;
    df.count().await.map_err(api)
}

/// The command tag of `CREATE EXTERNAL TABLE` (PostgreSQL has none; it creates a table).
const EXTERNAL_TABLE_TAG: &str = "CREATE TABLE";

/// Whether `sql`, refused by the PostgreSQL parser, is a `CREATE EXTERNAL TABLE` this
/// connection's user may run: an admin's, over server files (SPEC 6).
fn may_create_external_table(conn: &Conn, sql: &str) -> bool {
    conn.user.role == Role::Admin && statement::is_external_table(sql)
}

fn aborted_transaction() -> PgWireError {
    sqlstate::error(
        "25P02",
        "current transaction is aborted, commands ignored until end of transaction block",
    )
}

/// Lets the client's rows be interrupted by cancel and timeout while they stream.
fn interruptible(resp: Response, token: CancellationToken, timeout: Option<Duration>) -> Response {
    match resp {
        Response::Query(mut q) => {
            let rows = std::mem::replace(&mut q.data_rows, Box::pin(futures::stream::empty()));
            q.data_rows = Box::pin(Interruptible::new(rows, cancel::stopped(token, timeout)));
            Response::Query(q)
        }
        other => other,
    }
}

/// A response of datafusion-postgres (cursors, `SHOW`), whose plan the server does not see,
/// with its columns named by [`text_rows::rename`].
fn guess_names(resp: Response) -> Response {
    match resp {
        Response::Query(mut q) => {
            q.row_schema = text_rows::rename(&q.row_schema);
            Response::Query(q)
        }
        other => other,
    }
}

fn parse(sql: &str) -> PgWireResult<Vec<Statement>> {
    Ok(parse_marked(sql)?.0)
}

/// The statements of `sql` with our catalog rewrites ([`super::pg_catalog_sql`]) and
/// PostgreSQL's syntax ([`crate::query::syntax`]) applied after datafusion-pg-catalog's that
/// apply ([`super::compat_parse`]), and whether any of ours applied.
fn parse_marked(sql: &str) -> PgWireResult<(Vec<Statement>, bool)> {
    let mut statements =
        super::compat_parse::parse(sql).map_err(|e| PgWireError::ApiError(Box::new(e)))?;
    let mut rewritten = super::pg_catalog_sql::rewrite(&mut statements);
    for statement in &mut statements {
        rewritten |= super::temp_tables::rewrite(statement);
        rewritten |= crate::query::syntax::rewrite(statement);
    }
    Ok((statements, rewritten))
}

/// An error as the response of one statement of a simple query, with its SQLSTATE.
fn error_response(mut e: PgWireError) -> Response {
    sqlstate::classify(&mut e);
    Response::Error(Box::new(ErrorInfo::from(e)))
}

#[async_trait]
impl SimpleQueryHandler for Session {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let conn = self.conn(client)?;
        let statements = match parse(query) {
            Ok(s) => s,
            Err(_) if may_create_external_table(conn, query) => {
                let token = self.statements.begin();
                let created = command(conn, query, EXTERNAL_TABLE_TAG, token, self.timeout(client));
                return Ok(vec![created.await.unwrap_or_else(error_response)]);
            }
            Err(e) => {
                let e = statement::refuse_unparsed(conn.user.role, query).unwrap_or(e);
                return Ok(vec![error_response(e)]);
            }
        };
        if statements.is_empty() {
            return Ok(vec![Response::EmptyQuery]);
        }
        let mut responses = Vec::with_capacity(statements.len());
        for stmt in statements {
            tracing::debug!(%stmt, kind = ?statement::kind(&stmt), "simple query");
            let started = std::time::Instant::now();
            let token = self.statements.begin();
            let timeout = self.timeout(client);
            let aborted = client.transaction_status() == TransactionStatus::Error
                && !statement::ends_transaction(&stmt);
            let result = match statement::authorize(
                conn.user.role,
                conn.user.tenants.is_some(),
                &stmt,
                &conn.temp,
            ) {
                Err(e) => Err(e),
                Ok(()) if aborted => Err(aborted_transaction()),
                Ok(()) => match self.answer(client, conn, &stmt, token.clone()).await {
                    Some(r) => r,
                    None if matches!(stmt, Statement::Query(_)) => {
                        let zone = zone(client);
                        let sql = stmt.to_string();
                        let run = text_rows::query(&conn.ctx, &sql, zone);
                        tokio::select! {
                            r = run => r.map(Response::Query),
                            timed_out = cancel::stopped(token.clone(), timeout) => {
                                Err(cancel::canceled(timed_out))
                            }
                        }
                    }
                    None => {
                        let sql = stmt.to_string();
                        let run = SimpleQueryHandler::do_query(conn.service.as_ref(), client, &sql);
                        tokio::select! {
                            r = run => r.and_then(|mut v| v.pop().ok_or_else(|| {
                                sqlstate::error(sqlstate::INTERNAL, "statement produced no response")
                            })).map(guess_names),
                            timed_out = cancel::stopped(token.clone(), timeout) => {
                                Err(cancel::canceled(timed_out))
                            }
                        }
                    }
                },
            };
            self.shared
                .metrics
                .statement(started.elapsed(), result.is_ok());
            match result {
                Ok(r) => responses.push(interruptible(r, token, timeout)),
                Err(e) => {
                    responses.push(error_response(e));
                    break;
                }
            }
        }
        Ok(responses)
    }
}

impl Session {
    /// The portal's parameter values, decoded by the type the client sent, else the type
    /// the server described, else the one DataFusion inferred.
    fn bind(&self, portal: &Portal<DfStatement>, plan: &LogicalPlan) -> PgWireResult<ParamValues> {
        let api = |e: datafusion::error::DataFusionError| PgWireError::ApiError(Box::new(e));
        let described = self
            .parser
            .get_parameter_types(&portal.statement.statement)?;
        let mut inferred: Vec<(u32, Option<DataType>)> = plan
            .get_parameter_types()
            .map_err(api)?
            .into_iter()
            .filter_map(|(id, t)| Some((id.trim_start_matches('$').parse().ok()?, t)))
            .collect();
        inferred.sort_by_key(|(n, _)| *n);
        let inferred: Vec<Option<&DataType>> = inferred.iter().map(|(_, t)| t.as_ref()).collect();
        let described: Vec<Option<&Type>> = described
            .iter()
            .map(|t| Some(parameters::decoded_as(t)))
            .collect();
        arrow_pg::datatypes::df::deserialize_parameters_with_server_types(
            portal, &inferred, &described,
        )
    }
}

/// Parses extended-protocol statements: the ones the server answers itself get an empty
/// plan (so Describe says NoData); the rest are planned by datafusion-postgres.
pub struct SessionParser {
    shared: Arc<Shared>,
    conn: Arc<OnceLock<Conn>>,
    statements: Arc<Statements>,
}

impl SessionParser {
    fn inner(&self) -> Option<Arc<DfParser>> {
        self.conn.get().map(|c| c.service.query_parser())
    }
}

/// Gives parameters whose type nothing determines (`SELECT $1`, not `$1::int` nor
/// `col = $1`) the type `text`, as PostgreSQL does for `unknown`; an untyped parameter would
/// otherwise be dropped when its value is NULL, shifting the ones after it.
fn untyped_as_text(plan: LogicalPlan) -> LogicalPlan {
    use std::collections::HashSet;

    use datafusion::arrow::datatypes::{DataType, Field};
    use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
    use datafusion::logical_expr::{Cast, Expr, TryCast};

    let inferred = plan.get_parameter_types().unwrap_or_default();
    let mut cast = HashSet::new();
    let _ = plan.apply_with_subqueries(|node| {
        node.apply_expressions(|e| {
            e.apply(|e| {
                if let Expr::Cast(Cast { expr, .. }) | Expr::TryCast(TryCast { expr, .. }) = e
                    && let Expr::Placeholder(p) = expr.as_ref()
                {
                    cast.insert(p.id.clone());
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    });
    let untyped = |id: &str| !cast.contains(id) && inferred.get(id).is_none_or(Option::is_none);
    let typed = plan.clone().transform_up_with_subqueries(|node| {
        node.map_expressions(|e| {
            e.transform_up(|e| match e {
                Expr::Placeholder(mut p) if p.field.is_none() && untyped(&p.id) => {
                    p.field = Some(Arc::new(Field::new(&p.id, DataType::Utf8, true)));
                    Ok(Transformed::yes(Expr::Placeholder(p)))
                }
                other => Ok(Transformed::no(other)),
            })
        })
    });
    typed.map(|t| t.data).unwrap_or(plan)
}

fn is_answered_here(stmt: &DfStatement) -> bool {
    stmt.1
        .as_ref()
        .is_some_and(|(s, _)| statement::kind(s) != Kind::Engine)
}

#[async_trait]
impl QueryParser for SessionParser {
    type Statement = DfStatement;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let conn = conn(&self.conn, &self.shared, &self.statements, client)?;
        let (mut statements, rewritten) = match parse_marked(sql) {
            Ok(parsed) => parsed,
            // Run as it is at Execute (DataFusion's own parser reads it).
            Err(_) if may_create_external_table(conn, sql) => {
                return Ok(Some((sql.to_owned(), None)));
            }
            Err(e) => return Err(statement::refuse_unparsed(conn.user.role, sql).unwrap_or(e)),
        };
        if statements.is_empty() {
            return Ok(None);
        }
        let stmt = statements.remove(0);
        let rewritten_sql = rewritten.then(|| stmt.to_string());
        let sql = rewritten_sql.as_deref().unwrap_or(sql);
        statement::authorize(
            conn.user.role,
            conn.user.tenants.is_some(),
            &stmt,
            &conn.temp,
        )?;
        if statement::kind(&stmt) != Kind::Engine {
            let empty = LogicalPlan::EmptyRelation(EmptyRelation {
                produce_one_row: false,
                schema: Arc::new(DFSchema::empty()),
            });
            return Ok(Some((sql.to_owned(), Some((stmt, empty)))));
        }
        // A query of data is planned here: datafusion-postgres would parse its text again with
        // every catalog rewrite ([`super::compat_parse`]).
        if matches!(stmt, Statement::Query(_)) && super::compat_parse::is_data(sql) {
            let state = conn.ctx.state();
            let plan = state
                .statement_to_plan(datafusion::sql::parser::Statement::Statement(Box::new(
                    stmt.clone(),
                )))
                .await
                .map_err(|e| PgWireError::ApiError(Box::new(e)))?;
            let plan = super::described_types::as_answered(untyped_as_text(plan), &state);
            return Ok(Some((stmt.to_string(), Some((stmt, plan)))));
        }
        let parsed = conn
            .service
            .query_parser()
            .parse_sql(client, sql, types)
            .await?;
        Ok(parsed.map(|(sql, stmt)| (sql, stmt.map(|(s, plan)| (s, untyped_as_text(plan))))))
    }

    fn get_parameter_types(&self, stmt: &Self::Statement) -> PgWireResult<Vec<Type>> {
        match self.inner() {
            Some(p) if !is_answered_here(stmt) => {
                let mut types = p.get_parameter_types(stmt)?;
                if let Some((s, _)) = &stmt.1 {
                    parameters::describe(s, &mut types);
                }
                Ok(types)
            }
            _ => Ok(vec![]),
        }
    }

    fn get_result_schema(
        &self,
        stmt: &Self::Statement,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        match stmt.1.as_ref().map(|(s, _)| statement::kind(s)) {
            Some(Kind::Show(name, _)) => Ok(vec![FieldInfo::new(
                name.into(),
                None,
                None,
                Type::TEXT,
                pgwire::api::results::FieldFormat::Text,
            )]),
            Some(Kind::Engine) => match (self.inner(), &stmt.1) {
                (Some(p), Some((_, plan))) => Ok(row_description::of(
                    &p.get_result_schema(stmt, column_format)?,
                    super::described_types::executed(plan),
                )
                .as_ref()
                .clone()),
                _ => Ok(vec![]),
            },
            _ => Ok(vec![]),
        }
    }
}

#[async_trait]
impl ExtendedQueryHandler for Session {
    type Statement = DfStatement;
    type QueryParser = SessionParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    /// A portal's columns. A cursor `DECLARE`d in SQL is a portal holding only its query's
    /// text (datafusion-postgres' cursor hook runs it at once); its columns come from planning
    /// that text again, so clients that describe it by name (psycopg's named cursors) learn
    /// them instead of NoData.
    async fn do_describe_portal<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (sql, parsed) = &portal.statement.statement;
        let fields = match parsed {
            None if !sql.is_empty() => {
                let conn = self.conn(client)?;
                let plan = conn
                    .ctx
                    .state()
                    .create_logical_plan(sql)
                    .await
                    .map_err(|e| PgWireError::ApiError(Box::new(e)))?;
                let fields = arrow_pg::datatypes::arrow_schema_to_pg_fields(
                    plan.schema().as_arrow(),
                    &portal.result_column_format,
                    None,
                )?;
                row_description::of(&fields, &plan).as_ref().clone()
            }
            _ => self.parser.get_result_schema(
                &portal.statement.statement,
                Some(&portal.result_column_format),
            )?,
        };
        Ok(DescribePortalResponse::new(fields))
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let started = std::time::Instant::now();
        let result = async {
            let conn = self.conn(client)?;
            let token = self.statements.begin();
            let timeout = self.timeout(client);
            if client.transaction_status() == TransactionStatus::Error
                && !portal
                    .statement
                    .statement
                    .1
                    .as_ref()
                    .is_some_and(|(s, _)| statement::ends_transaction(s))
            {
                return Err(aborted_transaction());
            }
            if let (sql, None) = &portal.statement.statement
                && may_create_external_table(conn, sql)
            {
                return command(conn, sql, EXTERNAL_TABLE_TAG, token, timeout).await;
            }
            if let Some((stmt, _)) = &portal.statement.statement.1
                && let Some(r) = self.answer(client, conn, stmt, token.clone()).await
            {
                return r;
            }
            if let Some((Statement::Query(_), plan)) = &portal.statement.statement.1 {
                let plan = super::described_types::executed(plan);
                let params = self.bind(portal, plan)?;
                let zone = zone(client);
                let run = async {
                    let plan = plan.clone().replace_params_with_values(&params)?;
                    conn.ctx.execute_logical_plan(plan).await
                };
                let resp = tokio::select! {
                    df = run => {
                        let df = df.map_err(|e| PgWireError::ApiError(Box::new(e)))?;
                        text_rows::respond(df, &portal.result_column_format, zone).await?
                    }
                    timed_out = cancel::stopped(token.clone(), timeout) => {
                        return Err(cancel::canceled(timed_out));
                    }
                };
                return Ok(interruptible(Response::Query(resp), token, timeout));
            }
            let run =
                ExtendedQueryHandler::do_query(conn.service.as_ref(), client, portal, max_rows);
            let resp = tokio::select! {
                r = run => guess_names(r?),
                timed_out = cancel::stopped(token.clone(), timeout) => {
                    return Err(cancel::canceled(timed_out));
                }
            };
            Ok(interruptible(resp, token, timeout))
        }
        .await;
        self.shared
            .metrics
            .statement(started.elapsed(), result.is_ok());
        result
    }
}

#[async_trait]
impl CopyHandler for Session {
    async fn on_copy_data<C>(&self, _client: &mut C, data: CopyData) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match self.copy_in.lock().await.as_mut() {
            Some(copy) => copy.write(&data.data).await,
            None => Err(sqlstate::error(
                "08P01",
                "CopyData outside of COPY FROM STDIN",
            )),
        }
    }

    async fn on_copy_done<C>(&self, client: &mut C, _done: CopyDone) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let Some(copy) = self.copy_in.lock().await.take() else {
            return Err(sqlstate::error(
                "08P01",
                "CopyDone outside of COPY FROM STDIN",
            ));
        };
        let report = copy.finish(&self.shared).await?;
        if report.rejected > 0 {
            let notice = ErrorInfo::new(
                "NOTICE".into(),
                "01000".into(),
                format!(
                    "{} row(s) rejected; see ingest_rejects (file '{}') for lines and reasons",
                    report.rejected, report.file
                ),
            );
            client
                .feed(PgWireBackendMessage::NoticeResponse(NoticeResponse::from(
                    notice,
                )))
                .await?;
        }
        let rows = usize::try_from(report.stored + report.duplicates).unwrap_or(usize::MAX);
        client
            .send(PgWireBackendMessage::CommandComplete(
                Tag::new("COPY").with_rows(rows).into(),
            ))
            .await?;
        Ok(())
    }

    async fn on_copy_fail<C>(&self, _client: &mut C, fail: CopyFail) -> PgWireError
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let Some(copy) = self.copy_in.lock().await.take() {
            copy.abort().await;
        }
        sqlstate::error("57014", format!("COPY from stdin failed: {}", fail.message))
    }
}
