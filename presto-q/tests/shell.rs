//! presto-q's interactive shell in a real terminal (tmux: send-keys, capture-pane)
//! against the real Trino and PrestoDB that services/ starts.
//! Run: `cargo test -p presto-q --test shell -- --ignored`. A missing service or tmux
//! fails the test (never a skip).

use lakepipe_tests::tmux::Tmux;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
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

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// presto-q in a 120x40 terminal of its own tmux server, killed when dropped.
/// presto-q in a real terminal (the shared tmux driver, 120x40).
struct Term {
    t: Tmux,
}

impl Term {
    /// Start `presto-q ARGS` with only the given variables of presto-q's own set; the
    /// exit status is printed as `EXIT=N` when it ends.
    fn start(args: &[&str], vars: &[(&str, &str)]) -> Term {
        let mut line = String::from("env -u PRESTO_PASSWORD -u PRESTO_SERVER -u PRESTO_PAGER");
        line.push_str(" -u TRINO_PASSWORD -u PRESTO_ACCESS_TOKEN -u TRINO_ACCESS_TOKEN");
        line.push_str(" -u PRESTO_HISTORY_FILE TERM=xterm-256color");
        for (k, v) in vars {
            line.push_str(&format!(" {k}={}", quote(v)));
        }
        line.push_str(&format!(
            " {}",
            quote(&presto_q_path().display().to_string())
        ));
        for a in args {
            line.push_str(&format!(" {}", quote(a)));
        }
        // Keep the pane after the exit so the status can be read.
        line.push_str("; echo EXIT=$?; sleep 600");
        Term {
            t: Tmux::start_sized("presto-q-shell", &line, 120, 40),
        }
    }

    fn type_text(&self, text: &str) {
        self.t.type_text(text);
    }

    fn line(&self, text: &str) {
        self.t.line(text);
    }

    fn keys(&self, keys: &[&str]) {
        self.t.keys(keys);
    }

    fn screen(&self) -> String {
        self.t.history()
    }

    /// The screen once `ok` holds for it; panics with the screen after `secs`.
    fn wait(&self, secs: u64, what: &str, ok: impl Fn(&str) -> bool) -> String {
        self.t.wait_screen(secs, what, ok)
    }

    fn wait_for(&self, secs: u64, text: &str) -> String {
        self.wait(secs, &format!("{text:?}"), |s| s.contains(text))
    }

    /// Wait until `text` appears `n` times (a prompt shown again).
    fn wait_count(&self, secs: u64, text: &str, n: usize) -> String {
        self.wait(secs, &format!("{text:?} {n} times"), |s| {
            s.matches(text).count() >= n
        })
    }

    /// The last line with something on it, of a new capture.
    fn last_line(&self) -> String {
        last_line(&self.screen()).to_string()
    }
}

/// The last line with something on it. A wait's condition reads the capture it is given:
/// a second capture could come from a later moment than the screen the test goes on with.
fn last_line(screen: &str) -> &str {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim_end()
}

fn servers() -> [(&'static str, String); 2] {
    [
        ("trino", env("PRESTO_SERVER")),
        ("presto", env("PRESTODB_SERVER")),
    ]
}

fn history_in(dir: &Path) -> String {
    dir.join("history").display().to_string()
}

/// The prompt, a statement over two lines, `\G`, `USE` changing the prompt, the history
/// file, `quit` with exit status 0: against both Trino and PrestoDB.
#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_shell_session_on_trino_and_prestodb() {
    for (protocol, server) in servers() {
        let dir = tempfile::tempdir().unwrap();
        let history = history_in(dir.path());
        let t = Term::start(
            &["--server", &server, "--protocol", protocol],
            &[("PRESTO_HISTORY_FILE", &history), ("PRESTO_PAGER", "")],
        );
        t.wait(30, "the prompt", |s| s.trim_end().ends_with("presto>"));
        t.line("SELECT 6 * 7");
        t.wait_for(10, "     -> ");
        t.line("  AS answer;");
        let s = t.wait_for(60, "(1 row)");
        assert!(
            s.contains(" answer\n--------\n     42\n"),
            "{protocol}: {s}"
        );
        t.line("USE tpch.tiny;");
        t.wait_for(30, "presto:tiny> ");
        t.line("SELECT name, regionkey FROM nation WHERE nationkey = 1\\G");
        let s = t.wait_for(60, "-[ RECORD 1 ]");
        let s = if s.contains("regionkey | 1") {
            s
        } else {
            t.wait_for(10, "regionkey | 1")
        };
        assert!(s.contains("name      | ARGENTINA"), "{protocol}: {s}");
        t.wait_count(10, "presto:tiny> ", 2);
        // SET SESSION, PREPARE and transactions carry over, as in batch mode.
        t.line("SET SESSION query_max_run_time = '7m';");
        t.line("SHOW SESSION LIKE 'query_max_run_time';");
        t.wait(60, "the session property", |s| {
            s.lines()
                .any(|l| l.starts_with(" query_max_run_time | 7m "))
        });
        t.line("PREPARE twice FROM SELECT ? * 2 AS doubled;");
        t.line("EXECUTE twice USING 2100;");
        t.wait_for(60, "    4200\n(1 row)");
        t.line("START TRANSACTION;");
        t.line("SELECT count(*) AS in_tx FROM region;");
        t.line("COMMIT;");
        t.wait_for(60, "COMMIT");
        t.line("help");
        t.wait_for(10, "Ctrl-R");
        t.line("quit");
        t.wait_for(10, "EXIT=0");
        let written = std::fs::read_to_string(&history).unwrap();
        for entry in [
            "SELECT 6 * 7\\n  AS answer;",
            "USE tpch.tiny;",
            "EXECUTE twice USING 2100;",
            "quit",
        ] {
            assert!(
                written.contains(entry),
                "{protocol}: {entry:?} not in {written:?}"
            );
        }
    }
}

