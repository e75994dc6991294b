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
-- Rating runs once per call, and only on the calls to rate: `rated_destination` holds the
-- destination of an outbound call without a stored charge, and NULL on every other call.
-- rate_call(tenant, destination, at, duration_s) rates it in one pass: NULL for a destination
-- excluded for the tenant (is_excluded_number), else the same answer as rate_lookup on
-- coalesce(e164(destination, default_country(tenant)), destination), then billable_seconds
-- and call_charge on that rate (udfs/src/rates/rating.rs; tests/slt/functions/rate_call.slt
-- checks both give the same), but it touches only the rows with a destination, where the
-- composition costs every row of every function, and it screens only the calls it rates,
-- where a screen in this view ran over every outbound call (benches/RESULTS.md). A
-- destination that is not a phone number is rated by its digits as dialled. The amount,
-- call_amount(charge, rated charge), is coalesce(charge, rated charge, 0) in one pass: a
-- three-way coalesce is a CASE that filters and scatters the batch, a third of a month
-- report's compute.
--
-- `excluded`, which billing_result reads, screens only an outbound call's destination (it is
-- NULL on the others, which billing_result reads as false): the direction decides before
-- exclusion does, so inbound and internal calls, over half of a store, are not screened. A
-- query that reads no billing_result (a month's totals) does not screen at all beyond the
-- calls rate_call rates.
WITH screened AS (
    SELECT
        *,
        is_excluded_number(tenant, CASE WHEN direction = 'outbound' THEN destination END)
            AS excluded
    FROM cdrs
),
to_rate AS (
    SELECT
        *,
        CASE WHEN charge IS NULL AND direction = 'outbound' THEN destination END
            AS rated_destination
    FROM screened
),
rated AS (
    SELECT *, rate_call(tenant, rated_destination, start_time, duration_s) AS rating
    FROM to_rate
),
charged AS (
    SELECT
        *,
        call_amount(charge, get_field(rating, 'charge')) AS amount,
        coalesce(currency, get_field(rating, 'currency')) AS amount_currency
    FROM rated
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
                     THEN get_field(rate_call(c.tenant, c.destination, c.start_time,
                                              c.duration_s), 'currency')
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
    coalesce(c.billed_s, get_field(c.rating, 'billed_s')) AS billed_s,
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
