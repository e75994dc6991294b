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

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion_macros::user_doc;

use crate::args::{Arg, Kind, Rows, arg, impl_udf};

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

/// The status of `call`: that of the first rule of [`CALL_STATUS_RULES`] that holds.
pub fn status(call: &CallFacts<'_>) -> &'static str {
    CALL_STATUS_RULES
        .iter()
        .find(|r| r.when.holds(call))
        .map_or("No answer", |r| r.status)
}

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
/// `call_status(direction, call_type, connect_time, sip_code, hangup_cause)` → `TEXT`; see
/// [`status`].
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
    returns: DataType::Utf8, strict: false);

impl CallStatus {
    fn eval(&self, rows: &Rows) -> Result<ArrayRef> {
        let (connect, sip, cause) = (rows.present(2)?, rows.ints(3)?, rows.texts(4)?);
        let out: StringArray = (0..rows.len())
            .map(|r| {
                Some(status(&CallFacts {
                    connected: connect.get(r),
                    sip_code: sip.get(r),
                    hangup_cause: cause.get(r),
                }))
            })
            .collect();
        Ok(Arc::new(out))
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
