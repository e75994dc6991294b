//! [`GroupFirsts`]: the least row of every group, kept incrementally over a stream of batches.
//!
//! Both functions of this module reduce to it: a row's group is numbered by DataFusion's own
//! group-by hash table ([`GroupValues`], the one `GROUP BY` uses); its `order` values are
//! encoded by Arrow's row format ([`RowConverter`]), whose bytes compare as the values do in
//! their sort directions; and each group keeps the position and the encoded order of its
//! least eligible row, in one arena.
//!
//! Most answers are known as the row is pushed, because a group's least row only ever gets
//! lesser: a row not less than its group's least so far comes after the final least; a row
//! that becomes the least is the group's first unless a later one replaces it, which then
//! marks it. Each row keeps a one-byte answer. Only a row whose answer depends on rows still
//! to come — with a flag, an unflagged row less than its group's least so far (or in a group
//! with no flagged row yet) — keeps its encoded order, to be compared with its group's final
//! least when answered. With a flag, a row whose flag is NULL takes no part at all (its
//! answer is NULL): the call log flags only answered calls, and the others, three in ten, are
//! then never hashed. Memory grows with the groups and those rows, not with the rows' order
//! values: the window operator ([`GroupWindowExec`](crate::group_window::GroupWindowExec))
//! needs no copy of its input's order arguments.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, Int32Array};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::compute::filter;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::row::{RowConverter, Rows};
use datafusion::common::{Result, exec_err};
use datafusion::physical_plan::aggregates::group_values::{GroupValues, new_group_values};
use datafusion::physical_plan::aggregates::order::GroupOrdering;

