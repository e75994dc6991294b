-- The carrier's inbound CDR export, column for column (seed: didww-call-logs).
SELECT
    to_char(start_time, '%Y-%m-%d %H:%M:%S') AS "Date/Time Start (UTC)",
    to_char(connect_time, '%Y-%m-%d %H:%M:%S') AS "Date/Time Connect (UTC)",
    to_char(end_time, '%Y-%m-%d %H:%M:%S') AS "Date/Time End (UTC)",
    source AS "Source",
    did AS "DID",
    destination AS "Destination",
    duration_s AS "Duration (secs)",
    CASE disconnect_initiator
        WHEN 'origination' THEN 'Origination'
        WHEN 'destination' THEN 'Destination'
        WHEN 'system' THEN 'System'
    END AS "Disconnect Initiator",
    sip_code AS "Disconnect Code",
    sip_reason(sip_code) AS "Disconnect Response",
    toll_free_amount AS "Toll-free Amount (USD)",
    termination_amount AS "Termination Amount (USD)",
    metered_channels_amount AS "Metered Channels Amount (USD)"
FROM cdrs
WHERE direction = 'inbound'
