use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{AsArray, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::MemTable;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::physical_plan::statistics::{StatisticsArgs, StatisticsContext};
use datafusion::physical_plan::{ExecutionPlan, collect, displayable};
use datafusion::prelude::{SessionConfig, SessionContext};

use super::GroupWindowExec;
use crate::{Settings, register_all};

/// `rows` calls of 7 tenants and 1,000 callers in `parts` partitions: (tenant, src, ts).
fn calls(ctx: &SessionContext, rows: i64, parts: i64) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("tenant", DataType::Utf8, true),
        Field::new("src", DataType::Utf8, true),
        Field::new("ts", DataType::Int64, true),
    ]));
    let per_part = rows / parts;
    let partitions = (0..parts)
        .map(|p| {
            let ids = (p * per_part)..((p + 1) * per_part);
            let tenant: StringArray = ids.clone().map(|i| Some(format!("t{}", i % 7))).collect();
            let src: StringArray = ids
                .clone()
                .map(|i| Some(format!("s{}", i % 1000)))
                .collect();
            let ts: Int64Array = ids.map(|i| Some((i * 7919) % rows)).collect();
            let batch = RecordBatch::try_new(
                Arc::clone(&schema),
                vec![Arc::new(tenant), Arc::new(src), Arc::new(ts)],
            )
            .expect("batch");
            vec![batch]
        })
        .collect();
    let table = MemTable::try_new(schema, partitions).expect("table");
    ctx.register_table("calls", Arc::new(table))
        .expect("registered");
}

fn session(config: SessionConfig) -> SessionContext {
    let ctx = SessionContext::new_with_config(config);
    register_all(&ctx, Arc::new(Settings::default()));
    ctx
}

/// A session of 3 partitions and 1,000-row batches over 70,000 calls in 4 partitions: many
/// batches per group, so answers have to carry across them.
fn batched_calls() -> SessionContext {
    let ctx = session(
        SessionConfig::new()
            .with_target_partitions(3)
            .with_batch_size(1000),
    );
    calls(&ctx, 70_000, 4);
    ctx
}

async fn physical(ctx: &SessionContext, sql: &str) -> Arc<dyn ExecutionPlan> {
    ctx.sql(sql)
        .await
        .expect("plans")
        .create_physical_plan()
        .await
        .expect("physical plan")
}

async fn physical_plan(ctx: &SessionContext, sql: &str) -> String {
    displayable(physical(ctx, sql).await.as_ref())
        .indent(false)
        .to_string()
}

/// The single count `sql` answers.
async fn count(ctx: &SessionContext, sql: &str) -> i64 {
    let batches = ctx
        .sql(sql)
        .await
        .expect("plans")
        .collect()
        .await
        .expect("runs");
    batches[0].column(0).as_primitive::<Int64Type>().value(0)
}

const FIRSTS: &str = "SELECT count(*) FROM (SELECT first_in_group(ts, src) OVER (PARTITION BY tenant) AS f FROM calls) WHERE f";

#[tokio::test]
async fn planned_without_a_sort_and_with_every_answer() {
    let ctx = session(SessionConfig::new().with_target_partitions(3));
    calls(&ctx, 70_000, 4);
    let plan = physical_plan(&ctx, FIRSTS).await;
    assert!(plan.contains("GroupWindowExec"), "{plan}");
    assert!(
        plan.contains("RepartitionExec: partitioning=Hash([tenant@0, src@1], 3)"),
        "by the partition key and the function's key: {plan}"
    );
    assert!(
        !plan.contains("SortExec") && !plan.contains("WindowAggExec"),
        "{plan}"
    );
    // Every (tenant, src) pair occurs: 7 × 1000 groups, one first row each.
    assert_eq!(count(&ctx, FIRSTS).await, 7_000);
}

#[tokio::test]
async fn windows_with_an_order_keep_datafusions_operator() {
    let ctx = session(SessionConfig::new().with_target_partitions(2));
    calls(&ctx, 1_000, 2);
    let sql = "SELECT first_in_group(ts, src) OVER (PARTITION BY tenant ORDER BY ts) FROM calls";
    let plan = physical_plan(&ctx, sql).await;
    assert!(!plan.contains("GroupWindowExec"), "{plan}");
}

