//! kcat-lite over the broker's SASL_SSL listener (services/up.sh kafka: port 9094, a CA
//! made at first start, a test user for PLAIN, SCRAM-SHA-256/512; OAUTHBEARER with
//! unsecured tokens). Run: `cargo test --profile ci -p kcat-lite --test secure -- --ignored`.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lakepipe_tests::live_env;

/// A fresh name per test and run.
fn name(prefix: &str) -> String {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000;
    format!("{prefix}-{}-{t}", std::process::id())
}

/// The -X settings of one mechanism against the SASL_SSL listener.
fn sasl(mechanism: &str) -> Vec<String> {
    let mut x = vec![
        "security.protocol=SASL_SSL".to_string(),
        format!("ssl.ca.location={}", live_env("KAFKA_CA")),
        format!("sasl.mechanism={mechanism}"),
    ];
    if mechanism == "OAUTHBEARER" {
        // Kafka's default validator takes unsecured JWTs; librdkafka makes one
        x.push("enable.sasl.oauthbearer.unsecure.jwt=true".into());
        x.push(format!(
            "sasl.oauthbearer.config=principal={}",
            live_env("KAFKA_SASL_USER")
        ));
    } else {
        x.push(format!("sasl.username={}", live_env("KAFKA_SASL_USER")));
        x.push(format!("sasl.password={}", live_env("KAFKA_SASL_PASSWORD")));
    }
    x
}

/// `bin -b BROKERS -X p=v ... ARGS`, without a config file from the environment.
fn tool(bin: &str, brokers: &str, props: &[String], args: &[&str]) -> Command {
    let mut c = Command::new(bin);
    c.env_remove("KCAT_CONFIG").env("HOME", "/nonexistent");
    c.arg("-b").arg(brokers);
    for p in props {
        c.arg("-X").arg(p);
    }
    c.args(args);
    c
}

fn ours(props: &[String], args: &[&str]) -> Command {
    tool(
        env!("CARGO_BIN_EXE_kcat-lite"),
        &live_env("KAFKA_SASL_BROKERS"),
        props,
        args,
    )
}

/// Run with `stdin`; fail the test after `limit`.
fn run(mut c: Command, stdin: &[u8], limit: Duration) -> Output {
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut v = Vec::new();
        so.read_to_end(&mut v).unwrap();
        v
    });
    let t2 = std::thread::spawn(move || {
        let mut v = Vec::new();
        se.read_to_end(&mut v).unwrap();
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{c:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: t1.join().unwrap(),
        stderr: t2.join().unwrap(),
    }
}

fn ok(c: Command, stdin: &[u8]) -> String {
    let dbg = format!("{c:?}");
    let out = run(c, stdin, Duration::from_secs(60));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{dbg} failed: {:?}\n{err}",
        out.status
    );
    assert!(
        !err.contains(&live_env("KAFKA_SASL_PASSWORD")),
        "password on stderr: {err}"
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_every_mechanism_produces_and_consumes_over_sasl_ssl() {
    for mechanism in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] {
        let x = sasl(mechanism);
        let t = name(&format!("sec-{}", mechanism.to_lowercase()));
        ok(
            ours(&x, &["--create-topic", &t, "--partitions", "2", "-q"]),
            b"",
        );
        ok(
            ours(&x, &["-P", "-t", &t, "-K", "|", "-q"]),
            b"k1|one\nk2|two\nk3|three\n",
        );
        let got = ok(
            ours(&x, &["-C", "-t", &t, "-e", "-q", "-f", "%k=%s\\n"]),
            b"",
        );
        let mut got: Vec<&str> = got.lines().collect();
        got.sort();
        assert_eq!(got, ["k1=one", "k2=two", "k3=three"], "{mechanism}");
        let md = ok(ours(&x, &["-L", "-t", &t]), b"");
        assert!(
            md.contains(&format!("topic \"{t}\" with 2 partitions")),
            "{mechanism}: {md}"
        );
    }
}

/// Credentials in a config file (mode 600), as kcat users keep them: -F and $KCAT_CONFIG.
#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_config_file_carries_the_credentials_and_resume_from_works() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("kcat.conf");
    std::fs::write(
        &conf,
        format!("# SCRAM\n{}\n", sasl("SCRAM-SHA-512").join("\n")),
    )
    .unwrap();
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o600)).unwrap();
    let f = conf.to_str().unwrap();
    let t = name("sec-resume");
    ok(
        ours(
            &[],
            &["-F", f, "--create-topic", &t, "--partitions", "2", "-q"],
        ),
        b"",
    );
    let lines: String = (0..10).map(|i| format!("m{i}\n")).collect();
    ok(
        ours(&[], &["-F", f, "-P", "-t", &t, "-p", "0", "-q"]),
        lines.as_bytes(),
    );
    ok(
        ours(&[], &["-F", f, "-P", "-t", &t, "-p", "1", "-q"]),
        b"x0\n",
    );
    // the lake holds partition 0's offsets 0-5
    let lake = dir.path().join("lake");
    std::fs::create_dir_all(&lake).unwrap();
    std::fs::write(
        lake.join(format!("{t}+0+0000000000+0000000005.parquet")),
        b"",
    )
    .unwrap();
    let mut c = ours(&[], &["-G", &name("g"), &t, "-e", "-q", "-f", "%p:%o\\n"]);
    c.args(["--resume-from", lake.to_str().unwrap()])
        .env("KCAT_CONFIG", f);
    let out = ok(c, b"");
    let mut got: Vec<&str> = out.lines().collect();
    got.sort();
    assert_eq!(got, ["0:6", "0:7", "0:8", "0:9", "1:0"]);
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_json_envelope_is_byte_identical_to_kcat_over_sasl_ssl() {
    // PLAIN: Debian's kcat (librdkafka 2.0) fails SCRAM against Kafka 4 brokers
    // (librdkafka fixed it in 2.6.1)
    let x = sasl("PLAIN");
    let t = name("sec-json");
    ok(ours(&x, &["--create-topic", &t, "-q"]), b"");
    ok(
        ours(&x, &["-P", "-t", &t, "-K", "|", "-H", "h=v", "-q"]),
        b"k|{\"a\":1}\n|plain\nk2|\n",
    );
    let args = ["-C", "-t", &t, "-e", "-q", "-J"];
    let mine = ok(ours(&x, &args), b"");
    let kcat = tool(
        &live_env("LAKEPIPE_KCAT"),
        &live_env("KAFKA_SASL_BROKERS"),
        &x,
        &args,
    );
    let theirs = ok(kcat, b"");
    assert_eq!(mine.lines().count(), 3, "{mine}");
    assert_eq!(mine, theirs);
}

