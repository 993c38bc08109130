//! presto-q on its own: flags, usage errors, unreachable servers, and the error paths a
//! real coordinator cannot produce on demand (503 retries), against a tiny local fake.
//! Everything that talks to Trino or PrestoDB is in tests/live.rs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;

/// presto-q with the environment variables it reads cleared.
fn presto_q() -> Command {
    let mut cmd = Command::cargo_bin("presto-q").unwrap();
    cmd.env_remove("PRESTO_SERVER")
        .env_remove("PRESTO_PASSWORD")
        .env_remove("TRINO_PASSWORD")
        .env_remove("PRESTO_ACCESS_TOKEN")
        .env_remove("TRINO_ACCESS_TOKEN")
        .env("USER", "tester");
    cmd.timeout(Duration::from_secs(60));
    cmd
}

#[test]
fn help_shows_examples_and_version_works() {
    presto_q()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:").and(predicate::str::contains("pq-write")));
    presto_q()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("presto-q "));
}

#[test]
fn bad_flags_exit_2() {
    presto_q().arg("--no-such-flag").assert().code(2);
    presto_q()
        .args(["--output-format", "xml", "SELECT 1"])
        .assert()
        .code(2);
    presto_q()
        .args(["--session", "novalue", "SELECT 1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("NAME=VALUE"));
    presto_q()
        .args(["--server", "localhost:8080", "SELECT 1"])
        .assert()
        .code(2);
    presto_q()
        .args(["--timeout", "0", "SELECT 1"])
        .assert()
        .code(2);
    // Only blanks and comments: nothing to run.
    presto_q()
        .write_stdin("  ; -- nothing\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no SQL statement"));
}

#[test]
fn password_is_refused_over_plain_http() {
    presto_q()
        .env("PRESTO_PASSWORD", "secret")
        .args(["--server", "http://127.0.0.1:1", "SELECT 1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs https"));
}

/// A port nobody listens on: bind, note the port, close.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0ZXIifQ.c2VjcmV0LXNpZ25hdHVyZQ";

#[test]
fn access_token_is_refused_over_plain_http_without_showing_it() {
    presto_q()
        .args([
            "--server",
            "http://127.0.0.1:1",
            "--access-token",
            TOKEN,
            "SELECT 1",
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains(
                "an access token is given but http://127.0.0.1:1 is not https",
            )
            .and(predicate::str::contains("c2VjcmV0").not()),
        );
    for var in ["PRESTO_ACCESS_TOKEN", "TRINO_ACCESS_TOKEN"] {
        presto_q()
            .env(var, TOKEN)
            .args(["--server", "http://127.0.0.1:1", "SELECT 1"])
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains("needs https")
                    .and(predicate::str::contains("c2VjcmV0").not()),
            );
    }
}

#[test]
fn password_flag_needs_https_and_a_terminal_or_a_variable() {
    presto_q()
        .args(["--server", "http://127.0.0.1:1", "--password", "SELECT 1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--password needs an https server"));
    let url = format!("https://127.0.0.1:{}", closed_port());
    // stdin is a pipe here: nothing to ask on.
    presto_q()
        .args(["--server", &url, "--password", "SELECT 1"])
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--password: stdin is not a terminal to ask for the password on: set PRESTO_PASSWORD",
        ));
    // A variable answers instead of the prompt: the run goes on to the (absent) server.
    for var in ["PRESTO_PASSWORD", "TRINO_PASSWORD"] {
        presto_q()
            .env(var, "pw-secret")
            .args(["--server", &url, "--password", "SELECT 1"])
            .assert()
            .code(1)
            .stderr(
                predicate::str::contains(format!("cannot reach {url}"))
                    .and(predicate::str::contains("pw-secret").not()),
            );
    }
}

