//! Argument plumbing shared by every function: type coercion from a per-function table of
//! [`Kind`]s, and typed row accessors over scalar or array arguments.
//!
//! Every function here declares its arguments once, e.g.
//! `const ARGS: &[Arg] = &[arg("billed_s", Kind::Int), arg("rate_per_min", Kind::Money), …]`.
//! [`coerce`] turns that table into DataFusion's `coerce_types` answer (the planner then
//! inserts the casts), so `invoke_with_args` only ever sees the canonical Arrow types:
//! `Int64` for integers, `Decimal128(p, s)` for money, one of the three string layouts for text.
//!
//! [`Rows`] wraps the evaluated arguments without expanding scalars: a literal argument is a
//! one-element array read at index 0 for every row. Functions loop over row indices, read
//! each argument through a typed accessor and collect the results straight into an Arrow
//! array; when every argument was a scalar the single result is handed back as a scalar.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    Array, ArrayRef, ArrowPrimitiveType, BooleanArray, Decimal128Array, Int64Array,
    LargeStringArray, PrimitiveArray, StringArray, StringViewArray,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::{
    as_boolean_array, as_decimal128_array, as_int64_array, as_large_string_array, as_string_array,
    as_string_view_array,
};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, Signature, Volatility};

/// What a function expects of one argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Any integer (or NULL), read as `Int64`.
    Int,
    /// An exact amount: any `Decimal128`/`Decimal256` keeps its scale (so no precision is
    /// lost before the function's own single rounding point); integers become
    /// `Decimal128(20, 0)`; floats become `Decimal128(18, 6)` (SQL literals such as `0.0123`
    /// are floats in DataFusion).
    Money,
    /// Text; integers are accepted and rendered as text (`12125550143`).
    Text,
    /// A boolean (or NULL).
    Bool,
    /// Anything: only whether the value is NULL matters.
    Any,
    /// An instant: any timestamp, or text parsed as by a cast to `timestamptz` (an
    /// offset-less string read as UTC), becomes `Timestamp(Microsecond, "UTC")` (see
    /// [`crate::time`]).
    Instant,
}

/// One declared argument: its name (for messages and documentation) and its [`Kind`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arg {
    /// Argument name as documented.
    pub name: &'static str,
    /// Expected kind.
    pub kind: Kind,
}

/// Shorthand constructor for [`Arg`] tables.
pub(crate) const fn arg(name: &'static str, kind: Kind) -> Arg {
    Arg { name, kind }
}

/// The Arrow types a call with `arg_types` is cast to. `required` leading arguments must be
/// present; the rest of `args` are optional.
pub(crate) fn coerce(
    function: &str,
    args: &[Arg],
    required: usize,
    arg_types: &[DataType],
) -> Result<Vec<DataType>> {
    if arg_types.len() < required || arg_types.len() > args.len() {
        let names: Vec<&str> = args.iter().map(|a| a.name).collect();
        return plan_err!(
            "{function}({}) takes {} argument(s), got {}",
            names.join(", "),
            if required == args.len() {
                required.to_string()
            } else {
                format!("{required} to {}", args.len())
            },
            arg_types.len()
        );
    }
    args.iter()
        .zip(arg_types)
        .map(|(arg, ty)| match coerce_one(arg.kind, ty) {
            Some(target) => Ok(target),
            None => plan_err!(
                "{function}: argument {} cannot be {ty} (expected {})",
                arg.name,
                match arg.kind {
                    Kind::Int => "an integer",
                    Kind::Money => "a decimal number",
                    Kind::Text => "text",
                    Kind::Bool => "a boolean",
                    Kind::Any => "a value",
                    Kind::Instant => "a timestamp",
                }
            ),
        })
        .collect()
}

