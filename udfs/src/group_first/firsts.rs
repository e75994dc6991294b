//! [`GroupFirsts`]: the least row of every group, kept incrementally over a stream of batches.
//!
//! Both functions of this module reduce to it: a row's group is numbered by DataFusion's own
//! group-by hash table ([`GroupValues`], the one `GROUP BY` uses); its `order` values are
//! encoded by Arrow's row format ([`RowConverter`]), whose bytes compare as the values do in
//! their sort directions; and each group keeps the position and the encoded order of its
//! least eligible row, in one arena. Memory grows with the groups, not with the rows' order
//! values: the window operator ([`GroupWindowExec`](crate::group_window::GroupWindowExec))
//! needs no concatenated copy of its input.

use std::cmp::Ordering;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, Int32Array};
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use datafusion::common::{Result, exec_err};
use datafusion::physical_plan::aggregates::group_values::{GroupValues, new_group_values};
use datafusion::physical_plan::aggregates::order::GroupOrdering;

use crate::runs::flag_array;

/// Rows interned into the group table at a time: the size of the batches `GROUP BY` feeds it.
const CHUNK: usize = 8192;

/// How a function reads its arguments: `[flag,] order…, key…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Shape {
    /// The function's name, for errors.
    pub name: &'static str,
    /// Whether a flag argument comes first: then only flagged rows can be a group's first and
    /// the answer is the row's position relative to it (`first_flag_position`); else the
    /// answer is whether the row is its group's first (`first_in_group`).
    pub flag: bool,
    /// The direction of each order argument.
    pub directions: Vec<SortOptions>,
}

impl Shape {
    /// The number of arguments before the keys.
    fn leading(&self) -> usize {
        usize::from(self.flag) + self.directions.len()
    }
}

/// A group's least eligible row so far: its position and its encoded order in the arena.
#[derive(Debug, Clone, Copy)]
struct Best {
    row: usize,
    start: usize,
    len: usize,
}

/// No row yet.
const NONE: Best = Best {
    row: usize::MAX,
    start: 0,
    len: 0,
};

/// The state of one function over the rows pushed so far; see the [module docs](self).
pub struct GroupFirsts {
    shape: Shape,
    /// Created with the first batch, from its key types.
    table: Option<Box<dyn GroupValues>>,
    /// Encodes the order arguments; `None` when every one is a NULL literal (all rows tie).
    converter: Option<RowConverter>,
    /// The group of every row pushed, by position.
    groups: Vec<u32>,
    best: Vec<Best>,
    arena: Vec<u8>,
}

impl GroupFirsts {
    /// An empty state for a function of `shape` whose arguments have `argument_types`.
    pub fn new(shape: Shape, argument_types: &[DataType]) -> Result<Self> {
        let Some(order) = argument_types.get(usize::from(shape.flag)..shape.leading()) else {
            return exec_err!("{} needs {} leading arguments", shape.name, shape.leading());
        };
        let fields: Vec<SortField> = order
            .iter()
            .zip(&shape.directions)
            .filter(|(t, _)| **t != DataType::Null)
            .map(|(t, &direction)| SortField::new_with_options(t.clone(), direction))
            .collect();
        let converter = if fields.is_empty() {
            None
        } else {
            Some(RowConverter::new(fields)?)
        };
        Ok(Self {
            shape,
            table: None,
            converter,
            groups: Vec::new(),
            best: Vec::new(),
            arena: Vec::new(),
        })
    }

    /// Bytes held, for the memory pool.
    pub fn size(&self) -> usize {
        self.table.as_ref().map_or(0, |t| t.size())
            + self.converter.as_ref().map_or(0, RowConverter::size)
            + self.groups.capacity() * size_of::<u32>()
            + self.best.capacity() * size_of::<Best>()
            + self.arena.capacity()
    }

    /// The order arguments encoded, `None` if they are all NULL literals.
    fn encode(&self, values: &[ArrayRef]) -> Result<Option<Rows>> {
        let Some(converter) = &self.converter else {
            return Ok(None);
        };
        let order: Vec<ArrayRef> = values[usize::from(self.shape.flag)..self.shape.leading()]
            .iter()
            .filter(|a| a.data_type() != &DataType::Null)
            .cloned()
            .collect();
        Ok(Some(converter.convert_columns(&order)?))
    }

    /// The flags of a batch, when the function has them.
    fn flags(&self, values: &[ArrayRef]) -> Result<Option<BooleanArray>> {
        match values.first() {
            Some(flags) if self.shape.flag => Ok(Some(flag_array(self.shape.name, flags)?)),
            _ => Ok(None),
        }
    }

