-- The hosted-PBX "Call data records" list (seed: pbx-call-data-records): calls to and from
-- the PSTN with the time in the tenant's zone. Internal calls, emergency numbers and 116xxx
-- services never appear.
SELECT
    tenant_local_time(tenant, start_time) AS date_time,
    source,
    destination,
    duration_s AS duration,
    extension,
    direction
FROM cdrs
WHERE direction <> 'internal'
  AND NOT is_service_number(tenant, destination)
  AND NOT is_service_number(tenant, source)