fn coerce_one(kind: Kind, ty: &DataType) -> Option<DataType> {
    use DataType::*;
    let string = |t: &DataType| matches!(t, Utf8 | LargeUtf8 | Utf8View);
    match kind {
        Kind::Any => Some(ty.clone()),
        Kind::Int if ty.is_integer() || *ty == Null => Some(Int64),
        Kind::Money => match ty {
            Decimal128(_, s) if *s >= 0 => Some(ty.clone()),
            Decimal128(..) => Some(Decimal128(38, 0)),
            Decimal256(_, s) if *s >= 0 && *s <= 38 => Some(Decimal128(38, *s)),
            _ if ty.is_integer() => Some(Decimal128(20, 0)),
            Float16 | Float32 | Float64 | Null => Some(Decimal128(18, 6)),
            _ => None,
        },
        Kind::Text if string(ty) => Some(ty.clone()),
        Kind::Text if ty.is_integer() || *ty == Null => Some(Utf8),
        Kind::Text => match ty {
            Dictionary(_, v) if string(v) => Some(Utf8),
            _ => None,
        },
        Kind::Instant => crate::time::instant_target(ty),
        Kind::Bool if matches!(ty, Boolean | Null) => Some(Boolean),
        Kind::Bool => None,
        Kind::Int => None,
    }
}

/// The signature of every cdrlake function: argument types are settled by
/// `coerce_types` from the function's [`Arg`] table.
pub(crate) fn signature() -> &'static Signature {
    static SIGNATURE: LazyLock<Signature> =
        LazyLock::new(|| Signature::user_defined(Volatility::Immutable));
    &SIGNATURE
}

/// Implements `ScalarUDFImpl` for a function struct from its name, [`Arg`] table, number
/// of required arguments, return type, strictness, optionally its signature (by default the
/// immutable [`signature`]), optionally a planning-time rewrite (`simplify: f`, a
/// `fn(&Self, Vec<Expr>) -> ExprSimplifyResult`) and an `eval(&self, &Rows) -> Result<ArrayRef>`
/// method. The struct carries `#[user_doc]`, which provides `doc()`.
macro_rules! impl_udf {
    (
        $ty:ty, name: $name:literal, args: $args:expr, required: $required:expr,
        returns: $ret:expr, strict: $strict:expr $(,)?
    ) => {
        $crate::args::impl_udf!($ty, name: $name, args: $args, required: $required,
            returns: $ret, strict: $strict, signature: $crate::args::signature());
    };
    (
        $ty:ty, name: $name:literal, args: $args:expr, required: $required:expr,
        returns: $ret:expr, strict: $strict:expr, signature: $signature:expr
        $(, simplify: $simplify:path)? $(,)?
    ) => {
        impl datafusion::logical_expr::ScalarUDFImpl for $ty {
            fn name(&self) -> &str {
                $name
            }
            fn signature(&self) -> &datafusion::logical_expr::Signature {
                $signature
            }
            fn return_type(
                &self,
                _: &[datafusion::arrow::datatypes::DataType],
            ) -> datafusion::common::Result<datafusion::arrow::datatypes::DataType> {
                Ok($ret)
            }
            fn coerce_types(
                &self,
                arg_types: &[datafusion::arrow::datatypes::DataType],
            ) -> datafusion::common::Result<Vec<datafusion::arrow::datatypes::DataType>> {
                $crate::args::coerce($name, $args, $required, arg_types)
            }
            fn is_strict(&self) -> bool {
                $strict
            }
            fn invoke_with_args(
                &self,
                args: datafusion::logical_expr::ScalarFunctionArgs,
            ) -> datafusion::common::Result<datafusion::logical_expr::ColumnarValue> {
                let rows = $crate::args::Rows::new(&args.args, args.number_rows)?;
                let result = self.eval(&rows)?;
                rows.finish(result)
            }
            fn documentation(&self) -> Option<&datafusion::logical_expr::Documentation> {
                self.doc()
            }
            $(
            fn simplify(
                &self,
                args: Vec<datafusion::logical_expr::Expr>,
                _: &datafusion::logical_expr::simplify::SimplifyContext,
            ) -> datafusion::common::Result<datafusion::logical_expr::simplify::ExprSimplifyResult> {
                Ok($simplify(self, args))
            }
            )?
        }
    };
}
pub(crate) use impl_udf;