    /// Adds a batch's rows; `values` are its arguments, then any further key columns.
    pub fn push(&mut self, values: &[ArrayRef]) -> Result<()> {
        if values.len() <= self.shape.leading() {
            return exec_err!("{} needs at least one key", self.shape.name);
        }
        let num_rows = values[0].len();
        let first_row = self.groups.len();
        self.intern(&values[self.shape.leading()..], num_rows)?;
        let rows = self.encode(values)?;
        let flags = self.flags(values)?;
        for i in 0..num_rows {
            if let Some(flags) = &flags
                && !(flags.is_valid(i) && flags.value(i))
            {
                continue;
            }
            let group = self.groups[first_row + i] as usize;
            let best = self.best[group];
            let bytes = rows.as_ref().map_or(&[][..], |rows| rows.row(i).data());
            // Rows come in position order: only a strictly lesser value replaces the kept one.
            if best.row == NONE.row || bytes < &self.arena[best.start..best.start + best.len] {
                let start = self.arena.len();
                self.arena.extend_from_slice(bytes);
                self.best[group] = Best {
                    row: first_row + i,
                    start,
                    len: bytes.len(),
                };
            }
        }
        Ok(())
    }

    /// Numbers the rows' groups by their keys (NULL equal to NULL); keys of type `Null` are
    /// equal on every row and ignored.
    fn intern(&mut self, keys: &[ArrayRef], num_rows: usize) -> Result<()> {
        let keys: Vec<&ArrayRef> = keys
            .iter()
            .filter(|key| key.data_type() != &DataType::Null)
            .collect();
        if keys.is_empty() {
            self.groups.resize(self.groups.len() + num_rows, 0);
            if num_rows > 0 && self.best.is_empty() {
                self.best.push(NONE);
            }
            return Ok(());
        }
        let table = match &mut self.table {
            Some(table) => table,
            None => {
                let fields: Vec<Field> = keys
                    .iter()
                    .enumerate()
                    .map(|(i, key)| Field::new(format!("key{i}"), key.data_type().clone(), true))
                    .collect();
                let schema = Arc::new(Schema::new(fields));
                self.table
                    .insert(new_group_values(schema, &GroupOrdering::None)?)
            }
        };
        let mut ids = Vec::with_capacity(CHUNK.min(num_rows));
        for start in (0..num_rows).step_by(CHUNK) {
            let len = CHUNK.min(num_rows - start);
            let chunk: Vec<ArrayRef> = keys.iter().map(|key| key.slice(start, len)).collect();
            table.intern(&chunk, &mut ids)?;
            for &id in &ids {
                let Ok(id) = u32::try_from(id) else {
                    return exec_err!("{}: more than 2^32 groups", self.shape.name);
                };
                self.groups.push(id);
            }
        }
        self.best.resize(table.len(), NONE);
        Ok(())
    }

    /// How many of a row's leading arguments [`answers`](Self::answers) reads: the flag and
    /// the order with a flag (the answer compares the row's order with its group's first),
    /// none without (the answer is whether the row is its group's first).
    pub fn answer_arguments(&self) -> usize {
        if self.shape.flag {
            self.shape.leading()
        } else {
            0
        }
    }

    /// The answers for the `num_rows` rows pushed at positions `first_row..`, whose first
    /// [`answer_arguments`](Self::answer_arguments) arguments are `leading`: whether each is
    /// its group's first, or (with a flag) -1, 0 or 1 as it is before, on or after its
    /// group's first flagged row (by order, ties by position).
    pub fn answers(
        &self,
        leading: &[ArrayRef],
        num_rows: usize,
        first_row: usize,
    ) -> Result<ArrayRef> {
        let Some(groups) = self.groups.get(first_row..first_row + num_rows) else {
            return exec_err!("{}: rows {first_row}.. were not pushed", self.shape.name);
        };
        let best = |i: usize| self.best[groups[i] as usize];
        if !self.shape.flag {
            let firsts: BooleanArray = (0..num_rows)
                .map(|i| Some(best(i).row == first_row + i))
                .collect();
            return Ok(Arc::new(firsts));
        }
        if leading.len() < self.answer_arguments() {
            return exec_err!("{}: the order arguments are missing", self.shape.name);
        }
        let rows = self.encode(leading)?;
        let positions: Int32Array = (0..num_rows)
            .map(|i| {
                let best = best(i);
                if best.row == NONE.row {
                    return Some(-1);
                }
                let bytes = rows.as_ref().map_or(&[][..], |rows| rows.row(i).data());
                let ordering = bytes
                    .cmp(&self.arena[best.start..best.start + best.len])
                    .then((first_row + i).cmp(&best.row));
                Some(match ordering {
                    Ordering::Less => -1,
                    Ordering::Equal => 0,
                    Ordering::Greater => 1,
                })
            })
            .collect();
        Ok(Arc::new(positions))
    }
}
