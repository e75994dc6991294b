-- Data quality: one row per stored CDR and invariant it breaks (mission anchors D2), with the
-- rule's name and a detail that quotes the offending values. A CDR breaking two rules has two
-- rows; a clean store returns no rows.
--
-- rules:
--   connected_without_connect_time    duration_s > 0 or sip_code 200, but no connect_time
--   duration_exceeds_connected_time   duration_s longer than end_time - connect_time (whole
--                                     seconds, rounded up)
--   billed_below_duration             a charged call (charge > 0) billed for fewer seconds
--                                     than it lasted
--   charge_without_currency           a non-zero charge with no currency
--   internal_call_with_pstn_number    an internal call whose source or destination is a
--                                     phone number (e164 reads it in the tenant's country)
--   outbound_call_to_non_number       an outbound call whose destination is neither a phone
--                                     number nor an emergency / 116xxx service number
--   inbound_call_from_non_number      an inbound call whose source is not a phone number
WITH checked AS (
    SELECT
        call_id, tenant, start_time, direction, source, destination, connect_time,
        duration_s, billed_s, sip_code, charge, currency,
        CAST(ceil(date_part('epoch', end_time) - date_part('epoch', connect_time)) AS BIGINT)
            AS connected_s,
        e164(source, default_country(tenant)) IS NOT NULL AS source_is_number,
        e164(destination, default_country(tenant)) IS NOT NULL AS destination_is_number
    FROM cdrs
),
found AS (
    SELECT
        *,
        unnest(make_array(
            CASE WHEN connect_time IS NULL AND (duration_s > 0 OR sip_code = 200)
                THEN 'connected_without_connect_time' END,
            CASE WHEN duration_s > connected_s
                THEN 'duration_exceeds_connected_time' END,
            CASE WHEN charge > 0 AND billed_s < duration_s
                THEN 'billed_below_duration' END,
            CASE WHEN charge <> 0 AND currency IS NULL
                THEN 'charge_without_currency' END,
            CASE WHEN direction = 'internal' AND (source_is_number OR destination_is_number)
                THEN 'internal_call_with_pstn_number' END,
            CASE WHEN direction = 'outbound' AND NOT destination_is_number
                      AND NOT is_service_number(tenant, destination)
                THEN 'outbound_call_to_non_number' END,
            CASE WHEN direction = 'inbound' AND NOT source_is_number
                THEN 'inbound_call_from_non_number' END
        )) AS rule
    FROM checked
)
SELECT
    call_id,
    tenant,
    start_time,
    rule,
    CASE rule
        WHEN 'connected_without_connect_time' THEN
            concat('duration_s ', duration_s, ', sip_code ', coalesce(CAST(sip_code AS VARCHAR), 'NULL'),
                   ', connect_time NULL')
        WHEN 'duration_exceeds_connected_time' THEN
            concat('duration_s ', duration_s, ' > ', connected_s,
                   ' s from connect_time to end_time')
        WHEN 'billed_below_duration' THEN
            concat('billed_s ', billed_s, ' < duration_s ', duration_s, ', charge ', charge)
        WHEN 'charge_without_currency' THEN
            concat('charge ', charge, ', currency NULL')
        WHEN 'internal_call_with_pstn_number' THEN
            concat('source ', source, ', destination ', destination)
        WHEN 'outbound_call_to_non_number' THEN
            concat('destination ', destination)
        WHEN 'inbound_call_from_non_number' THEN
            concat('source ', source)
    END AS detail
FROM found
WHERE rule IS NOT NULL
