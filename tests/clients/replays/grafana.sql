-- Grafana 10/11 PostgreSQL data source (pkg/tsdb/grafana-postgresql-datasource, public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts)
-- expect: version
SELECT current_setting('server_version_num')::int/100 as version;
-- expect: none
SELECT extversion FROM pg_extension WHERE extname = 'timescaledb';
-- expect: schemas
SELECT quote_ident(schema_name) FROM information_schema.schemata WHERE schema_name NOT IN ('information_schema', 'pg_catalog') AND schema_name NOT LIKE 'pg_%' ORDER BY schema_name;
-- expect: tables
SELECT quote_ident(table_name) AS "table" FROM information_schema.tables WHERE quote_ident(table_schema) NOT IN ('information_schema', 'pg_catalog', '_timescaledb_cache', '_timescaledb_catalog', '_timescaledb_internal', '_timescaledb_config', 'timescaledb_information', 'timescaledb_experimental') AND table_type = 'BASE TABLE' AND quote_ident(table_schema) IN (SELECT CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END FROM generate_series(array_lower(string_to_array(current_setting('search_path'), ','), 1), array_upper(string_to_array(current_setting('search_path'), ','), 1)) AS i, string_to_array(current_setting('search_path'), ',') s) ORDER BY 1;
-- expect: columns
SELECT quote_ident(column_name) AS "column", data_type AS "type" FROM information_schema.columns WHERE quote_ident(table_name) = 'cdrs' ORDER BY ordinal_position;
