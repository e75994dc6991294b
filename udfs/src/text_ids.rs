//! Distinct values of a text argument, numbered per batch.
//!
//! Several functions answer from a low-cardinality text column: `call_status` from the
//! hang-up cause, the tenant functions from the tenant, `target_status` from a status label.
//! [`TextIds::of`] gives each row the number of its text (its first appearance in the batch),
//! so the answer is worked out once per distinct value and each row only indexes.
//!
//! For a `StringViewArray`, the layout Parquet text columns are read in, a row's 16-byte view
//! is the key of a small direct-mapped cache: equal views hold equal strings (a view of up to
//! 12 bytes holds the whole string, a longer one its length, prefix, buffer and offset), and a
//! dictionary-encoded column decodes every occurrence of a value to the same view, so most rows
//! cost one comparison of two integers. A miss looks the string itself up, so equal strings
//! behind different views still share a number. Other layouts compare a row with the previous
//! row first, then look the string up.

use std::collections::HashMap;

use datafusion::arrow::array::Array;

use crate::args::Texts;

/// The id of a NULL row.
pub(crate) const NULL_ID: u32 = u32::MAX;

/// Slots of the direct-mapped view cache (a power of two).
const CACHE_SLOTS: usize = 64;

/// The texts of a batch, numbered.
pub(crate) struct TextIds<'a> {
    /// Per row: the id of its text, [`NULL_ID`] for NULL.
    pub ids: Vec<u32>,
    /// Per id: the text.
    pub values: Vec<&'a str>,
}

/// Numbers distinct strings in order of first appearance.
struct Numbering<'a> {
    values: Vec<&'a str>,
    index: HashMap<&'a str, u32>,
}

impl<'a> Numbering<'a> {
    fn id(&mut self, text: &'a str) -> u32 {
        *self.index.entry(text).or_insert_with(|| {
            self.values.push(text);
            // At most one id per row of a batch: far below `NULL_ID`.
            u32::try_from(self.values.len() - 1).unwrap_or(NULL_ID - 1)
        })
    }
}

impl<'a> TextIds<'a> {
    /// Numbers the first `rows` rows of `texts`.
    pub(crate) fn of(texts: &Texts<'a>, rows: usize) -> Self {
        let mut numbering = Numbering {
            values: Vec::new(),
            index: HashMap::new(),
        };
        let ids = match texts.views() {
            Some((array, step)) => {
                let views = array.views();
                let nulls = array.nulls();
                let mut cache = [(0u128, NULL_ID); CACHE_SLOTS];
                (0..rows)
                    .map(|r| {
                        let i = r * step;
                        if nulls.is_some_and(|n| n.is_null(i)) {
                            return NULL_ID;
                        }
                        let view = views[i];
                        let slot = &mut cache[cache_slot(view)];
                        if slot.1 != NULL_ID && slot.0 == view {
                            return slot.1;
                        }
                        let id = numbering.id(array.value(i));
                        *slot = (view, id);
                        id
                    })
                    .collect()
            }
            None => {
                let mut previous: Option<(&str, u32)> = None;
                (0..rows)
                    .map(|r| {
                        let Some(text) = texts.get(r) else {
                            return NULL_ID;
                        };
                        if let Some((p, id)) = previous
                            && p == text
                        {
                            return id;
                        }
                        let id = numbering.id(text);
                        previous = Some((text, id));
                        id
                    })
                    .collect()
            }
        };
        Self {
            ids,
            values: numbering.values,
        }
    }
}

/// The cache slot of a view: a multiplicative hash of its two halves.
#[inline]
fn cache_slot(view: u128) -> usize {
    // Truncations intended: the halves of the view, then the top bits of the product.
    let mixed = (view as u64) ^ ((view >> 64) as u64);
    (mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - CACHE_SLOTS.trailing_zeros())) as usize
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, StringArray, StringViewArray};
    use datafusion::common::ScalarValue;
    use datafusion::logical_expr::ColumnarValue;

    use super::*;
    use crate::args::Rows;

    fn ids_of(array: ArrayRef) -> (Vec<u32>, Vec<String>) {
        let n = array.len();
        let args = [ColumnarValue::Array(array)];
        let rows = Rows::new(&args, n).unwrap();
        let got = TextIds::of(&rows.texts(0).unwrap(), n);
        let values = got.values.iter().map(|v| v.to_string()).collect();
        (got.ids, values)
    }

    #[test]
    fn equal_texts_share_an_id_in_every_layout() {
        let long = "transferred_to_external_line";
        let texts = vec![
            Some("normal"),
            None,
            Some(long),
            Some("normal"),
            Some(long),
            Some("voicemail"),
            None,
            Some(long),
        ];
        let want = (
            vec![0, NULL_ID, 1, 0, 1, 2, NULL_ID, 1],
            vec![
                "normal".to_string(),
                long.to_string(),
                "voicemail".to_string(),
            ],
        );
        // Built row by row, the long strings sit at different offsets: different views.
        let views: ArrayRef = Arc::new(StringViewArray::from(texts.clone()));
        assert_eq!(ids_of(views), want);
        let utf8: ArrayRef = Arc::new(StringArray::from(texts));
        assert_eq!(ids_of(utf8), want);
    }

    #[test]
    fn many_distinct_views_overflow_the_cache_without_mixing_ids() {
        let texts: Vec<String> = (0..1000).map(|i| format!("tenant-{}", i % 300)).collect();
        let array: ArrayRef = Arc::new(StringViewArray::from_iter_values(&texts));
        let (ids, values) = ids_of(array);
        assert_eq!(values.len(), 300);
        for (row, id) in ids.iter().enumerate() {
            assert_eq!(values[*id as usize], texts[row]);
        }
    }

    #[test]
    fn a_scalar_is_one_id_for_every_row() {
        let args = [ColumnarValue::Scalar(ScalarValue::Utf8View(Some(
            "carrier".into(),
        )))];
        let rows = Rows::new(&args, 1).unwrap();
        let got = TextIds::of(&rows.texts(0).unwrap(), 3);
        assert_eq!(got.ids, vec![0, 0, 0]);
        assert_eq!(got.values, vec!["carrier"]);
    }
}