#[tokio::test]
async fn one_window_partition_without_partition_keys() {
    let ctx = session(SessionConfig::new().with_target_partitions(2));
    calls(&ctx, 10_000, 2);
    let sql = "SELECT count(*) FROM (SELECT first_flag_position(ts % 3 = 0, ts, src) OVER () AS p FROM calls) WHERE p = 0";
    let plan = physical_plan(&ctx, sql).await;
    assert!(plan.contains("GroupWindowExec"), "{plan}");
    // Still over both partitions: by the function's key.
    assert!(plan.contains("partitioning=Hash([src@0], 2)"), "{plan}");
    assert_eq!(count(&ctx, sql).await, 1_000);
}

#[tokio::test]
async fn two_functions_partition_by_the_keys_they_share() {
    let ctx = batched_calls();
    let both = |partition: &str, keys: &str, more: &str| {
        format!(
            "SELECT ts, tenant, src, first_in_group(ts, {keys}) OVER (PARTITION BY {partition}) AS f,
               first_flag_position(ts % 5 = 0, ts, {keys}{more}) OVER (PARTITION BY {partition}) AS p
             FROM calls"
        )
    };
    let shared = physical_plan(&ctx, &both("tenant", "src", ", ts % 2")).await;
    assert!(
        shared.contains("GroupWindowExec") && shared.contains("Hash([tenant@0, src@1], 3)"),
        "{shared}"
    );
    let plan = physical_plan(&ctx, &both("src", "ts % 2", ", tenant")).await;
    assert!(
        plan.contains("Hash([src@2, __common_expr_1@0], 3)"),
        "{plan}"
    );
    // Every answer as DataFusion's own windows over the groups give it.
    let sql = format!(
        "SELECT count(*) FROM (
           SELECT *,
             min(ts) OVER (PARTITION BY tenant, src) AS first_ts,
             min(ts) FILTER (WHERE ts % 5 = 0) OVER (PARTITION BY tenant, src, ts % 2) AS m
           FROM ({}))
         WHERE f <> (ts = first_ts)
            OR p <> CASE WHEN m IS NULL OR ts < m THEN -1 WHEN ts = m THEN 0 ELSE 1 END",
        both("tenant", "src", ", ts % 2")
    );
    assert_eq!(count(&ctx, &sql).await, 0);
}

#[tokio::test]
async fn kept_rows_count_against_the_memory_limit() {
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_limit(512 * 1024, 1.0)
        .build_arc()
        .expect("runtime");
    let ctx = SessionContext::new_with_config_rt(SessionConfig::new(), runtime);
    register_all(&ctx, Arc::new(Settings::default()));
    calls(&ctx, 200_000, 2);
    let error = ctx
        .sql(FIRSTS)
        .await
        .expect("plans")
        .collect()
        .await
        .expect_err("over the limit");
    let message = error.to_string();
    assert!(message.contains("Resources exhausted"), "{message}");
    assert!(message.contains("GroupWindowExec"), "{message}");
}

#[tokio::test]
async fn empty_input_gives_no_rows() {
    let ctx = session(SessionConfig::new().with_target_partitions(2));
    calls(&ctx, 100, 2);
    let sql = "SELECT first_in_group(ts, src) OVER (PARTITION BY tenant) FROM calls WHERE ts < 0";
    let batches = ctx
        .sql(sql)
        .await
        .expect("plans")
        .collect()
        .await
        .expect("runs");
    assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 0);
}

#[tokio::test]
async fn positions_across_batches_match_a_min_window() {
    let ctx = batched_calls();
    let sql = "SELECT count(*) FROM (
        SELECT ts,
          first_flag_position(ts % 5 = 0, ts, src) OVER (PARTITION BY tenant) AS p,
          min(ts) FILTER (WHERE ts % 5 = 0) OVER (PARTITION BY tenant, src) AS m
        FROM calls)
      WHERE p <> CASE WHEN m IS NULL OR ts < m THEN -1 WHEN ts = m THEN 0 ELSE 1 END";
    assert!(physical_plan(&ctx, sql).await.contains("GroupWindowExec"));
    assert_eq!(count(&ctx, sql).await, 0);
}

