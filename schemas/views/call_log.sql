-- The call-tracking call log (seed: ringostat-call-statuses): every cdrs column, the call
-- status with the target-call logic, uniqueness, the sales cycle and the talk time.
--
-- Within one sales cycle of one caller (tenant, source), the first answered call of at least
-- the tenant's target_call_s is 'Proper'; answered calls after it are 'Repeat call'; other
-- answered calls stay 'Answered'. Ties on start_time are broken by call_id.
WITH base AS (
    SELECT
        *,
        call_status(direction, call_type, connect_time, sip_code, hangup_cause) AS base_status,
        sales_cycle(tenant, start_time) AS sales_cycle
    FROM cdrs
),
marked AS (
    SELECT
        *,
        base_status = 'Answered' AND duration_s >= target_call_s(tenant) AS is_target,
        row_number() OVER (PARTITION BY tenant, source ORDER BY start_time, call_id) AS nth_from_source
    FROM base
),
first_target AS (
    SELECT
        *,
        min(CASE WHEN is_target THEN start_time END)
            OVER (PARTITION BY tenant, source, sales_cycle) AS target_at
    FROM marked
),
first_target_id AS (
    SELECT
        *,
        min(CASE WHEN is_target AND start_time = target_at THEN call_id END)
            OVER (PARTITION BY tenant, source, sales_cycle) AS target_id
    FROM first_target
)
SELECT
    call_id, tenant, direction, call_type, start_time, connect_time, end_time, duration_s,
    billed_s, source, destination, did, cli, extension, agent, skill_group, cabin,
    billing_account, trunk, sip_code, disconnect_initiator, hangup_cause, rate_per_min, charge,
    currency, toll_free_amount, termination_amount, metered_channels_amount, cdr_type, country,
    network, session_id, recording_url, call_date,
    CASE
        WHEN base_status <> 'Answered' THEN base_status
        WHEN call_id = target_id THEN 'Proper'
        WHEN start_time > target_at OR (start_time = target_at AND call_id > target_id)
            THEN 'Repeat call'
        ELSE 'Answered'
    END AS call_status,
    nth_from_source = 1 AND session_id IS NOT NULL AS is_unique,
    sales_cycle,
    arrow_cast(CAST(duration_s AS BIGINT), 'Duration(Second)') AS talk_time
FROM first_target_id
