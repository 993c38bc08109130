//! Helpers for cross-tool tests: find the built binaries, run shell pipelines,
//! compare JSON rows, and require the live services' environment.

pub mod corrupt;
pub mod tmux;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The folder holding the release binaries (`$LAKEPIPE_BIN`, else next to this test).
pub fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("LAKEPIPE_BIN") {
        return PathBuf::from(d);
    }
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .to_path_buf()
}

/// The repository root.
pub fn root() -> PathBuf {
    // At run time first (cargo test and tests/live.sh set it): cargo shares a build between
    // checkouts of the workspace, so the compile-time path can name another checkout.
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    dir.parent().expect("workspace root").to_path_buf()
}

/// Run a shell command with the binaries first on PATH; panics with stderr on failure.
pub fn sh(cmd: &str) -> String {
    let out = sh_output(cmd);
    assert!(
        out.status.success(),
        "`{cmd}` failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Run a shell command with the binaries first on PATH.
pub fn sh_output(cmd: &str) -> Output {
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("bash")
        .args(["-o", "pipefail", "-c", cmd])
        .env("PATH", path)
        .current_dir(root())
        .output()
        .expect("bash")
}

/// An environment variable written by services/up.sh; a live test fails (never skips)
/// without it.
pub fn live_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: start the services (make services-up) and `source services/.state/env.sh`, or run make test")
    })
}

/// JSON lines -> values.
pub fn parse_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Normalize for comparison across tools: object keys without null values (a missing
/// field and a null are the same row), every number as f64.
pub fn normalize(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), normalize(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::Number(n) => serde_json::json!(n.as_f64()),
        other => other.clone(),
    }
}

/// Assert two row lists are equal after [`normalize`], showing the first difference.
pub fn assert_same_rows(left: &[Value], right: &[Value], what: &str) {
    assert_eq!(left.len(), right.len(), "{what}: row counts differ");
    for (i, (a, b)) in left.iter().zip(right).enumerate() {
        let (a, b) = (normalize(a), normalize(b));
        assert_eq!(a, b, "{what}: row {i} differs");
    }
}

/// An address that accepts connections (the kernel completes the handshake) and never
/// answers, as a hung service does, for as long as the listener lives.
pub fn silent_address() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    (listener, addr)
}

/// The stderr of a run that must fail (exit 1) within `limit`: a tool giving up on a
/// silent address after its `--timeout`.
pub fn fails_within(limit: Duration, run: impl FnOnce() -> Output) -> String {
    let started = Instant::now();
    let out = run();
    let took = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(took < limit, "took {took:?}: {err}");
    err
}

/// Poll `done` every 100 ms until it holds; panic naming `what` after `limit`. Tests wait
/// for a condition with a deadline, never sleep a fixed time before an assertion.
pub fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out after {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
