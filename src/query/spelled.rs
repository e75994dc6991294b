//! Functions written in PostgreSQL's special syntax, named after that syntax. DataFusion plans
//! `EXTRACT(field FROM x)` as `date_part(field, x)`, `POSITION(a IN b)` as `strpos(b, a)` and
//! `SUBSTRING(x FROM n FOR m)` as `substr(x, n, m)`, so a result column was named `date_part`,
//! `strpos` or `substr` where PostgreSQL names it `extract`, `position` or `substring`, and
//! `SELECT position('l' IN x), strpos(x, 'l')` failed as two columns of one name.
//!
//! [`SpelledSyntax`], a planner ahead of DataFusion's, plans each as a [`Spelled`] call: the
//! same function under the syntax's name, typed and evaluated by the function it wraps, which
//! it becomes when the optimizer simplifies expressions (so rules that know `date_part`, such as
//! pruning by `date_part('year', …) = 2026`, still apply). The names then come out as
//! PostgreSQL's ([`super::column_names`]). `EXTRACT` reads [`super::date_part`], which adds
//! PostgreSQL's `century`, `decade` and `millennium`.

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};

/// A function under the name of the syntax that called it; see the [module docs](self).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Spelled {
    name: &'static str,
    inner: Arc<ScalarUDF>,
}

impl Spelled {
    /// `inner` named `name`, as a function to call.
    pub fn udf(name: &'static str, inner: Arc<ScalarUDF>) -> Arc<ScalarUDF> {
        Arc::new(ScalarUDF::new_from_impl(Spelled { name, inner }))
    }
}

impl ScalarUDFImpl for Spelled {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(types)
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.inner.invoke_with_args(args)
    }

    fn simplify(&self, args: Vec<Expr>, _: &SimplifyContext) -> Result<ExprSimplifyResult> {
        Ok(ExprSimplifyResult::Simplified(self.inner.call(args)))
    }
}

/// `EXTRACT(field FROM x)`.
static EXTRACT: LazyLock<Arc<ScalarUDF>> =
    LazyLock::new(|| Spelled::udf("extract", Arc::new(super::date_part::udf())));

/// `POSITION(a IN b)`.
static POSITION: LazyLock<Arc<ScalarUDF>> =
    LazyLock::new(|| Spelled::udf("position", datafusion::functions::unicode::strpos()));

/// `SUBSTRING(x FROM n [FOR m])` (a text `FROM` is a pattern: [`super::substring`]).
static SUBSTRING: LazyLock<Arc<ScalarUDF>> =
    LazyLock::new(|| Spelled::udf("substring", datafusion::functions::unicode::substr()));

/// Plans `EXTRACT` and `POSITION` as [`Spelled`] calls; see the [module docs](self).
#[derive(Debug, Default)]
pub struct SpelledSyntax;

impl ExprPlanner for SpelledSyntax {
    fn plan_extract(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Ok(PlannerResult::Planned(EXTRACT.call(args)))
    }

    fn plan_position(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Ok(PlannerResult::Planned(POSITION.call(args)))
    }
}

/// `SUBSTRING(x FROM n [FOR m])` with a start position, as a [`Spelled`] call.
pub fn substring(args: Vec<Expr>) -> Expr {
    SUBSTRING.call(args)
}
