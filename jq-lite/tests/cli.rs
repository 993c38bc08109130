//! jq-lite through its binary: bad lines, flattening, flags, exit codes, pipes.

use assert_cmd::Command;
use predicates::prelude::*;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

fn jq_lite() -> Command {
    let mut cmd = Command::cargo_bin("jq-lite").unwrap();
    cmd.env_remove("JQ_COLORS");
    cmd
}

/// jq-lite ARGS on `stdin` succeeds and prints `want`.
fn prints(args: &[&str], stdin: &str, want: &str) {
    jq_lite()
        .args(args)
        .write_stdin(stdin)
        .assert()
        .success()
        .stdout(want.to_string());
}

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `n` lines `{"i":1}`..`{"i":n}`, with the given 1-based lines replaced.
fn lines_with(n: usize, replace: &[(usize, &str)]) -> String {
    let mut s = String::new();
    for i in 1..=n {
        match replace.iter().find(|(at, _)| *at == i) {
            Some((_, text)) => s.push_str(text),
            None => s.push_str(&format!("{{\"i\":{i}}}")),
        }
        s.push('\n');
    }
    s
}

#[test]
fn skip_invalid_reports_each_bad_line_and_keeps_the_good_ones() {
    let input = lines_with(6, &[(2, "not json"), (4, ""), (5, r#"{"i": }"#)]);
    let out = jq_lite()
        .args(["--skip-invalid", ".i"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_of(&out), "1\n3\n6\n");
    assert_eq!(
        stderr_of(&out),
        "jq-lite: warning: <stdin>:2: invalid JSON at column 1: expected a value\n\
         jq-lite: warning: <stdin>:5: invalid JSON at column 7: expected a value\n\
         jq-lite: skipped 2 invalid lines\n"
    );
}

#[test]
fn skip_invalid_line_numbers_hold_across_chunks_and_files() {
    // large enough to be cut into many chunks processed by several threads
    let n = 120_000;
    let bad = [(1, "{"), (65_537, "[1,]"), (n, "tru")];
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.jsonl");
    std::fs::write(&a, lines_with(n, &bad)).unwrap();
    let b = dir.path().join("b.jsonl");
    std::fs::write(&b, lines_with(3, &[(3, "x")])).unwrap();
    let out = jq_lite()
        .args(["--skip-invalid", "-q", "--threads", "2", ".i"])
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = stdout_of(&out);
    assert_eq!(stdout.lines().count(), n - 3 + 2);
    assert!(stdout.starts_with("2\n3\n"));
    assert!(stdout.ends_with(&format!("{}\n1\n2\n", n - 1)));
    // -q: no warning per line, the count remains
    assert_eq!(stderr_of(&out), "jq-lite: skipped 4 invalid lines\n");

    let out = jq_lite()
        .args(["--skip-invalid", ".i"])
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    let err = stderr_of(&out);
    let a_name = a.display().to_string();
    let b_name = b.display().to_string();
    for want in [
        format!("{a_name}:1: "),
        format!("{a_name}:65537: "),
        format!("{a_name}:{n}: "),
        format!("{b_name}:3: "),
    ] {
        assert!(
            err.contains(&format!("jq-lite: warning: {want}")),
            "missing {want} in {err}"
        );
    }
}

#[test]
fn without_skip_invalid_the_run_stops_at_the_first_bad_line() {
    let input = lines_with(5, &[(4, "oops"), (5, "also bad")]);
    let out = jq_lite().arg(".i").write_stdin(input).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout_of(&out), "1\n2\n3\n");
    assert_eq!(
        stderr_of(&out),
        "jq-lite: error: <stdin>:4: invalid JSON at column 1: expected a value (use --skip-invalid to skip such lines)\n"
    );

    // the same far into a large input: every earlier result is written
    let n = 100_000;
    let out = jq_lite()
        .args(["--threads", "2", "-c", "."])
        .write_stdin(lines_with(n, &[(70_001, "{\"i\":")]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = stdout_of(&out);
    assert_eq!(stdout.lines().count(), 70_000);
    assert!(stdout.ends_with("{\"i\":70000}\n"));
    assert!(
        stderr_of(&out).contains("<stdin>:70001: invalid JSON at column 6: unexpected end of line")
    );
}

#[test]
fn empty_input_gives_empty_output() {
    for input in ["", "\n\n  \n"] {
        let out = jq_lite().arg(".").write_stdin(input).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(out.stdout.is_empty() && out.stderr.is_empty());
    }
    let out = jq_lite()
        .args(["-s", "."])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(stdout_of(&out), "[]\n");
}

#[test]
fn flatten_joins_nested_keys_and_keeps_arrays() {
    let input = r#"{"id":1,"user":{"id":7,"geo":{"cc":"DE"}},"tags":[{"a":{"b":1}}],"e":{}}"#;
    prints(
        &["--flatten", "."],
        input,
        "{\"id\":1,\"user_id\":7,\"user_geo_cc\":\"DE\",\"tags\":[{\"a\":{\"b\":1}}],\"e\":{}}\n",
    );
    prints(
        &["--flatten=.", "-c", "{id, cc: .\"user.geo.cc\"}"],
        input,
        "{\"id\":1,\"cc\":\"DE\"}\n",
    );
}

/// The rejected line leaves nothing behind: no `a_b` key in any output.
#[test]
fn flatten_collision_line_leaves_no_key() {
    let input = "{\"id\":1,\"a_b\":1,\"a\":{\"b\":2}}\n{\"id\":2,\"a\":{\"c\":3}}\n";
    let out = jq_lite()
        .args(["--flatten", "--skip-invalid", "-c", "."])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_of(&out), "{\"id\":2,\"a_c\":3}\n");
    assert!(
        stderr_of(&out).contains("<stdin>:1: --flatten: key \"a_b\" occurs twice after flattening")
    );
}

#[test]
fn flatten_collisions_are_bad_lines() {
    let input = "{\"a\":{\"b\":1}}\n{\"a_b\":1,\"a\":{\"b\":2}}\n{\"a\":{\"b\":3}}\n";
    let out = jq_lite()
        .args(["--flatten", "-c", "."])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout_of(&out), "{\"a_b\":1}\n");
    assert!(
        stderr_of(&out).contains("<stdin>:2: --flatten: key \"a_b\" occurs twice after flattening")
    );

    let out = jq_lite()
        .args(["--flatten", "--skip-invalid", "-c", "."])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_of(&out), "{\"a_b\":1}\n{\"a_b\":3}\n");
    assert!(stderr_of(&out).contains("jq-lite: warning: <stdin>:2: --flatten: key \"a_b\""));

    // another separator keeps both
    prints(
        &["--flatten=.", "."],
        input,
        "{\"a.b\":1}\n{\"a_b\":1,\"a.b\":2}\n{\"a.b\":3}\n",
    );
    jq_lite()
        .args(["--flatten=", "."])
        .write_stdin(input)
        .assert()
        .code(2);
}

#[test]
fn raw_output_arg_null_input_and_slurp() {
    let input = "{\"t\":\"a\\tb\",\"n\":1}\n{\"t\":\"c\",\"n\":2}\n";
    prints(&["-r", ".t"], input, "a\tb\nc\n");
    prints(&["-r", "[.n, .t] | @csv"], input, "1,\"a\tb\"\n2,\"c\"\n");
    jq_lite()
        .args([
            "--arg",
            "want",
            "c",
            "--argjson",
            "k",
            "{\"x\":[1]}",
            "select(.t == $want) | [.n, $k.x[0]]",
        ])
        .write_stdin(input)
        .assert()
        .success()
        .stdout("[2,1]\n");
    prints(&["-n", "1 + 2"], input, "3\n");
    prints(&["-n", "[inputs.n] | add"], input, "3\n");
    prints(&["-s", "map(.n)"], input, "[1,2]\n");
    prints(&["-n", "-s", "input | length"], input, "2\n");
}

#[test]
fn numbers_keep_their_text_computed_ones_print_like_jq() {
    jq_lite()
        .arg(".")
        .write_stdin("{\"p\":161.0,\"q\":1E2,\"r\":-0.50,\"big\":123456789012345678901234567890}\n")
        .assert()
        .success()
        .stdout("{\"p\":161.0,\"q\":1E2,\"r\":-0.50,\"big\":123456789012345678901234567890}\n");
    jq_lite()
        .args([
            "-n",
            "[10 / 2, 0.1 + 0.2, 1e50 * 1e50, 1 / 3, nan, 1e-3 / 100]",
        ])
        .assert()
        .success()
        .stdout("[5,0.30000000000000004,1.0000000000000002e+100,0.3333333333333333,null,1e-05]\n");
}

#[test]
fn filter_errors_name_the_line_and_the_run_goes_on() {
    let input = "{\"a\":1}\n{\"a\":\"x\"}\n{\"a\":3}\n";
    let out = jq_lite().arg(".a + 1").write_stdin(input).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout_of(&out), "2\n4\n");
    let err = stderr_of(&out);
    assert!(err.starts_with("jq-lite: error: <stdin>:2: "), "{err}");
    assert!(
        err.ends_with("jq-lite: error: the filter failed on 1 input\n"),
        "{err}"
    );
}

#[test]
fn halt_writes_what_came_before_and_exits_with_its_code() {
    let input = "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n";
    jq_lite()
        .arg("if .a == 2 then halt else .a end")
        .write_stdin(input)
        .assert()
        .code(0)
        .stdout("1\n");
    jq_lite()
        .arg(".a, (select(.a == 2) | halt_error(3))")
        .write_stdin(input)
        .assert()
        .code(3)
        .stdout("1\n2\n");
    jq_lite()
        .args(["-n", "input.a, halt_error"])
        .write_stdin(input)
        .assert()
        .code(5)
        .stdout("1\n");
}

#[test]
fn usage_errors_exit_2() {
    jq_lite()
        .arg("--no-such-flag")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--no-such-flag"));
    jq_lite()
        .arg(".a | ")
        .write_stdin("{}")
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::starts_with(
            "jq-lite: error: invalid filter: expected term at column 6",
        ));
    jq_lite()
        .arg("nosuchfn(1)")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "undefined filter nosuchfn/1 at column 1",
        ));
    jq_lite()
        .args(["--argjson", "x", "{", "."])
        .assert()
        .code(2);
    jq_lite()
        .arg(".")
        .arg("/no/such/file.jsonl")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot open /no/such/file.jsonl"));
}

