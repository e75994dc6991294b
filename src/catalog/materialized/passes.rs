//! Computing a view whose rows depend on each caller's calls in passes over parts of the
//! callers, when computing it whole would not fit the memory it may use.
//!
//! `call_log`'s rows are computed over the key of every call, grouped by caller, and joined
//! back to the calls ([`super::refresh()`]): the groups and the join's build side hold ~220 bytes
//! a call until the last row is out (10M calls: ~2.2 GB, over the server's default 2 GB per
//! query, which failed the refresh at start-up). A caller's rows depend on that caller's calls
//! alone, so the view computed over the calls of a part of the callers is exactly the rows of
//! those calls: computed over each part in turn, streamed into one write, the rows are the
//! view's, at the memory of one part. A call's part is the hash of its caller (`tenant`,
//! `source`) modulo the number of passes.

use std::sync::{Arc, LazyLock};

use arrow::array::UInt32Array;
use arrow::datatypes::DataType;
use datafusion::common::hash_utils::{RandomState, create_hashes};
use datafusion::common::{Result, exec_err};
use datafusion::execution::memory_pool::MemoryLimit;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    ColumnarValue, Expr, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility, col, lit,
};
use datafusion::prelude::SessionContext;

use super::append::{CALLS, as_calls};
use crate::error::Result as CdrResult;

/// Memory the computation of `call_log` holds per call, with room to spare: measured ~220
/// bytes at 10M calls (benches/RESULTS.md).
const BYTES_PER_CALL: u64 = 320;

/// How many passes a view over `calls` calls takes under `limit`: enough that each part's
/// share fits; 1 without a finite limit.
pub fn passes(calls: u64, limit: MemoryLimit) -> u32 {
    let MemoryLimit::Finite(limit) = limit else {
        return 1;
    };
    let needed = calls.saturating_mul(BYTES_PER_CALL);
    let passes = needed.div_ceil((limit as u64).max(1)).max(1);
    u32::try_from(passes).unwrap_or(u32::MAX)
}

/// The calls of `cdrs` whose caller falls in part `part` of `parts`, as a plan standing for
/// `cdrs` in a view's plan ([`super::append::over`]).
pub(super) async fn part_of_calls(
    ctx: &SessionContext,
    part: u32,
    parts: u32,
) -> CdrResult<LogicalPlan> {
    let calls = ctx.table(CALLS).await?;
    let udf = ScalarUDF::new_from_impl(CallerPart::new(parts));
    let caller_part = Expr::ScalarFunction(ScalarFunction::new_udf(
        Arc::new(udf),
        vec![col("tenant"), col("source")],
    ));
    as_calls(calls.filter(caller_part.eq(lit(part)))?)
}

/// Seed of the callers' hash: not DataFusion's own (its repartitioning by caller would put
/// every call of a part in one partition).
const SEED: u64 = 0x0063_6472_6c61_6b65;

/// The hash state of the callers' parts.
static STATE: LazyLock<RandomState> = LazyLock::new(|| RandomState::with_seed(SEED));

/// `caller_part(tenant, source)`: the part (0 to `parts` − 1) of each call's caller; NULLs
/// hash as a value of their own. Planned by [`part_of_calls`] only, never registered.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CallerPart {
    parts: u32,
    signature: Signature,
}

impl CallerPart {
    fn new(parts: u32) -> Self {
        CallerPart {
            parts: parts.max(1),
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for CallerPart {
    fn name(&self) -> &str {
        "caller_part"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::UInt32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(rows) = arrays.first().map(|a| a.len()) else {
            return exec_err!("caller_part takes a tenant and a source");
        };
        let mut hashes = vec![0; rows];
        create_hashes(&arrays, &*STATE, &mut hashes)?;
        let parts = u64::from(self.parts);
        // The remainder is below `parts`, a u32.
        let part = hashes.iter().map(|h| (h % parts) as u32);
        Ok(ColumnarValue::Array(Arc::new(
            UInt32Array::from_iter_values(part),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_cover_the_calls_within_the_limit() {
        let gb = 1 << 30;
        assert_eq!(passes(10_000_000, MemoryLimit::Infinite), 1);
        assert_eq!(passes(10_000_000, MemoryLimit::Unknown), 1);
        assert_eq!(passes(0, MemoryLimit::Finite(gb)), 1);
        assert_eq!(passes(1_000_000, MemoryLimit::Finite(2 * gb)), 1);
        assert_eq!(passes(10_000_000, MemoryLimit::Finite(2 * gb)), 2);
        assert_eq!(passes(100_000_000, MemoryLimit::Finite(2 * gb)), 15);
        assert_eq!(passes(1, MemoryLimit::Finite(0)), 320);
    }
}