#[tokio::test]
async fn descending_firsts_of_the_row_number_rewrite() {
    let ctx = batched_calls();
    let sql = "SELECT count(*) FROM (
        SELECT ts, max(ts) OVER (PARTITION BY tenant, src) AS top,
          row_number() OVER (PARTITION BY tenant, src ORDER BY ts DESC) AS rn
        FROM calls)
      WHERE rn = 1 AND ts = top";
    assert!(physical_plan(&ctx, sql).await.contains("GroupWindowExec"));
    assert_eq!(count(&ctx, sql).await, 7_000);
}

#[tokio::test]
async fn keeps_only_the_columns_read_above_and_knows_its_row_count() {
    let ctx = session(SessionConfig::new().with_target_partitions(2));
    calls(&ctx, 70_000, 4);
    // Of the input, only `src` is read above the window; `tenant` and `ts` are arguments.
    let sql = "SELECT src, p FROM (
        SELECT src, first_flag_position(ts % 5 = 0, ts, src) OVER (PARTITION BY tenant) AS p
        FROM calls)";
    let plan = physical(&ctx, sql).await;
    let mut window = None;
    plan.apply(|node| {
        if node.downcast_ref::<GroupWindowExec>().is_some() {
            window = Some(Arc::clone(node));
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .expect("visited");
    let window = window.expect("a GroupWindowExec");
    let shown = displayable(window.as_ref()).one_line().to_string();
    assert!(shown.contains("projection=[src, "), "{shown}");
    assert_eq!(window.schema().fields().len(), 2, "{shown}");
    let statistics = StatisticsContext::new()
        .compute(window.as_ref(), &StatisticsArgs::new())
        .expect("statistics");
    assert_eq!(statistics.num_rows, Precision::Exact(70_000));
    let zeros = "SELECT count(*) FROM (
        SELECT src, first_flag_position(ts % 5 = 0, ts, src) OVER (PARTITION BY tenant) AS p
        FROM calls) WHERE p = 0";
    // Exactly the groups with a flagged row have one row on their first flagged row.
    let groups_flagged = "SELECT count(*) FROM (SELECT tenant, src FROM calls
        GROUP BY tenant, src HAVING bool_or(ts % 5 = 0))";
    assert_eq!(count(&ctx, zeros).await, count(&ctx, groups_flagged).await);
}

#[tokio::test]
async fn kept_batches_beyond_the_memory_limit_spill_and_come_back_in_order() {
    // The server's pool: spillable consumers get a fair share of what the others leave.
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(3 << 20)))
        .build_arc()
        .expect("runtime");
    let config = SessionConfig::new()
        .with_target_partitions(2)
        .with_batch_size(1000);
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    register_all(&ctx, Arc::new(Settings::default()));
    calls(&ctx, 200_000, 4);
    let sql = "SELECT tenant, src, ts, first_in_group(ts, src) OVER (PARTITION BY tenant) AS f
        FROM calls";
    let plan = physical(&ctx, sql).await;
    let batches = collect(Arc::clone(&plan), ctx.task_ctx())
        .await
        .expect("runs within the limit by spilling");
    let mut spills = 0;
    plan.apply(|node| {
        if node.downcast_ref::<GroupWindowExec>().is_some() {
            spills = node
                .metrics()
                .and_then(|m| m.spill_count())
                .expect("spill metrics");
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .expect("visited");
    assert!(spills > 0, "kept batches were spilled");
    // Every row back, each group's least ts marked once.
    let mut rows = Vec::new();
    for batch in &batches {
        let (tenant, src) = (
            batch.column(0).as_string::<i32>(),
            batch.column(1).as_string::<i32>(),
        );
        let (ts, first) = (
            batch.column(2).as_primitive::<Int64Type>(),
            batch.column(3).as_boolean(),
        );
        for i in 0..batch.num_rows() {
            let group = (tenant.value(i).to_string(), src.value(i).to_string());
            rows.push((group, ts.value(i), first.value(i)));
        }
    }
    assert_eq!(rows.len(), 200_000);
    let mut least: HashMap<&(String, String), i64> = HashMap::new();
    for (group, ts, _) in &rows {
        let entry = least.entry(group).or_insert(i64::MAX);
        *entry = (*entry).min(*ts);
    }
    let firsts: Vec<_> = rows.iter().filter(|(_, _, first)| *first).collect();
    assert_eq!((firsts.len(), least.len()), (7_000, 7_000));
    for (group, ts, _) in firsts {
        assert_eq!(least[group], *ts, "{group:?}");
    }
}
