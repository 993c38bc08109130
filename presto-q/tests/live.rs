//! presto-q against the real Trino and PrestoDB that services/ starts, compared with
//! the real trino-cli. Run: `cargo test --profile ci -p presto-q --test live -- --ignored`.
//! A missing service fails the test (never a skip).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn env(name: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!("${name} is not set: start the services: make services-up; source services/.state/env.sh"),
    }
}

fn presto_q_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_presto-q"))
}

/// presto-q pointed at the shared Trino, quiet, with only the variables it reads set.
fn presto_q(args: &[&str]) -> Command {
    let mut cmd = Command::new(presto_q_path());
    for var in [
        "PRESTO_PASSWORD",
        "TRINO_PASSWORD",
        "PRESTO_ACCESS_TOKEN",
        "TRINO_ACCESS_TOKEN",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("PRESTO_SERVER", env("PRESTO_SERVER"))
        .arg("-q")
        .args(args);
    cmd
}

fn trino_cli(args: &[&str]) -> Command {
    let mut cmd = Command::new(env("LAKEPIPE_TRINO_CLI"));
    cmd.args(args);
    cmd
}

fn run(mut cmd: impl std::borrow::BorrowMut<Command>) -> Output {
    cmd.borrow_mut()
        .stdin(Stdio::null())
        .output()
        .expect("running a command")
}

fn stdout_of(mut cmd: impl std::borrow::BorrowMut<Command>) -> String {
    let cmd = cmd.borrow_mut();
    let out = run(&mut *cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// A query returning every Trino type, with NULLs, empty strings, unicode, newlines,
/// quotes, tabs and backslashes inside strings.
const EVERY_TYPE: &str = r#"SELECT true AS b, CAST(-5 AS tinyint) AS ti, CAST(300 AS smallint) AS si, 123456 AS i,
 CAST(9223372036854775807 AS bigint) AS bi, REAL '1.1' AS r, REAL '1e20' AS r2, DOUBLE '0.1' AS d, 1e10 AS d2,
 1e-5 AS d3, 12345678.9E0 AS d4, nan() AS dn, infinity() AS di, -0.0E0 AS dz, 4.9E-324 AS dmin,
 DECIMAL '123.4500' AS dec, DECIMAL '-0.01' AS dec2, CAST(DECIMAL '12345678901234567890123' AS decimal(38,0)) AS dec3,
 'héllo "q" ,x' AS v, 'a
b' AS nl, 'cr' || chr(13) || 'lf' AS cr, '' AS e, CAST('ab' AS char(5)) AS c, X'00ff10' AS vb, X'' AS vbe,
 DATE '2024-02-29' AS dt, TIME '12:34:56.789' AS t, TIME '01:02:03.123456' AS t6, TIME '12:34:56 +05:00' AS ttz,
 TIMESTAMP '2024-01-02 03:04:05.678' AS ts3, TIMESTAMP '2024-01-02 03:04:05.678901' AS ts6,
 TIMESTAMP '2024-01-02 03:04:05.678 Europe/Paris' AS tstz, TIMESTAMP '2024-01-02 03:04:05.123456 +01:00' AS tstz6,
 INTERVAL '3' DAY AS ids, INTERVAL '2' MONTH AS iym, JSON '{"a":[1,2],"b":"x"}' AS j,
 UUID '12151fd2-7586-11e9-8f9e-2a86e4085a59' AS u, IPADDRESS '10.0.0.1' AS ip, IPADDRESS '2001:db8::1' AS ip6,
 NULL AS n, CAST(NULL AS varchar) AS nv, '日本語 ☃' AS uni, 'tab	here' AS tb, 'back\slash' AS bs"#;

/// The nested types; trino-cli's JSON format cannot print these (it fails with "No
/// ObjectCodec defined"), so they are compared in the CSV and TSV formats only.
const NESTED: &str = r#", ARRAY[1,2,NULL] AS arr, ARRAY['x','y"z', ''] AS arrs, MAP(ARRAY['k1','k2'], ARRAY[1.5E0, NULL]) AS m,
 MAP(ARRAY[1,2], ARRAY['a','b']) AS mi, CAST(ROW(1, 'a', ARRAY[2]) AS ROW(x integer, y varchar, z array(integer))) AS rw,
 ROW(1, 2.5E0) AS rw2, ARRAY[X'01', X'0203'] AS arrvb, ARRAY[1e10, nan()] AS arrd, ARRAY[REAL '1.1'] AS arrr,
 MAP(ARRAY[1.5E0], ARRAY[TIMESTAMP '2024-01-01 00:00:00.123456']) AS md, CAST(NULL AS array(integer)) AS narr,
 ARRAY[CAST(ROW(NULL, 'x') AS ROW(a int, "b c" varchar))] AS arow"#;

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_every_type_matches_trino_cli_byte_for_byte() {
    let all = format!("{EVERY_TYPE}{NESTED}");
    for (format, sql) in [
        ("CSV", all.as_str()),
        ("CSV_HEADER", all.as_str()),
        ("TSV", all.as_str()),
        ("TSV_HEADER", all.as_str()),
        ("JSON", EVERY_TYPE),
    ] {
        let theirs = stdout_of(trino_cli(&["--output-format", format, "--execute", sql]));
        let ours = stdout_of(presto_q(&["--output-format", format, sql]));
        assert!(!ours.is_empty());
        assert_eq!(ours, theirs, "format {format} differs from trino-cli");
    }
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_human_formats_render_the_same_values() {
    // Single-line values: the CSV cells must show up as they are in vertical, table and markdown.
    let sql = "SELECT 1e10 AS d, ARRAY[1, NULL] AS a, X'00ff' AS vb, 'x' AS s, CAST(NULL AS integer) AS n, \
               CAST(ROW(1, 'a') AS ROW(x integer, y varchar)) AS rw";
    let vertical = stdout_of(presto_q(&["-o", "vertical", sql]));
    for line in [
        "d  | 1.0E10",
        "a  | [1, NULL]",
        "vb | 00 ff",
        "s  | x",
        "n  | NULL",
        "rw | {x=1, y=a}",
    ] {
        assert!(vertical.contains(line), "{line:?} not in\n{vertical}");
    }
    let table = stdout_of(presto_q(&["-o", "table", sql]));
    assert!(
        table.contains("1.0E10 | [1, NULL] | 00 ff | x | NULL | {x=1, y=a}"),
        "{table}"
    );
    assert!(table.ends_with("(1 row)\n"));
    let markdown = stdout_of(presto_q(&["-o", "markdown", sql]));
    assert!(
        markdown.contains("| 1.0E10 | [1, NULL] | 00 ff | x | NULL | {x=1, y=a} |"),
        "{markdown}"
    );
}

/// Line count and an order-independent digest (sum of per-line hashes) of what `cmd`
/// prints, read as it streams: 6M rows never sit in memory, and Trino returns the
/// splits of an unordered scan in a different order on every run.
fn digest_of_stdout(cmd: &str) -> (u64, u64) {
    use std::hash::{DefaultHasher, Hash, Hasher};
    use std::io::BufRead;
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(cmd)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::with_capacity(1 << 20, child.stdout.take().unwrap());
    let (mut lines, mut sum) = (0u64, 0u64);
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).unwrap() > 0 {
        let mut h = DefaultHasher::new();
        line.hash(&mut h);
        sum = sum.wrapping_add(h.finish());
        lines += 1;
        line.clear();
    }
    assert!(child.wait().unwrap().success(), "{cmd} failed");
    (lines, sum)
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_orders_sf1_matches_trino_cli() {
    // 1.5M rows of many pages (sf1's lineitem, 6M, cost CI two minutes, most of it
    // trino-cli's)
    let sql = "'SELECT * FROM tpch.sf1.orders'";
    let server = env("PRESTO_SERVER");
    let ours = digest_of_stdout(&format!(
        "PRESTO_SERVER={server} {} -q {sql}",
        presto_q_path().display()
    ));
    let theirs = digest_of_stdout(&format!(
        "{} --output-format CSV --execute {sql}",
        env("LAKEPIPE_TRINO_CLI")
    ));
    assert_eq!(ours.0, 1_500_000);
    assert_eq!(ours, theirs);
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_statements_from_file_and_stdin_carry_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let script = "-- a comment; with a semicolon\nUSE tpch.tiny;\nSELECT count(*) FROM nation;\n\
                  SET SESSION query_max_run_time = '7m';\nSHOW SESSION LIKE 'query_max_run_time'\n";
    let file = dir.path().join("s.sql");
    std::fs::write(&file, script).unwrap();
    let want = "\"25\"\n\"query_max_run_time\",\"7m\",";
    assert!(stdout_of(presto_q(&["-f", file.to_str().unwrap()])).starts_with(want));
    let mut child = presto_q(&[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(want));
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_use_hive_default_affects_the_next_statement() {
    // The Hive catalog's metastore lives on HDFS and starts empty.
    stdout_of(presto_q(&["CREATE SCHEMA IF NOT EXISTS hive.default"]));
    let out = stdout_of(presto_q(&[
        "USE hive.default; SELECT current_catalog, current_schema",
    ]));
    assert_eq!(out, "\"hive\",\"default\"\n");
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_ignore_errors_goes_on_and_exits_1() {
    let out = run(presto_q(&[
        "--ignore-errors",
        "SELECT 1; SELECT nope; SELECT 2",
    ]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "\"1\"\n\"2\"\n");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 1:8: Column 'nope' cannot be resolved")
    );
    // Without it the run stops at the failed statement.
    let out = run(presto_q(&["SELECT 1; SELECT nope; SELECT 2"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "\"1\"\n");
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_errors_show_line_and_column() {
    let out = run(presto_q(&["SELECT *\nFRM x"]));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("presto-q: error: Query "), "{err}");
    assert!(
        err.contains("failed: line 2:1: mismatched input 'FRM'"),
        "{err}"
    );
    assert!(err.contains("\nLINE 2: FRM x\n        ^"), "{err}");

    let out = run(presto_q(&["SELECT 1 FROM tpch.tiny.no_such_table"]));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("failed: line 1:15: Table 'tpch.tiny.no_such_table' does not exist"),
        "{err}"
    );
}

fn query_state(source: &str) -> String {
    let sql = format!("SELECT state, coalesce(error_code, '') FROM system.runtime.queries WHERE source = '{source}' AND query NOT LIKE '%system.runtime%'");
    stdout_of(presto_q(&["-o", "tsv", &sql]))
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_ctrl_c_cancels_the_query_on_the_server() {
    let source = format!("presto-q-cancel-{}", std::process::id());
    let mut child = presto_q(&[
        "--source",
        &source,
        "SELECT sum(extendedprice * discount) FROM tpch.sf1000.lineitem",
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !query_state(&source).starts_with("RUNNING") {
        assert!(
            Instant::now() < deadline,
            "the query never ran: {}",
            query_state(&source)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let sent = Instant::now();
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("interrupted"), "{err}");
    loop {
        let state = query_state(&source);
        if state.starts_with("FAILED\tUSER_CANCELED") {
            break;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "not canceled within 5 s: {state}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_prestodb_returns_the_same_tpch_rows() {
    let server = env("PRESTODB_SERVER");
    for sql in [
        "SELECT * FROM tpch.tiny.nation ORDER BY nationkey",
        "SELECT orderkey, custkey, orderstatus, totalprice, orderdate, orderpriority, clerk, shippriority, comment \
         FROM tpch.tiny.orders ORDER BY orderkey",
        "SELECT returnflag, linestatus, sum(quantity), count(*) FROM tpch.tiny.lineitem GROUP BY 1, 2 ORDER BY 1, 2",
    ] {
        let trino = stdout_of(presto_q(&["-o", "csv-header", sql]));
        let presto = stdout_of(presto_q(&["--server", &server, "--protocol", "presto", "-o", "csv-header", sql]));
        assert!(trino.lines().count() > 1);
        assert_eq!(presto, trino, "{sql}");
    }
}

fn sibling_binary(name: &str) -> PathBuf {
    let path = presto_q_path().with_file_name(name);
    assert!(
        path.exists(),
        "{} is missing: cargo build --release -p {name}",
        path.display()
    );
    path
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_json_lines_feed_pq_write() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("nation.parquet");
    let cmd = format!(
        "set -o pipefail; {} -q --output-format json 'SELECT nationkey, name, regionkey, comment FROM tpch.tiny.nation ORDER BY nationkey' | {} {}",
        presto_q_path().display(),
        sibling_binary("pq-write").display(),
        parquet.display()
    );
    let status = Command::new("bash")
        .arg("-c")
        .arg(&cmd)
        .env("PRESTO_SERVER", env("PRESTO_SERVER"))
        .status()
        .unwrap();
    assert!(status.success());
    let rows = stdout_of(Command::new(sibling_binary("pq-cat")).arg(&parquet));
    let want = stdout_of(presto_q(&[
        "-o",
        "json",
        "SELECT nationkey, name, regionkey, comment FROM tpch.tiny.nation ORDER BY nationkey",
    ]));
    assert_eq!(rows, want);
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_closed_stdout_ends_quietly() {
    let cmd = format!(
        "{} -q 'SELECT * FROM tpch.sf1.lineitem' | head -1",
        presto_q_path().display()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("{cmd}; echo \"rc=${{PIPESTATUS[0]}}\" >&2"))
        .env("PRESTO_SERVER", env("PRESTO_SERVER"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "rc=0\n");
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_progress_only_on_a_terminal() {
    let sql = "SELECT count(*) FROM tpch.sf1.lineitem WHERE comment LIKE '%x%'";
    // Under a pseudo-terminal (script(1)) stderr is a terminal: the progress line shows.
    let inner = format!("{} -o csv \"{sql}\" > /dev/null", presto_q_path().display());
    let out = Command::new("script")
        .args(["-qec", &inner, "/dev/null"])
        .env("PRESTO_SERVER", env("PRESTO_SERVER"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(
        tty.contains(" splits, ") && tty.contains(" rows, "),
        "no progress on the terminal: {tty:?}"
    );
    // On a pipe: no progress, only the summary.
    let mut cmd = Command::new(presto_q_path());
    cmd.env("PRESTO_SERVER", env("PRESTO_SERVER")).arg(sql);
    let out = run(&mut cmd);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("splits") && !err.contains('\r'), "{err:?}");
    assert!(err.contains("1 statement, 1 row"), "{err:?}");
}

/// The second, HTTPS-only Trino of tests/tls-trino.sh, stopped when dropped.
struct TlsTrino {
    dir: tempfile::TempDir,
    url: String,
}

impl TlsTrino {
    fn start() -> TlsTrino {
        let dir = tempfile::tempdir().unwrap();
        let script = lakepipe_tests::root().join("presto-q/tests/tls-trino.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg("start")
            .arg(dir.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let tls = TlsTrino {
            url: text.split_whitespace().next().unwrap_or("").to_string(),
            dir,
        };
        assert!(
            out.status.success(),
            "TLS Trino did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tls
    }
    fn file(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TlsTrino {
    fn drop(&mut self) {
        let script = lakepipe_tests::root().join("presto-q/tests/tls-trino.sh");
        let _ = Command::new("bash")
            .arg(script)
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

/// presto-q pointed at the TLS Trino, with none of the credential variables set.
fn presto_q_tls(tls: &TlsTrino, args: &[&str]) -> Command {
    let mut all = vec!["--server", tls.url.as_str()];
    all.extend_from_slice(args);
    presto_q(&all)
}

/// A JWT for `sub`, signed (HS256) with the base64 key in `key_file`, expiring `exp_secs`
/// from now (negative: expired).
fn jwt(key_file: &str, sub: &str, exp_secs: i64) -> String {
    let key = std::fs::read_to_string(key_file).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &serde_json::json!({"sub": sub, "iat": now.min(now + exp_secs), "exp": now + exp_secs}),
        &jsonwebtoken::EncodingKey::from_base64_secret(key.trim()).unwrap(),
    )
    .unwrap()
}

/// HTTPS trust, passwords (variable and prompt) and JWT access tokens against one Trino
/// with `http-server.authentication.type=PASSWORD,JWT` (tests/tls-trino.sh).
#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_https_password_and_access_token_against_trino() {
    // Needs the cached Trino install that services/up.sh made.
    env("PRESTO_SERVER");
    let tls = TlsTrino::start();
    check_https_and_password(&tls);
    check_access_tokens(&tls);
    check_password_prompt(&tls);
}

fn check_https_and_password(tls: &TlsTrino) {
    let password = std::fs::read_to_string(tls.file("password.txt"))
        .unwrap()
        .trim()
        .to_string();
    let sql = "SELECT count(*) FROM tpch.tiny.nation";
    let with = |args: &[&str], pw: Option<&str>| {
        let mut all = vec!["--user", "lab"];
        all.extend_from_slice(args);
        all.push(sql);
        let mut cmd = presto_q_tls(tls, &all);
        if let Some(pw) = pw {
            cmd.env("PRESTO_PASSWORD", pw);
        }
        run(cmd)
    };
    let ca = tls.file("ca.pem");
    // A fresh coordinator answers "No nodes available" until it has registered itself.
    let started = std::time::Instant::now();
    let ok = loop {
        let out = with(&["--ca-file", &ca], Some(&password));
        let err = String::from_utf8_lossy(&out.stderr);
        if out.status.success()
            || !err.contains("No nodes available")
            || started.elapsed().as_secs() > 60
        {
            assert!(out.status.success(), "{err}");
            break String::from_utf8(out.stdout).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    assert_eq!(ok, "\"25\"\n");
    // Untrusted: no CA given, or a CA that did not sign the server's certificate; the
    // password is never sent.
    let other_ca = tls.file("other-ca.pem");
    for extra in [vec![], vec!["--ca-file", other_ca.as_str()]] {
        let out = with(&extra, Some(&password));
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("TLS certificate is not trusted") && err.contains(&tls.url),
            "{err}"
        );
    }
    // Told to skip verification.
    let out = with(&["--insecure"], Some(&password));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "\"25\"\n");
    // trino-cli's variable, with --password as trino-cli wants it.
    let mut cmd = presto_q_tls(tls, &["--ca-file", &ca, "--user", "lab", "--password", sql]);
    cmd.env("TRINO_PASSWORD", &password);
    assert_eq!(stdout_of(cmd), "\"25\"\n");
    // A wrong password, and none at all: the server's 401 as a clear error, exit 1.
    let out = with(&["--ca-file", &ca], Some("wrong-pw"));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refused the password (401 Unauthorized)") && err.contains(&tls.url),
        "{err}"
    );
    assert!(!err.contains("wrong-pw"), "{err}");
    let out = with(&["--ca-file", &ca], None);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("requires a password or an access token: set PRESTO_PASSWORD")
            && err.contains("(401 Unauthorized)"),
        "{err}"
    );
    // --password with neither a variable nor a terminal to ask on: a usage error.
    let out = run(presto_q_tls(tls, &["--ca-file", &ca, "--password", sql]));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("stdin is not a terminal") && err.contains("PRESTO_PASSWORD"),
        "{err}"
    );
}

fn check_access_tokens(tls: &TlsTrino) {
    let ca = tls.file("ca.pem");
    let sql = "SELECT current_user";
    let good = jwt(&tls.file("jwt.key"), "alice", 600);
    // From either variable, with the subject as --user or no --user at all (then Trino
    // takes the subject, whatever $USER says).
    for (var, user) in [
        ("PRESTO_ACCESS_TOKEN", &["--user", "alice"][..]),
        ("TRINO_ACCESS_TOKEN", &[][..]),
    ] {
        let mut args = vec!["--ca-file", ca.as_str()];
        args.extend_from_slice(user);
        args.push(sql);
        let mut cmd = presto_q_tls(tls, &args);
        cmd.env(var, &good).env("USER", "not-alice");
        assert_eq!(stdout_of(cmd), "\"alice\"\n", "{var}");
    }
    // Another user than the subject: Trino's own refusal.
    let mut cmd = presto_q_tls(tls, &["--ca-file", &ca, "--user", "bob", sql]);
    cmd.env("PRESTO_ACCESS_TOKEN", &good);
    let out = run(cmd);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("alice cannot impersonate user bob"), "{err}");
    // The flag beats a variable holding a bad token.
    let mut cmd = presto_q_tls(
        tls,
        &[
            "--ca-file",
            &ca,
            "--user",
            "alice",
            "--access-token",
            &good,
            sql,
        ],
    );
    cmd.env("PRESTO_ACCESS_TOKEN", "not-a-token");
    assert_eq!(stdout_of(cmd), "\"alice\"\n");
    // Refused: signed with a key Trino does not know, expired, or not a JWT at all.
    let wrong_key = jwt(&tls.file("other-jwt.key"), "alice", 600);
    let expired = jwt(&tls.file("jwt.key"), "alice", -3600);
    for (what, token, hint) in [
        ("wrong key", wrong_key.as_str(), "signature"),
        ("expired", expired.as_str(), "expired"),
        ("garbage", "not-a-token", ""),
    ] {
        let mut cmd = presto_q_tls(tls, &["--ca-file", &ca, "--user", "alice", sql]);
        cmd.env("TRINO_ACCESS_TOKEN", token);
        let out = run(cmd);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(out.stdout.is_empty(), "{what}");
        assert!(
            err.starts_with(&format!(
                "presto-q: error: {} refused the access token (401 Unauthorized)",
                tls.url
            )),
            "{what}: {err}"
        );
        assert!(err.to_lowercase().contains(hint), "{what}: {err}");
        for part in token.split('.') {
            assert!(!err.contains(part), "{what}: the token is in {err}");
        }
    }
}

fn check_password_prompt(tls: &TlsTrino) {
    use lakepipe_tests::tmux::Tmux;
    let password = std::fs::read_to_string(tls.file("password.txt"))
        .unwrap()
        .trim()
        .to_string();
    let script = format!(
        "env -u PRESTO_PASSWORD -u TRINO_PASSWORD -u PRESTO_ACCESS_TOKEN -u TRINO_ACCESS_TOKEN \
         '{}' --server '{}' --ca-file '{}' --user lab --password -q -o csv \
         'SELECT count(*) FROM tpch.tiny.region'; echo EXIT=$?; sleep 600",
        presto_q_path().display(),
        tls.url,
        tls.file("ca.pem"),
    );
    let term = Tmux::start("presto-q-password", &script);
    let log = tls.dir.path().join("terminal.log");
    term.record(&log);
    let screen_when = |what: &str, ok: &dyn Fn(&str) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = term.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} on the terminal:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    screen_when("password prompt", &|s| s.contains("Password:"));
    term.type_text(&password);
    term.keys(&["Enter"]);
    let screen = screen_when("exit status", &|s| s.contains("EXIT="));
    assert!(
        screen.contains("\"5\"") && screen.contains("EXIT=0"),
        "{screen}"
    );
    let raw = std::fs::read_to_string(&log).unwrap();
    assert!(
        !screen.contains(&password) && !raw.contains(&password),
        "the password was echoed: {screen}"
    );
}
