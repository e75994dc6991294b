//! `sip_reason(code)`: the standard reason phrase of a SIP final (or provisional) response.
//!
//! Phrases are those of the IANA "Response Codes" registry of the SIP parameters, i.e.
//! RFC 3261 §21 and its successors (RFC 3262, 3265/6665, 3329, 3903, 4412, 4474/8224,
//! 4538, 5360, 5393, 5626, 6086, 6228, 8197, 8599, 8688, 8876, 3312/4032, …). Vendors print
//! variants ("Server Timeout", "Address Incompleted"); the canonical phrase lets reports
//! agree across sources. A code in 100–699 that the registry does not name gets its class
//! name; anything else is not a SIP response code and gives NULL.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion_macros::user_doc;

use crate::args::{Arg, Kind, Rows, arg, impl_udf};

/// Every registered SIP response code with its reason phrase, sorted by code.
pub const SIP_REASONS: &[(u16, &str)] = &[
    (100, "Trying"),
    (180, "Ringing"),
    (181, "Call Is Being Forwarded"),
    (182, "Queued"),
    (183, "Session Progress"),
    (199, "Early Dialog Terminated"),
    (200, "OK"),
    (202, "Accepted"),
    (204, "No Notification"),
    (300, "Multiple Choices"),
    (301, "Moved Permanently"),
    (302, "Moved Temporarily"),
    (305, "Use Proxy"),
    (380, "Alternative Service"),
    (400, "Bad Request"),
    (401, "Unauthorized"),
    (402, "Payment Required"),
    (403, "Forbidden"),
    (404, "Not Found"),
    (405, "Method Not Allowed"),
    (406, "Not Acceptable"),
    (407, "Proxy Authentication Required"),
    (408, "Request Timeout"),
    (410, "Gone"),
    (412, "Conditional Request Failed"),
    (413, "Request Entity Too Large"),
    (414, "Request-URI Too Long"),
    (415, "Unsupported Media Type"),
    (416, "Unsupported URI Scheme"),
    (417, "Unknown Resource-Priority"),
    (420, "Bad Extension"),
    (421, "Extension Required"),
    (422, "Session Interval Too Small"),
    (423, "Interval Too Brief"),
    (424, "Bad Location Information"),
    (425, "Bad Alert Message"),
    (428, "Use Identity Header"),
    (429, "Provide Referrer Identity"),
    (430, "Flow Failed"),
    (433, "Anonymity Disallowed"),
    (436, "Bad Identity Info"),
    (437, "Unsupported Credential"),
    (438, "Invalid Identity Header"),
    (439, "First Hop Lacks Outbound Support"),
    (440, "Max-Breadth Exceeded"),
    (469, "Bad Info Package"),
    (470, "Consent Needed"),
    (480, "Temporarily Unavailable"),
    (481, "Call/Transaction Does Not Exist"),
    (482, "Loop Detected"),
    (483, "Too Many Hops"),
    (484, "Address Incomplete"),
    (485, "Ambiguous"),
    (486, "Busy Here"),
    (487, "Request Terminated"),
    (488, "Not Acceptable Here"),
    (489, "Bad Event"),
    (491, "Request Pending"),
    (493, "Undecipherable"),
    (494, "Security Agreement Required"),
    (500, "Server Internal Error"),
    (501, "Not Implemented"),
    (502, "Bad Gateway"),
    (503, "Service Unavailable"),
    (504, "Server Time-out"),
    (505, "Version Not Supported"),
    (513, "Message Too Large"),
    (555, "Push Notification Service Not Supported"),
    (580, "Precondition Failure"),
    (600, "Busy Everywhere"),
    (603, "Decline"),
    (604, "Does Not Exist Anywhere"),
    (606, "Not Acceptable"),
    (607, "Unwanted"),
    (608, "Rejected"),
];

/// Name of each response class, indexed by the code's first digit minus one.
pub const SIP_CLASSES: [&str; 6] = [
    "Provisional",
    "Successful",
    "Redirection",
    "Client Failure",
    "Server Failure",
    "Global Failure",
];

/// The reason phrase of `code`: its registered phrase, else its class name, else `None`
/// outside 100–699.
pub fn reason(code: i64) -> Option<&'static str> {
    let code = u16::try_from(code)
        .ok()
        .filter(|c| (100..700).contains(c))?;
    match SIP_REASONS.binary_search_by_key(&code, |(c, _)| *c) {
        Ok(i) => Some(SIP_REASONS[i].1),
        Err(_) => SIP_CLASSES.get(usize::from(code / 100 - 1)).copied(),
    }
}

#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "Standard reason phrase of a SIP response code (IANA registry: RFC 3261 and successors); an unregistered code in 100-699 gets its class name (Provisional, Successful, Redirection, Client Failure, Server Failure, Global Failure); other values give NULL.",
    syntax_example = "sip_reason(code)",
    sql_example = r#"```sql
> select sip_reason(486), sip_reason(487), sip_reason(499);
Busy Here | Request Terminated | Client Failure
```"#,
    argument(name = "code", description = "SIP response code (any integer).")
)]
/// `sip_reason(code)` → `TEXT`; see [`reason`].
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct SipReason;

const ARGS: &[Arg] = &[arg("code", Kind::Int)];

impl_udf!(SipReason, name: "sip_reason", args: ARGS, required: 1,
    returns: DataType::Utf8, strict: true);

impl SipReason {
    fn eval(&self, rows: &Rows) -> Result<ArrayRef> {
        let codes = rows.ints(0)?;
        let out: StringArray = (0..rows.len())
            .map(|r| codes.get(r).and_then(reason))
            .collect();
        Ok(Arc::new(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_in_range() {
        assert!(SIP_REASONS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(SIP_REASONS.iter().all(|(c, _)| (100..700).contains(c)));
        assert_eq!(SIP_REASONS.len(), 75);
    }

    #[test]
    fn phrases_and_classes() {
        assert_eq!(reason(200), Some("OK"));
        assert_eq!(reason(487), Some("Request Terminated"));
        assert_eq!(reason(555), Some("Push Notification Service Not Supported"));
        assert_eq!(reason(150), Some("Provisional"));
        assert_eq!(reason(299), Some("Successful"));
        assert_eq!(reason(409), Some("Client Failure"));
        assert_eq!(reason(699), Some("Global Failure"));
        assert_eq!(reason(99), None);
        assert_eq!(reason(700), None);
        assert_eq!(reason(-486), None);
        assert_eq!(reason(i64::MAX), None);
    }
}
