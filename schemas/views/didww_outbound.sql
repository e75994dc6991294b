-- The carrier's outbound CDR export, column for column (seed: didww-call-logs).
SELECT
    to_char(start_time, '%Y-%m-%d %H:%M:%S') AS "Date/Time Start (UTC)",
    to_char(connect_time, '%Y-%m-%d %H:%M:%S') AS "Date/Time Connect (UTC)",
    to_char(end_time, '%Y-%m-%d %H:%M:%S') AS "Date/Time End (UTC)",
    source AS "Source",
    cli AS "CLI",
    destination AS "Destination",
    duration_s AS "Duration (secs)",
    billed_s AS "Billing Duration",
    sip_code AS "Disconnect Code",
    sip_reason(sip_code) AS "Disconnect Reason",
    rate_per_min AS "Rate (USD per minute)",
    charge AS "Charged (USD)",
    CASE cdr_type
        WHEN 'international' THEN 'International'
        WHEN 'local' THEN 'Local'
        WHEN 'origin_based' THEN 'Origin based'
    END AS "CDR Type",
    country AS "Country Name",
    network AS "Network Name",
    trunk AS "Trunk Name"
FROM cdrs
WHERE direction = 'outbound'
