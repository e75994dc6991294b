//! The real `cdrlake serve` process, driven over a real socket by tokio-postgres: SCRAM
//! users and roles, tenant isolation through every path, COPY TO STDOUT bytes, SQLSTATEs,
//! cancel and statement timeout during execution, per-connection session state.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};

use crate::support::{Scratch, bin};

const HEADER: &str = "call_id,tenant,direction,start_time,connect_time,end_time,duration_s,source,destination,sip_code,hangup_cause,cabin,charge,currency";

const CONFIG: &str = r#"
[server]
statement_timeout_s = 60
query_memory_mb = 64

[[users]]
name = "ops"
password = "ops-secret"
role = "admin"

[[users]]
name = "ana"
password = "ana-secret"
role = "analyst"

[[users]]
name = "till"
password = "till-secret"
role = "billing"

[[users]]
name = "loader"
password = "loader-secret"
role = "ingest"

[[users]]
name = "acme"
password = "acme-secret"
role = "analyst"
tenants = ["acme"]

[tenants.acme]
timezone = "Europe/Amsterdam"
"#;

/// A server over a small store with two tenants; killed on drop.
struct Server {
    child: Child,
    port: u16,
    metrics: Option<String>,
    scratch: Scratch,
}

impl Server {
    fn start() -> Server {
        Server::start_with(Scratch::new(), "", "")
    }