/// Each failure: exit 1 within --timeout, a message naming the broker and the cause, no
/// password anywhere.
fn fails(props: &[String], brokers: &str, want: &[&str]) {
    for mode in [&["-L"][..], &["-C", "-t", "x", "-e"], &["-P", "-t", "x"]] {
        let c = tool(env!("CARGO_BIN_EXE_kcat-lite"), brokers, props, mode);
        let mut c = c;
        c.args(["--timeout", "4"]);
        let start = Instant::now();
        let out = run(c, b"a\n", Duration::from_secs(30));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{mode:?}: {err}");
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{mode:?} took {:?}",
            start.elapsed()
        );
        assert!(err.starts_with("kcat-lite: error: "), "{err}");
        assert!(err.contains(brokers), "{mode:?}: broker not named: {err}");
        for w in want {
            assert!(err.contains(w), "{mode:?}: {w:?} missing: {err}");
        }
        assert!(!err.contains(&live_env("KAFKA_SASL_PASSWORD")), "{err}");
        assert!(!err.contains("wrong-password"), "{err}");
    }
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_wrong_password_fails_naming_the_broker() {
    for mechanism in ["PLAIN", "SCRAM-SHA-512"] {
        let mut x = sasl(mechanism);
        x.push("sasl.password=wrong-password".into());
        fails(
            &x,
            &live_env("KAFKA_SASL_BROKERS"),
            &["authentication failed", mechanism],
        );
    }
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_untrusted_certificate_fails_naming_the_ca() {
    // a CA of our own, which did not sign the broker's certificate
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("other-ca.pem");
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=other", "-keyout"])
        .arg(dir.path().join("k.pem"))
        .arg("-out")
        .arg(&ca)
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success());
    let mut x: Vec<String> = sasl("PLAIN");
    x.retain(|p| !p.starts_with("ssl.ca.location="));
    x.push(format!("ssl.ca.location={}", ca.display()));
    let ca = ca.to_str().unwrap();
    fails(
        &x,
        &live_env("KAFKA_SASL_BROKERS"),
        &["certificate verify failed", ca],
    );
    // none at all: the system's CAs
    x.pop();
    fails(
        &x,
        &live_env("KAFKA_SASL_BROKERS"),
        &["certificate verify failed", "system's default CA"],
    );
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_plaintext_to_the_tls_listener_and_back_fail_clearly() {
    fails(
        &[],
        &live_env("KAFKA_SASL_BROKERS"),
        &["closed the connection", "TLS listener"],
    );
    fails(
        &sasl("PLAIN"),
        &live_env("KAFKA_BROKERS"),
        &["TLS handshake", "plaintext listener"],
    );
}

#[test]
fn env_names_are_the_ones_services_write() {
    // services/lib.sh write_env: a rename there must show here
    let lib = std::fs::read_to_string(lakepipe_tests::root().join("services/lib.sh")).unwrap();
    for v in [
        "KAFKA_SASL_BROKERS",
        "KAFKA_CA",
        "KAFKA_SASL_USER",
        "KAFKA_SASL_PASSWORD",
    ] {
        assert!(lib.contains(&format!("export {v}=")), "{v}");
    }
}