/// Tab completes a table name that the shell fetched from the server.
#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_shell_tab_completes_table_names() {
    for (protocol, server) in servers() {
        let t = Term::start(
            &["--server", &server, "--protocol", protocol],
            &[("PRESTO_HISTORY_FILE", ""), ("PRESTO_PAGER", "")],
        );
        t.wait_for(30, "presto> ");
        // The tables of the schema chosen by USE (names are fetched again after it).
        t.line("USE tpch.tiny;");
        t.wait_for(30, "presto:tiny> ");
        t.type_text("SELECT count(*) FROM linei");
        // The names arrive in the background: Tab again until they are there.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            t.keys(&["Tab"]);
            std::thread::sleep(Duration::from_millis(300));
            if t.last_line().ends_with("FROM lineitem") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{protocol}: no completion:\n{}",
                t.screen()
            );
        }
        t.line(";");
        t.wait_for(60, "60175");
        // Qualified: schema of a catalog, then a table of it.
        t.type_text("SELECT count(*) FROM tpch.sf");
        // One Tab completes what all candidates share, the second lists them.
        t.keys(&["Tab"]);
        t.keys(&["Tab"]);
        t.wait(10, "sf candidates", |s| {
            s.contains("sf1") && s.contains("sf100")
        });
        t.keys(&["C-c"]);
        t.wait(10, "a new prompt", |s| last_line(s) == "presto:tiny>");
        t.line("quit");
        t.wait_for(10, "EXIT=0");
    }
}

/// A syntax error shows the server's message with a caret, and the shell goes on.
#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_shell_survives_a_syntax_error() {
    for (protocol, server) in servers() {
        let t = Term::start(
            &["--server", &server, "--protocol", protocol],
            &[("PRESTO_HISTORY_FILE", ""), ("PRESTO_PAGER", "")],
        );
        t.wait_for(30, "presto> ");
        t.line("SELECT 1 FROM WHERE;");
        let s = t.wait_for(60, "LINE 1: SELECT 1 FROM WHERE");
        assert!(
            s.contains("line 1:15: mismatched input 'WHERE'"),
            "{protocol}: {s}"
        );
        let caret = format!("\nLINE 1: SELECT 1 FROM WHERE\n{}^\n", " ".repeat(22));
        assert!(s.contains(&caret), "{protocol}: caret: {s}");
        t.line("SELECT 'still' || ' here';");
        t.wait_for(60, "still here");
        // Wide characters take two columns: the table stays aligned on screen.
        t.line("SELECT '日本語' AS w, 'ab' AS x;");
        t.wait_for(60, "   w    | x\n--------+----\n 日本語 | ab\n(1 row)");
        t.keys(&["C-d"]);
        t.wait_for(10, "EXIT=0");
    }
}

