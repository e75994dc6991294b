-- Tableau PostgreSQL connector: session set-up and catalog browsing (risingwave#10459, crate#10213)
-- expect: any
SET client_min_messages TO warning;
-- expect: any
SET extra_float_digits TO 2;
-- expect: any
SET timezone TO 'UTC';
-- expect: schemas
SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname NOT LIKE 'pg_%' AND nspname <> 'information_schema' ORDER BY nspname;
-- expect: tables
SELECT c.relname AS table_name, CASE c.relkind WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END AS table_type FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'f', 'p') ORDER BY 1;
-- expect: columns
SELECT a.attname AS column_name, t.typname AS type_name, a.atttypmod, a.attnotnull FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relname = 'cdrs' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum;