#[test]
fn one_kind_of_credentials() {
    presto_q()
        .args(["--password", "--access-token", TOKEN, "SELECT 1"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("cannot be used with")
                .and(predicate::str::contains("c2VjcmV0").not()),
        );
    presto_q()
        .env("PRESTO_PASSWORD", "pw-secret")
        .env("TRINO_ACCESS_TOKEN", TOKEN)
        .args(["--server", "https://127.0.0.1:1", "SELECT 1"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("both PRESTO_PASSWORD and TRINO_ACCESS_TOKEN are set")
                .and(predicate::str::contains("pw-secret").not())
                .and(predicate::str::contains("c2VjcmV0").not()),
        );
    // trino-cli's password variable alone is not sent (as with trino-cli, without
    // --password): plain http is then fine.
    let url = format!("http://127.0.0.1:{}", closed_port());
    presto_q()
        .env("TRINO_PASSWORD", "pw-secret")
        .args(["--server", &url, "SELECT 1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!("cannot reach {url}")));
}

#[test]
fn help_names_the_variables_and_never_a_token() {
    presto_q()
        .env("TRINO_ACCESS_TOKEN", TOKEN)
        .env("PRESTO_PASSWORD", "pw-secret")
        .arg("--help")
        .assert()
        .success()
        .stdout(
            predicate::str::contains("$PRESTO_ACCESS_TOKEN")
                .and(predicate::str::contains("(ps)"))
                .and(predicate::str::contains("c2VjcmV0").not())
                .and(predicate::str::contains("pw-secret").not()),
        );
}

#[test]
fn refused_connection_names_the_server() {
    // A port nobody listens on: bind, note the port, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    presto_q()
        .args(["--server", &url, "SELECT 1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "presto-q: error: cannot reach {url}"
        )));
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn silent_server_times_out_naming_the_server() {
    // Accepts connections and never answers: the request must give up after --timeout.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let _hold = std::thread::spawn(move || {
        let mut open = Vec::new();
        for s in listener.incoming().flatten() {
            open.push(s);
        }
    });
    let started = Instant::now();
    presto_q()
        .args(["--server", &url, "--timeout", "2", "SELECT 1"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains(format!("cannot reach {url}"))
                .and(predicate::str::contains("--timeout")),
        );
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn default_timeout_bounds_an_unroutable_address() {
    // TEST-NET-1 (RFC 5737): never routed; the default 30 s must bound the wait.
    let started = Instant::now();
    presto_q()
        .args(["--server", "http://192.0.2.1:8080", "SELECT 1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot reach http://192.0.2.1:8080",
        ));
    assert!(started.elapsed() < Duration::from_secs(32));
}

/// Serve canned HTTP responses in order, one per request, on keep-alive connections.
/// `script` gets the fake's URL (for nextUri links). Returns the URL and a handle that
/// yields the raw requests received.
fn fake_server(
    script: impl FnOnce(&str) -> Vec<(u16, String)>,
) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut responses = script(&url).into_iter().peekable();
    let handle = std::thread::spawn(move || {
        let mut requests = Vec::new();
        'conns: for stream in listener.incoming() {
            let stream: TcpStream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            loop {
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        continue 'conns;
                    }
                    if line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                let len = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0usize);
                let mut body = vec![0; len];
                reader.read_exact(&mut body).unwrap();
                head.push_str(&String::from_utf8_lossy(&body));
                requests.push(head);
                let Some((status, body)) = responses.next() else {
                    break 'conns;
                };
                write!(
                    writer,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .unwrap();
                if responses.peek().is_none() {
                    break 'conns;
                }
            }
        }
        requests
    });
    (url, handle)
}

#[test]
fn unavailable_coordinator_is_retried() {
    let page = |next: Option<String>, data: &str| {
        let next = next.map_or(String::new(), |n| format!(r#""nextUri":"{n}","#));
        format!(
            r#"{{"id":"q1",{next}"columns":[{{"name":"x","type":"double","typeSignature":{{"rawType":"double","arguments":[]}}}}],"data":{data},"stats":{{"state":"RUNNING"}}}}"#
        )
    };
    let (url, handle) = fake_server(|url| {
        vec![
            (503, String::new()),
            (
                200,
                page(
                    Some(format!("{url}/v1/statement/executing/q1/x/1")),
                    "[[1e10]]",
                ),
            ),
            (502, String::new()),
            (200, page(None, "[[0.5]]")),
        ]
    });
    presto_q()
        .args([
            "--server",
            &url,
            "-q",
            "--output-format",
            "csv-header",
            "SELECT x",
        ])
        .assert()
        .success()
        .stdout("\"x\"\n\"1.0E10\"\n\"0.5\"\n");
    let requests = handle.join().unwrap();
    assert_eq!(requests.len(), 4);
    assert!(requests[0].starts_with("POST /v1/statement") && requests[0].ends_with("SELECT x"));
    assert!(requests[0]
        .to_ascii_lowercase()
        .contains("x-trino-user: tester"));
    assert!(requests[3].starts_with("GET /v1/statement/executing/q1/x/1"));
}

#[test]
fn http_errors_are_reported_with_status() {
    let (url, handle) = fake_server(|_| vec![(401, "Unauthorized".into())]);
    presto_q()
        .args(["--server", &url, "SELECT 1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "{url} requires a password: set PRESTO_PASSWORD (or pass --password to be asked) (401 Unauthorized)"
        )));
    handle.join().unwrap();
}
