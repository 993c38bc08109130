//! kcat-lite through its binary, without a broker: help, usage errors, an unreachable broker.

use std::time::{Duration, Instant};

use predicates::prelude::*;

fn kcat_lite() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("kcat-lite").unwrap();
    c.env_remove("KAFKA_BROKERS").env_remove("KCAT_CONFIG");
    c.env("HOME", "/nonexistent");
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
    // a producer is not a stream: --retry-for is refused, not silently ignored
    kcat_lite()
        .args(["-b", "127.0.0.1:1", "-P", "-t", "x", "--retry-for", "5m"])
        .write_stdin("a\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--retry-for applies to -C and -G"));
}

#[test]
fn unreachable_broker_fails_within_timeout_naming_it() {
    for mode in [
        &["-C", "-t", "x"][..],
        &["-P", "-t", "x"],
        &["-L"],
        &["--create-topic", "x"],
        // a stream's first metadata fetch fails fast too: --retry-for is for outages
        // after the stream reached its brokers once
        &["-G", "g", "x"],
        &["-C", "-t", "x", "--retry-for", "5m"],
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

/// kcat's order: -F, else $KCAT_CONFIG, else ~/.config/kcat.conf; -X wins over all.
/// (A bad security.protocol shows which file was read, without a broker.)
#[test]
fn config_files_are_read_in_kcats_order_and_x_wins() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let write = |path: &std::path::Path, proto: &str| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text =
            format!("# a comment\n\nsecurity.protocol = {proto}\nsasl.password=hunter2-secret\n");
        std::fs::write(path, text).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    };
    let home_conf = home.path().join(".config/kcat.conf");
    let env_conf = home.path().join("env.conf");
    let f_conf = home.path().join("f.conf");
    write(&home_conf, "from_home");
    write(&env_conf, "from_env");
    write(&f_conf, "from_f");
    let run = |env: bool, f: bool, x: bool| {
        let mut c = kcat_lite();
        c.env("HOME", home.path())
            .args(["-b", "127.0.0.1:1", "--timeout", "1", "-L"]);
        if env {
            c.env("KCAT_CONFIG", &env_conf);
        }
        if f {
            c.arg("-F").arg(&f_conf);
        }
        if x {
            c.args(["-X", "security.protocol=plaintext"]);
        }
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(!err.contains("warning"), "{err}");
        err
    };
    assert!(run(false, false, false).contains("from_home"));
    assert!(run(true, false, false).contains("from_env"));
    assert!(run(true, true, false).contains("from_f"));
    assert!(run(true, true, true).contains("cannot reach Kafka broker(s) 127.0.0.1:1"));
    // ~/.config/kafkacat.conf, the older name, when there is no kcat.conf
    std::fs::rename(&home_conf, home.path().join(".config/kafkacat.conf")).unwrap();
    assert!(run(false, false, false).contains("from_home"));
}

#[test]
fn a_config_file_others_can_read_gets_a_warning_and_secrets_stay_hidden() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("kcat.conf");
    std::fs::write(
        &conf,
        "sasl.password=hunter2-secret\nsasl.password hunter2-secret\n",
    )
    .unwrap();
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = kcat_lite().arg("-F").arg(&conf).arg("-L").output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("is readable by group or others (mode 0644)"),
        "{err}"
    );
    assert!(err.contains("kcat.conf:2: expected prop=value"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    let out = kcat_lite()
        .args(["-X", "sasl.password hunter2-secret", "-L"])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    // a missing $KCAT_CONFIG is an error naming it
    kcat_lite()
        .env("KCAT_CONFIG", dir.path().join("missing.conf"))
        .arg("-L")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("missing.conf"));
}

#[test]
fn a_sasl_mechanism_not_built_in_is_named() {
    kcat_lite()
        .args([
            "-b",
            "127.0.0.1:1",
            "-L",
            "-X",
            "security.protocol=SASL_SSL",
        ])
        .args([
            "-X",
            "sasl.mechanism=AWS_MSK_IAM",
            "-X",
            "sasl.password=hunter2",
        ])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("SASL mechanism AWS_MSK_IAM is not supported")
                .and(predicate::str::contains("hunter2").not()),
        );
}
