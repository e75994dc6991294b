//! `hangup_reason(cause)`: the contact-center label of a stored hang-up cause (SPEC 2.6).
//!
//! `cdrs.hangup_cause` stores lower-case snake_case causes; reports show the seed product's
//! labels. A cause outside the table is not a cdrlake cause and gives NULL (ingest rejects
//! such rows, so a NULL here points at data written around the ingest path).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion_macros::user_doc;

use crate::args::{Arg, Kind, Rows, arg, impl_udf};

/// Every hang-up cause with its label, in the order of SPEC 2.6.
pub const HANGUP_REASONS: &[(&str, &str)] = &[
    ("normal", "Normal"),
    ("unanswered", "Unanswered"),
    ("abandoned_in_ivr", "Abandoned in IVR"),
    ("abandoned_in_queue", "Abandoned in queue"),
    ("abandoned_while_ringing", "Abandoned while ringing"),
    ("queue_timeout", "Queue timeout"),
    (
        "transferred_to_external_line",
        "Transferred to external line",
    ),
    ("voicemail", "Voicemail"),
    ("queue_overflow", "Queue overflow"),
    ("transfer_to_agent_failed", "Transfer to agent failed"),
    ("ivr_error", "IVR error"),
    (
        "navigation_abandoned",
        "Intelligent Navigation: Abandonment",
    ),
    ("wrong_extension", "Wrong extension"),
    ("no_extension", "No extension"),
    ("routing_failed", "Call forwarding scheme did not work"),
    ("forbidden_destination", "Forbidden destination"),
    ("callback_no_answer", "No answer from a customer (Callback)"),
];

/// The label of `cause`, `None` for a cause outside [`HANGUP_REASONS`].
pub fn label(cause: &str) -> Option<&'static str> {
    HANGUP_REASONS
        .iter()
        .find(|(c, _)| *c == cause)
        .map(|(_, label)| *label)
}

#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "Label of a hang-up cause as the contact-center reports show it (normal -> Normal, abandoned_in_queue -> Abandoned in queue, routing_failed -> Call forwarding scheme did not work, ...); NULL for an unknown cause.",
    syntax_example = "hangup_reason(cause)",
    sql_example = r#"```sql
> select hangup_reason('navigation_abandoned');
Intelligent Navigation: Abandonment
```"#,
    argument(
        name = "cause",
        description = "Stored hang-up cause (cdrs.hangup_cause)."
    )
)]
/// `hangup_reason(cause)` → `TEXT`; see [`label`].
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct HangupReason;

const ARGS: &[Arg] = &[arg("cause", Kind::Text)];

impl_udf!(HangupReason, name: "hangup_reason", args: ARGS, required: 1,
    returns: DataType::Utf8, strict: true);

impl HangupReason {
    fn eval(&self, rows: &Rows) -> Result<ArrayRef> {
        let causes = rows.texts(0)?;
        let out: StringArray = (0..rows.len())
            .map(|r| causes.get(r).and_then(label))
            .collect();
        Ok(Arc::new(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_unique_snake_case() {
        for (i, (cause, _)) in HANGUP_REASONS.iter().enumerate() {
            assert!(cause.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            assert!(HANGUP_REASONS[..i].iter().all(|(c, _)| c != cause));
        }
        assert_eq!(HANGUP_REASONS.len(), 17);
    }

    #[test]
    fn labels() {
        assert_eq!(label("queue_timeout"), Some("Queue timeout"));
        assert_eq!(label("Queue_Timeout"), None);
        assert_eq!(label(""), None);
    }
}
