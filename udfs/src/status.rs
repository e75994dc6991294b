//! `call_status(direction, call_type, connect_time, sip_code, hangup_cause)`: the call-log
//! status of a call before the target logic (`Proper` / `Repeat call`) is applied.
//!
//! The status is the first rule of [`CALL_STATUS_RULES`] that matches (SPEC section 3):
//! hang-up causes that name what happened come first, so a call that an IVR or queue
//! answered but no person ever took is `No answer` even though it was connected; then a
//! connected call is `Answered`; then the SIP code decides between `Busy` and `Failed`;
//! everything else is `No answer`.
//!
//! NULLs carry meaning here instead of propagating: a NULL `connect_time` is a call that
//! never connected, a NULL `sip_code` or `hangup_cause` matches no rule that needs one, and
//! the result is never NULL. `direction` and `call_type` take part in no rule of the
//! specification; they are part of the signature so that direction-specific rules can be
//! added without changing callers.

use std::sync::LazyLock;

use datafusion::arrow::array::{ArrayRef, StringViewArray, UInt8Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion_macros::user_doc;

use crate::args::{Arg, Kind, Rows, arg, impl_udf};
use crate::text_ids::{NULL_ID, TextIds};

/// What a rule of [`CALL_STATUS_RULES`] tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// The hang-up cause is one of these.
    HangupCause(&'static [&'static str]),
    /// The call was connected (`connect_time` is not NULL).
    Connected,
    /// The SIP code is one of these, or lies in one of these classes (`5` = 5xx).
    SipCode {
        /// Exact codes.
        codes: &'static [i64],
        /// Classes, by first digit.
        classes: &'static [i64],
    },
    /// Always true: the final rule.
    Otherwise,
}

/// One rule: when [`Rule::when`] holds, the status is [`Rule::status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The test.
    pub when: Condition,
    /// The status it gives.
    pub status: &'static str,
}

const fn rule(when: Condition, status: &'static str) -> Rule {
    Rule { when, status }
}

use Condition::{Connected, HangupCause, Otherwise, SipCode};

/// The status rules in the order they are tried (SPEC section 3, `call_status`).
pub const CALL_STATUS_RULES: &[Rule] = &[
    rule(
        HangupCause(&["forbidden_destination"]),
        "Forbidden destination",
    ),
    rule(
        HangupCause(&["routing_failed"]),
        "Call forwarding scheme did not work",
    ),
    rule(HangupCause(&["wrong_extension"]), "Wrong extension"),
    rule(HangupCause(&["no_extension"]), "No extension"),
    rule(
        HangupCause(&["callback_no_answer"]),
        "No answer from a customer (Callback)",
    ),
    rule(HangupCause(&["voicemail"]), "Voicemail"),
    rule(
        HangupCause(&[
            "abandoned_in_ivr",
            "abandoned_in_queue",
            "abandoned_while_ringing",
            "queue_timeout",
            "queue_overflow",
            "navigation_abandoned",
        ]),
        "No answer",
    ),
    rule(
        HangupCause(&["ivr_error", "transfer_to_agent_failed"]),
        "Failed",
    ),
    rule(Connected, "Answered"),
    rule(
        SipCode {
            codes: &[486, 600],
            classes: &[],
        },
        "Busy",
    ),
    rule(
        SipCode {
            codes: &[403, 404, 407, 410, 484, 488],
            classes: &[5],
        },
        "Failed",
    ),
    rule(Otherwise, "No answer"),
];

/// The facts about one call that the rules look at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallFacts<'a> {
    /// Whether the call was connected.
    pub connected: bool,
    /// Final SIP response code, if known.
    pub sip_code: Option<i64>,
    /// Stored hang-up cause, if any.
    pub hangup_cause: Option<&'a str>,
}

impl Condition {
    fn holds(&self, call: &CallFacts<'_>) -> bool {
        match *self {
            HangupCause(causes) => call.hangup_cause.is_some_and(|c| causes.contains(&c)),
            Connected => call.connected,
            SipCode { codes, classes } => call
                .sip_code
                .is_some_and(|c| codes.contains(&c) || classes.contains(&c.div_euclid(100))),
            Otherwise => true,
        }
    }
}

