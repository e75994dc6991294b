//! [`KeptBatches`]: what [`GroupWindowExec`](super::GroupWindowExec) holds of its input until
//! the input ends — in memory while the query's memory pool allows it, then spilled to disk.
//!
//! The operator's answers need every group's whole input, so nothing can be emitted before the
//! input ends; but the kept columns are only read back, in input order, to be emitted. When a
//! kept batch does not fit the pool, every batch held in memory is written to one spill file
//! (DataFusion's [`SpillManager`]: Arrow IPC in the session's temporary directory) and the
//! memory is freed: the input is then held as alternating in-memory and spilled runs, read
//! back in order. The functions' states stay in memory: when they alone outgrow the pool the
//! query fails with the pool's error.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, AsArray, GenericByteViewArray, RecordBatch, RecordBatchOptions,
};
use datafusion::arrow::buffer::Buffer;
use datafusion::arrow::datatypes::{ByteViewType, DataType, Field, Schema, SchemaRef};
use datafusion::common::Result;
use datafusion::common::config::SpillCompression;
use datafusion::common::utils::memory::RecordBatchMemoryCounter;
use datafusion::execution::memory_pool::MemoryReservation;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::{SendableRecordBatchStream, SpillFile, TaskContext};
use datafusion::physical_plan::metrics::SpillMetrics;
use datafusion::physical_plan::spill::SpillManager;
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};

/// A kept batch and the bytes reserved for it (0 once it has been spilled).
type Held = (RecordBatch, usize);

/// Input runs, in input order.
enum Run {
    Memory(Vec<Held>),
    Spilled(Arc<dyn SpillFile>),
}

/// The kept batches of one input partition; see the [module docs](self).
pub(super) struct KeptBatches {
    runs: Vec<Run>,
    /// The run being filled, in memory.
    memory: Vec<Held>,
    /// Bytes of `memory`, reserved in `reservation`.
    held: usize,
    /// The kept batches' share of the pool: spillable.
    reservation: MemoryReservation,
    /// Counts each buffer of `memory` once (batches of a Parquet page share buffers).
    counter: RecordBatchMemoryCounter,
    /// The layout of a kept batch, from the first one.
    schema: Option<SchemaRef>,
    env: Arc<RuntimeEnv>,
    metrics: SpillMetrics,
    /// `datafusion.execution.spill_compression`.
    compression: SpillCompression,
}

impl KeptBatches {
    /// An empty store holding its batches in `reservation` (a spillable consumer), spilling
    /// through the task's disk manager with its compression, counting in `metrics`.
    pub(super) fn new(
        reservation: MemoryReservation,
        context: &TaskContext,
        metrics: SpillMetrics,
    ) -> Self {
        Self {
            runs: Vec::new(),
            memory: Vec::new(),
            held: 0,
            reservation,
            counter: RecordBatchMemoryCounter::new(),
            schema: None,
            env: context.runtime_env(),
            metrics,
            compression: context.session_config().spill_compression(),
        }
    }

    /// Keeps `columns` (of `rows` rows), spilling the batches held in memory when the pool
    /// has no room for it.
    pub(super) fn push(&mut self, columns: Vec<ArrayRef>, rows: usize) -> Result<()> {
        let schema = match &self.schema {
            Some(schema) => Arc::clone(schema),
            None => {
                let fields: Vec<Field> = columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| Field::new(format!("c{i}"), c.data_type().clone(), true))
                    .collect();
                Arc::clone(self.schema.insert(Arc::new(Schema::new(fields))))
            }
        };
        let columns = columns.into_iter().map(compact).collect();
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        let batch = RecordBatch::try_new_with_options(schema, columns, &options)?;
        let size = self.counter.count_batch(&batch);
        self.memory.push((batch, size));
        self.held += size;
        if self.reservation.try_resize(self.held).is_err() {
            self.spill()?;
        }
        Ok(())
    }

    /// Writes the batches held in memory to a spill file and frees their memory.
    pub(super) fn spill(&mut self) -> Result<()> {
        let (Some(schema), false) = (&self.schema, self.memory.is_empty()) else {
            return Ok(());
        };
        let manager = self.manager(Arc::clone(schema));
        let mut file = manager.create_in_progress_file("GroupWindowExec")?;
        for (batch, _) in self.memory.drain(..) {
            file.append_batch(&batch)?;
        }
        if let Some(file) = file.finish()? {
            self.runs.push(Run::Spilled(file));
        }
        self.held = 0;
        self.reservation.free();
        self.counter = RecordBatchMemoryCounter::new();
        Ok(())
    }

    fn manager(&self, schema: SchemaRef) -> SpillManager {
        SpillManager::new(Arc::clone(&self.env), self.metrics.clone(), schema)
            .with_compression_type(self.compression)
    }

    /// Every kept batch, in input order; each leaves the pool's count as it is read.
    pub(super) fn into_stream(mut self) -> BoxStream<'static, Result<RecordBatch>> {
        if !self.memory.is_empty() {
            let memory = std::mem::take(&mut self.memory);
            self.runs.push(Run::Memory(memory));
        }
        let managers = self.schema.clone().map(|schema| self.manager(schema));
        let reservation = self.reservation;
        stream::iter(self.runs)
            .map(move |run| match (run, &managers) {
                (Run::Memory(held), _) => stream::iter(held.into_iter().map(Ok)).boxed(),
                (Run::Spilled(file), Some(manager)) => {
                    match manager.read_spill_as_stream(file, None) {
                        Ok(batches) => unspilled(batches),
                        Err(error) => stream::once(async { Err(error) }).boxed(),
                    }
                }
                (Run::Spilled(_), None) => stream::empty().boxed(),
            })
            .flatten()
            .map_ok(move |(batch, size)| {
                reservation.shrink(size.min(reservation.size()));
                batch
            })
            .boxed()
    }
}

