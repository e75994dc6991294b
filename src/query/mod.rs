//! Query: building a SQL session over a store and running statements. Fed by the catalog;
//! feeds the CLI (`cdrlake query`), and later the server and exports.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use datafusion::catalog::{CatalogProvider, MemoryCatalogProvider};
use datafusion::error::DataFusionError;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::{FunctionRegistry, SendableRecordBatchStream, SessionStateBuilder};
use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::DFParser;
use datafusion::sql::sqlparser::dialect::dialect_from_str;

use cdrlake_udfs::Settings;

use crate::catalog::{CdrlakeOptions, StoreSchema, rate_source, settings_table, views};
use crate::error::Result;
use crate::storage::Store;

mod age;
pub(crate) mod analyzer;
mod bag_sets;
pub mod column_names;
mod date_part;
mod distinct_rows;
mod duplicate_names;
mod duration_texts;
mod exists_value;
mod finite;
mod format;
mod integer_casts;
mod interval;
mod interval_compare;
mod interval_text;
mod justify;
mod like_any;
mod literal_times;
mod make_interval;
mod make_timestamp;
mod modulo;
mod null_counts;
mod numeric_division;
mod ordered_set;
mod pg_names;
mod proven_predicates;
pub(crate) mod quote;
mod regexp_split;
mod row_count;
mod row_in;
mod scan_predicates;
mod series_texts;
mod set_comparisons;
mod similar_to;
mod single_value;
mod spelled;
mod substring;
pub mod syntax;
mod text_arg;
pub mod time_zone;
mod to_char;
mod to_timestamp;
pub(crate) mod udf;
mod unnest_keys;
mod varchar_length;
mod width_bucket;

/// Name of the database (catalog) clients connect to.
pub const DATABASE: &str = "cdr";
/// Name of the schema holding the tables.
pub const SCHEMA: &str = "public";

/// `ctx` with a memory pool of its own of `bytes`, fair between the consumers that spill (as a
/// server's query session has; `serve::session`): what runs in it fails cleanly past the limit
/// instead of taking the machine's memory.
pub fn with_memory_limit(ctx: &SessionContext, bytes: usize) -> Result<SessionContext> {
    let runtime = RuntimeEnvBuilder::from_runtime_env(&ctx.runtime_env())
        .with_memory_pool(Arc::new(FairSpillPool::new(bytes)))
        .build_arc()?;
    Ok(SessionContext::new_with_state(
        SessionStateBuilder::new_from_existing(ctx.state())
            .with_runtime_env(runtime)
            .build(),
    ))
}

