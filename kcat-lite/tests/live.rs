//! kcat-lite against the real Kafka broker (and kcat) started by services/up.sh.
//! Run: `cargo test --profile ci -p kcat-lite --test live -- --ignored`.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const START: &str = "start the services: make services-up; source services/.state/env.sh";

fn brokers() -> String {
    std::env::var("KAFKA_BROKERS")
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| panic!("KAFKA_BROKERS is not set: {START}"))
}

fn kcat_path() -> String {
    std::env::var("LAKEPIPE_KCAT")
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| panic!("LAKEPIPE_KCAT is not set: {START}"))
}

/// A fresh name per test and run.
fn name(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000;
    format!(
        "{prefix}-{}-{t}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn cmd(bin: &str, args: &[&str]) -> Command {
    let mut c = Command::new(bin);
    c.arg("-b").arg(brokers()).args(args);
    c
}

fn ours(args: &[&str]) -> Command {
    cmd(env!("CARGO_BIN_EXE_kcat-lite"), args)
}

fn kcat(args: &[&str]) -> Command {
    cmd(&kcat_path(), args)
}

/// Run with `stdin`, fail the test after 60 s.
fn run(mut c: Command, stdin: &[u8]) -> Output {
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = wait_output(child, Duration::from_secs(60));
    writer.join().unwrap();
    out
}

fn wait_output(mut child: Child, limit: Duration) -> Output {
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
            panic!("command did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: t1.join().unwrap(),
        stderr: t2.join().unwrap(),
    }
}

/// Run and require exit 0; returns stdout.
fn ok(c: Command, stdin: &[u8]) -> Vec<u8> {
    let dbg = format!("{c:?}");
    let out = run(c, stdin);
    assert!(
        out.status.success(),
        "{dbg} failed: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn text(b: Vec<u8>) -> String {
    String::from_utf8(b).expect("UTF-8 output")
}

fn create(topic: &str, partitions: u32) {
    ok(
        ours(&[
            "--create-topic",
            topic,
            "--partitions",
            &partitions.to_string(),
            "-q",
        ]),
        b"",
    );
}

/// Produce `lines` with kcat-lite and extra flags.
fn produce(topic: &str, extra: &[&str], lines: &str) {
    let mut args = vec!["-P", "-t", topic, "-q"];
    args.extend_from_slice(extra);
    ok(ours(&args), lines.as_bytes());
}

fn consume(topic: &str, extra: &[&str]) -> String {
    let mut args = vec!["-C", "-t", topic, "-e", "-q"];
    args.extend_from_slice(extra);
    text(ok(ours(&args), b""))
}

fn lines_sorted(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(str::to_string).collect();
    v.sort();
    v
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_interop_with_kcat_both_ways() {
    let fmt = "%p|%k|%s|%h\\n";
    // kcat-lite -> kcat
    let t = name("interop-a");
    create(&t, 3);
    produce(
        &t,
        &["-K", ":", "-H", "src=lab", "-H", "hnull"],
        "k1:v1\nk2:{\"a\":1}\nk3:v3 é\n:no key\n",
    );
    let by_kcat = text(ok(kcat(&["-C", "-t", &t, "-e", "-q", "-f", fmt]), b""));
    let by_ours = consume(&t, &["-f", fmt]);
    assert_eq!(lines_sorted(&by_kcat), lines_sorted(&by_ours));
    assert_eq!(by_kcat.lines().count(), 4);
    assert!(
        by_kcat.contains("|k2|{\"a\":1}|src=lab,hnull=NULL"),
        "{by_kcat}"
    );
    // kcat -> kcat-lite
    let t = name("interop-b");
    create(&t, 3);
    ok(
        kcat(&["-P", "-t", &t, "-K", ":", "-H", "h1=v1", "-H", "h1=dup"]),
        "a:1\nb:2\nc:3\n".as_bytes(),
    );
    let by_kcat = text(ok(kcat(&["-C", "-t", &t, "-e", "-q", "-f", fmt]), b""));
    let by_ours = consume(&t, &["-f", fmt]);
    assert_eq!(lines_sorted(&by_kcat), lines_sorted(&by_ours));
    // Same keys land in the same partitions (same default partitioner as kcat).
    let t2 = name("interop-c");
    create(&t2, 3);
    produce(
        &t2,
        &["-K", ":", "-H", "h1=v1", "-H", "h1=dup"],
        "a:1\nb:2\nc:3\n",
    );
    assert_eq!(
        lines_sorted(&by_ours),
        lines_sorted(&consume(&t2, &["-f", fmt]))
    );
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_json_is_byte_identical_to_kcat_for_text() {
    let t = name("json");
    create(&t, 3);
    let lines = "k1|{\"a\":1}\nk2|tab\there \"q\" back\\slash /é ✓\n|\nk4|\u{1}ctl\u{1f}\n";
    ok(
        kcat(&[
            "-P", "-t", &t, "-K", "|", "-Z", "-H", "h1=v1", "-H", "hnull", "-H", "h1=dup",
        ]),
        lines.as_bytes(),
    );
    ok(kcat(&["-P", "-t", &t, "-p", "2"]), b"no headers no key\n");
    let ours = consume(&t, &["-J"]);
    let theirs = text(ok(kcat(&["-C", "-t", &t, "-e", "-q", "-J"]), b""));
    assert_eq!(lines_sorted(&ours), lines_sorted(&theirs));
    assert_eq!(ours.lines().count(), 5);
    assert!(
        ours.contains(
            r#""headers":["h1","v1","hnull",null,"h1","dup"],"key":null,"payload":null}"#
        ),
        "{ours}"
    );
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_binary_payloads_are_valid_json() {
    let t = name("binary");
    create(&t, 1);
    produce(&t, &["-K", "|"], "k\u{1}|a\u{0}b\n");
    ok(
        ours(&["-P", "-t", &t, "-q", "-K", "|"]),
        b"bin\xfe|x\xffy\n",
    );
    let out = run(ours(&["-C", "-t", &t, "-e", "-J"]), b"");
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).expect("valid UTF-8 even for binary payloads");
    let rows: Vec<serde_json::Value> = s
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows[0]["payload"], "a\u{0}b");
    assert_eq!(rows[1]["payload"], "x\u{fffd}y");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1 messages had bytes that are not UTF-8")
    );
    let b64 = consume(&t, &["-J", "--binary", "base64"]);
    let rows: Vec<serde_json::Value> = b64
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows[1]["payload"], "eP95"); // base64 of x\xffy
    assert_eq!(rows[1]["key"], "Ymlu/g==");
    // And back: -P -J --binary base64 restores the bytes.
    let t2 = name("binary-copy");
    create(&t2, 1);
    produce(&t2, &["-J", "--binary", "base64"], &b64);
    let raw = ok(ours(&["-C", "-t", &t2, "-e", "-q", "-f", "%k|%s\\n"]), b"");
    assert_eq!(raw, b"k\x01|a\x00b\nbin\xfe|x\xffy\n");
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_payload_json_embeds_objects() {
    let t = name("pjson");
    create(&t, 1);
    produce(&t, &[], "{\"a\":1,\"b\":[true,null]}\nnot json\n[1,2]\n");
    let out = consume(&t, &["-J", "--payload-json"]);
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        rows[0]["payload"],
        serde_json::json!({"a": 1, "b": [true, null]})
    );
    assert_eq!(rows[1]["payload"], "not json");
    assert_eq!(rows[2]["payload"], serde_json::json!([1, 2]));
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_produce_from_envelope_keeps_keys_headers_partitions() {
    let t = name("env-src");
    create(&t, 3);
    for p in 0..3 {
        let p = p.to_string();
        produce(
            &t,
            &["-p", &p, "-K", "|", "-H", "part=p", "-H", "hnull"],
            &format!("k{p}|{{\"n\":{p}}}\nk{p}b|plain {p}\n"),
        );
    }
    produce(&t, &["-p", "1"], "no key no headers\n");
    let file = consume(&t, &["-J", "--payload-json"]);
    let copy = name("env-copy");
    create(&copy, 3);
    produce(&copy, &["-J"], &file);
    let fmt = "%p|%o|%k|%s|%h\\n";
    assert_eq!(consume(&t, &["-f", fmt]).lines().count(), 7);
    assert_eq!(
        lines_sorted(&consume(&t, &["-f", fmt])),
        lines_sorted(&consume(&copy, &["-f", fmt]))
    );
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_exit_at_end_with_an_empty_partition() {
    let t = name("eof");
    create(&t, 3);
    produce(&t, &["-p", "0"], "a\nb\n");
    produce(&t, &["-p", "2"], "c\n");
    let start = Instant::now();
    let out = consume(&t, &[]);
    assert_eq!(lines_sorted(&out), ["a", "b", "c"]);
    assert!(start.elapsed() < Duration::from_secs(20));
    // An entirely empty topic ends too.
    let empty = name("eof-empty");
    create(&empty, 3);
    assert_eq!(consume(&empty, &[]), "");
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_every_offset_form_and_query() {
    let t = name("offsets");
    create(&t, 1);
    produce(&t, &[], "m0\nm1\nm2\nm3\nm4\n");
    std::thread::sleep(Duration::from_millis(100));
    let mid = now_ms();
    std::thread::sleep(Duration::from_millis(100));
    produce(&t, &[], "m5\nm6\nm7\nm8\nm9\n");
    let all: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    let got = |o: &[&str]| -> Vec<String> {
        let mut a = vec![];
        for x in o {
            a.extend(["-o", *x]);
        }
        consume(&t, &a).lines().map(str::to_string).collect()
    };
    assert_eq!(got(&[]), all);
    assert_eq!(got(&["beginning"]), all);
    assert_eq!(got(&["end"]), Vec::<String>::new());
    assert_eq!(got(&["3"]), all[3..]);
    assert_eq!(got(&["-2"]), all[8..]);
    assert_eq!(got(&[&format!("s@{mid}")]), all[5..]);
    assert_eq!(got(&[&format!("e@{mid}")]), all[..5]);
    assert_eq!(got(&["s@0", &format!("e@{mid}")]), all[..5]);
    // stored: what a group committed (here by -G ... -c 4).
    let g = name("stored");
    let first = text(ok(ours(&["-G", &g, &t, "-c", "4", "-q"]), b""));
    assert_eq!(first.lines().collect::<Vec<_>>(), all[..4]);
    assert_eq!(
        consume(&t, &["-o", "stored", "-X", &format!("group.id={g}")])
            .lines()
            .collect::<Vec<_>>(),
        all[4..]
    );
    // -c N
    assert_eq!(
        consume(&t, &["-c", "3"]).lines().collect::<Vec<_>>(),
        all[..3]
    );
    // -Q finds the first offset at or after the timestamp.
    let q = text(ok(ours(&["-Q", "-t", &format!("{t}:0:{mid}")]), b""));
    assert_eq!(q, format!("{t} [0] offset 5\n"));
    let kq = text(ok(kcat(&["-Q", "-t", &format!("{t}:0:{mid}")]), b""));
    assert_eq!(q, kq);
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_format_tokens_match_kcat() {
    let t = name("fmt");
    create(&t, 2);
    produce(
        &t,
        &["-K", "|", "-H", "a=1", "-H", "b", "-Z"],
        "k1|v1\n|\nk3|\n",
    );
    let fmt = "%t %p %o %T [%k] %K [%s] %S <%h>\\t%%\\n";
    let theirs = text(ok(kcat(&["-C", "-t", &t, "-e", "-q", "-f", fmt]), b""));
    assert_eq!(
        lines_sorted(&consume(&t, &["-f", fmt])),
        lines_sorted(&theirs)
    );
    let theirs_z = text(ok(
        kcat(&["-C", "-t", &t, "-e", "-q", "-Z", "-f", fmt]),
        b"",
    ));
    assert_eq!(
        lines_sorted(&consume(&t, &["-Z", "-f", fmt])),
        lines_sorted(&theirs_z)
    );
    // %I is %T as ISO-8601 UTC.
    let iso = consume(&t, &["-f", "%T %I\\n"]);
    for l in iso.lines() {
        let (ms, s) = l.split_once(' ').unwrap();
        let t = chrono::DateTime::parse_from_rfc3339(s).unwrap();
        assert_eq!(t.timestamp_millis().to_string(), ms);
    }
    // Default layout with -K, as kcat.
    let theirs = text(ok(kcat(&["-C", "-t", &t, "-e", "-q", "-K", "="]), b""));
    assert_eq!(
        lines_sorted(&consume(&t, &["-K", "="])),
        lines_sorted(&theirs)
    );
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_list_shows_topic_and_partitions() {
    let t = name("list");
    create(&t, 3);
    let out = text(ok(ours(&["-L", "-t", &t]), b""));
    assert!(
        out.contains(&format!("topic \"{t}\" with 3 partitions:")),
        "{out}"
    );
    for p in 0..3 {
        assert!(
            out.contains(&format!("    partition {p}, leader ")),
            "{out}"
        );
    }
    let all = text(ok(ours(&["-L"]), b""));
    assert!(all.contains(&format!("topic \"{t}\" with 3 partitions:")));
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_create_and_delete_topic() {
    let t = name("admin");
    create(&t, 4);
    assert!(text(ok(ours(&["-L", "-t", &t]), b"")).contains("with 4 partitions"));
    let again = run(ours(&["--create-topic", &t]), b"");
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    ok(ours(&["--delete-topic", &t, "-q"]), b"");
    let start = Instant::now();
    loop {
        let l = run(ours(&["-L"]), b"");
        if !String::from_utf8_lossy(&l.stdout).contains(&format!("\"{t}\"")) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "topic still listed"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_missing_topic_with_auto_create_off_is_an_error() {
    let t = name("missing");
    let out = run(
        ours(&["-P", "-t", &t, "-X", "allow.auto.create.topics=false"]),
        b"x\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("topic \"{t}\" does not exist")),
        "{err}"
    );
    let out = run(ours(&["-C", "-t", &t]), b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_delivery_failure_exits_1_with_count() {
    let t = name("fail");
    create(&t, 1);
    // The broker refuses messages over its 1 MB limit; the client is told to allow them.
    // (A refused batch fails every message in it, so all messages here are too large.)
    // Pseudo-random letters: lz4 (the default codec) cannot shrink them under the limit.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let big: String = (0..3_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[(x >> 58) as usize]
                as char
        })
        .collect();
    let input = format!("{big}\n{big}\n");
    let out = run(
        ours(&["-P", "-t", &t, "-X", "message.max.bytes=10000000"]),
        input.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2 of 2 messages were not delivered"), "{err}");
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_head_closes_quietly() {
    let t = name("head");
    create(&t, 1);
    let lines: String = (0..20000)
        .map(|i| format!("line {i} {}\n", "p".repeat(100)))
        .collect();
    produce(&t, &[], &lines);
    let mut child = ours(&["-C", "-t", &t])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("line 0 "));
    // stdout is closed here; the tool must notice and exit 0 without a word.
    let out = wait_output_after_close(child);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

fn wait_output_after_close(mut child: Child) -> Output {
    let mut se = child.stderr.take().unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "did not exit after stdout closed"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut e = Vec::new();
    se.read_to_end(&mut e).unwrap();
    Output {
        status,
        stdout: vec![],
        stderr: e,
    }
}

/// A -G member writing to a file.
/// A `-G` member writing `partition:payload` lines to `file` and its stderr (kcat's
/// rebalance notices, the summary) to `file.err`.
fn member(group: &str, topic: &str, file: &std::path::Path, extra: &[&str]) -> Child {
    let mut args = vec!["-G", group, topic, "-f", "%p:%s\\n"];
    args.extend_from_slice(extra);
    ours(&args)
        .stdout(std::fs::File::create(file).unwrap())
        .stderr(std::fs::File::create(file.with_extension("err")).unwrap())
        .spawn()
        .unwrap()
}

/// The partitions a member holds now, from its last `% Group ... rebalanced` notice.
fn held(file: &std::path::Path) -> Vec<String> {
    let err = std::fs::read_to_string(file.with_extension("err")).unwrap_or_default();
    match err.lines().rfind(|l| l.starts_with("% Group ")) {
        Some(l) if l.contains("): assigned: ") => l
            .split("): assigned: ")
            .nth(1)
            .unwrap()
            .split(", ")
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
        _ => vec![],
    }
}

/// Waits until the members' current assignments cover `n` partitions, each member holding some.
fn wait_assigned(files: &[&std::path::Path], n: usize) {
    let start = Instant::now();
    loop {
        let each: Vec<Vec<String>> = files.iter().map(|f| held(f)).collect();
        let all: std::collections::BTreeSet<&String> = each.iter().flatten().collect();
        if all.len() == n && each.iter().all(|h| !h.is_empty()) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "members never shared {n} partitions: {each:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn count_lines(f: &std::path::Path) -> usize {
    std::fs::read_to_string(f)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

fn term_and_wait(mut c: Child) -> std::process::ExitStatus {
    unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
    let start = Instant::now();
    loop {
        if let Some(s) = c.try_wait().unwrap() {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "member did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_group_members_split_and_restart_without_loss_or_duplicates() {
    let t = name("group");
    create(&t, 4);
    let g = name("g");
    let dir = tempfile::tempdir().unwrap();
    let (fa, fb, fc) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    let a = member(&g, &t, &fa, &[]);
    let b = member(&g, &t, &fb, &[]);
    // Both joined and split the partitions (kcat's notices on stderr) before the first batch.
    wait_assigned(&[&fa, &fb], 4);
    let batch1: String = (0..400).map(|i| format!("k{i}|m{i}\n")).collect();
    produce(&t, &["-K", "|"], &batch1);
    let start = Instant::now();
    while count_lines(&fa) + count_lines(&fb) < 400 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "members read {} + {}",
            count_lines(&fa),
            count_lines(&fb)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let parts = |f: &std::path::Path| -> std::collections::BTreeSet<String> {
        std::fs::read_to_string(f)
            .unwrap()
            .lines()
            .map(|l| l.split(':').next().unwrap().to_string())
            .collect()
    };
    let (pa, pb) = (parts(&fa), parts(&fb));
    assert!(
        !pa.is_empty() && !pb.is_empty(),
        "both members got partitions: {pa:?} {pb:?}"
    );
    assert!(pa.is_disjoint(&pb), "{pa:?} {pb:?}");
    // A second batch, then stop both mid-stream.
    let batch2: String = (400..20400).map(|i| format!("k{i}|m{i}\n")).collect();
    produce(&t, &["-K", "|"], &batch2);
    let (sa, sb) = (term_and_wait(a), term_and_wait(b));
    assert_eq!((sa.code(), sb.code()), (Some(130), Some(130)));
    // One member comes back and reads the rest to the end.
    let mut c = member(&g, &t, &fc, &["-e"]);
    let start = Instant::now();
    let status = loop {
        if let Some(s) = c.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "restarted member did not reach the end"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
    let mut all: Vec<String> = [&fa, &fb, &fc]
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .map(|l| l.split_once(':').unwrap().1.to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(n, all.len(), "{} duplicates", n - all.len());
    assert_eq!(all.len(), 20400, "every message exactly once");
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_group_exit_at_end() {
    let t = name("group-e");
    create(&t, 1);
    produce(&t, &[], "a\nb\n");
    let g = name("ge");
    let out = text(ok(ours(&["-G", &g, &t, "-e", "-q"]), b""));
    assert_eq!(out, "a\nb\n");
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_group_member_without_partitions_exits_at_end() {
    let t = name("group-idle");
    create(&t, 1);
    produce(&t, &[], "a\n");
    let g = name("gi");
    let dir = tempfile::tempdir().unwrap();
    let busy = member(&g, &t, &dir.path().join("a"), &[]);
    let start = Instant::now();
    while count_lines(&dir.path().join("a")) < 1 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "first member read nothing"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The only partition belongs to the first member: the second has nothing to read.
    let out = run(ours(&["-G", &g, &t, "-e", "-q"]), b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"");
    assert_eq!(term_and_wait(busy).code(), Some(130));
}

/// Bytes the broker stored for partition 0 of `topic` (its log segments).
fn stored_bytes(topic: &str) -> u64 {
    let logs = std::env::var("LAKEPIPE_SERVICES_LOGS")
        .unwrap_or_else(|_| panic!("LAKEPIPE_SERVICES_LOGS is not set: {START}"));
    let dir = std::path::Path::new(&logs)
        .parent()
        .unwrap()
        .join("kafka/data")
        .join(format!("{topic}-0"));
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "log"))
        .map(|e| e.metadata().unwrap().len())
        .sum()
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_every_codec_round_trips_and_lz4_is_the_default() {
    let lines: String = (0..3000).map(|i| format!("{{\"seq\":{i},\"event_type\":\"purchase_sword\",\"Host\":\"user1.comcast.com\",\"pad\":\"{}\"}}\n", "ab".repeat(60))).collect();
    let raw = lines.len() as u64;
    for codec in ["default", "none", "gzip", "snappy", "lz4", "zstd"] {
        let t = name(&format!("codec-{codec}"));
        create(&t, 1);
        let extra: &[&str] = if codec == "default" {
            &[]
        } else {
            &["-z", codec]
        };
        produce(&t, extra, &lines);
        let by_kcat = text(ok(kcat(&["-C", "-t", &t, "-e", "-q"]), b""));
        assert!(
            by_kcat == lines,
            "{codec}: kcat read back something else ({} lines)",
            by_kcat.lines().count()
        );
        assert_eq!(
            consume(&t, &[]),
            lines,
            "{codec}: kcat-lite read back something else"
        );
        let stored = stored_bytes(&t);
        if codec == "none" {
            assert!(
                stored > raw,
                "none: {stored} bytes stored for {raw} bytes of lines"
            );
        } else {
            assert!(
                stored * 3 < raw,
                "{codec}: {stored} bytes stored for {raw} bytes of lines: not compressed"
            );
        }
    }
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_resume_from_starts_after_the_committed_files() {
    let t = name("resume");
    create(&t, 2);
    let lines: String = (0..20).map(|i| format!("m{i}\n")).collect();
    produce(&t, &["-p", "0"], &lines);
    produce(&t, &["-p", "1"], "x0\nx1\n");
    // partition 0 holds offsets 0-11 in the lake; partition 1 nothing
    let lake = tempfile::tempdir().unwrap();
    for f in [
        format!("{t}+0+0000000000+0000000004.parquet"),
        format!("kind=a/{t}+0+0000000005+0000000011.parquet"),
    ] {
        let p = lake.path().join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"").unwrap();
    }
    let dir = lake.path().to_str().unwrap();
    let sorted = |b: Vec<u8>| {
        let mut v: Vec<String> = text(b).lines().map(str::to_string).collect();
        v.sort();
        v
    };
    let mut want: Vec<String> = (12..20).map(|o| format!("0:{o}")).collect();
    want.extend(["1:0".to_string(), "1:1".to_string()]);
    want.sort();
    let c = ours(&[
        "-C",
        "-t",
        &t,
        "-e",
        "-q",
        "--resume-from",
        dir,
        "-f",
        "%p:%o\\n",
    ]);
    assert_eq!(sorted(ok(c, b"")), want);
    // -G: a group that already committed everything still starts where the lake ends
    let g = name("rg");
    ok(ours(&["-G", &g, &t, "-e", "-q", "-f", "%o\\n"]), b"");
    let c = ours(&[
        "-G",
        &g,
        &t,
        "-e",
        "-q",
        "--resume-from",
        dir,
        "-f",
        "%p:%o\\n",
    ]);
    assert_eq!(sorted(ok(c, b"")), want);
    // an unusable -o with --resume-from is a usage error
    let out = run(
        ours(&["-C", "-t", &t, "-o", "5", "--resume-from", dir]),
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
}