/// Declares a function that reads the per-tenant [`Settings`](crate::Settings): the struct
/// holding them (with the documentation given), its constructor, an `eval` made of `body`
/// (with `settings` and `rows` bound as named by the caller) and its `ScalarUDFImpl` via
/// [`impl_udf!`].
macro_rules! settings_udf {
    ($(#[$meta:meta])* $ty:ident, name: $name:literal, args: $args:expr, required: $req:expr,
     returns: $ret:expr, strict: $strict:expr, eval: |$settings:ident, $rows:ident| $body:expr $(,)?) => {
        $(#[$meta])*
        #[derive(Debug, Default, PartialEq, Eq, Hash)]
        pub struct $ty {
            settings: std::sync::Arc<crate::Settings>,
        }

        impl $ty {
            /// The function reading tenant settings from `settings`.
            pub fn new(settings: std::sync::Arc<crate::Settings>) -> Self {
                Self { settings }
            }

            fn eval(
                &self,
                $rows: &crate::args::Rows,
            ) -> datafusion::common::Result<datafusion::arrow::array::ArrayRef> {
                let $settings: &crate::Settings = &self.settings;
                $body
            }
        }

        crate::args::impl_udf!($ty, name: $name, args: $args, required: $req, returns: $ret,
            strict: $strict);
    };
}

pub(crate) use settings_udf;

/// The evaluated arguments of one call, each an array of either the batch's length or
/// (for a scalar argument) length one.
pub(crate) struct Rows {
    /// Each argument with its step: 1 for an array, 0 for a broadcast scalar.
    arrays: Vec<(ArrayRef, usize)>,
    rows: usize,
    all_scalar: bool,
}

impl Rows {
    /// Wraps `args`; `number_rows` is the batch size DataFusion asked for.
    pub(crate) fn new(args: &[ColumnarValue], number_rows: usize) -> Result<Self> {
        let all_scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = args
            .iter()
            .map(|a| match a {
                ColumnarValue::Array(array) => Ok((Arc::clone(array), 1)),
                ColumnarValue::Scalar(scalar) => Ok((scalar.to_array_of_size(1)?, 0)),
            })
            .collect::<Result<Vec<_>>>()?;
        let rows = if all_scalar { 1 } else { number_rows };
        Ok(Self {
            arrays,
            rows,
            all_scalar,
        })
    }

    /// Number of result rows to produce.
    pub(crate) fn len(&self) -> usize {
        self.rows
    }

    /// Number of arguments given.
    pub(crate) fn arity(&self) -> usize {
        self.arrays.len()
    }

    fn array(&self, i: usize) -> Result<(&dyn Array, usize)> {
        match self.arrays.get(i) {
            Some((array, step)) => Ok((array.as_ref(), *step)),
            None => exec_err!("argument {i} is missing"),
        }
    }

    /// Argument `i` as integers.
    pub(crate) fn ints(&self, i: usize) -> Result<Ints<'_>> {
        let (array, step) = self.array(i)?;
        Ok(Ints {
            array: as_int64_array(array)?,
            step,
        })
    }

    /// Argument `i` as decimals, with their scale.
    pub(crate) fn decimals(&self, i: usize) -> Result<Decimals<'_>> {
        let (array, step) = self.array(i)?;
        let array = as_decimal128_array(array)?;
        Ok(Decimals {
            array,
            scale: array.scale(),
            step,
        })
    }

    /// Argument `i` as text.
    pub(crate) fn texts(&self, i: usize) -> Result<Texts<'_>> {
        let (array, step) = self.array(i)?;
        let array = match array.data_type() {
            DataType::Utf8 => TextArray::Utf8(as_string_array(array)?),
            DataType::LargeUtf8 => TextArray::Large(as_large_string_array(array)?),
            DataType::Utf8View => TextArray::View(as_string_view_array(array)?),
            // NULL literals arrive untyped when a caller bypasses coercion.
            DataType::Null => TextArray::Null,
            other => return exec_err!("expected text, got {other}"),
        };
        Ok(Texts { array, step })
    }

    /// Argument `i` as instants (microseconds since the Unix epoch, UTC).
    pub(crate) fn instants(&self, i: usize) -> Result<crate::time::Instants> {
        match self.arrays.get(i) {
            Some((array, step)) => crate::time::Instants::of(Arc::clone(array), *step),
            None => exec_err!("argument {i} is missing"),
        }
    }

    /// Argument `i` as booleans.
    pub(crate) fn bools(&self, i: usize) -> Result<Bools<'_>> {
        let (array, step) = self.array(i)?;
        Ok(Bools {
            array: as_boolean_array(array)?,
            step,
        })
    }

    /// Argument `i` as a NULL test only.
    pub(crate) fn present(&self, i: usize) -> Result<Present> {
        let (array, step) = self.array(i)?;
        // Logical nulls: a `NullArray` (an untyped NULL literal) has no null buffer.
        Ok(Present {
            nulls: array.logical_nulls(),
            step,
        })
    }

    /// The rows where each of the arguments `args` holds a value: the union of their NULLs
    /// (`None` when no row has one).
    pub(crate) fn nulls_of(&self, args: &[usize]) -> Result<Option<NullBuffer>> {
        let mut nulls: Option<NullBuffer> = None;
        for &i in args {
            let (array, step) = self.array(i)?;
            let arg_nulls = match step {
                0 if array.is_null(0) => Some(NullBuffer::new_null(self.rows)),
                0 => None,
                _ => array.logical_nulls(),
            };
            nulls = NullBuffer::union(nulls.as_ref(), arg_nulls.as_ref());
        }
        Ok(nulls)
    }

    /// The rows where each of the arguments `args` holds a value, in order.
    pub(crate) fn valid_rows(&self, args: &[usize]) -> Result<Vec<usize>> {
        Ok(match self.nulls_of(args)? {
            None => (0..self.rows).collect(),
            Some(nulls) => nulls.valid_indices().collect(),
        })
    }

    /// `f` of every row where each of the arguments `args` holds a value, NULL on the others
    /// (where `f` is not called): a strict function's loop, which costs a NULL row nothing
    /// but its share of the null mask's union.
    pub(crate) fn map_valid<T: ArrowPrimitiveType>(
        &self,
        args: &[usize],
        mut f: impl FnMut(usize) -> Result<T::Native>,
    ) -> Result<PrimitiveArray<T>> {
        let nulls = self.nulls_of(args)?;
        let mut values = vec![T::Native::default(); self.rows];
        match &nulls {
            None => {
                for (r, value) in values.iter_mut().enumerate() {
                    *value = f(r)?;
                }
            }
            Some(nulls) => {
                for r in nulls.valid_indices() {
                    values[r] = f(r)?;
                }
            }
        }
        Ok(PrimitiveArray::new(values.into(), nulls))
    }

    /// Hands `result` back as a scalar when every argument was one, else as an array.
    pub(crate) fn finish(&self, result: ArrayRef) -> Result<ColumnarValue> {
        if self.all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &result, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(result))
        }
    }
}