/// A SQL session over `store`: catalog `cdr`, schema `public`, every table of the store, the
/// `settings` table and the domain functions configured by `settings`, `rate_lookup` reading
/// the store's `rates` table (re-read when its version changes, checked once per query).
/// Parquet scans evaluate each condition of their predicate once (`scan_predicates`), the
/// conditions on the cheapest columns first, and skip those the scanned files' statistics prove
/// true for all rows (`proven_predicates`). `EXISTS` works as a value too (`exists_value`);
/// times written to the minute parse (`literal_times`); instants are read in the session's
/// `TimeZone` as PostgreSQL reads them (`time_zone`), `to_char` included, which takes
/// PostgreSQL's patterns (`to_char`); intervals multiply and divide by numbers (`interval`);
/// `age`, `justify_hours`/`_days`/`_interval`, `width_bucket`, and PostgreSQL's names
/// `variance` and `every` (`pg_names`), `mode` and `percentile_disc` (`ordered_set`), `format` and `quote_ident`/`_literal`/`_nullable`
/// (`format`, `quote`).
pub async fn session(store: &Store, settings: Arc<Settings>) -> Result<SessionContext> {
    let mut config = SessionConfig::new()
        .with_default_catalog_and_schema(DATABASE, SCHEMA)
        .with_information_schema(true)
        .with_option_extension(CdrlakeOptions::default());
    // delta-rs evaluates a scan's conditions row by row inside the Parquet reader, one
    // decoding pass per condition; cheapest columns first means the later passes decode only
    // the rows that are left (the month's per-account totals: -15% CPU, benches/RESULTS.md).
    config.options_mut().execution.parquet.reorder_filters = true;
    // Ahead of type coercion, which then compares a duration with an interval and divides
    // decimals at the scale given.
    let mut analyzer = datafusion::optimizer::Analyzer::new().rules;
    let coercion = analyzer
        .iter()
        .position(|r| r.name() == "type_coercion")
        .unwrap_or(analyzer.len());
    analyzer.insert(coercion, Arc::new(duration_texts::DurationTexts));
    analyzer.insert(coercion, Arc::new(numeric_division::NumericDivision));
    analyzer.insert(coercion, Arc::new(bag_sets::BagSetOperations));
    let mut optimizer = datafusion::optimizer::Optimizer::new().rules;
    optimizer.insert(0, Arc::new(unnest_keys::UnnestKeys));
    let mut builder = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .with_analyzer_rules(analyzer)
        .with_optimizer_rules(optimizer);
    // Ahead of DataFusion's, which plans every `substring(x FROM …)` as a start position.
    builder
        .expr_planners()
        .get_or_insert_default()
        .insert(0, Arc::new(substring::SubstringPattern));
    // Ahead of DataFusion's too: `EXTRACT` and `POSITION` named as PostgreSQL names them.
    builder
        .expr_planners()
        .get_or_insert_default()
        .insert(0, Arc::new(spelled::SpelledSyntax));
    let mut state = builder
        .with_physical_optimizer_rule(Arc::new(scan_predicates::DistinctScanPredicates))
        .with_physical_optimizer_rule(Arc::new(proven_predicates::ProvenScanPredicates))
        .build();
    state.add_analyzer_rule(Arc::new(exists_value::ExistsAsValue));
    state.add_analyzer_rule(Arc::new(single_value::ScalarSubqueryValue));
    state.add_analyzer_rule(Arc::new(literal_times::MinuteLiterals));
    state.add_analyzer_rule(Arc::new(time_zone::SessionTimeZone));
    state.add_analyzer_rule(Arc::new(integer_casts::IntegerCasts));
    state.add_analyzer_rule(Arc::new(interval_compare::IntervalComparisons));
    state.add_analyzer_rule(Arc::new(set_comparisons::SetComparisonAliases));
    let interval_mul = Arc::new(ScalarUDF::new_from_impl(interval::IntervalScale::mul()));
    let interval_div = Arc::new(ScalarUDF::new_from_impl(interval::IntervalScale::div()));
    state.register_expr_planner(Arc::new(interval::IntervalArithmetic::new(
        interval_mul.clone(),
        interval_div.clone(),
    )))?;
    let ctx = SessionContext::new_with_state(state);
    let catalog = MemoryCatalogProvider::new();
    let schema = StoreSchema::new(store.clone());
    catalog.register_schema(SCHEMA, Arc::new(schema))?;
    ctx.register_catalog(DATABASE, Arc::new(catalog));
    ctx.register_table("settings", Arc::new(settings_table(&settings)?))?;
    cdrlake_udfs::register_all_with_rates(&ctx, settings.clone(), rate_source(store));
    ctx.register_udf(ScalarUDF::new_from_impl(time_zone::Timezone::default()));
    ctx.register_udf(ScalarUDF::new_from_impl(to_char::ToChar::default()));
    ctx.register_udf(interval_mul.as_ref().clone());
    ctx.register_udf(interval_div.as_ref().clone());
    ctx.register_udf(ScalarUDF::new_from_impl(
        width_bucket::WidthBucket::default(),
    ));
    ctx.register_udf(ScalarUDF::new_from_impl(age::Age::default()));
    ctx.register_udf(ScalarUDF::new_from_impl(
        to_timestamp::ToTimestamp::timestamp(ctx.state().config().options()),
    ));
    ctx.register_udf(ScalarUDF::new_from_impl(to_timestamp::ToTimestamp::date()));
    for udf in justify::udfs() {
        ctx.register_udf(udf);
    }
    ctx.register_udf(ScalarUDF::new_from_impl(format::Format::default()));
    ctx.register_udf(substring::udf());
    ctx.register_udf(date_part::udf());
    for udf in make_timestamp::udfs()
        .into_iter()
        .chain(null_counts::udfs())
        .chain([modulo::udf(), finite::udf(), regexp_split::udf()])
        .chain([varchar_length::udf()])
    {
        ctx.register_udf(udf);
    }
    ctx.register_udf(interval_compare::udf());
    ctx.register_udf(ScalarUDF::new_from_impl(
        make_interval::MakeInterval::default(),
    ));
    for udaf in ordered_set::udafs() {
        ctx.register_udaf(udaf);
    }
    for udf in quote::udfs() {
        ctx.register_udf(udf);
    }
    pg_names::register(&ctx);
    ctx.register_udtf("generate_series", Arc::new(series_texts::SeriesTexts));
    views::register(&ctx, store, &settings).await?;
    Ok(ctx)
}

/// Runs one statement and streams its result.
pub async fn stream(ctx: &SessionContext, sql: &str) -> Result<SendableRecordBatchStream> {
    Ok(ctx.sql(sql).await?.execute_stream().await?)
}

/// Runs `;`-separated statements in order (a `SET` changes the session for those after it)
/// and streams the result of the last, each rewritten as PostgreSQL reads it ([`syntax`]); the
/// result's columns have PostgreSQL's names ([`column_names`]), as over the wire.
pub async fn stream_script(ctx: &SessionContext, sql: &str) -> Result<SendableRecordBatchStream> {
    let name = ctx.state().config().options().sql_parser.dialect;
    let dialect = dialect_from_str(name)
        .ok_or_else(|| DataFusionError::Plan(format!("unsupported SQL dialect {name}")))?;
    let mut statements = DFParser::parse_sql_with_dialect(sql, dialect.as_ref())?;
    for statement in &mut statements {
        syntax::rewrite_df(statement);
    }
    let last = statements.pop_back();
    for statement in statements {
        let plan = ctx.state().statement_to_plan(statement).await?;
        ctx.execute_logical_plan(plan).await?.collect().await?;
    }
    match last {
        Some(statement) => {
            let plan = ctx.state().statement_to_plan(statement).await?;
            let names = column_names::output_names(&plan);
            let stream = ctx
                .execute_logical_plan(plan)
                .await?
                .execute_stream()
                .await?;
            Ok(column_names::renamed(stream, names))
        }
        None => stream(ctx, sql).await,
    }
}

/// Runs one statement and collects its result.
pub async fn collect(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    Ok(ctx.sql(sql).await?.collect().await?)
}
