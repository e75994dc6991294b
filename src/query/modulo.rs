//! `mod(a, b)`: PostgreSQL's function for the remainder `a % b` (the sign of `a`; division by
//! zero is an error). Typed as the operator is, and the operator once the optimizer simplifies
//! expressions.

use std::sync::LazyLock;

use arrow::compute::kernels::numeric::rem;
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::type_coercion::binary::BinaryTypeCoercer;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, Operator, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility, binary_expr,
};
use datafusion::physical_expr_common::datum::apply;

/// `mod(a, b)`; see the [module docs](self).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Mod {
    signature: Signature,
}

/// The function, to register in a session.
pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(Mod {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

impl ScalarUDFImpl for Mod {
    fn name(&self) -> &str {
        "mod"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        let [a, b] = types else {
            return plan_err!("mod(a, b) takes two numbers, not {types:?}");
        };
        if !(a.is_numeric() || a.is_null()) || !(b.is_numeric() || b.is_null()) {
            return plan_err!("mod(a, b) takes two numbers, not {types:?}");
        }
        let (a, b) = BinaryTypeCoercer::new(a, &Operator::Modulo, b).get_input_types()?;
        Ok(vec![a, b])
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        let [a, b] = types else {
            return plan_err!("mod(a, b) takes two numbers, not {types:?}");
        };
        BinaryTypeCoercer::new(a, &Operator::Modulo, b).get_result_type()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [a, b] = args.args.as_slice() else {
            return exec_err!("mod(a, b) takes two numbers");
        };
        apply(a, b, rem)
    }

    fn simplify(&self, args: Vec<Expr>, _: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let Ok([a, b]) = <[Expr; 2]>::try_from(args) else {
            return exec_err!("mod(a, b) takes two numbers");
        };
        Ok(ExprSimplifyResult::Simplified(binary_expr(
            a,
            Operator::Modulo,
            b,
        )))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: LazyLock<Documentation> = LazyLock::new(|| {
            super::udf::documentation(
                "Math Functions",
                "The remainder of a divided by b (a % b), with the sign of a.",
                "mod(a, b)",
            )
            .with_sql_example("```sql\n> select mod(-7, 3);\n-1\n```")
            .with_argument("a", "The dividend.")
            .with_argument("b", "The divisor, not zero.")
            .build()
        });
        Some(&DOC)
    }
}