/// State and error code of the queries sent with `source`, one per line, as Trino's
/// `system.runtime.queries` lists them. PrestoDB's table has no error code: it comes
/// from the coordinator's `/v1/query/ID` instead.
fn query_state(server: &str, protocol: &str, source: &str) -> String {
    let code = if protocol == "trino" {
        "coalesce(error_code, '')"
    } else {
        "query_id"
    };
    let sql = format!("SELECT state, {code} FROM system.runtime.queries WHERE source = '{source}'");
    let rows = stdout_of(
        Command::new(presto_q_path())
            .env_remove("PRESTO_PASSWORD")
            .env_remove("PRESTO_ACCESS_TOKEN")
            .env_remove("TRINO_ACCESS_TOKEN")
            .args([
                "-q",
                "--server",
                server,
                "--protocol",
                protocol,
                "-o",
                "tsv",
                &sql,
            ]),
    );
    if protocol == "trino" {
        return rows;
    }
    let mut out = String::new();
    for row in rows.lines() {
        let (state, id) = row.split_once('\t').unwrap_or((row, ""));
        let info = stdout_of(Command::new("curl").args([
            "-sf",
            "-H",
            "X-Presto-User: presto-q-test",
            &format!("{server}/v1/query/{id}"),
        ]));
        // "errorCode":{"code":...,"name":"USER_CANCELED",...}
        let code = info
            .split_once("\"errorCode\":{")
            .and_then(|(_, rest)| rest.split_once("\"name\":\""))
            .and_then(|(_, rest)| rest.split_once('"'))
            .map_or("", |(name, _)| name);
        out.push_str(&format!("{state}\t{code}\n"));
    }
    out
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Ctrl-C during a long query cancels it on the server and brings the prompt back.
#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_shell_ctrl_c_cancels_the_running_query() {
    for (protocol, server) in servers() {
        ctrl_c_cancels(protocol, &server);
    }
}

fn ctrl_c_cancels(protocol: &str, server: &str) {
    let source = format!("presto-q-shell-cancel-{protocol}-{}", std::process::id());
    let t = Term::start(
        &[
            "--server",
            server,
            "--protocol",
            protocol,
            "--source",
            &source,
        ],
        &[("PRESTO_HISTORY_FILE", ""), ("PRESTO_PAGER", "")],
    );
    t.wait_for(30, "presto> ");
    t.line("SELECT count(*) FROM tpch.sf1.lineitem a CROSS JOIN tpch.sf1.lineitem b;");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !query_state(server, protocol, &source).starts_with("RUNNING") {
        assert!(
            Instant::now() < deadline,
            "never ran: {}",
            query_state(server, protocol, &source)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The progress line is on the terminal while it runs.
    t.wait_for(30, " splits, ");
    t.keys(&["C-c"]);
    t.wait_for(10, "Query aborted by user");
    t.wait_count(10, "presto> ", 2);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = query_state(server, protocol, &source);
        if state.starts_with("FAILED\tUSER_CANCELED") {
            break;
        }
        assert!(Instant::now() < deadline, "not canceled: {state}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Still alive, and the next statement is not interrupted.
    t.line("SELECT 'after' || ' cancel';");
    t.wait_for(60, "after cancel");
    t.line("exit");
    t.wait_for(10, "EXIT=0");
}

/// Results taller than the screen go through the pager; shorter ones do not.
#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_shell_pages_tall_results() {
    let server = env("PRESTO_SERVER");
    let dir = tempfile::tempdir().unwrap();
    let paged = dir.path().join("paged");
    let pager = format!("tee {}", paged.display());
    let t = Term::start(
        &["--server", &server, "--catalog", "tpch", "--schema", "tiny"],
        &[("PRESTO_HISTORY_FILE", ""), ("PRESTO_PAGER", &pager)],
    );
    t.wait_for(30, "presto:tiny> ");
    t.line("SELECT regionkey, name FROM region;");
    t.wait_for(60, "(5 rows)");
    assert!(!paged.exists(), "5 rows went through the pager");
    t.line("SELECT nationkey, name FROM nation;");
    t.wait_for(60, "(25 rows)");
    assert!(
        !paged.exists(),
        "25 rows on 40 lines went through the pager"
    );
    t.line("SELECT custkey FROM customer ORDER BY custkey LIMIT 100;");
    t.wait_for(60, "(100 rows)");
    let got = std::fs::read_to_string(&paged).unwrap();
    assert!(got.starts_with(" custkey\n---------\n       1\n"), "{got}");
    assert!(got.ends_with("     100\n(100 rows)\n"), "{got}");
    t.line("quit");
    t.wait_for(10, "EXIT=0");

    // The real default pager: less waits for `q`, then the prompt is back.
    let t = Term::start(
        &["--server", &server, "--catalog", "tpch", "--schema", "tiny"],
        &[("PRESTO_HISTORY_FILE", "")],
    );
    t.wait_for(30, "presto:tiny> ");
    t.line("SELECT custkey FROM customer ORDER BY custkey LIMIT 100;");
    t.wait(60, "less", |s| {
        s.contains("      30") && last_line(s) == ":"
    });
    t.keys(&["q"]);
    t.wait(10, "the prompt after less", |s| {
        last_line(s) == "presto:tiny>"
    });
    // A pager that does not exist: plain output and a warning.
    let t = Term::start(
        &["--server", &server, "--catalog", "tpch", "--schema", "tiny"],
        &[
            ("PRESTO_HISTORY_FILE", ""),
            ("PRESTO_PAGER", "/nonexistent/pager"),
        ],
    );
    t.wait_for(30, "presto:tiny> ");
    t.line("SELECT custkey FROM customer ORDER BY custkey LIMIT 100;");
    let s = t.wait_for(60, "(100 rows)");
    assert!(s.contains("pager '/nonexistent/pager' cannot run"), "{s}");
}

/// A result of 6M rows shows its first page at once (tables come in batches), and
/// quitting the pager cancels the rest of the query on the server.
#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_shell_big_result_pages_at_once_and_quitting_cancels() {
    let server = env("PRESTO_SERVER");
    let source = format!("presto-q-shell-pager-{}", std::process::id());
    let t = Term::start(
        &["--server", &server, "--source", &source],
        &[("PRESTO_HISTORY_FILE", "")],
    );
    t.wait_for(30, "presto> ");
    t.line("SELECT orderkey, linenumber, comment FROM tpch.sf1.lineitem;");
    // less paints its first page line by line: wait for the header and its prompt in one capture.
    t.wait(60, "less's first page", |s| {
        s.contains(" orderkey | linenumber |") && last_line(s) == ":"
    });
    assert_eq!(
        query_state(&server, "trino", &source),
        "RUNNING\t\n",
        "the query should still run"
    );
    // Ctrl-C in the pager, even twice, must not end the shell (batch mode's second
    // Ctrl-C kills at once).
    t.keys(&["C-c", "C-c"]);
    // less drops keys typed before it handled the interrupt: `q` until it is gone.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !t.last_line().starts_with("presto>") {
        assert!(
            Instant::now() < deadline,
            "less did not quit:\n{}",
            t.screen()
        );
        t.keys(&["q"]);
        std::thread::sleep(Duration::from_millis(300));
    }
    // A `q` that came after less quit is cleared by Ctrl-C at the prompt.
    t.keys(&["C-c"]);
    t.wait(10, "an empty prompt", |s| last_line(s) == "presto>");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = query_state(&server, "trino", &source);
        if state.starts_with("FAILED\tUSER_CANCELED") {
            break;
        }
        assert!(Instant::now() < deadline, "not canceled: {state}");
        std::thread::sleep(Duration::from_millis(100));
    }
    t.line("SELECT 'still' || ' alive';");
    t.wait_for(60, "still alive");
}