/// Integer argument accessor.
pub(crate) struct Ints<'a> {
    array: &'a Int64Array,
    step: usize,
}

impl Ints<'_> {
    /// The value of row `row`, `None` for NULL.
    #[inline]
    pub(crate) fn get(&self, row: usize) -> Option<i64> {
        let i = row * self.step;
        self.array.is_valid(i).then(|| self.array.value(i))
    }

    /// The value stored in row `row`, whatever it is on a NULL row (see [`Rows::map_valid`]).
    #[inline]
    pub(crate) fn value(&self, row: usize) -> i64 {
        self.array.value(row * self.step)
    }
}

/// Boolean argument accessor.
pub(crate) struct Bools<'a> {
    array: &'a BooleanArray,
    step: usize,
}

impl Bools<'_> {
    /// The value of row `row`, `None` for NULL.
    #[inline]
    pub(crate) fn get(&self, row: usize) -> Option<bool> {
        let i = row * self.step;
        self.array.is_valid(i).then(|| self.array.value(i))
    }
}

/// Decimal argument accessor: raw `i128` values at [`Decimals::scale`].
pub(crate) struct Decimals<'a> {
    array: &'a Decimal128Array,
    /// Number of decimal places of the raw values.
    pub scale: i8,
    step: usize,
}

impl Decimals<'_> {
    /// The raw (unscaled) value of row `row`, `None` for NULL.
    #[inline]
    pub(crate) fn get(&self, row: usize) -> Option<i128> {
        let i = row * self.step;
        self.array.is_valid(i).then(|| self.array.value(i))
    }

    /// The raw value stored in row `row`, whatever it is on a NULL row (see
    /// [`Rows::map_valid`]).
    #[inline]
    pub(crate) fn value(&self, row: usize) -> i128 {
        self.array.value(row * self.step)
    }
}

