-- The call-tracking call log (seed: ringostat-call-statuses): every cdrs column, the call
-- status with the target-call logic, uniqueness, the sales cycle and the talk time.
--
-- Within one sales cycle of one caller (tenant, source), the first answered call of at least
-- the tenant's target_call_s is 'Proper'; answered calls after it are 'Repeat call'; other
-- answered calls stay 'Answered'. Ties on start_time are broken by call_id.
--
-- No order is needed for that: per (tenant, source, sales_cycle) only the first target call
-- matters. first_flag_position(is_target, order, source, sales_cycle) is -1 on rows before the
-- cycle's first target call (or in a cycle without one) → Answered, 0 on it → Proper, 1 after
-- it → Repeat call; target_status(base_status, target_position) applies that to Answered calls
-- and keeps every other status (udfs/src/target.rs). is_target is NULL on a call that is not
-- answered: it can be neither a target call nor a repeat, so it takes no part in the window
-- (NULL position, never hashed: three calls in ten), and target_status keeps its status. An
-- answered call without a duration is no target call, but still has its position.
-- first_in_group(order, source) marks a caller's first call (is_unique).
--
-- Both windows are partitioned by tenant only, with no ORDER BY (a tenant filter still goes
-- below them): no sort is planned; GroupWindowExec (udfs/src/group_window/) computes both
-- in one hash pass over input partitioned by (tenant, source). The previous form, run_count/run_start over
-- windows ordered by (source, sales_cycle, start_time, call_id), paid two full sorts
-- (benches/RESULTS.md, Domain logic).
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
        CASE WHEN base_status = 'Answered'
            THEN (duration_s >= target_call_s(tenant)) IS TRUE
        END AS is_target
    FROM base
),
counted AS (
    SELECT
        *,
        first_in_group(struct(start_time, call_id), source) OVER (PARTITION BY tenant)
            AS first_from_source,
        first_flag_position(is_target, struct(start_time, call_id), source, sales_cycle)
            OVER (PARTITION BY tenant) AS target_position
    FROM marked
)
SELECT
    call_id, tenant, direction, call_type, start_time, connect_time, end_time, duration_s,
    billed_s, source, destination, did, cli, extension, agent, skill_group, cabin,
    billing_account, trunk, sip_code, disconnect_initiator, hangup_cause, rate_per_min, charge,
    currency, toll_free_amount, termination_amount, metered_channels_amount, cdr_type, country,
    network, session_id, recording_url, call_date,
    target_status(base_status, target_position) AS call_status,
    first_from_source AND session_id IS NOT NULL AS is_unique,
    sales_cycle,
    arrow_cast(CAST(duration_s AS BIGINT), 'Duration(Second)') AS talk_time
FROM counted
