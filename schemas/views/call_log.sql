-- The call-tracking call log (seed: ringostat-call-statuses): every cdrs column, the call
-- status with the target-call logic, uniqueness, the sales cycle and the talk time.
--
-- Within one sales cycle of one caller (tenant, source), the first answered call of at least
-- the tenant's target_call_s is 'Proper'; answered calls after it are 'Repeat call'; other
-- answered calls stay 'Answered'. Ties on start_time are broken by call_id.
--
-- One running count does it: targets_so_far counts the target calls of the caller's cycle up
-- to and including this one (in start_time, call_id order). 0: no target yet → Answered; a
-- target call whose count is 1 is the first → Proper; anything answered later → Repeat call.
--
-- Both windows are partitioned by tenant only and ordered by the finer keys first, so that a
-- caller (a cycle) is a run of consecutive rows: run_count restarts its count at every new
-- (source, sales_cycle) and run_start marks a caller's first call. Each tenant's rows are then
-- computed in one vectorised pass; with PARTITION BY tenant, source, sales_cycle DataFusion
-- paid per window partition (about one per two rows) and per row for the running sum, 40×
-- the plain scan (benches/RESULTS.md, Domain logic).
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
        base_status = 'Answered' AND duration_s >= target_call_s(tenant) AS is_target
    FROM base
),
counted AS (
    SELECT
        *,
        run_start(source) OVER (
            PARTITION BY tenant ORDER BY source, start_time, call_id) AS first_from_source,
        run_count(is_target, source, sales_cycle) OVER (
            PARTITION BY tenant ORDER BY source, sales_cycle, start_time, call_id)
            AS targets_so_far
    FROM marked
)
SELECT
    call_id, tenant, direction, call_type, start_time, connect_time, end_time, duration_s,
    billed_s, source, destination, did, cli, extension, agent, skill_group, cabin,
    billing_account, trunk, sip_code, disconnect_initiator, hangup_cause, rate_per_min, charge,
    currency, toll_free_amount, termination_amount, metered_channels_amount, cdr_type, country,
    network, session_id, recording_url, call_date,
    CASE
        WHEN base_status <> 'Answered' THEN base_status
        WHEN targets_so_far = 0 THEN 'Answered'
        WHEN is_target AND targets_so_far = 1 THEN 'Proper'
        ELSE 'Repeat call'
    END AS call_status,
    first_from_source AND session_id IS NOT NULL AS is_unique,
    sales_cycle,
    arrow_cast(CAST(duration_s AS BIGINT), 'Duration(Second)') AS talk_time
FROM counted