#[test]
fn help_has_examples_and_version_works() {
    jq_lite()
        .arg("--help")
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Examples:").and(predicate::str::contains("jq-lite -r --arg")),
        )
        .stdout(predicate::str::contains("Key collisions"));
    jq_lite()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("jq-lite "));
}

#[test]
fn closed_stdout_ends_quietly_with_0() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.jsonl");
    let mut f = std::fs::File::create(&path).unwrap();
    for i in 0..300_000 {
        writeln!(
            f,
            "{{\"i\":{i},\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}"
        )
        .unwrap();
    }
    drop(f);
    // parallel workers, and the sequential path of `inputs`
    for extra in [&["."][..], &["-n", "inputs"][..]] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_jq-lite"))
            .args(extra)
            .arg(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(first.starts_with("{\"i\":0,"));
        // stdout is dropped (closed) here, like `| head -1`
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "args {extra:?}");
        assert_eq!(stderr_of(&out), "", "args {extra:?}");
    }
}

#[test]
fn stdin_dash_and_line_at_end_without_newline() {
    prints(&[".i", "-"], "{\"i\":1}\n{\"i\":2}", "1\n2\n");
}

/// A worker thread that panics ends the run with exit 1 and an error line; before, the
/// writer waited for its chunk forever.
#[test]
fn a_panicking_worker_is_an_error_not_a_hang() {
    for threads in ["1", "2"] {
        jq_lite()
            .env("LAKEPIPE_FAILPOINT", "worker-panic")
            .args(["--threads", threads, ".i"])
            .write_stdin(lines_with(1000, &[]))
            .timeout(std::time::Duration::from_secs(60))
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "jq-lite: error: a jq-lite worker panicked: failpoint worker-panic",
            ));
    }
}
