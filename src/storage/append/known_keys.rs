//! The unique keys a table holds, as hashes kept in memory by one writer across its appends,
//! so that an append of new rows need not read every stored key again.
//!
//! The set covers a table at one version: the hashes of every stored row's key (and maybe a
//! few more). An incoming key whose hash is absent is certainly not stored; a hash that is
//! present (a stored key, or a rare collision) sends the append to the exact check against
//! the stored rows. When the table has moved on (another writer committed), the set is read
//! again from the stored rows.

use std::hash::{BuildHasher, Hash, Hasher};

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use futures::StreamExt;
use hashbrown::HashTable;

use crate::error::Result;
use crate::schema::TableDef;

/// Hashes of the unique keys of a table's rows at one version.
#[derive(Debug, Default)]
pub struct KnownKeys {
    /// The table version the set covers (`None`: not read yet).
    version: Option<Option<u64>>,
    hashes: HashTable<u64>,
    hasher: hashbrown::DefaultHashBuilder,
}

impl KnownKeys {
    /// An empty set that covers no version yet: the first append reads the stored keys.
    pub fn new() -> Self {
        KnownKeys::default()
    }

    /// Whether the set covers `version` of the table.
    pub(super) fn covers(&self, version: Option<u64>) -> bool {
        self.version == Some(version)
    }

    /// Forgets every key; the set covers nothing until [`Self::reset`].
    pub(super) fn invalidate(&mut self) {
        self.version = None;
        self.hashes.clear();
    }

    /// Starts over empty, covering `version` (whose rows must then be [`Self::insert`]ed).
    pub(super) fn reset(&mut self, version: Option<u64>) {
        self.hashes.clear();
        self.version = Some(version);
    }

    /// Marks the set as covering `version`, after a commit whose keys were inserted.
    pub(super) fn advance(&mut self, version: Option<u64>) {
        self.version = Some(version);
    }

    /// The hash of each row's key in `keys` (the key columns, in key order).
    pub(super) fn hash_rows(&self, keys: &[ArrayRef]) -> Result<Vec<u64>> {
        let rows = keys.first().map_or(0, |k| k.len());
        let mut hashers: Vec<_> = (0..rows).map(|_| self.hasher.build_hasher()).collect();
        for column in keys {
            let text = match column.data_type() {
                DataType::Utf8 => column.clone(),
                _ => cast(column, &DataType::Utf8)?,
            };
            let text = text.as_string::<i32>();
            for (row, h) in hashers.iter_mut().enumerate() {
                if text.is_null(row) {
                    h.write_u8(0);
                } else {
                    h.write_u8(1);
                    text.value(row).hash(h);
                }
            }
        }
        Ok(hashers.into_iter().map(|h| h.finish()).collect())
    }

    /// Whether any of `hashes` is in the set (its key may be stored).
    pub(super) fn any_known(&self, hashes: &[u64]) -> bool {
        hashes
            .iter()
            .any(|&h| self.hashes.find(h, |&k| k == h).is_some())
    }

    /// Adds `hashes` to the set.
    pub(super) fn insert(&mut self, hashes: &[u64]) {
        self.hashes.reserve(hashes.len(), |&k| k);
        for &h in hashes {
            if self.hashes.find(h, |&k| k == h).is_none() {
                self.hashes.insert_unique(h, h, |&k| k);
            }
        }
    }

    /// Adds the keys of a stream of stored rows (projected to the key columns).
    pub(super) async fn insert_stream(
        &mut self,
        mut rows: datafusion::execution::SendableRecordBatchStream,
    ) -> Result<()> {
        while let Some(batch) = rows.next().await {
            let batch: RecordBatch = batch?;
            let hashes = self.hash_rows(batch.columns())?;
            self.insert(&hashes);
        }
        Ok(())
    }
}

/// The unique key columns of `batch` (rows of `def`), in key order.
pub(super) fn key_columns(def: &TableDef, batch: &RecordBatch) -> Result<Vec<ArrayRef>> {
    def.unique_key
        .iter()
        .map(|name| {
            let i = batch.schema().index_of(name)?;
            Ok(batch.column(i).clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{StringArray, StringViewArray};

    use super::*;

    /// Text and text views hash alike, nulls differ from empty text, and the set answers
    /// membership by hash.
    #[test]
    fn hashes_are_by_value() {
        let mut keys = KnownKeys::new();
        let plain: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None, Some("")]));
        let view: ArrayRef = Arc::new(StringViewArray::from(vec![Some("a"), None, Some("")]));
        let h1 = keys.hash_rows(&[plain.clone(), plain]).unwrap();
        let h2 = keys.hash_rows(&[view.clone(), view]).unwrap();
        assert_eq!(h1, h2);
        assert_ne!(h1[1], h1[2]);
        assert!(!keys.any_known(&h1));
        keys.insert(&h1[..1]);
        assert!(keys.any_known(&h2[..1]));
        assert!(!keys.any_known(&h2[1..]));
        keys.reset(Some(3));
        assert!(keys.covers(Some(3)) && !keys.covers(Some(4)));
        assert!(!keys.any_known(&h1));
    }
}
