-- Contact-center call records (seed: contact-center-call-records).
SELECT
    call_id,
    start_time,
    connect_time AS call_connected_time,
    source AS caller_number,
    destination AS callee_number,
    CASE call_type
        WHEN 'inbound' THEN 'Inbound'
        WHEN 'outbound' THEN 'Outbound'
        WHEN 'predictive_outbound' THEN 'Predictive Outbound'
        WHEN 'conference' THEN 'Conference'
        WHEN 'callback' THEN 'Callback'
        WHEN 'internal' THEN 'Internal'
    END AS call_type,
    hangup_reason(hangup_cause) AS hangup_reason,
    agent,
    skill_group,
    recording_url
FROM cdrs
