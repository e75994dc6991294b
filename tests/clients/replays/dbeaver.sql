-- DBeaver PostgreSQL plugin over pgjdbc (as replayed in datafusion-postgres tests/dbeaver.rs)
-- expect: any
SELECT current_schema(),session_user;
-- expect: schemas
SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass ORDER BY nspname;
-- expect: databases
SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname='cdr';
-- expect: any
SELECT * FROM pg_catalog.pg_settings where name='standard_conforming_strings';
-- expect: any
SELECT word FROM pg_catalog.pg_get_keywords() WHERE catcode = 'R';
-- expect: tables
SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr,  pg_catalog.pg_get_partkeydef(c.oid) as partition_key FROM pg_catalog.pg_class c LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass WHERE c.relnamespace=(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname='public') AND c.relkind not in ('i','I','c');
-- expect: columns
SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type_name, a.attnotnull, dsc.description FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace LEFT OUTER JOIN pg_catalog.pg_description dsc ON dsc.objoid = a.attrelid AND dsc.objsubid = a.attnum WHERE n.nspname = 'public' AND c.relname = 'cdrs' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum;
-- expect: views
SELECT c.relname, pg_catalog.pg_get_viewdef(c.oid, true) AS definition FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'v' ORDER BY c.relname;