enum TextArray<'a> {
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
    Null,
}

/// Text argument accessor over any of Arrow's string layouts.
pub(crate) struct Texts<'a> {
    array: TextArray<'a>,
    step: usize,
}

impl<'a> Texts<'a> {
    /// The value of row `row`, `None` for NULL.
    #[inline]
    pub(crate) fn get(&self, row: usize) -> Option<&'a str> {
        let i = row * self.step;
        match &self.array {
            TextArray::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            TextArray::Large(a) => a.is_valid(i).then(|| a.value(i)),
            TextArray::View(a) => a.is_valid(i).then(|| a.value(i)),
            TextArray::Null => None,
        }
    }

    /// The string views and step (0 for a broadcast scalar) when the argument is a
    /// `StringViewArray`, the layout Parquet text columns are read in; see
    /// [`crate::text_ids`].
    pub(crate) fn views(&self) -> Option<(&'a StringViewArray, usize)> {
        match self.array {
            TextArray::View(a) => Some((a, self.step)),
            _ => None,
        }
    }
}

/// NULL-test accessor for arguments of any type.
pub(crate) struct Present {
    nulls: Option<NullBuffer>,
    step: usize,
}

impl Present {
    /// Whether row `row` holds a value.
    #[inline]
    pub(crate) fn get(&self, row: usize) -> bool {
        self.nulls
            .as_ref()
            .is_none_or(|n| n.is_valid(row * self.step))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARGS: &[Arg] = &[
        arg("n", Kind::Int),
        arg("m", Kind::Money),
        arg("t", Kind::Text),
    ];

    #[test]
    fn coerces_by_kind() {
        use DataType::*;
        let got = coerce("f", ARGS, 3, &[Int32, Float64, Int64]).unwrap();
        assert_eq!(got, vec![Int64, Decimal128(18, 6), Utf8]);
        let got = coerce("f", ARGS, 3, &[Null, Decimal128(38, 10), Utf8View]).unwrap();
        assert_eq!(got, vec![Int64, Decimal128(38, 10), Utf8View]);
        let got = coerce("f", ARGS, 3, &[UInt8, Int16, Null]).unwrap();
        assert_eq!(got, vec![Int64, Decimal128(20, 0), Utf8]);
    }

    #[test]
    fn rejects_wrong_types_and_arity() {
        use DataType::*;
        let err = coerce("f", ARGS, 3, &[Utf8, Float64, Utf8]).unwrap_err();
        assert!(
            err.to_string().contains("argument n cannot be Utf8"),
            "{err}"
        );
        let err = coerce("f", ARGS, 3, &[Int64]).unwrap_err();
        assert!(
            err.to_string()
                .contains("f(n, m, t) takes 3 argument(s), got 1"),
            "{err}"
        );
        assert!(coerce("f", ARGS, 2, &[Int64, Float64]).is_ok());
    }

    #[test]
    fn scalars_broadcast_and_come_back_scalar() {
        let args = [
            ColumnarValue::Array(Arc::new(Int64Array::from(vec![Some(1), None, Some(3)]))),
            ColumnarValue::Scalar(ScalarValue::Int64(Some(7))),
        ];
        let rows = Rows::new(&args, 3).unwrap();
        let (a, b) = (rows.ints(0).unwrap(), rows.ints(1).unwrap());
        let got: Vec<_> = (0..rows.len()).map(|r| (a.get(r), b.get(r))).collect();
        assert_eq!(
            got,
            vec![(Some(1), Some(7)), (None, Some(7)), (Some(3), Some(7))]
        );

        // An untyped NULL literal is absent although a `NullArray` has no null buffer.
        let args = [ColumnarValue::Scalar(ScalarValue::Null)];
        assert!(!Rows::new(&args, 2).unwrap().present(0).unwrap().get(0));

        let args = [ColumnarValue::Scalar(ScalarValue::Int64(Some(7)))];
        let rows = Rows::new(&args, 5).unwrap();
        assert_eq!(rows.len(), 1);
        let out = rows.finish(Arc::new(Int64Array::from(vec![8]))).unwrap();
        assert!(matches!(
            out,
            ColumnarValue::Scalar(ScalarValue::Int64(Some(8)))
        ));
    }
}
