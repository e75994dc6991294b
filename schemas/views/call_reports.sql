-- The cruise-ship PMS call reports (seed: callisto-call-reports, SPEC 4): one row per call
-- (record_type 'charge') plus one per refund (record_type 'refund').
--
-- Charge of a call: the stored charge; else, for an outbound call whose destination is not
-- excluded, its rate from the rate deck (rate_lookup on the destination in E.164, at the
-- call's start) applied to its billable seconds; else 0. billed_s is the stored billing
-- duration, else the rated billable seconds.
--
-- billing_result(...) holds the rules; this view gathers its facts: whether the destination
-- is excluded, whether the call's refunds cover its whole non-zero charge, and the newest
-- billing event (latest `at`; of events with the same `at`, the one stored last, whose
-- stored_seq the store numbered highest).
--
-- Both joined summaries are grouped by the join keys (tenant, call_id): DataFusion then knows
-- each call matches at most one row, and drops the join from a query that reads none of its
-- columns (a month's totals per account reads neither). The billing events' summary was a
-- `row_number() = 1` filter, which hides that and kept a hash join of every call.
--
-- Refund rows: start and end time are the refund's created_at, called_number its destination
-- (REF0 by default), charge the negative amount, in the refunded call's currency; cabin,
-- caller and billing account come from the refunded call (a custom refund has only its cabin,
-- which is also its caller). A refund row's billing_result is 'Refunded', its
-- refunded_amount the amount and its net_charge the negative amount.
--
-- Rating runs once per call, and only on the calls to rate: `to_rate` holds the destination
-- of an outbound call without a stored charge whose destination is not excluded, and NULL on
-- every other call. Every function after it (e164, rate_lookup, billable_seconds,
-- call_charge) answers NULL to NULL at little cost per row, so none sits in a CASE: DataFusion
-- evaluates `CASE WHEN … THEN f(…) END` by filtering the batch's columns for f and scattering
-- f's results back, which cost more than f's NULL rows do, while `CASE WHEN … THEN column
-- END` costs no copy. `numbered` reads the destination in E.164 (libphonenumber, the
-- expensive part) in a column of its own: written as one expression,
-- coalesce(e164(…), destination) would parse the number twice, because DataFusion expands
-- coalesce into a CASE that names e164(…) in its test and in its result. A destination that
-- is not a phone number is rated by its digits as dialled.
WITH screened AS (
    SELECT *, is_excluded_number(tenant, destination) AS excluded FROM cdrs
),
to_rate AS (
    SELECT
        *,
        CASE WHEN charge IS NULL AND direction = 'outbound' AND NOT excluded
            THEN destination
        END AS rated_destination
    FROM screened
),
numbered AS (
    SELECT *, e164(rated_destination, default_country(tenant)) AS destination_e164
    FROM to_rate
),
rated AS (
    SELECT
        *,
        rate_lookup(tenant, coalesce(destination_e164, rated_destination), start_time) AS rate
    FROM numbered
),
priced AS (
    SELECT
        *,
        billable_seconds(duration_s, get_field(rate, 'min_s'), get_field(rate, 'increment_s'))
            AS rated_s
    FROM rated
),
costed AS (
    SELECT
        *,
        call_charge(rated_s, get_field(rate, 'rate_per_min'), get_field(rate, 'connect_fee'))
            AS rated_amount
    FROM priced
),
charged AS (
    SELECT
        *,
        coalesce(charge, rated_amount, CAST(0 AS DECIMAL(18, 6))) AS amount,
        coalesce(currency, get_field(rate, 'currency')) AS amount_currency
    FROM costed
),
refund_totals AS (
    SELECT
        tenant,
        call_id,
        CAST(sum(amount) AS DECIMAL(18, 6)) AS refunded,
        string_agg(reason, '; ' ORDER BY created_at, refund_id) AS reasons
    FROM refunds
    WHERE call_id IS NOT NULL
    GROUP BY tenant, call_id
),
newest_events AS (
    SELECT
        tenant,
        call_id,
        first_value(result ORDER BY at DESC, stored_seq DESC NULLS LAST) AS result
    FROM billing_events
    GROUP BY tenant, call_id
),
refunded_calls AS (
    SELECT
        r.*,
        c.source, c.billing_account,
        coalesce(r.cabin, c.cabin) AS call_cabin,
        coalesce(c.currency,
                 CASE WHEN c.charge IS NULL AND c.direction = 'outbound'
                     THEN get_field(rate_lookup(c.tenant,
                                                coalesce(e164(c.destination,
                                                              default_country(c.tenant)),
                                                         c.destination),
                                                c.start_time), 'currency')
                 END) AS call_currency
    FROM refunds r
    LEFT JOIN cdrs c ON c.tenant = r.tenant AND c.call_id = r.call_id
)
SELECT
    'charge' AS record_type,
    c.call_id,
    c.tenant,
    c.start_time,
    c.end_time,
    c.cabin,
    c.source AS caller_number,
    c.destination AS called_number,
    c.billing_account,
    c.duration_s,
    coalesce(c.billed_s, c.rated_s) AS billed_s,
    c.amount AS charge,
    c.amount_currency AS currency,
    billing_result(c.direction, c.excluded,
                   c.amount > 0 AND coalesce(t.refunded, 0) >= c.amount,
                   e.result, c.amount) AS billing_result,
    CAST(coalesce(t.refunded, 0) AS DECIMAL(18, 6)) AS refunded_amount,
    CAST(c.amount - coalesce(t.refunded, 0) AS DECIMAL(18, 6)) AS net_charge,
    t.reasons AS refund_reason
FROM charged c
LEFT JOIN refund_totals t ON t.tenant = c.tenant AND t.call_id = c.call_id
LEFT JOIN newest_events e ON e.tenant = c.tenant AND e.call_id = c.call_id
UNION ALL
-- The refund rows' columns taken as they are from `refunds` are passed through an expression
-- (`|| ''`, `+ INTERVAL '0 seconds'`) that drops the table's column comments: a UNION whose
-- sides carry different field metadata fails in DataFusion 55 once a filter and an aggregate
-- sit on top ("Physical input schema should be the same as the one converted from logical
-- input schema", apache/datafusion#19049); call_reports.slt has the query.
SELECT
    'refund' AS record_type,
    call_id || '' AS call_id,
    tenant || '' AS tenant,
    created_at + INTERVAL '0 seconds' AS start_time,
    created_at + INTERVAL '0 seconds' AS end_time,
    call_cabin AS cabin,
    coalesce(source, call_cabin) AS caller_number,
    destination || '' AS called_number,
    billing_account,
    CAST(0 AS INT) AS duration_s,
    CAST(0 AS INT) AS billed_s,
    CAST(-amount AS DECIMAL(18, 6)) AS charge,
    call_currency AS currency,
    'Refunded' AS billing_result,
    CAST(amount AS DECIMAL(18, 6)) AS refunded_amount,
    CAST(-amount AS DECIMAL(18, 6)) AS net_charge,
    reason || '' AS refund_reason
FROM refunded_calls
