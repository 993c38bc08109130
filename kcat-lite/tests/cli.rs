//! kcat-lite through its binary, without a broker: help, usage errors, an unreachable broker.

use std::time::{Duration, Instant};

use predicates::prelude::*;

fn kcat_lite() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("kcat-lite").unwrap();
    c.env_remove("KAFKA_BROKERS");
    c.timeout(Duration::from_secs(60));
    c
}

#[test]
fn help_has_examples_and_version_works() {
    kcat_lite()
        .arg("--help")
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Examples:").and(predicate::str::contains(
                "kcat-lite -b localhost:9092 -t events -C -e",
            )),
        );
    // options are grouped as kcat groups them
    let help = kcat_lite().arg("-h").output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let at = |s: &str| {
        help.find(s)
            .unwrap_or_else(|| panic!("{s} missing:\n{help}"))
    };
    assert!(at("Consumer options:") < at("  -o <OFFSET>"), "{help}");
    assert!(at("Producer options:") < at("  -H <NAME=VALUE>"), "{help}");
    assert!(at("Consumer and producer options:") < at("  -J "), "{help}");
    assert!(at("  -H <NAME=VALUE>") < at("Consumer and producer options:"));
    kcat_lite()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("kcat-lite "));
}

#[test]
fn bad_flags_exit_2() {
    kcat_lite().arg("--no-such-flag").assert().code(2);
    kcat_lite().args(["-C", "-P", "-t", "x"]).assert().code(2);
    kcat_lite()
        .args(["-C", "-t", "x", "-o", "sometime"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("-o sometime"));
    kcat_lite()
        .args(["-b", "127.0.0.1:1", "-C", "-t", "x", "-f", "%x"])
        .assert()
        .code(2);
    kcat_lite()
        .args(["-C", "-t", "x", "-X", "novalue"])
        .assert()
        .code(2);
    kcat_lite()
        .args(["-Q", "-t", "x:notanumber:1"])
        .assert()
        .code(2);
    kcat_lite().args(["-G", "g"]).assert().code(2);
}

#[test]
fn unreachable_broker_fails_within_timeout_naming_it() {
    for mode in [
        &["-C", "-t", "x"][..],
        &["-P", "-t", "x"],
        &["-L"],
        &["--create-topic", "x"],
    ] {
        let start = Instant::now();
        kcat_lite()
            .args(["-b", "127.0.0.1:1", "--timeout", "2"])
            .args(mode)
            .write_stdin("a\n")
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "kcat-lite: error: cannot reach Kafka broker(s) 127.0.0.1:1",
            ));
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{mode:?} took {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn default_timeout_is_30_seconds() {
    use clap::Parser;
    let a = kcat_lite::Args::try_parse_from(["kcat-lite", "-C", "-t", "x"]).unwrap();
    assert_eq!(a.timeout(), Duration::from_secs(30));
}

#[test]
fn silent_broker_fails_within_timeout_naming_it() {
    // librdkafka connects, then waits for replies.
    let (_silent, addr) = lakepipe_tests::silent_address();
    for mode in [&["-C", "-t", "x"][..], &["-P", "-t", "x"], &["-L"]] {
        let err = lakepipe_tests::fails_within(Duration::from_secs(20), || {
            let mut run = kcat_lite();
            run.args(["-b", &addr, "--timeout", "2"]).args(mode);
            run.write_stdin("a\n").output().unwrap()
        });
        let want = format!("kcat-lite: error: cannot reach Kafka broker(s) {addr}");
        assert!(err.contains(&want), "{mode:?}: {err}");
    }
}