/// Ctrl-C at the prompt drops the line (and an unfinished statement); Ctrl-R finds a
/// statement of an earlier session in the history file.
#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_shell_ctrl_c_clears_and_ctrl_r_searches_the_history() {
    let server = env("PRESTO_SERVER");
    let dir = tempfile::tempdir().unwrap();
    let history = history_in(dir.path());
    std::fs::write(
        &history,
        "SELECT 'from an earlier session' AS earlier;\nSELECT 2;\n",
    )
    .unwrap();
    let t = Term::start(
        &["--server", &server],
        &[("PRESTO_HISTORY_FILE", &history), ("PRESTO_PAGER", "")],
    );
    t.wait_for(30, "presto> ");
    t.type_text("SELECT no_such_column");
    t.wait_for(10, "SELECT no_such_column");
    t.keys(&["C-c"]);
    // rustyline drops what was typed ahead of its Ctrl-C handling: wait for the new prompt.
    t.wait(10, "a new prompt", |s| last_line(s) == "presto>");
    t.line("SELECT 1");
    t.wait_for(10, "     -> ");
    t.keys(&["C-c"]);
    t.wait(10, "the first prompt again", |s| last_line(s) == "presto>");
    t.line("SELECT 'clean' || ' line';");
    let s = t.wait_for(60, "clean line");
    assert!(!s.contains("no_such_column'"), "the dropped line ran: {s}");
    t.keys(&["C-r"]);
    t.type_text("earlier sess");
    t.wait_for(10, "SELECT 'from an earlier session' AS earlier;");
    t.keys(&["Enter"]);
    t.wait_for(60, " from an earlier session\n(1 row)");
    t.line("quit");
    t.wait_for(10, "EXIT=0");
}