/// Data buffers of a view column a kept batch may hold beyond the text its views use, before
/// the column is compacted.
const SLACK: usize = 64 * 1024;

/// `column`, its text copied into buffers of its own size when it is a view column whose
/// buffers are mostly unused. `RepartitionExec`'s coalescing copies long texts into fresh
/// 1 MiB buffers, one per output batch, of which a batch of call statuses uses a few KiB: the
/// call log's kept statuses took ~80 bytes a row, not 16, and spilled under the default pool.
fn compact(column: ArrayRef) -> ArrayRef {
    let compacted = match column.data_type() {
        DataType::Utf8View => compacted(column.as_string_view()),
        DataType::BinaryView => compacted(column.as_binary_view()),
        _ => None,
    };
    compacted.unwrap_or(column)
}

/// `views` with its data copied into one buffer of its size, if its buffers are mostly unused.
fn compacted<T: ByteViewType + ?Sized>(views: &GenericByteViewArray<T>) -> Option<ArrayRef> {
    let capacities: usize = views.data_buffers().iter().map(Buffer::capacity).sum();
    let used = views.total_buffer_bytes_used();
    (capacities > used.saturating_mul(2).saturating_add(SLACK))
        .then(|| Arc::new(views.gc()) as ArrayRef)
}

/// Batches read back from a spill file, holding no reservation.
fn unspilled(batches: SendableRecordBatchStream) -> BoxStream<'static, Result<Held>> {
    batches.map_ok(|batch| (batch, 0)).boxed()
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Array, StringViewArray, StringViewBuilder};
    use datafusion::execution::memory_pool::{GreedyMemoryPool, MemoryConsumer};
    use datafusion::execution::runtime_env::RuntimeEnvBuilder;
    use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;

    use super::*;

    fn capacities(texts: &StringViewArray) -> usize {
        texts.data_buffers().iter().map(Buffer::capacity).sum()
    }

    /// 100 statuses, a third of them too long to sit in their view, in one 1 MiB buffer: a
    /// batch as the repartition's coalescing hands it over.
    fn coalesced_statuses() -> ArrayRef {
        let long = "No answer from a customer (Callback)";
        let mut builder = StringViewBuilder::new().with_fixed_block_size(1 << 20);
        for i in 0..100 {
            builder.append_value(if i % 3 == 0 { long } else { "Busy" });
        }
        Arc::new(builder.finish())
    }

    #[tokio::test]
    async fn coalesced_texts_are_kept_at_their_size_without_spilling() {
        let column = coalesced_statuses();
        assert_eq!(capacities(column.as_string_view()), 1 << 20);
        // Room for the batches' text, not for one of their buffers.
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(GreedyMemoryPool::new(256 * 1024)))
            .build_arc()
            .expect("runtime");
        let context = TaskContext::default().with_runtime(runtime);
        let reservation = MemoryConsumer::new("kept")
            .with_can_spill(true)
            .register(context.memory_pool());
        let metrics = ExecutionPlanMetricsSet::new();
        let mut kept = KeptBatches::new(reservation, &context, SpillMetrics::new(&metrics, 0));
        for _ in 0..10 {
            kept.push(vec![Arc::clone(&column)], column.len())
                .expect("kept");
        }
        assert_eq!(metrics.clone_inner().spill_count(), Some(0));
        assert!(kept.held < 64 * 1024, "{} bytes held", kept.held);
        let back: Vec<RecordBatch> = kept.into_stream().try_collect().await.expect("read");
        assert_eq!(back.len(), 10);
        for batch in &back {
            let texts = batch.column(0).as_string_view();
            assert_eq!(texts, column.as_string_view());
            assert!(capacities(texts) < 4096, "{}", capacities(texts));
        }
    }

    #[test]
    fn a_view_column_that_uses_its_buffers_is_kept_as_it_is() {
        let long = "x".repeat(1000);
        let column: ArrayRef = Arc::new(StringViewArray::from_iter_values(std::iter::repeat_n(
            long.as_str(),
            200,
        )));
        let kept = compact(Arc::clone(&column));
        assert!(Arc::ptr_eq(&kept, &column));
        assert_eq!(kept.len(), 200);
    }
}
