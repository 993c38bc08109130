//! Interop with independent engines: files written by pyarrow and DuckDB, read by pq-cat,
//! must give the values pyarrow reads. Needs the services' Python (pyarrow, duckdb):
//! `LAKEPIPE_PYTHON=... cargo test --profile ci -p pq-cat --test live -- --ignored`.

use std::path::PathBuf;
use std::process::Command;

fn python() -> String {
    match std::env::var("LAKEPIPE_PYTHON") {
        Ok(p) if !p.is_empty() => p,
        _ => panic!(
            "LAKEPIPE_PYTHON is not set: run make services-up / source services/.state/env.sh \
             (a Python with pyarrow and duckdb)"
        ),
    }
}

fn script() -> PathBuf {
    lakepipe_tests::root().join("pq-cat/tests/live/interop.py")
}

fn run_ok(cmd: &mut Command, what: &str) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Write a KIND file with Python, print it with pq-cat, and compare with pyarrow.
fn same_as_pyarrow(kind: &str) {
    let py = python();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{kind}.parquet"));
    run_ok(
        Command::new(&py)
            .arg(script())
            .args(["gen", kind])
            .arg(&file),
        &format!("writing {kind}"),
    );
    let jsonl = run_ok(
        Command::new(assert_cmd::cargo::cargo_bin("pq-cat")).arg(&file),
        "pq-cat",
    );
    let out = dir.path().join("out.jsonl");
    std::fs::write(&out, jsonl).unwrap();
    run_ok(
        Command::new(&py)
            .arg(script())
            .arg("check")
            .arg(&file)
            .arg(&out),
        &format!("comparing {kind}"),
    );
    // Every format reads the same file without error.
    for format in ["csv", "tsv", "table"] {
        run_ok(
            Command::new(assert_cmd::cargo::cargo_bin("pq-cat"))
                .args(["--format", format])
                .arg(&file),
            format,
        );
    }
    let schema = run_ok(
        Command::new(assert_cmd::cargo::cargo_bin("pq-cat"))
            .arg("--schema")
            .arg(&file),
        "--schema",
    );
    assert!(!schema.is_empty());
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_pyarrow_every_type() {
    same_as_pyarrow("every_type");
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_pyarrow_int96_timestamps() {
    same_as_pyarrow("int96");
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_pyarrow_legacy_list_encoding() {
    same_as_pyarrow("legacy_list");
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_pyarrow_without_arrow_schema() {
    same_as_pyarrow("no_arrow_schema");
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_pyarrow_zstd_v2_pages_small_row_groups() {
    same_as_pyarrow("codecs");
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_pyarrow_gzip_v1() {
    same_as_pyarrow("gzip_v1");
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_duckdb_file() {
    same_as_pyarrow("duckdb");
}