use super::flat;
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
    pub(crate) fn leading(&self) -> usize {
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

/// A row's answer as kept: with a flag, -1, 0 or 1 (before, on or after its group's first
/// flagged row), [`PENDING`] or [`ABSENT`]; without, 1 on the group's first row, else 0.
type Answer = i8;

/// With a flag: the answer waits for the group's final least row (see [`Pending`]).
const PENDING: Answer = 2;

/// With a flag: the row's flag is NULL, so it takes no part and its answer is NULL.
const ABSENT: Answer = 3;

/// A row whose answer is [`PENDING`]: its position, its group, and where its encoded order
/// ends in the pending arena (it starts where the previous one's ends).
#[derive(Debug, Clone, Copy)]
struct Pending {
    row: usize,
    end: usize,
    group: u32,
}

/// The state of one function over the rows pushed so far; see the [module docs](self).
pub struct GroupFirsts {
    shape: Shape,
    /// Created with the first batch, from its key types.
    table: Option<Box<dyn GroupValues>>,
    /// Encodes the order arguments, structs flattened ([`flat`]); `None` when every one is a
    /// NULL literal (all rows tie).
    converter: Option<RowConverter>,
    /// The last batch's encoded order, its buffers re-used by the next batch.
    rows: Option<Rows>,
    /// The last batch's groups, by row; re-used by the next batch.
    groups: Vec<u32>,
    best: Vec<Best>,
    arena: Vec<u8>,
    /// The answer of every row pushed, by position.
    answers: Vec<Answer>,
    /// The rows whose answer is [`PENDING`], by position, and their encoded orders.
    pending: Vec<Pending>,
    pending_arena: Vec<u8>,
}

impl GroupFirsts {
    /// An empty state for a function of `shape` whose arguments have `argument_types`.
    pub fn new(shape: Shape, argument_types: &[DataType]) -> Result<Self> {
        let Some(order) = argument_types.get(usize::from(shape.flag)..shape.leading()) else {
            return exec_err!("{} needs {} leading arguments", shape.name, shape.leading());
        };
        let mut fields = Vec::new();
        for (data_type, &direction) in order.iter().zip(&shape.directions) {
            flat::sort_fields(data_type, direction, &mut fields);
        }
        let converter = if fields.is_empty() {
            None
        } else {
            Some(RowConverter::new(fields)?)
        };
        Ok(Self {
            shape,
            table: None,
            converter,
            rows: None,
            groups: Vec::new(),
            best: Vec::new(),
            arena: Vec::new(),
            answers: Vec::new(),
            pending: Vec::new(),
            pending_arena: Vec::new(),
        })
    }

    /// Bytes held, for the memory pool.
    pub fn size(&self) -> usize {
        self.table.as_ref().map_or(0, |t| t.size())
            + self.converter.as_ref().map_or(0, RowConverter::size)
            + self.rows.as_ref().map_or(0, Rows::size)
            + self.groups.capacity() * size_of::<u32>()
            + self.best.capacity() * size_of::<Best>()
            + self.arena.capacity()
            + self.answers.capacity() * size_of::<Answer>()
            + self.pending.capacity() * size_of::<Pending>()
            + self.pending_arena.capacity()
    }

    /// Encodes a batch's order arguments into `self.rows` (re-using its buffers); leaves it
    /// `None` if they are all NULL literals.
    fn encode(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(converter) = &self.converter else {
            return Ok(());
        };
        let mut order = Vec::new();
        let arguments = &values[usize::from(self.shape.flag)..self.shape.leading()];
        for (value, &direction) in arguments.iter().zip(&self.shape.directions) {
            flat::columns(value, direction, &mut order)?;
        }
        let rows = self.rows.get_or_insert_with(|| converter.empty_rows(0, 0));
        rows.clear();
        converter.append(rows, &order)?;
        Ok(())
    }

    /// The flags of a batch, when the function has them.
    fn flags(&self, values: &[ArrayRef]) -> Result<Option<BooleanArray>> {
        match values.first() {
            Some(flags) if self.shape.flag => Ok(Some(flag_array(self.shape.name, flags)?)),
            _ => Ok(None),
        }
    }

    /// Adds a batch's rows; `values` are its arguments, then any further key columns. With a
    /// flag, the rows whose flag is NULL are filtered out first: they are neither hashed nor
    /// encoded, and their answer is NULL.
    pub fn push(&mut self, values: &[ArrayRef]) -> Result<()> {
        if values.len() <= self.shape.leading() {
            return exec_err!("{} needs at least one key", self.shape.name);
        }
        let num_rows = values[0].len();
        let flags = self.flags(values)?;
        let absent = flags
            .as_ref()
            .and_then(BooleanArray::nulls)
            .filter(|nulls| nulls.null_count() > 0);
        match absent {
            None => self.push_present(values, flags.as_ref(), 0..num_rows, num_rows),
            Some(nulls) => {
                let present = BooleanArray::new(nulls.inner().clone(), None);
                let values = values
                    .iter()
                    .map(|v| filter(v.as_ref(), &present))
                    .collect::<Result<Vec<_>, _>>()?;
                let flags = self.flags(&values)?;
                self.push_present(&values, flags.as_ref(), nulls.valid_indices(), num_rows)
            }
        }
    }

    /// Adds a batch of `num_rows` rows of which only those at `present` (ascending) take part;
    /// `values` and `flags` hold just those rows.
    fn push_present(
        &mut self,
        values: &[ArrayRef],
        flags: Option<&BooleanArray>,
        present: impl Iterator<Item = usize>,
        num_rows: usize,
    ) -> Result<()> {
        let first_row = self.answers.len();
        self.intern(&values[self.shape.leading()..], values[0].len())?;
        self.encode(values)?;
        self.answers.reserve(num_rows);
        for (i, in_batch) in present.enumerate() {
            let row = first_row + in_batch;
            self.answers.resize(row, ABSENT);
            let group = self.groups[i];
            let best = self.best[group as usize];
            let bytes = self
                .rows
                .as_ref()
                .map_or(&[][..], |rows| rows.row(i).data());
            // Rows come in position order: a row not less than the group's least so far is
            // after the final least (ties by position), whatever comes later.
            if best.row != NONE.row && bytes >= &self.arena[best.start..best.start + best.len] {
                self.answers.push(if flags.is_some() { 1 } else { 0 });
                continue;
            }
            let flagged = flags.is_none_or(|flags| flags.value(i));
            if flagged {
                // The new least: the one it replaces is after it.
                if let Some(replaced) = self.answers.get_mut(best.row) {
                    *replaced = if flags.is_some() { 1 } else { 0 };
                }
                self.answers.push(if flags.is_some() { 0 } else { 1 });
                let start = self.arena.len();
                self.arena.extend_from_slice(bytes);
                self.best[group as usize] = Best {
                    row,
                    start,
                    len: bytes.len(),
                };
            } else {
                // Before the least so far, or no flagged row yet: a flagged row still to come
                // may be before or after it.
                self.answers.push(PENDING);
                self.pending_arena.extend_from_slice(bytes);
                self.pending.push(Pending {
                    row,
                    end: self.pending_arena.len(),
                    group,
                });
            }
        }
        self.answers.resize(first_row + num_rows, ABSENT);
        Ok(())
    }

    /// Numbers the rows' groups by their keys (NULL equal to NULL) into `self.groups`; keys of
    /// type `Null` are equal on every row and ignored.
    fn intern(&mut self, keys: &[ArrayRef], num_rows: usize) -> Result<()> {
        self.groups.clear();
        let keys: Vec<&ArrayRef> = keys
            .iter()
            .filter(|key| key.data_type() != &DataType::Null)
            .collect();
        if keys.is_empty() {
            self.groups.resize(num_rows, 0);
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

    /// The answers for the `num_rows` rows pushed at positions `first_row..`: whether each is
    /// its group's first, or (with a flag) -1, 0 or 1 as it is before, on or after its
    /// group's first flagged row (by order, ties by position).
    pub fn answers(&self, num_rows: usize, first_row: usize) -> Result<ArrayRef> {
        let Some(answers) = self.answers.get(first_row..first_row + num_rows) else {
            return exec_err!("{}: rows {first_row}.. were not pushed", self.shape.name);
        };
        if !self.shape.flag {
            let firsts: BooleanArray = answers.iter().map(|&a| Some(a == 1)).collect();
            return Ok(Arc::new(firsts));
        }
        let mut positions: Vec<i32> = answers.iter().map(|&a| i32::from(a)).collect();
        let absent = answers
            .contains(&ABSENT)
            .then(|| NullBuffer::from_iter(answers.iter().map(|&a| a != ABSENT)));
        let from = self.pending.partition_point(|p| p.row < first_row);
        let mut start = from
            .checked_sub(1)
            .map_or(0, |previous| self.pending[previous].end);
        for pending in &self.pending[from..] {
            let Some(position) = positions.get_mut(pending.row - first_row) else {
                break;
            };
            let bytes = &self.pending_arena[start..pending.end];
            start = pending.end;
            let best = self.best[pending.group as usize];
            // Not flagged, so never the least itself: before or after it.
            *position = if best.row != NONE.row
                && (bytes, pending.row) > (&self.arena[best.start..best.start + best.len], best.row)
            {
                1
            } else {
                -1
            };
        }
        Ok(Arc::new(Int32Array::new(positions.into(), absent)))
    }
}
