//! Putting decoded chunks, in input order, together into one batch: the first row of each
//! unique key stays, later rows with the same key are counted as duplicates and dropped.

use arrow::array::BooleanArray;
use arrow::compute::{concat_batches, filter_record_batch};
use hashbrown::HashTable;

use super::decode::Decoded;
use super::rows::DecodedChunk;
use crate::error::Result;
use crate::schema::TableDef;

/// The batch under construction.
pub(super) struct BatchAssembler {
    table: &'static TableDef,
    chunks: Vec<DecodedChunk>,
    /// Which valid rows of each chunk are the first of their key (`None`: all of them).
    keep: Vec<Option<Vec<bool>>>,
    /// (chunk, row) of the first row of each key seen in the batch.
    first_of_key: HashTable<(usize, usize)>,
    duplicates: u64,
}

impl BatchAssembler {
    /// An empty batch of `table`.
    pub fn new(table: &'static TableDef) -> Self {
        BatchAssembler {
            table,
            chunks: Vec::new(),
            keep: Vec::new(),
            first_of_key: HashTable::new(),
            duplicates: 0,
        }
    }

    /// Adds the next chunk of the input.
    pub fn add(&mut self, chunk: DecodedChunk) {
        let c = self.chunks.len();
        let mut keep: Option<Vec<bool>> = None;
        let chunks = &self.chunks;
        for (r, &hash) in chunk.keys.hashes.iter().enumerate() {
            let key = chunk.keys.get(r);
            if key.is_empty() {
                continue;
            }
            let key_at = |&(c2, r2): &(usize, usize)| {
                if c2 == c {
                    chunk.keys.get(r2) == key
                } else {
                    chunks[c2].keys.get(r2) == key
                }
            };
            let hash_at = |&(c2, r2): &(usize, usize)| {
                if c2 == c {
                    chunk.keys.hashes[r2]
                } else {
                    chunks[c2].keys.hashes[r2]
                }
            };
            match self.first_of_key.entry(hash, key_at, hash_at) {
                hashbrown::hash_table::Entry::Occupied(_) => {
                    self.duplicates += 1;
                    keep.get_or_insert_with(|| vec![true; chunk.keys.hashes.len()])[r] = false;
                }
                hashbrown::hash_table::Entry::Vacant(slot) => {
                    slot.insert((c, r));
                }
            }
        }
        self.chunks.push(chunk);
        self.keep.push(keep);
    }

    /// The batch, or `None` when no record was read; the assembler starts over empty.
    pub fn finish(&mut self) -> Result<Option<Decoded>> {
        let chunks = std::mem::take(&mut self.chunks);
        let keep = std::mem::take(&mut self.keep);
        let duplicates = std::mem::take(&mut self.duplicates);
        self.first_of_key.clear();
        let read: Vec<_> = chunks.iter().filter(|c| c.seen > 0).collect();
        let (Some(first), Some(last)) = (read.first(), read.last()) else {
            return Ok(None);
        };
        let lines = (first.lines.0, last.lines.1);
        let mut batches = Vec::with_capacity(chunks.len());
        let mut rejects = Vec::new();
        for (chunk, keep) in chunks.into_iter().zip(keep) {
            rejects.extend(chunk.rejects);
            batches.push(match keep {
                None => chunk.batch,
                Some(keep) => filter_record_batch(&chunk.batch, &BooleanArray::from(keep))?,
            });
        }
        let batch = concat_batches(&self.table.arrow_schema(), &batches)?;
        Ok(Some(Decoded {
            batch,
            rejects,
            duplicates,
            lines,
        }))
    }
}