/// The status when no rule holds (the table ends with [`Condition::Otherwise`], so never).
const FALLBACK: &str = "No answer";

/// The status of `call`: that of the first rule of [`CALL_STATUS_RULES`] that holds.
pub fn status(call: &CallFacts<'_>) -> &'static str {
    CALL_STATUS_RULES
        .iter()
        .find(|r| r.when.holds(call))
        .map_or(FALLBACK, |r| r.status)
}

/// The index of the first [`Condition::HangupCause`] rule that `cause` meets, or the number
/// of rules when none does: the rules before it can only hold by the call's other facts.
fn first_cause_rule(cause: Option<&str>) -> usize {
    CALL_STATUS_RULES
        .iter()
        .position(|r| {
            matches!(r.when, HangupCause(_))
                && r.when.holds(&CallFacts {
                    hangup_cause: cause,
                    ..CallFacts::default()
                })
        })
        .unwrap_or(CALL_STATUS_RULES.len())
}

/// The first rule that holds by a call's connection and SIP code alone (a
/// [`Condition::HangupCause`] rule never does), or the number of rules.
fn first_fact_rule(connected: bool, sip_code: Option<i64>) -> usize {
    let facts = CallFacts {
        connected,
        sip_code,
        hangup_cause: None,
    };
    CALL_STATUS_RULES
        .iter()
        .position(|r| !matches!(r.when, HangupCause(_)) && r.when.holds(&facts))
        .unwrap_or(CALL_STATUS_RULES.len())
}

/// SIP codes below this have their [`first_fact_rule`] in [`FactRules`]; others (and
/// negative ones) are worked out per row.
const TABULATED_SIP_CODES: usize = 700;

/// [`first_fact_rule`] of every connection state with no SIP code and with each code below
/// [`TABULATED_SIP_CODES`].
struct FactRules {
    /// Per connection state (0 not connected, 1 connected): the rule without a SIP code,
    /// then the rule of each code.
    table: [[u8; TABULATED_SIP_CODES + 1]; 2],
}

impl FactRules {
    fn new() -> Self {
        let mut table = [[0u8; TABULATED_SIP_CODES + 1]; 2];
        for (connected, row) in table.iter_mut().enumerate() {
            let connected = connected == 1;
            row[0] = rule_index(first_fact_rule(connected, None));
            for (code, rule) in row[1..].iter_mut().enumerate() {
                // `code` < 700: fits.
                *rule = rule_index(first_fact_rule(connected, Some(code as i64)));
            }
        }
        Self { table }
    }

    /// [`first_fact_rule`]`(connected, sip_code)`.
    #[inline]
    fn get(&self, connected: bool, sip_code: Option<i64>) -> u8 {
        let row = &self.table[usize::from(connected)];
        match sip_code {
            None => row[0],
            Some(code) => match usize::try_from(code) {
                Ok(code) if code < TABULATED_SIP_CODES => row[code + 1],
                _ => rule_index(first_fact_rule(connected, sip_code)),
            },
        }
    }
}

/// A rule index (at most the number of rules, a dozen) as stored in the tables.
fn rule_index(rule: usize) -> u8 {
    u8::try_from(rule).unwrap_or(u8::MAX)
}

static FACT_RULES: LazyLock<FactRules> = LazyLock::new(FactRules::new);

/// The rule that decides a call whose cause first meets rule `cause_rule` (see
/// [`first_cause_rule`]) and whose connection and SIP code first meet rule `fact_rule` (see
/// [`first_fact_rule`]): whichever comes first. The same answer as [`status`], without
/// comparing strings.
#[inline]
fn deciding_rule(cause_rule: u8, fact_rule: u8) -> u8 {
    cause_rule.min(fact_rule)
}

/// The status of each rule in rule order, then [`FALLBACK`]: `take` with rule indices gives
/// the result column (views of a shared buffer, no string copied per row).
static RULE_STATUSES: LazyLock<StringViewArray> = LazyLock::new(|| {
    StringViewArray::from_iter_values(CALL_STATUS_RULES.iter().map(|r| r.status).chain([FALLBACK]))
});

#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "Call-log status before target logic, by the first rule that matches: hang-up causes forbidden_destination, routing_failed, wrong_extension, no_extension, callback_no_answer and voicemail give their own label; abandoned_in_ivr, abandoned_in_queue, abandoned_while_ringing, queue_timeout, queue_overflow and navigation_abandoned give No answer; ivr_error and transfer_to_agent_failed give Failed; then a connected call (connect_time not NULL) is Answered; SIP 486 or 600 is Busy; SIP 403, 404, 407, 410, 484, 488 or 5xx is Failed; else No answer. Never NULL.",
    syntax_example = "call_status(direction, call_type, connect_time, sip_code, hangup_cause)",
    sql_example = r#"```sql
> select call_status('inbound', 'inbound', NULL, 486, NULL);
Busy
```"#,
    argument(
        name = "direction",
        description = "inbound, outbound or internal (not used by the current rules)."
    ),
    argument(
        name = "call_type",
        description = "Stored call type (not used by the current rules)."
    ),
    argument(
        name = "connect_time",
        description = "When the call was answered; NULL if never connected."
    ),
    argument(name = "sip_code", description = "Final SIP response code."),
    argument(
        name = "hangup_cause",
        description = "Stored hang-up cause (SPEC 2.6)."
    )
)]
/// `call_status(direction, call_type, connect_time, sip_code, hangup_cause)` → `TEXT` (as
/// `Utf8View`, like the text columns of the tables); see [`status`].
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct CallStatus;

const ARGS: &[Arg] = &[
    arg("direction", Kind::Text),
    arg("call_type", Kind::Text),
    arg("connect_time", Kind::Any),
    arg("sip_code", Kind::Int),
    arg("hangup_cause", Kind::Text),
];

impl_udf!(CallStatus, name: "call_status", args: ARGS, required: 5,
    returns: DataType::Utf8View, strict: false);

impl CallStatus {
    /// The cause rule is worked out once per distinct hang-up cause of the batch and the
    /// rule of the connection and SIP code read from [`FACT_RULES`]; the result is a `take`
    /// of [`RULE_STATUSES`].
    fn eval(&self, rows: &Rows) -> Result<ArrayRef> {
        let (connect, sip) = (rows.present(2)?, rows.ints(3)?);
        let causes = TextIds::of(&rows.texts(4)?, rows.len());
        let cause_rules: Vec<u8> = causes
            .values
            .iter()
            .map(|c| rule_index(first_cause_rule(Some(c))))
            .collect();
        let no_cause = rule_index(first_cause_rule(None));
        let facts = &*FACT_RULES;
        let rules: Vec<u8> = causes
            .ids
            .iter()
            .enumerate()
            .map(|(r, id)| {
                let cause_rule = match *id {
                    NULL_ID => no_cause,
                    id => cause_rules[id as usize],
                };
                deciding_rule(cause_rule, facts.get(connect.get(r), sip.get(r)))
            })
            .collect();
        let rules = UInt8Array::from(rules);
        Ok(take(&*RULE_STATUSES, &rules, None)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(connected: bool, sip_code: Option<i64>, cause: Option<&str>) -> &'static str {
        status(&CallFacts {
            connected,
            sip_code,
            hangup_cause: cause,
        })
    }

    #[test]
    fn causes_come_before_connection_and_sip() {
        assert_eq!(of(true, Some(200), Some("abandoned_in_queue")), "No answer");
        assert_eq!(of(true, Some(200), Some("voicemail")), "Voicemail");
        assert_eq!(of(true, None, Some("ivr_error")), "Failed");
        assert_eq!(
            of(false, Some(486), Some("forbidden_destination")),
            "Forbidden destination"
        );
        assert_eq!(of(true, Some(486), Some("normal")), "Answered");
    }

    #[test]
    fn sip_codes_of_unconnected_calls() {
        assert_eq!(of(false, Some(486), None), "Busy");
        assert_eq!(of(false, Some(600), None), "Busy");
        assert_eq!(of(false, Some(404), None), "Failed");
        assert_eq!(of(false, Some(503), None), "Failed");
        assert_eq!(of(false, Some(599), None), "Failed");
        assert_eq!(of(false, Some(480), None), "No answer");
        assert_eq!(of(false, Some(487), None), "No answer");
        assert_eq!(of(false, None, None), "No answer");
        assert_eq!(of(false, Some(-503), None), "No answer");
    }

    #[test]
    fn columns_agree_with_the_rules() {
        use datafusion::arrow::array::{
            Array, AsArray, Int64Array, StringArray, TimestampMicrosecondArray,
        };
        use datafusion::logical_expr::ColumnarValue;
        use std::sync::Arc;

        let mut causes: Vec<Option<&str>> = CALL_STATUS_RULES
            .iter()
            .flat_map(|r| match r.when {
                HangupCause(causes) => causes.iter().map(|c| Some(*c)).collect(),
                _ => vec![],
            })
            .collect();
        causes.extend([None, Some("normal"), Some(""), Some("Voicemail")]);
        let codes = [
            None,
            Some(-503),
            Some(0),
            Some(200),
            Some(403),
            Some(404),
            Some(480),
        ]
        .into_iter()
        .chain([486, 487, 488, 499, 500, 503, 599, 600, 603, 700].map(Some));
        let mut calls = Vec::new();
        for cause in &causes {
            for code in codes.clone() {
                for connected in [false, true] {
                    calls.push((connected, code, *cause));
                }
            }
        }
        let text = |v: Vec<Option<&str>>| -> ArrayRef { Arc::new(StringViewArray::from(v)) };
        let n = calls.len();
        let args = [
            ColumnarValue::Array(text(vec![Some("inbound"); n])),
            ColumnarValue::Array(text(vec![None; n])),
            ColumnarValue::Array(Arc::new(TimestampMicrosecondArray::from(
                calls.iter().map(|c| c.0.then_some(1)).collect::<Vec<_>>(),
            ))),
            ColumnarValue::Array(Arc::new(Int64Array::from(
                calls.iter().map(|c| c.1).collect::<Vec<_>>(),
            ))),
            ColumnarValue::Array(text(calls.iter().map(|c| c.2).collect())),
        ];
        let got = CallStatus.eval(&Rows::new(&args, n).unwrap()).unwrap();
        let got = got.as_string_view();
        assert_eq!(got.null_count(), 0);
        for (i, (connected, sip_code, cause)) in calls.iter().enumerate() {
            let want = of(*connected, *sip_code, *cause);
            assert_eq!(got.value(i), want, "{connected} {sip_code:?} {cause:?}");
        }
        // The same through a `Utf8` cause column and broadcast scalars.
        let args = [
            ColumnarValue::Scalar(datafusion::common::ScalarValue::Null),
            ColumnarValue::Scalar(datafusion::common::ScalarValue::Null),
            ColumnarValue::Scalar(datafusion::common::ScalarValue::Null),
            ColumnarValue::Scalar(datafusion::common::ScalarValue::Int64(Some(486))),
            ColumnarValue::Array(Arc::new(StringArray::from(vec![
                Some("voicemail"),
                None,
                Some("normal"),
            ]))),
        ];
        let got = CallStatus.eval(&Rows::new(&args, 3).unwrap()).unwrap();
        let got: Vec<_> = got.as_string_view().iter().collect();
        assert_eq!(got, vec![Some("Voicemail"), Some("Busy"), Some("Busy")]);
    }

    #[test]
    fn every_rule_is_reachable() {
        for (i, r) in CALL_STATUS_RULES.iter().enumerate() {
            let call = match r.when {
                HangupCause(causes) => CallFacts {
                    hangup_cause: Some(causes[0]),
                    ..Default::default()
                },
                Connected => CallFacts {
                    connected: true,
                    ..Default::default()
                },
                SipCode { codes, .. } if !codes.is_empty() => CallFacts {
                    sip_code: Some(codes[0]),
                    ..Default::default()
                },
                SipCode { .. } => CallFacts {
                    sip_code: Some(500),
                    ..Default::default()
                },
                Otherwise => CallFacts::default(),
            };
            let first = CALL_STATUS_RULES.iter().position(|r| r.when.holds(&call));
            assert_eq!(first, Some(i), "rule {i} ({}) is shadowed", r.status);
        }
    }
}