    /// Starts over a fresh store in `s`, with `server` lines added to `[server]` and
    /// `tables` (more TOML tables) at the end of the configuration.
    fn start_with(s: Scratch, server: &str, tables: &str) -> Server {
        let rows = [
            "a-1,acme,outbound,2026-11-02T08:00:00Z,2026-11-02T08:00:05Z,2026-11-02T08:01:05Z,60,+31201234567,+31612345678,200,normal,7012,0.50,EUR",
            "a-2,acme,inbound,2026-11-02T09:00:00Z,,2026-11-02T09:00:30Z,0,+31612345678,+31201234567,486,,7012,,",
            "b-1,beta,outbound,2026-11-02T10:00:00Z,2026-11-02T10:00:02Z,2026-11-02T10:02:02Z,120,+12125550143,+12125550199,200,normal,,,",
            "b-2,beta,outbound,2026-11-03T10:00:00Z,2026-11-03T10:00:02Z,2026-11-03T10:00:12Z,10,+12125550143,+12125550100,200,normal,,,",
        ];
        let file = s.write("calls.csv", format!("{HEADER}\n{}\n", rows.join("\n")));
        s.ok(&["ingest", file.to_str().expect("path")]);
        let config = s.write(
            "cdrlake.toml",
            CONFIG.replace("[server]\n", &format!("[server]\n{server}\n")) + tables,
        );
        // The server's own temporary directory: COPY FROM STDIN spools there.
        let tmp = s.path("tmp");
        std::fs::create_dir_all(&tmp).expect("server TMPDIR");
        let mut child = Command::new(bin())
            .env("TMPDIR", &tmp)
            .args(["--data", s.store().to_str().expect("path")])
            .args(["--config", config.to_str().expect("path")])
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("start cdrlake serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let mut metrics = None;
        let port = loop {
            let line = lines.next().expect("server exited").expect("stderr line");
            if let Some(rest) = line.strip_prefix("metrics on http://") {
                metrics = rest.split('/').next().map(str::to_owned);
            }
            if let Some(rest) = line.split(" on 127.0.0.1:").nth(1) {
                break rest
                    .split_whitespace()
                    .next()
                    .and_then(|p| p.parse().ok())
                    .expect("port");
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Server {
            child,
            port,
            metrics,
            scratch: s,
        }
    }

    async fn connect(&self, user: &str, password: &str) -> Result<Client, tokio_postgres::Error> {
        let (client, conn) = tokio_postgres::Config::new()
            .host("127.0.0.1")
            .port(self.port)
            .user(user)
            .password(password)
            .dbname("cdr")
            .connect(NoTls)
            .await?;
        tokio::spawn(conn);
        Ok(client)
    }

    async fn as_user(&self, user: &str) -> Client {
        self.connect(user, &format!("{user}-secret"))
            .await
            .expect("connect")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn texts(c: &Client, sql: &str) -> Vec<String> {
    c.simple_query(sql)
        .await
        .expect(sql)
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(
                (0..r.len())
                    .map(|i| r.get(i).unwrap_or("NULL").to_owned())
                    .collect::<Vec<_>>()
                    .join("|"),
            ),
            _ => None,
        })
        .collect()
}

async fn code(c: &Client, sql: &str) -> SqlState {
    let e = c.simple_query(sql).await.expect_err(sql);
    e.code()
        .cloned()
        .unwrap_or_else(|| panic!("{sql}: no SQLSTATE in {e}"))
}

async fn copy_out(c: &Client, sql: &str) -> String {
    let stream = c.copy_out(sql).await.expect(sql);
    let chunks: Vec<bytes::Bytes> = stream.try_collect().await.expect("copy data");
    String::from_utf8(chunks.concat()).expect("utf-8")
}

#[tokio::test]
async fn users_authenticate_with_scram_and_the_server_says_postgresql_16() {
    let server = Server::start();
    let err = server
        .connect("ana", "wrong")
        .await
        .expect_err("bad password");
    assert_eq!(err.code(), Some(&SqlState::INVALID_PASSWORD), "{err}");
    assert!(server.connect("nobody", "x").await.is_err());
    let c = server.as_user("ana").await;
    let v = texts(&c, "SELECT version()").await;
    assert!(v[0].starts_with("PostgreSQL 16."), "{v:?}");
    assert_eq!(texts(&c, "SHOW server_version_num").await, ["160006"]);
    assert_eq!(
        texts(&c, "SELECT current_setting('server_version_num')").await,
        ["160006"]
    );
    assert_eq!(
        texts(&c, "SELECT count(*), sum(duration_s) FROM cdrs").await,
        ["4|190"]
    );
}

#[tokio::test]
async fn a_tenant_bound_user_sees_only_its_tenant_through_every_path() {
    let server = Server::start();
    let c = server.as_user("acme").await;
    for sql in [
        "SELECT DISTINCT tenant FROM cdrs",
        "SELECT DISTINCT tenant FROM call_log",
        "SELECT DISTINCT tenant FROM cdrs WHERE call_id IN (SELECT call_id FROM cdrs WHERE tenant = 'beta')
         UNION SELECT 'acme'",
        "SELECT DISTINCT a.tenant FROM cdrs a JOIN cdrs b ON a.call_id = b.call_id",
        "SELECT DISTINCT tenant FROM settings WHERE tenant <> '*' UNION SELECT 'acme'",
    ] {
        assert_eq!(texts(&c, sql).await, ["acme"], "{sql}");
    }
    assert_eq!(
        texts(&c, "SELECT count(*) FROM cdrs WHERE tenant = 'beta'").await,
        ["0"]
    );
    let copied = copy_out(&c, "COPY cdrs (call_id, tenant) TO STDOUT").await;
    assert_eq!(copied.lines().count(), 2, "{copied}");
    assert!(copied.lines().all(|l| l.ends_with("\tacme")), "{copied}");
    let copied = copy_out(
        &c,
        "COPY (SELECT call_id FROM call_log ORDER BY 1) TO STDOUT",
    )
    .await;
    assert_eq!(copied, "a-1\na-2\n");
    // Prepared statements (extended protocol) take the same path.
    let rows = c
        .query("SELECT call_id FROM cdrs WHERE tenant = $1", &[&"beta"])
        .await
        .expect("query");
    assert!(rows.is_empty());
    // Everyone else sees both tenants.
    let all = server.as_user("ana").await;
    assert_eq!(
        texts(&all, "SELECT DISTINCT tenant FROM cdrs ORDER BY 1").await,
        ["acme", "beta"]
    );
}

#[tokio::test]
async fn the_server_stores_call_log_at_start_and_a_tenant_reads_only_its_rows() {
    let server = Server::start();
    let admin = server.as_user("ana").await;
    let sql = "SELECT call_id, call_status, is_unique, talk_time FROM call_log ORDER BY 1";
    let computed = texts(&admin, sql).await;
    assert_eq!(computed.len(), 4);
    let record = server.scratch.store().join("_materialized/call_log.json");
    let mut waited = 0;
    while !record.exists() {
        waited += 1;
        assert!(waited < 120, "call_log not stored 60 s after start");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let plan = texts(&admin, &format!("EXPLAIN {sql}")).await.join("\n");
    assert!(plan.contains("_materialized/call_log"), "{plan}");
    assert_eq!(texts(&admin, sql).await, computed);

    // The tenant filter applies to the stored rows, by every path.
    let acme = server.as_user("acme").await;
    let plan = texts(&acme, &format!("EXPLAIN {sql}")).await.join("\n");
    assert!(plan.contains("_materialized/call_log"), "{plan}");
    let theirs: Vec<String> = computed
        .iter()
        .filter(|r| r.starts_with("a-"))
        .cloned()
        .collect();
    assert_eq!(texts(&acme, sql).await, theirs);
    assert_eq!(
        texts(&acme, "SELECT count(*) FROM call_log WHERE tenant = 'beta'").await,
        ["0"]
    );
    let rows = acme
        .query("SELECT call_id FROM call_log WHERE tenant = $1", &[&"beta"])
        .await
        .expect("query");
    assert!(rows.is_empty());
    let copied = copy_out(
        &acme,
        "COPY (SELECT call_id FROM call_log ORDER BY 1) TO STDOUT",
    )
    .await;
    assert_eq!(copied, "a-1\na-2\n");
}

/// A CSV of one more call of tenant acme on 2026-11-02 (`a-3`).
fn more_calls(s: &Scratch) -> std::path::PathBuf {
    s.write(
        "more.csv",
        format!(
            "{HEADER}\na-3,acme,outbound,2026-11-02T12:00:00Z,2026-11-02T12:00:05Z,\
             2026-11-02T12:00:35Z,30,+31201234567,+31612345670,200,normal,7012,,\n"
        ),
    )
}

#[tokio::test]
async fn the_server_stores_call_log_anew_once_its_tables_stay_unchanged() {
    let s = Scratch::new();
    let more = more_calls(&s);
    let store = s.store();
    let server = Server::start_with(s, "materialize_quiet_s = 1", "");
    let c = server.as_user("ana").await;
    // Not count(*): the stored table's statistics answer that without a scan to show.
    let sql = "SELECT string_agg(call_id, ',' ORDER BY call_id) FROM call_log";
    let stored = || async {
        let plan = texts(&c, &format!("EXPLAIN {sql}")).await.join("\n");
        plan.contains("_materialized/call_log")
    };
    let mut waited = 0;
    while !stored().await {
        waited += 1;
        assert!(waited < 120, "call_log not stored 60 s after start");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(texts(&c, sql).await, ["a-1,a-2,b-1,b-2"]);

    let out = crate::support::cdrlake(&store, &["ingest", more.to_str().expect("path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let five = ["a-1,a-2,a-3,b-1,b-2"];
    assert_eq!(texts(&c, sql).await, five, "stale rows are not read");
    let mut waited = 0;
    while !stored().await {
        waited += 1;
        assert!(
            waited < 120,
            "call_log not stored anew 60 s after the ingest"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(texts(&c, sql).await, five);
}

#[tokio::test]
async fn copy_to_stdout_writes_postgresql_csv_and_text_byte_for_byte() {
    let server = Server::start();
    let c = server.as_user("ana").await;
    // The bytes PostgreSQL 15 writes for the same values (empty string quoted, NULL empty,
    // t/f booleans, numeric scale kept, timestamps without trailing zeros).
    let values = "SELECT * FROM (VALUES (1, 'a,b', CAST(NULL AS TEXT), '', true, \
        CAST(1.50 AS DECIMAL(10,2)), CAST('2026-11-01 10:00:00.5' AS TIMESTAMP), \
        'say \"hi\"')) AS t(a, b, c, d, e, f, g, h)";
    let csv = copy_out(
        &c,
        &format!("COPY ({values}) TO STDOUT WITH (FORMAT csv, HEADER)"),
    )
    .await;
    assert_eq!(
        csv,
        "a,b,c,d,e,f,g,h\n1,\"a,b\",,\"\",t,1.50,2026-11-01 10:00:00.5,\"say \"\"hi\"\"\"\n"
    );
    let text = copy_out(&c, &format!("COPY ({values}) TO STDOUT")).await;
    assert_eq!(
        text,
        "1\ta,b\t\\N\t\tt\t1.50\t2026-11-01 10:00:00.5\tsay \"hi\"\n"
    );
    let semi = copy_out(
        &c,
        "COPY (SELECT call_id, duration_s FROM cdrs ORDER BY call_id) TO STDOUT \
         WITH (FORMAT csv, DELIMITER ';', FORCE_QUOTE (call_id, duration_s))",
    )
    .await;
    assert_eq!(
        semi,
        "\"a-1\";\"60\"\n\"a-2\";\"0\"\n\"b-1\";\"120\"\n\"b-2\";\"10\"\n"
    );
    // timestamptz follows the session's TimeZone, as in PostgreSQL.
    texts(&c, "SET TimeZone = 'Europe/Amsterdam'").await;
    let local = copy_out(
        &c,
        "COPY (SELECT start_time FROM cdrs WHERE call_id = 'a-1') TO STDOUT",
    )
    .await;
    assert_eq!(local, "2026-11-02 09:00:00+01\n");
    assert_eq!(
        texts(&c, "SELECT start_time FROM cdrs WHERE call_id = 'a-1'").await,
        ["2026-11-02 09:00:00+01"]
    );
    // Another connection keeps UTC: session state is per connection.
    let other = server.as_user("ana").await;
    assert_eq!(
        texts(&other, "SELECT start_time FROM cdrs WHERE call_id = 'a-1'").await,
        ["2026-11-02 08:00:00+00"]
    );
}

#[tokio::test]
async fn errors_carry_postgresql_sqlstates() {
    let server = Server::start();
    let c = server.as_user("ana").await;
    assert_eq!(
        code(&c, "SELECT * FROM nope").await,
        SqlState::UNDEFINED_TABLE
    );
    assert_eq!(
        code(&c, "SELECT nope FROM cdrs").await,
        SqlState::UNDEFINED_COLUMN
    );
    assert_eq!(code(&c, "SELEC 1").await, SqlState::SYNTAX_ERROR);
    assert_eq!(
        code(&c, "CREATE TABLE x AS SELECT 1").await,
        SqlState::INSUFFICIENT_PRIVILEGE
    );
    assert_eq!(
        code(&c, "COPY cdrs TO '/tmp/cdrs.csv'").await,
        SqlState::INSUFFICIENT_PRIVILEGE
    );
    // No path from SQL to server files for a non-admin: 42501, not a hint that it could work.
    for sql in [
        "SELECT * FROM '/etc/passwd'",
        "SELECT * FROM \"/etc/passwd\"",
        "SELECT * FROM cdrs JOIN 'file:///etc/passwd' p ON true",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_parquet('x.parquet')",
        "SELECT count(*) FROM cdrs WHERE call_id IN (SELECT * FROM '/etc/hostname')",
        "CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '/etc/passwd'",
        "CREATE EXTERNAL TABLE p (a text) STORED AS PARQUET LOCATION '/tmp/x.parquet'",
    ] {
        assert_eq!(
            code(&c, sql).await,
            SqlState::INSUFFICIENT_PRIVILEGE,
            "{sql}"
        );
        let prepared = c.prepare(sql).await.expect_err(sql);
        assert_eq!(
            prepared.code(),
            Some(&SqlState::INSUFFICIENT_PRIVILEGE),
            "extended protocol: {sql}"
        );
    }
    // The connection is still usable, and pool statements are accepted.
    for sql in ["RESET ALL", "DISCARD ALL", "UNLISTEN *", "BEGIN", "COMMIT"] {
        c.simple_query(sql).await.expect(sql);
    }
    assert_eq!(texts(&c, "SELECT 1").await, ["1"]);
    // An admin may change the catalog, and gets PostgreSQL's command tag.
    let admin = server.as_user("ops").await;
    let n = admin
        .execute(
            "CREATE VIEW long_calls AS SELECT * FROM cdrs WHERE duration_s > 30",
            &[],
        )
        .await
        .expect("create view");
    assert_eq!(n, 0);
    assert_eq!(texts(&c, "SELECT count(*) FROM long_calls").await, ["2"]);
}

#[tokio::test]
async fn an_admin_creates_an_external_table_over_a_csv_file() {
    let server = Server::start();
    let csv = server.scratch.path("ext.csv");
    std::fs::write(&csv, "a,b\n1,x\n2,y\n").expect("write csv");
    let create = |name: &str| {
        format!(
            "CREATE EXTERNAL TABLE {name} (a BIGINT, b VARCHAR) STORED AS CSV LOCATION '{}' \
             OPTIONS ('format.has_header' 'true')",
            csv.display()
        )
    };
    let admin = server.as_user("ops").await;
    admin
        .simple_query(&create("ext_simple"))
        .await
        .expect("CREATE EXTERNAL TABLE, simple protocol");
    assert_eq!(texts(&admin, "SELECT sum(a) FROM ext_simple").await, ["3"]);
    admin
        .execute(create("ext_extended").as_str(), &[])
        .await
        .expect("CREATE EXTERNAL TABLE, extended protocol");
    assert_eq!(
        texts(
            &admin,
            "SELECT string_agg(b, ',' ORDER BY a) FROM ext_extended"
        )
        .await,
        ["x,y"]
    );
    // Anyone else is still refused, in both protocols.
    let ana = server.as_user("ana").await;
    assert_eq!(
        code(&ana, &create("ext_ana")).await,
        SqlState::INSUFFICIENT_PRIVILEGE
    );
    let prepared = ana.prepare(&create("ext_ana")).await.expect_err("prepare");
    assert_eq!(prepared.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE));
}

/// A query that runs for many seconds in a debug build.
const SLOW: &str = "SELECT count(*) FROM generate_series(1, 2000000000) AS t(g) WHERE g % 7 = 3";

#[tokio::test]
async fn statement_timeout_and_cancel_stop_execution() {
    let server = Server::start();
    let c = server.as_user("ana").await;
    c.simple_query("SET statement_timeout = 200")
        .await
        .expect("set");
    let started = std::time::Instant::now();
    assert_eq!(code(&c, SLOW).await, SqlState::QUERY_CANCELED);
    assert!(started.elapsed() < Duration::from_secs(20));
    c.simple_query("SET statement_timeout = 0")
        .await
        .expect("set");
    let token = c.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        token.cancel_query(NoTls).await
    });
    let started = std::time::Instant::now();
    assert_eq!(code(&c, SLOW).await, SqlState::QUERY_CANCELED);
    assert!(started.elapsed() < Duration::from_secs(20));
    canceller.await.expect("join").expect("cancel sent");
    assert_eq!(texts(&c, "SELECT 2").await, ["2"]);
}

#[tokio::test]
async fn prepared_statements_bind_parameters_including_nulls() {
    let server = Server::start();
    let c = server.as_user("ana").await;
    let row = c
        .query_one(
            "SELECT $1::TEXT IS NULL AS missing, $2::BIGINT + 1 AS next",
            &[&None::<String>, &41i64],
        )
        .await
        .expect("query");
    assert!(row.get::<_, bool>("missing"));
    assert_eq!(row.get::<_, i64>("next"), 42);
    let stmt = c
        .prepare("SELECT call_id FROM cdrs WHERE duration_s >= $1 ORDER BY call_id")
        .await
        .expect("prepare");
    let ids = |rows: Vec<tokio_postgres::Row>| {
        rows.iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(c.query(&stmt, &[&60i32]).await.expect("q")),
        ["a-1", "b-1"]
    );
    assert_eq!(ids(c.query(&stmt, &[&100i32]).await.expect("q")), ["b-1"]);
    let counted: i64 = c
        .query_one("SELECT count(*) FROM call_log", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(counted, 4);
    let rows: Vec<_> = c
        .query_raw("SELECT call_id FROM cdrs", Vec::<String>::new())
        .await
        .expect("raw")
        .collect()
        .await;
    assert_eq!(rows.len(), 4);
}

#[tokio::test]
async fn copy_from_stdin_loads_through_the_ingest_pipeline() {
    use futures::SinkExt;
    let server = Server::start();
    let loader = server.as_user("loader").await;
    let csv = format!(
        "{HEADER}\n\
         c-1,acme,outbound,2026-11-04T08:00:00Z,2026-11-04T08:00:05Z,2026-11-04T08:01:05Z,60,+31201234567,+31612345678,200,normal,7012,,\n\
         a-1,acme,outbound,2026-11-02T08:00:00Z,2026-11-02T08:00:05Z,2026-11-02T08:01:05Z,60,+31201234567,+31612345678,200,normal,7012,,\n\
         c-2,acme,sideways,2026-11-04T09:00:00Z,,2026-11-04T09:00:30Z,0,+31612345678,+31201234567,486,,,,\n"
    );
    let sink = loader
        .copy_in("COPY cdrs FROM STDIN WITH (FORMAT csv, HEADER)")
        .await
        .expect("copy in");
    let mut sink = std::pin::pin!(sink);
    // Split mid-row: CopyData boundaries need not follow rows.
    let (a, b) = csv.split_at(csv.len() / 2);
    sink.send(bytes::Bytes::from(a.to_owned()))
        .await
        .expect("send");
    sink.send(bytes::Bytes::from(b.to_owned()))
        .await
        .expect("send");
    let accepted = sink.finish().await.expect("finish");
    assert_eq!(accepted, 2, "one new row and one duplicate are accepted");
    let ana = server.as_user("ana").await;
    assert_eq!(texts(&ana, "SELECT count(*) FROM cdrs").await, ["5"]);
    assert_eq!(
        texts(
            &ana,
            "SELECT line, reason LIKE '%direction%' FROM ingest_rejects"
        )
        .await,
        ["4|t"]
    );
    // Reading roles may not load.
    let denied = ana
        .copy_in::<_, bytes::Bytes>("COPY cdrs FROM STDIN WITH (FORMAT csv, HEADER)")
        .await;
    let err = denied.err().expect("analyst copy refused");
    assert_eq!(err.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE));
}

#[tokio::test]
async fn a_query_over_the_memory_limit_fails_with_53200_and_the_server_keeps_serving() {
    let server = Server::start();
    let c = server.as_user("ana").await;
    // 30M bigints in one array: far over the 64 MiB per-query limit, and not spillable.
    let err = c
        .simple_query("SELECT cardinality(array_agg(g)) FROM generate_series(1, 30000000) AS t(g)")
        .await
        .expect_err("over the limit");
    assert_eq!(err.code(), Some(&SqlState::OUT_OF_MEMORY), "{err}");
    assert_eq!(texts(&c, "SELECT count(*) FROM cdrs").await, ["4"]);
    let other = server.as_user("acme").await;
    assert_eq!(texts(&other, "SELECT count(*) FROM cdrs").await, ["2"]);
}

#[tokio::test]
async fn temporary_tables_over_the_memory_limit_are_not_kept() {
    let server = Server::start();
    let c = server.as_user("ana").await;
    c.simple_query("CREATE TEMP TABLE small AS SELECT * FROM cdrs")
        .await
        .expect("a small temporary table");
    assert_eq!(texts(&c, "SELECT count(*) FROM small").await, ["4"]);
    // 10M bigints (80 MB): over the 64 MiB limit once kept, so not kept.
    let err = c
        .simple_query("CREATE TEMP TABLE big AS SELECT g FROM generate_series(1, 10000000) AS t(g)")
        .await
        .expect_err("over the limit");
    assert_eq!(err.code(), Some(&SqlState::OUT_OF_MEMORY), "{err}");
    let message = err
        .as_db_error()
        .map(|e| e.message().to_owned())
        .unwrap_or_default();
    assert!(message.contains("temporary tables would hold"), "{message}");
    assert_eq!(
        code(&c, "SELECT count(*) FROM big").await,
        SqlState::UNDEFINED_TABLE
    );
    assert_eq!(texts(&c, "SELECT count(*) FROM small").await, ["4"]);
}

/// A self-signed certificate and key in `s`, made by openssl.
fn certificate(s: &Scratch) -> (String, String) {
    let (cert, key) = (s.path("server.crt"), s.path("server.key"));
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = |p: std::path::PathBuf| p.to_str().expect("path").to_owned();
    (path(cert), path(key))
}

fn psql(port: u16, sslmode: &str, sql: &str) -> std::process::Output {
    Command::new("psql")
        .arg(format!(
            "host=127.0.0.1 port={port} user=ana password=ana-secret dbname=cdr sslmode={sslmode}"
        ))
        .args(["-X", "-A", "-t", "-c", sql])
        .output()
        .expect("run psql")
}

#[test]
fn tls_can_be_required_and_a_broken_certificate_stops_the_server() {
    let s = Scratch::new();
    let (cert, key) = certificate(&s);
    let server = Server::start_with(
        s,
        &format!("tls_cert = \"{cert}\"\ntls_key = \"{key}\"\ntls_required = true"),
        "",
    );
    let out = psql(server.port, "require", "SELECT count(*) FROM cdrs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "4");
    let plain = psql(server.port, "disable", "SELECT 1");
    assert!(!plain.status.success());
    assert!(
        String::from_utf8_lossy(&plain.stderr).contains("requires TLS"),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );

    // A certificate that cannot be loaded is an error, never a plaintext fallback.
    let s = Scratch::new();
    let bad = s.write("bad.crt", "not a certificate");
    let config = s.write(
        "cdrlake.toml",
        format!(
            "[server]\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
            bad.display(),
            bad.display()
        ),
    );
    s.ok(&[
        "ingest",
        s.write("c.csv", format!("{HEADER}\n"))
            .to_str()
            .expect("path"),
    ]);
    let out = s.run(&[
        "--config",
        config.to_str().expect("path"),
        "serve",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("TLS"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn the_server_compacts_small_files_and_applies_retention_on_schedule() {
    let s = Scratch::new();
    // A second commit into the 2026-11-02 partition: two small files to merge.
    let more = more_calls(&s);
    let store = s.store();
    // The fixture ingest runs in start_with; this one lands after it, before the server.
    let server = Server::start_with(
        s,
        "maintenance_interval_s = 1\nvacuum_grace_minutes = 0\nmetrics_listen = \"127.0.0.1:0\"",
        "\n[tenants.beta]\nretention_days = 1\n",
    );
    // A maintenance round may hold the writer lock: the CLI waits for it.
    let out = crate::support::cdrlake(&store, &["ingest", more.to_str().expect("path")]);
    assert!(
        out.status.success(),
        "ingest while the server ran: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = server.as_user("ana").await;
    let mut waited = 0;
    loop {
        let history = crate::support::cdrlake(&store, &["history", "cdrs"]);
        let history = String::from_utf8_lossy(&history.stdout).to_string();
        let tenants = texts(
            &c,
            "SELECT tenant, count(*) FROM cdrs GROUP BY 1 ORDER BY 1",
        )
        .await;
        if history.contains("COMPACT") && tenants == ["acme|3"] {
            break;
        }
        waited += 1;
        assert!(
            waited < 60,
            "no maintenance after 30 s: {tenants:?}\n{history}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The rounds, connections and statements show in /metrics; /health answers.
    let addr = server.metrics.clone().expect("metrics address printed");
    let metrics = http_get(&addr, "/metrics");
    let value = |name: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} missing in\n{metrics}"))
    };
    assert!(value("cdrlake_maintenance_rounds_total") >= 1);
    assert_eq!(value("cdrlake_connections_open"), 1);
    assert!(value("cdrlake_statement_duration_seconds_count") >= 1);
    assert!(http_get(&addr, "/health").ends_with("ok\n"));
}

/// The body of an HTTP GET, read with a plain socket.
fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut socket = std::net::TcpStream::connect(addr).expect("connect to metrics");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    socket.write_all(request.as_bytes()).expect("request");
    let mut response = String::new();
    socket.read_to_string(&mut response).expect("response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

#[tokio::test]
async fn billing_issues_refunds_over_the_wire_within_the_charge() {
    let server = Server::start();
    let till = server.as_user("till").await;
    let n = till
        .execute(
            "INSERT INTO refunds (call_id, amount, reason) VALUES ('a-1', 0.20, 'poor line')",
            &[],
        )
        .await
        .expect("partial refund");
    assert_eq!(n, 1);
    let over = till
        .simple_query("INSERT INTO refunds (call_id, amount) VALUES ('a-1', 0.40)")
        .await
        .expect_err("over-refund");
    assert!(over.code().is_some(), "{over}");
    till.simple_query("INSERT INTO refunds (call_id, reason) VALUES ('a-1', 'the rest')")
        .await
        .expect("refund the rest");
    let ana = server.as_user("ana").await;
    assert_eq!(
        texts(
            &ana,
            "SELECT record_type, charge, billing_result FROM call_reports \
             WHERE call_id = 'a-1' ORDER BY record_type, charge"
        )
        .await,
        [
            "charge|0.500000|Refunded",
            "refund|-0.300000|Refunded",
            "refund|-0.200000|Refunded"
        ]
    );
    // Each refund records who issued it: the user logged in over the wire, whatever the
    // statement says.
    till.simple_query(
        "INSERT INTO refunds (cabin, amount, reason, created_by) VALUES ('7012', 1.00, 'goodwill', 'someone-else')",
    )
    .await
    .expect("custom refund");
    assert_eq!(
        texts(
            &ana,
            "SELECT created_by, count(*) FROM refunds GROUP BY created_by"
        )
        .await,
        ["till|3"]
    );
    // Analysts and tenant-bound users may not write.
    for user in ["ana", "acme"] {
        let c = server.as_user(user).await;
        assert_eq!(
            code(
                &c,
                "INSERT INTO refunds (call_id, amount) VALUES ('a-1', 0.01)"
            )
            .await,
            SqlState::INSUFFICIENT_PRIVILEGE,
            "{user}"
        );
    }
}

#[tokio::test]
async fn a_postgresql_scram_verifier_in_the_configuration_admits_its_password_only() {
    // The verifier as PostgreSQL stores it (pg_authid.rolpassword), made by the library
    // tokio-postgres itself uses: the server never sees the password.
    let verifier = postgres_protocol::password::scram_sha_256(b"v3rifier pass");
    assert!(verifier.starts_with("SCRAM-SHA-256$4096:"), "{verifier}");
    let users =
        format!("\n[[users]]\nname = \"vera\"\npassword = \"{verifier}\"\nrole = \"analyst\"\n");
    let server = Server::start_with(Scratch::new(), "", &users);
    let vera = server
        .connect("vera", "v3rifier pass")
        .await
        .expect("login");
    assert_eq!(texts(&vera, "SELECT count(*) FROM cdrs").await, ["4"]);
    let wrong = server.connect("vera", "v3rifier").await.expect_err("wrong");
    assert_eq!(wrong.code(), Some(&SqlState::INVALID_PASSWORD), "{wrong}");
    // A refused login ends as PostgreSQL ends it: the FATAL error, then the connection
    // closes, without the ReadyForQuery that asyncpg reports as a protocol violation.
    let Err(mut refused) = raw::Conn::try_login(server.port, "vera", "nope").await else {
        panic!("a wrong password was admitted");
    };
    assert!(
        refused.next().await.is_none(),
        "a message after the FATAL error of a failed login"
    );
    // Plain passwords still work beside it.
    server.as_user("ana").await;
}

#[tokio::test]
async fn fatal_errors_close_the_connection_without_ready_for_query() {
    let server = Server::start();
    // A wrong password and an unknown user: FATAL, then the socket closes.
    for (user, password) in [("ana", "wrong"), ("nobody", "nobody")] {
        let Err(mut refused) = raw::Conn::try_login(server.port, user, password).await else {
            panic!("{user} was admitted");
        };
        assert_eq!(refused.last_severity(), "FATAL", "{user}");
        assert!(
            refused.next().await.is_none(),
            "a message after the FATAL error of {user}'s failed login"
        );
    }
    // An ERROR leaves the connection ready for the next query.
    let mut c = raw::Conn::login(server.port, "ana", "ana-secret").await;
    c.query("SELECT * FROM no_such_table").await;
    assert!(matches!(
        c.next().await,
        Some(postgres_protocol::message::backend::Message::ErrorResponse(
            _
        ))
    ));
    assert_eq!(c.last_severity(), "ERROR");
    assert!(matches!(
        c.next().await,
        Some(postgres_protocol::message::backend::Message::ReadyForQuery(
            _
        ))
    ));
}

#[test]
fn log_lines_carry_no_colour_codes_off_a_terminal() {
    let s = Scratch::new();
    let calls = s.write(
        "calls.csv",
        format!("{HEADER}\nv-1,acme,outbound,2026-11-02T08:00:00Z,,2026-11-02T08:01:00Z,60,+31201234567,+31612345678,200,normal,,,\n"),
    );
    s.ok(&["ingest", calls.to_str().expect("path")]);
    // No users configured: the server warns that it admits loopback connections only.
    let mut child = Command::new(bin())
        .args(["--data", s.store().to_str().expect("path")])
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cdrlake serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut seen = Vec::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("stderr line");
        let serving = line.contains(" on 127.0.0.1:");
        seen.push(line);
        if serving {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let log = seen.join("\n");
    assert!(
        log.contains("WARN") && log.contains("no users configured"),
        "{log}"
    );
    assert!(
        !log.contains('\x1b'),
        "colour codes in a piped log: {log:?}"
    );
}

#[test]
fn a_malformed_scram_verifier_stops_the_server_with_the_user_named() {
    let s = Scratch::new();
    let calls = s.write(
        "calls.csv",
        format!("{HEADER}\nv-1,acme,outbound,2026-11-02T08:00:00Z,,2026-11-02T08:01:00Z,60,+31201234567,+31612345678,200,normal,,,\n"),
    );
    s.ok(&["ingest", calls.to_str().expect("path")]);
    let config = s.write(
        "cdrlake.toml",
        "[[users]]\nname = \"vera\"\npassword = \"SCRAM-SHA-256$4096:c2FsdA==$nokeys\"\nrole = \"analyst\"\n",
    );
    let out = Command::new(bin())
        .args(["--data", s.store().to_str().expect("path")])
        .args(["--config", config.to_str().expect("path")])
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .expect("run serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("vera") && stderr.contains("malformed SCRAM verifier"),
        "{stderr}"
    );
}

/// The raw wire protocol, for what no well-behaved client sends.
mod raw {
    use bytes::BytesMut;
    use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256};
    use postgres_protocol::message::backend::Message;
    use postgres_protocol::message::frontend;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// A connection, the bytes read but not yet parsed, and those of the last message.
    pub struct Conn {
        pub stream: TcpStream,
        buf: BytesMut,
        last: Vec<u8>,
    }

    impl Conn {
        pub async fn open(port: u16) -> Conn {
            Conn {
                stream: TcpStream::connect(("127.0.0.1", port))
                    .await
                    .expect("connect"),
                buf: BytesMut::new(),
                last: Vec::new(),
            }
        }

        pub async fn send(&mut self, bytes: &[u8]) {
            self.stream.write_all(bytes).await.expect("write");
        }

        /// The next backend message; `None` once the server closed the connection.
        pub async fn next(&mut self) -> Option<Message> {
            loop {
                let unparsed = self.buf.clone();
                if let Some(m) = Message::parse(&mut self.buf).expect("backend message") {
                    self.last = unparsed[..unparsed.len() - self.buf.len()].to_vec();
                    return Some(m);
                }
                match self.stream.read_buf(&mut self.buf).await {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                }
            }
        }

        /// The SQLSTATE of the last message, an ErrorResponse (its `C` field).
        pub fn last_sqlstate(&self) -> String {
            self.last_field(b'C')
        }

        /// The severity of the last message, an ErrorResponse (its `S` field).
        pub fn last_severity(&self) -> String {
            self.last_field(b'S')
        }

        fn last_field(&self, code: u8) -> String {
            let fields = self.last.get(5..).unwrap_or_default();
            fields
                .split(|b| *b == 0)
                .find_map(|f| f.strip_prefix(&[code]))
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .unwrap_or_default()
        }

        /// Logs in with SCRAM (postgres-protocol's client) and waits for ReadyForQuery.
        pub async fn login(port: u16, user: &str, password: &str) -> Conn {
            match Conn::try_login(port, user, password).await {
                Ok(c) => c,
                Err(_) => panic!("login of {user} refused"),
            }
        }

        /// Logs in with SCRAM: the connection once ReadyForQuery arrives, or, refused, the
        /// connection right after the ErrorResponse.
        pub async fn try_login(port: u16, user: &str, password: &str) -> Result<Conn, Conn> {
            let mut c = Conn::open(port).await;
            let mut out = BytesMut::new();
            frontend::startup_message([("user", user), ("database", "cdr")], &mut out)
                .expect("startup");
            c.send(&out).await;
            let mut scram = ScramSha256::new(password.as_bytes(), ChannelBinding::unsupported());
            loop {
                out.clear();
                match c.next().await.expect("login message") {
                    Message::AuthenticationSasl(_) => {
                        frontend::sasl_initial_response("SCRAM-SHA-256", scram.message(), &mut out)
                            .expect("sasl");
                    }
                    Message::AuthenticationSaslContinue(body) => {
                        scram.update(body.data()).expect("server-first");
                        frontend::sasl_response(scram.message(), &mut out).expect("sasl");
                    }
                    Message::AuthenticationSaslFinal(body) => {
                        scram.finish(body.data()).expect("server signature");
                    }
                    Message::ReadyForQuery(_) => return Ok(c),
                    Message::ErrorResponse(_) => return Err(c),
                    _ => {}
                }
                if !out.is_empty() {
                    c.send(&out).await;
                }
            }
        }

        pub async fn query(&mut self, sql: &str) {
            let mut out = BytesMut::new();
            frontend::query(sql, &mut out).expect("query");
            self.send(&out).await;
        }

        /// How the server, within 20 s, dealt with what was sent (`None`: it is still
        /// waiting for bytes that will not come).
        pub async fn outcome(&mut self) -> Option<Outcome> {
            let wait = async {
                loop {
                    match self.next().await {
                        Some(Message::ErrorResponse(_)) if self.last_sqlstate() == "08P01" => {
                            return match self.next().await {
                                None => Outcome::ViolationClosed,
                                Some(_) => Outcome::Refused,
                            };
                        }
                        None | Some(Message::ErrorResponse(_)) => return Outcome::Refused,
                        Some(Message::ReadyForQuery(_)) => return Outcome::Answered,
                        Some(_) => {}
                    }
                }
            };
            tokio::time::timeout(std::time::Duration::from_secs(20), wait)
                .await
                .ok()
        }
    }

    /// What the server did with a malformed message.
    #[derive(Debug, PartialEq, Eq)]
    pub enum Outcome {
        /// PostgreSQL's answer to a malformed message: an error 08P01, then the connection
        /// closed.
        ViolationClosed,
        /// Another error, or the connection closed.
        Refused,
        /// Read leniently (as an empty query) and answered; the connection stays in sync.
        Answered,
    }
}

impl Server {
    /// The server process is alive and a fresh connection gets a query answered.
    async fn still_serves(&mut self, after: &str) {
        assert!(
            self.child.try_wait().expect("child").is_none(),
            "the server died after {after}"
        );
        let c = tokio::time::timeout(Duration::from_secs(30), self.as_user("ana"))
            .await
            .unwrap_or_else(|_| panic!("no new connection after {after}"));
        assert_eq!(
            texts(&c, "SELECT count(*) FROM cdrs").await,
            ["4"],
            "after {after}"
        );
    }
}

#[tokio::test]
async fn malformed_protocol_messages_close_that_connection_and_the_server_keeps_serving() {
    use raw::Outcome::{self, Answered, Refused, ViolationClosed};
    let mut server = Server::start();
    let port = server.port;
    // Before startup: an HTTP request, a startup packet shorter than its own header, one
    // claiming 1 GiB, and one cut off mid-packet.
    let before_startup: [(&str, &[u8], bool); 4] = [
        ("garbage", b"GET / HTTP/1.1\r\nHost: cdr\r\n\r\n", true),
        ("a startup length below 8", &[0, 0, 0, 2, 0, 3, 0, 0], true),
        ("a 1 GiB startup length", &[0x40, 0, 0, 0, 0, 3, 0, 0], true),
        (
            "a truncated startup packet",
            &[0, 0, 0, 40, 0, 3, 0, 0, b'u', b's'],
            false,
        ),
    ];
    for (what, bytes, answers) in before_startup {
        let mut c = raw::Conn::open(port).await;
        c.send(bytes).await;
        if answers {
            assert_eq!(c.outcome().await, Some(Refused), "{what}");
        }
        drop(c);
        server.still_serves(what).await;
    }
    // After login: an unknown message type, a length beyond any message, a length below 4,
    // a query without its terminating NUL, a length that ends the message before the NUL and
    // bytes after the NUL get a FATAL 08P01 and the connection closes, without ReadyForQuery
    // (PostgreSQL: "invalid frontend message type"); a message cut off by the client going
    // away gets no answer.
    let after_login: [(&str, &[u8], Option<Outcome>); 8] = [
        (
            "an unknown message type",
            b"\x01\0\0\0\x04",
            Some(ViolationClosed),
        ),
        (
            "a 2 GiB message length",
            b"Q\x7f\xff\xff\xf0SELECT 1",
            Some(ViolationClosed),
        ),
        (
            "a message length below 4",
            b"Q\0\0\0\x02",
            Some(ViolationClosed),
        ),
        (
            "a query without NUL",
            b"Q\0\0\0\x0cSELECT 1",
            Some(ViolationClosed),
        ),
        (
            "a length shorter than the query",
            b"Q\0\0\0\x08SELECT 1\0",
            Some(ViolationClosed),
        ),
        (
            "bytes after the query's NUL",
            b"Q\0\0\0\x0eSELECT 1\0x\0",
            Some(ViolationClosed),
        ),
        (
            "a query after a well-formed one",
            b"Q\0\0\0\x0dSELECT 1\0Q\0\0\0\x02",
            Some(Answered),
        ),
        ("a truncated query", b"Q\0\0\0\x40SELECT", None),
    ];
    for (what, bytes, expected) in after_login {
        let mut c = raw::Conn::login(port, "ana", "ana-secret").await;
        c.send(bytes).await;
        if expected.is_some() {
            assert_eq!(c.outcome().await, expected, "{what}");
        }
        drop(c);
        server.still_serves(what).await;
    }
}

#[tokio::test]
async fn a_client_gone_mid_copy_from_stdin_stores_nothing_and_leaves_no_spool() {
    let mut server = Server::start();
    let mut c = raw::Conn::login(server.port, "loader", "loader-secret").await;
    c.query("COPY cdrs FROM STDIN WITH (FORMAT csv, HEADER)")
        .await;
    match c.next().await {
        Some(postgres_protocol::message::backend::Message::CopyInResponse(_)) => {}
        _ => panic!("no CopyInResponse"),
    }
    let rows = format!(
        "{HEADER}\n\
         d-1,acme,outbound,2026-11-05T08:00:00Z,2026-11-05T08:00:05Z,2026-11-05T08:01:05Z,60,+31201234567,+31612345678,200,normal,7012,,\n\
         d-2,acme,outbound,2026-11-05T09:00:00Z,2026-11-05T09:00:05Z,2026-11-05T09:01:05Z,60,+31201234567,+31612345678,200,normal,7012,,\n\
         d-3,acme,outb"
    );
    let mut out = bytes::BytesMut::new();
    postgres_protocol::message::frontend::CopyData::new(rows.as_bytes())
        .expect("copy data")
        .write(&mut out);
    c.send(&out).await;
    // The spool file exists while the copy runs…
    let spool = server.scratch.path("tmp");
    let spooled = || std::fs::read_dir(&spool).expect("tmp").count();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while spooled() == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(spooled(), 1, "the copy spools to the server's TMPDIR");
    // …and the client vanishes without CopyDone or Terminate.
    drop(c);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while spooled() > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(spooled(), 0, "the abandoned copy's spool file was removed");
    server
        .still_serves("a client gone mid COPY FROM STDIN")
        .await;
    let ana = server.as_user("ana").await;
    assert_eq!(
        texts(&ana, "SELECT count(*) FROM cdrs WHERE call_id LIKE 'd-%'").await,
        ["0"],
        "nothing of the aborted load was stored"
    );
}

#[tokio::test]
async fn a_client_gone_mid_copy_to_stdout_does_not_hurt_the_server() {
    let mut server = Server::start();
    let mut c = raw::Conn::login(server.port, "ana", "ana-secret").await;
    c.query(
        "COPY (SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 50000000) AS t(g)) \
         TO STDOUT WITH (FORMAT csv)",
    )
    .await;
    let mut rows = 0;
    while rows < 1000 {
        match c.next().await {
            Some(postgres_protocol::message::backend::Message::CopyData(_)) => rows += 1,
            Some(postgres_protocol::message::backend::Message::CopyOutResponse(_)) => {}
            other => panic!("unexpected message while copying: {}", other.is_some()),
        }
    }
    drop(c);
    server
        .still_serves("a client gone mid COPY TO STDOUT")
        .await;
    let again = server.as_user("ana").await;
    let csv = copy_out(&again, "COPY (SELECT 1 AS one) TO STDOUT WITH (FORMAT csv)").await;
    assert_eq!(csv, "1\n", "another client's COPY after the abandoned one");
}
