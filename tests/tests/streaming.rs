//! The exactly-once streaming pipeline against the real Kafka and HDFS of services/:
//! `kcat-lite -G g -J --resume-from LAKE topic | pq-write --envelope kcat --exactly-once LAKE`,
//! with a paced producer, kills, freezes and restarts, then a drain: every produced message
//! must be in the lake exactly once.
//! Run: `cargo test --profile ci -p lakepipe-tests --test streaming -- --ignored`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lakepipe_tests::wait_until as wait_for;
use lakepipe_tests::{bin_dir, live_env, sh, sh_output};
use serde_json::Value;

const PARTITIONS: usize = 3;

/// The event types the producer cycles through (by `seq`), for `--split-by event_type`.
const TYPES: [&str; 3] = ["purchase", "join_guild", "enter_arena"];

/// Messages per `wave` (`seq / WAVE`), for `--partition-by wave`: at 2000 a second, a
/// partition folder is written for 4 s, then closed.
const WAVE: u64 = 8000;

/// The restart test stops the services every other test here uses: it runs alone (the
/// test harness runs a binary's tests side by side), the others share.
static SERVICES: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn services_shared() -> std::sync::RwLockReadGuard<'static, ()> {
    SERVICES.read().unwrap_or_else(|e| e.into_inner())
}

fn services_alone() -> std::sync::RwLockWriteGuard<'static, ()> {
    SERVICES.write().unwrap_or_else(|e| e.into_inner())
}

fn bin(name: &str) -> PathBuf {
    bin_dir().join(name)
}

fn unique(prefix: &str) -> String {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{}", std::process::id(), t % 1_000_000_000)
}

/// A small pseudo-random number (the moments of kills differ from run to run).
fn random(below: u64) -> u64 {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    (t / 1000) % below
}

fn signal(pid: u32, sig: &str) {
    let out = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .output()
        .unwrap();
    // a process that already ended but is not reaped yet still takes signals
    assert!(out.status.success() || sig == "KILL", "kill -{sig} {pid}");
}

/// Wait for a child to exit on its own.
fn exited(c: &mut Child, what: &str, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = c.try_wait().unwrap() {
            return s;
        }
        assert!(
            start.elapsed() < limit,
            "{what} did not exit on its own within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A producer writing `{"seq":N,"wave":W,"event_type":T}` lines at a steady pace from its
/// own thread (T is `TYPES[N % 3]`). An evolving one ([`Producer::evolving`]) writes the
/// first two types only until [`Producer::evolve`]; from then on (`seq >= evolved_at`)
/// all three, and `purchase` events get a new column, `coupon`.
struct Producer {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    /// The first seq of the evolved stream (u64::MAX: not evolved; 0: from the start).
    evolved_at: Arc<AtomicU64>,
    evolve: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<ExitStatus>>,
}

/// The line of event `seq` in a stream that evolved at `evolved_at`.
fn event(seq: u64, evolved_at: u64) -> String {
    let evolved = seq >= evolved_at;
    let ty = TYPES[seq as usize % if evolved { 3 } else { 2 }];
    // (a stream evolved from the start has no new column)
    let coupon = if evolved && evolved_at > 0 && ty == "purchase" {
        format!(",\"coupon\":\"c{seq}\"")
    } else {
        String::new()
    };
    // one hour folder (dt=2026-12-07/hour=05) whatever the wall clock says
    let ts = format!("2026-12-07T05:{:02}:{:02}Z", seq / 60 % 60, seq % 60);
    format!(
        "{{\"seq\":{seq},\"wave\":{},\"event_type\":\"{ty}\",\"ts\":\"{ts}\",\"pad\":\"{}\"{coupon}}}\n",
        seq / WAVE,
        "x".repeat(40)
    )
}

/// A failed test stops its producer too.
impl Drop for Producer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Producer {
    fn start(topic: &str, per_second: u64) -> Producer {
        Producer::spawn(topic, per_second, 0)
    }

    /// Two event types until [`Producer::evolve`].
    fn evolving(topic: &str, per_second: u64) -> Producer {
        Producer::spawn(topic, per_second, u64::MAX)
    }

    /// From the next batch on: a third event type and a new column.
    fn evolve(&self) {
        self.evolve.store(true, Ordering::Relaxed);
    }

    fn spawn(topic: &str, per_second: u64, evolved_at: u64) -> Producer {
        let mut child = Command::new(bin("kcat-lite"))
            .args(["-b", &live_env("KAFKA_BROKERS"), "-P", "-t", topic, "-q"])
            // a broker restart (test below) holds messages back for longer than 30 s
            .args(["--timeout", "180"])
            // and a batch resent across it would be stored twice at new offsets: the
            // pipeline, not the producer, is under test
            .args(["-X", "enable.idempotence=true"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let (stop, sent) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicU64::new(0)),
        );
        let (evolved_at, evolve) = (
            Arc::new(AtomicU64::new(evolved_at)),
            Arc::new(AtomicBool::new(false)),
        );
        let (s, n, at, ev) = (
            stop.clone(),
            sent.clone(),
            evolved_at.clone(),
            evolve.clone(),
        );
        let thread = std::thread::spawn(move || {
            let mut stdin = child.stdin.take().unwrap();
            let tick = Duration::from_millis(50);
            while !s.load(Ordering::Relaxed) {
                let batch = per_second / 20;
                let first = n.load(Ordering::Relaxed);
                if ev.load(Ordering::Relaxed) {
                    at.fetch_min(first, Ordering::Relaxed);
                }
                let at = at.load(Ordering::Relaxed);
                let mut buf = String::new();
                for seq in first..first + batch {
                    buf.push_str(&event(seq, at));
                }
                stdin.write_all(buf.as_bytes()).unwrap();
                n.fetch_add(batch, Ordering::Relaxed);
                std::thread::sleep(tick); // the pace of the stream, not a wait for a result
            }
            drop(stdin);
            child.wait().unwrap()
        });
        Producer {
            stop,
            sent,
            evolved_at,
            evolve,
            thread: Some(thread),
        }
    }

    /// Stop, and wait until every message is acknowledged (kcat-lite -P exits 0).
    fn finish(self) -> u64 {
        self.finish_evolved().0
    }

    /// [`Producer::finish`], and the first seq of the evolved stream.
    fn finish_evolved(mut self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        let status = self.thread.take().unwrap().join().unwrap();
        assert!(status.success(), "producer: {status}");
        (
            self.sent.load(Ordering::Relaxed),
            self.evolved_at.load(Ordering::Relaxed),
        )
    }
}

/// One `kcat-lite | pq-write` pipeline; each stage's stderr goes to a log file.
/// `pq_args` are added to pq-write's (`--split-by event_type`).
struct Pipeline {
    kcat: Child,
    pq: Child,
    logs: (PathBuf, PathBuf),
}

/// A failed test leaves no pipeline running.
impl Drop for Pipeline {
    fn drop(&mut self) {
        let _ = self.kcat.kill();
        let _ = self.pq.kill();
        let _ = self.kcat.wait();
        let _ = self.pq.wait();
    }
}

impl Pipeline {
    fn start(
        topic: &str,
        group: &str,
        lake: &str,
        logs: &Path,
        drain: bool,
        pq_args: &[&str],
    ) -> Pipeline {
        let tag = unique("p");
        let (klog, plog) = (
            logs.join(format!("{tag}.kcat.log")),
            logs.join(format!("{tag}.pq.log")),
        );
        let mut k = Command::new(bin("kcat-lite"));
        k.args(["-b", &live_env("KAFKA_BROKERS"), "-G", group, "-J"])
            .args(["--resume-from", lake])
            .args([
                "-X",
                "session.timeout.ms=6000",
                "-X",
                "heartbeat.interval.ms=500",
            ]);
        if drain {
            k.arg("-e");
        }
        let mut kcat = k
            .arg(topic)
            .stdout(Stdio::piped())
            .stderr(File::create(&klog).unwrap())
            .spawn()
            .unwrap();
        let pq = Command::new(bin("pq-write"))
            .args(["--envelope", "kcat", "--kafka-meta", "--exactly-once"])
            .args(["--roll-secs", "2", "--timeout", "10"])
            .args(pq_args)
            .arg(lake)
            .stdin(Stdio::from(kcat.stdout.take().unwrap()))
            .stderr(File::create(&plog).unwrap())
            .spawn()
            .unwrap();
        Pipeline {
            kcat,
            pq,
            logs: (klog, plog),
        }
    }

    fn log(&self) -> String {
        format!(
            "kcat-lite: {}\npq-write: {}",
            std::fs::read_to_string(&self.logs.0).unwrap_or_default(),
            std::fs::read_to_string(&self.logs.1).unwrap_or_default()
        )
    }

    /// Both stages must end on their own; returns (kcat-lite, pq-write) exit codes.
    /// pq-write ended with exit 1 naming the namenode (an output stream HDFS gave up on).
    fn ended_on_a_dead_stream(&mut self) -> bool {
        matches!(self.pq.try_wait(), Ok(Some(s)) if s.code() == Some(1))
            && std::fs::read_to_string(&self.logs.1).is_ok_and(|l| l.contains("namenode"))
    }

    fn wait(&mut self) -> (Option<i32>, Option<i32>, String) {
        let limit = Duration::from_secs(40);
        let k = exited(&mut self.kcat, "kcat-lite", limit).code();
        let p = exited(&mut self.pq, "pq-write", limit).code();
        let log = self.log();
        (k, p, log)
    }
}

/// The lake's audit (`pq-cat --offsets`): per partition, the JSON line.
fn audit(lake: &str) -> Vec<Value> {
    let out = sh_output(&format!("pq-cat --offsets '{lake}'"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "pq-cat --offsets {lake}: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Committed files in the lake (0 before pq-write made the folder).
fn files_in(lake: &str) -> u64 {
    let made = sh_output(&format!("hdfs-ls -d '{lake}'"));
    if !made.status.success() {
        return 0;
    }
    audit(lake)
        .iter()
        .map(|a| a["files"].as_u64().unwrap())
        .sum()
}

/// Every message 0..sent exactly once, by sequence number and by (partition, offset).
fn assert_exactly_once(lake: &str, sent: u64) {
    let rows = sh(&format!("pq-cat '{lake}'"));
    let mut seqs: BTreeMap<u64, u32> = BTreeMap::new();
    let mut offsets: BTreeMap<(i64, i64), u32> = BTreeMap::new();
    for line in rows.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        *seqs.entry(v["seq"].as_u64().unwrap()).or_default() += 1;
        let key = (
            v["_partition"].as_i64().unwrap(),
            v["_offset"].as_i64().unwrap(),
        );
        *offsets.entry(key).or_default() += 1;
    }
    let twice: Vec<_> = seqs.iter().filter(|(_, &n)| n > 1).take(5).collect();
    assert!(
        twice.is_empty(),
        "written more than once (seq, times): {twice:?}"
    );
    let missing: Vec<u64> = (0..sent)
        .filter(|s| !seqs.contains_key(s))
        .take(5)
        .collect();
    assert!(
        missing.is_empty(),
        "missing seq numbers (first 5): {missing:?}"
    );
    assert_eq!(seqs.len() as u64, sent);
    assert!(offsets.values().all(|&n| n == 1), "an offset written twice");
    for a in audit(lake) {
        assert_eq!(a["overlaps"], serde_json::json!([]), "{a}");
        assert_eq!(a["gaps"], serde_json::json!([]), "{a}");
    }
}

fn setup(prefix: &str) -> (String, String, String, tempfile::TempDir) {
    let topic = unique(prefix);
    sh(&format!(
        "kcat-lite -b {} --create-topic {topic} --partitions {PARTITIONS} -q",
        live_env("KAFKA_BROKERS")
    ));
    let lake = format!("{}/tmp/{topic}/", live_env("HDFS_NAMENODE"));
    (
        topic.clone(),
        format!("g-{topic}"),
        lake,
        tempfile::tempdir().unwrap(),
    )
}

/// Run a last pipeline with `-e` so everything produced is committed.
fn drain(topic: &str, group: &str, lake: &str, logs: &Path, pq_args: &[&str]) {
    let (k, p, log) = Pipeline::start(topic, group, lake, logs, true, pq_args).wait();
    assert_eq!((k, p), (Some(0), Some(0)), "drain:\n{log}");
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_kills_and_restarts_lose_and_duplicate_nothing() {
    let _services = services_shared();
    let (topic, group, lake, logs) = setup("eo-kill");
    let producer = Producer::start(&topic, 2000);
    // (which stage, signal, expected exit codes of kcat-lite and pq-write)
    let rounds: [(&str, &str, Option<i32>, Option<i32>); 6] = [
        ("pq", "KILL", Some(0), None),
        ("kcat", "KILL", None, Some(0)),
        ("both", "KILL", None, None),
        ("pq", "TERM", Some(0), Some(130)),
        ("kcat", "INT", Some(130), Some(0)),
        ("kcat", "TERM", Some(130), Some(0)),
    ];
    for (i, (stage, sig, want_k, want_p)) in rounds.into_iter().enumerate() {
        let before = files_in(&lake);
        let mut p = Pipeline::start(&topic, &group, &lake, logs.path(), false, &[]);
        if i == 0 {
            // files appear while the stream is live
            wait_for(
                "a committed file while the stream is live",
                Duration::from_secs(60),
                || files_in(&lake) > before,
            );
        }
        std::thread::sleep(Duration::from_millis(500 + random(3000))); // a random moment
        match stage {
            "pq" => signal(p.pq.id(), sig),
            "kcat" => signal(p.kcat.id(), sig),
            _ => {
                signal(p.pq.id(), sig);
                signal(p.kcat.id(), sig);
            }
        }
        let (k, q, log) = p.wait();
        if sig != "KILL" || stage != "both" {
            assert_eq!(
                (k, q),
                (want_k, want_p),
                "round {i}: {sig} to {stage}: exit codes (kcat-lite, pq-write)\n{log}"
            );
        }
        // no visible file is ever partial: every committed file reads whole
        sh(&format!("pq-cat --count '{lake}'"));
    }
    let sent = producer.finish();
    drain(&topic, &group, &lake, logs.path(), &[]);
    assert_exactly_once(&lake, sent);
}

/// Two pipelines of one group on one lake: one frozen past the session timeout (its
/// partitions go to the other) and thawed later, the other killed -9 and restarted.
#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_a_frozen_pipeline_and_a_killed_one_still_write_exactly_once() {
    let _services = services_shared();
    let (topic, group, lake, logs) = setup("eo-zombie");
    let producer = Producer::start(&topic, 2000);
    let mut a = Pipeline::start(&topic, &group, &lake, logs.path(), false, &[]);
    let mut b = Pipeline::start(&topic, &group, &lake, logs.path(), false, &[]);
    let assigned_all = |p: &Pipeline| {
        let log = std::fs::read_to_string(&p.logs.0).unwrap_or_default();
        log.lines()
            .rfind(|l| l.contains("assigned:"))
            .is_some_and(|l| (0..PARTITIONS).all(|i| l.contains(&format!("[{i}]"))))
    };
    // both hold partitions and have written files, then A freezes with open files
    wait_for(
        "files from the two pipelines",
        Duration::from_secs(60),
        || files_in(&lake) >= 2,
    );
    for pid in [a.kcat.id(), a.pq.id()] {
        signal(pid, "STOP");
    }
    wait_for(
        "B owns every partition after A's session timed out",
        Duration::from_secs(60),
        || assigned_all(&b),
    );
    let files = files_in(&lake);
    wait_for(
        "B commits the partitions A held",
        Duration::from_secs(30),
        || files_in(&lake) > files + 1,
    );
    signal(b.pq.id(), "KILL");
    signal(b.kcat.id(), "KILL");
    let _ = b.wait();
    b = Pipeline::start(&topic, &group, &lake, logs.path(), false, &[]);
    let rejoins = |p: &Pipeline| {
        let log = std::fs::read_to_string(&p.logs.0).unwrap_or_default();
        log.lines().filter(|l| l.contains("assigned:")).count()
    };
    let frozen_at = rejoins(&a);
    for pid in [a.kcat.id(), a.pq.id()] {
        signal(pid, "CONT");
    }
    // A wakes with open files of partitions it no longer owns, and rejoins the group;
    // unless its HDFS output stream died while it was frozen (see below): then its
    // pq-write fails, naming the namenode, and its kcat-lite ends with it.
    let deadline = Instant::now() + Duration::from_secs(60);
    while rejoins(&a) <= frozen_at && !a.ended_on_a_dead_stream() {
        assert!(
            Instant::now() < deadline,
            "A did not rejoin the group within 60 s:\n{}",
            a.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let files = files_in(&lake);
    wait_for("both write again", Duration::from_secs(30), || {
        files_in(&lake) > files + 1
    });
    for (i, mut p) in [a, b].into_iter().enumerate() {
        signal(p.kcat.id(), "TERM");
        let (k, q, log) = p.wait();
        // The thawed pipeline's HDFS output stream may have died while it was frozen
        // (the datanode gave up on it): its pq-write then fails (exit 1, naming the
        // namenode) and its kcat-lite ends quietly; its rows were never committed.
        let broken_stream = i == 0 && q == Some(1) && log.contains("namenode");
        if !broken_stream {
            assert_eq!((k, q), (Some(130), Some(0)), "stopping a pipeline:\n{log}");
        }
    }
    let sent = producer.finish();
    drain(&topic, &group, &lake, logs.path(), &[]);
    assert_exactly_once(&lake, sent);
}

/// `--split-by event_type`: a table per type under the lake, pq-write killed -9 while
/// the stream is live, then a restart: every event once, in its type's table.
#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_split_tables_stay_exactly_once_through_a_kill() {
    let _services = services_shared();
    let (topic, group, lake, logs) = setup("eo-split");
    let split = ["--split-by", "event_type"];
    let producer = Producer::start(&topic, 2000);
    let mut p = Pipeline::start(&topic, &group, &lake, logs.path(), false, &split);
    wait_for(
        "a committed file while the stream is live",
        Duration::from_secs(60),
        || files_in(&lake) > 0,
    );
    std::thread::sleep(Duration::from_millis(500 + random(2500))); // a random moment
    signal(p.pq.id(), "KILL");
    let (k, q, log) = p.wait();
    assert_eq!((k, q), (Some(0), None), "kill -9 of pq-write:\n{log}");
    let sent = producer.finish();
    drain(&topic, &group, &lake, logs.path(), &split);
    assert_exactly_once(&lake, sent);
    for (i, ty) in TYPES.iter().enumerate() {
        let rows = sh(&format!("pq-cat --columns seq,event_type '{lake}{ty}/'"));
        let seqs: Vec<u64> = rows
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                assert_eq!(v["event_type"], *ty, "{l} in table {ty}");
                v["seq"].as_u64().unwrap()
            })
            .collect();
        let want = (0..sent).filter(|s| *s as usize % TYPES.len() == i).count();
        assert_eq!(seqs.len(), want, "rows in table {ty}");
    }
}

/// Unreachable broker or namenode: an error naming it within --timeout.
#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_an_unreachable_namenode_is_named_within_the_timeout() {
    let _services = services_shared();
    let out = sh_output(
        "echo '{\"topic\":\"t\",\"partition\":0,\"offset\":0,\"payload\":\"{}\"}' \
         | pq-write --envelope kcat --exactly-once --timeout 2 --retry-for 0 hdfs://127.0.0.1:1/lake/",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("127.0.0.1:1"), "{err}");
}

/// `services/restart.sh --down-for SECS SERVICE` from the repository root: the service
/// stops, stays down, and is back (serving) when this returns.
fn restart(service: &str, down_for: u64) {
    let out = Command::new("bash")
        .args([
            "services/restart.sh",
            "--down-for",
            &down_for.to_string(),
            service,
        ])
        .current_dir(lakepipe_tests::root())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "restarting {service}: {err}");
    eprintln!("{}", err.lines().last().unwrap_or_default());
}

/// How many stderr lines of a stage contain `needle`.
fn lines_with(log: &Path, needle: &str) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

/// Whether something accepts connections at `addr` (host:port).
fn listening(addr: &str) -> bool {
    use std::net::{TcpStream, ToSocketAddrs};
    addr.to_socket_addrs()
        .unwrap()
        .any(|a| TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_ok())
}

/// Trino's answer to `sql` as TSV (presto-q on the services' Trino).
fn trino(sql: &str) -> String {
    let out = sh_output(&format!("presto-q -q --output-format tsv \"{sql}\""));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Issue 31, the whole stream: a paced topic of event types streamed by
/// `kcat-lite -G --resume-from | pq-write --exactly-once --split-by event_type
/// --time-partition hour --metastore` while the Kafka broker, HDFS (namenode and
/// datanode: MiniDFSCluster restarts them together) and the metastore restart in turn,
/// each down at least 5 s. A new event type and a new column appear while the
/// metastore is down, so pq-write's registration meets that outage. Neither stage
/// exits; each outage gives exactly one warning when it starts and one when it ends, in
/// the stage that met it; with no hive-ddl call, Trino counts per table what was
/// produced and sees the new column; every message is in the lake once.
#[test]
#[ignore = "live: needs services/ (make test runs it); restarts kafka, hdfs and the metastore"]
fn live_a_stream_rides_out_restarts_and_registers_what_it_commits() {
    let _services = services_alone();
    let t0 = Instant::now();
    // where the time goes (with --nocapture): the restarts are most of it
    let mark = |what: &str| eprintln!("[{:5.1}s] {what}", t0.elapsed().as_secs_f64());
    let (topic, group, lake, logs) = setup("eo-restart");
    let metastore = live_env("HIVE_METASTORE");
    let database = topic.replace('-', "_");
    let meta = format!("--metastore={metastore}");
    let pq_args = [
        "--split-by",
        "event_type",
        "--time-partition",
        "hour",
        "--time-field",
        "ts",
        &meta,
        "--database",
        &database,
        "-q",
    ];
    let producer = Producer::evolving(&topic, 200);
    let mut p = Pipeline::start(&topic, &group, &lake, logs.path(), false, &pq_args);
    let (klog, plog) = p.logs.clone();
    let flowing = |what: &str| {
        let before = files_in(&lake);
        wait_for(
            &format!("a committed file {what}"),
            Duration::from_secs(60),
            || files_in(&lake) > before,
        );
    };
    flowing("while the stream is live");
    mark("the stream commits");
    let brokers = live_env("KAFKA_BROKERS");
    let namenode = live_env("HDFS_NAMENODE");
    let namenode = namenode.trim_start_matches("hdfs://");
    let metastore_addr = metastore.trim_start_matches("thrift://").to_string();
    for (service, stage_log, name) in [
        ("kafka", &klog, format!("Kafka {brokers}")),
        ("hdfs", &plog, format!("HDFS {namenode}")),
        ("metastore", &plog, format!("metastore {metastore_addr}")),
    ] {
        let restarting = std::thread::spawn(move || restart(service, 5));
        if service == "metastore" {
            // the new type and column arrive while the metastore is down: pq-write
            // must register them, so its registration meets the outage
            wait_for("the metastore down", Duration::from_secs(60), || {
                !listening(&metastore_addr)
            });
            producer.evolve();
        }
        restarting.join().unwrap();
        mark(&format!("{service} restarted"));
        wait_for(
            &format!("'{name} back' after the {service} restart\n{}", p.log()),
            Duration::from_secs(90),
            || lines_with(stage_log, &format!("warning: {name} back after")) >= 1,
        );
        mark(&format!("{name} back"));
        flowing(&format!("after the {service} restart"));
        mark("the stream commits");
        assert!(
            p.kcat.try_wait().unwrap().is_none() && p.pq.try_wait().unwrap().is_none(),
            "a stage exited during the {service} restart\n{}",
            p.log()
        );
        // one outage, one warning pair
        let pair = (
            lines_with(stage_log, &format!("warning: {name} unreachable (")),
            lines_with(stage_log, &format!("warning: {name} back after")),
        );
        assert_eq!(pair, (1, 1), "{service} outage warnings\n{}", p.log());
    }
    let (sent, evolved_at) = producer.finish_evolved();
    // Stop the stream as a person would (kcat-lite first: pq-write commits what it has).
    signal(p.kcat.id(), "TERM");
    let (k, q, log) = p.wait();
    assert_eq!((k, q), (Some(130), Some(0)), "stopping the stream\n{log}");
    assert!(
        !log.contains("create table") && !log.contains("add column"),
        "-q prints no registration lines\n{log}"
    );
    mark("the stream stopped");
    drain(&topic, &group, &lake, logs.path(), &pq_args);
    mark("drained");
    assert_exactly_once(&lake, sent);
    mark("exactly once checked");

    // Trino, with no hive-ddl: a table per type, one hour partition, the new column.
    let mut want: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for seq in 0..sent {
        let line: Value = serde_json::from_str(&event(seq, evolved_at)).unwrap();
        let ty = TYPES.iter().find(|t| line["event_type"] == **t).unwrap();
        let w = want.entry(*ty).or_default();
        w.0 += 1;
        w.1 += u64::from(line.get("coupon").is_some());
    }
    assert_eq!(want.len(), 3, "the third type was produced");
    let sql: Vec<String> = want
        .keys()
        .map(|ty| {
            let coupon = if *ty == "purchase" {
                "count(coupon)"
            } else {
                "0"
            };
            format!(
                "SELECT '{ty}', count_if(dt = '2026-12-07' AND hour = '05'), {coupon} \
                 FROM hive.{database}.{ty}"
            )
        })
        .collect();
    let sql = sql.join(" UNION ALL ") + " ORDER BY 1";
    let expected: String = want
        .iter()
        .map(|(ty, (n, c))| format!("{ty}\t{n}\t{c}"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut got = String::new();
    wait_for("Trino's counts per table", Duration::from_secs(60), || {
        got = trino(&sql);
        got == expected
    });
    assert_eq!(got, expected);
    mark("Trino counted");
    let drops: String = want
        .keys()
        .map(|ty| format!("DROP TABLE IF EXISTS hive.{database}.{ty}; "))
        .collect();
    trino(&format!("{drops}DROP SCHEMA IF EXISTS hive.{database}"));
}

/// An outage longer than --retry-for: one warning, then exit 1 naming the service.
#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_retry_for_expires_naming_the_service() {
    let _services = services_shared();
    let err = lakepipe_tests::fails_within(Duration::from_secs(30), || {
        sh_output(
            "echo '{\"topic\":\"t\",\"partition\":0,\"offset\":0,\"payload\":\"{}\"}' \
             | pq-write --envelope kcat --exactly-once --timeout 2 --retry-for 3s \
               hdfs://127.0.0.1:1/lake/",
        )
    });
    assert!(
        err.contains("pq-write: warning: HDFS 127.0.0.1:1 unreachable (")
            && err.contains("retrying for up to 3s"),
        "{err}"
    );
    assert!(
        err.contains("pq-write: error:") && err.contains("127.0.0.1:1"),
        "{err}"
    );
}

/// A permanent error (permission denied: HDFS runs with permissions on) is not retried:
/// exit 1 at once, with the namenode's reason, even with a long --retry-for.
#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_permission_denied_is_not_retried() {
    let _services = services_shared();
    let (topic, _, lake, dir) = setup("eo-denied");
    // the folder belongs to the user the services run as, mode 755
    sh(&format!(
        "services/bin/hdfs-dfs -mkdir -p '{lake}' && services/bin/hdfs-dfs -chmod 755 '{lake}'"
    ));
    let line = serde_json::json!({"topic": topic, "partition": 0, "offset": 0,
        "payload": "{\"seq\":1}"});
    let input = dir.path().join("in.json");
    std::fs::write(&input, format!("{line}\n")).unwrap();
    let err = lakepipe_tests::fails_within(Duration::from_secs(20), || {
        sh_output(&format!(
            "HADOOP_USER_NAME=nobody pq-write --envelope kcat --exactly-once --retry-for 5m \
             '{lake}' < '{}'",
            input.display()
        ))
    });
    assert!(err.contains("ermission denied"), "{err}");
    assert!(
        !err.contains("unreachable"),
        "retried a permanent error: {err}"
    );
}

/// The exactly-once pipeline over the broker's SASL_SSL listener (SCRAM-SHA-512, the CA
/// services/ made, credentials in a kcat config file): every message lands once, and a
/// second run resumes from the lake and adds nothing.
#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_exactly_once_over_sasl_ssl() {
    let _services = services_shared();
    use std::os::unix::fs::PermissionsExt;
    let (topic, group, lake, logs) = setup("eo-sasl");
    let conf = logs.path().join("kcat.conf");
    std::fs::write(
        &conf,
        format!(
            "# a managed Kafka's settings\nsecurity.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n\
             sasl.username={}\nsasl.password={}\nssl.ca.location={}\n",
            live_env("KAFKA_SASL_USER"),
            live_env("KAFKA_SASL_PASSWORD"),
            live_env("KAFKA_CA")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (brokers, conf) = (live_env("KAFKA_SASL_BROKERS"), conf.display().to_string());
    let sent = 3000;
    let input: String = (0..sent)
        .map(|seq| {
            let t = TYPES[seq % TYPES.len()];
            format!("{{\"seq\":{seq},\"event_type\":\"{t}\"}}\n")
        })
        .collect();
    let file = logs.path().join("events.jsonl");
    std::fs::write(&file, input).unwrap();
    sh(&format!(
        "kcat-lite -b {brokers} -F {conf} -P -t {topic} -q < {}",
        file.display()
    ));
    for _ in 0..2 {
        sh(&format!(
            "kcat-lite -b {brokers} -F {conf} -G {group} -J --resume-from {lake} -e -q {topic} \
             | pq-write --envelope kcat --kafka-meta --exactly-once -q {lake}"
        ));
    }
    assert_exactly_once(&lake, sent as u64);
}

/// Trino's `count(*)` of `hive.default.<table>`: Ok(count) or Err(the client's stderr).
fn trino_count(table: &str) -> Result<u64, String> {
    let out = sh_output(&format!(
        "presto-q -q --timeout 30 --output-format tsv 'SELECT count(*) FROM hive.default.{table}'"
    ));
    let text = String::from_utf8_lossy(&out.stdout);
    match text.trim().parse::<u64>() {
        Ok(n) if out.status.success() => Ok(n),
        _ => Err(format!("{}{}", text, String::from_utf8_lossy(&out.stderr))),
    }
}

/// One `pq-compact --metastore` run over the stream's table, ended by `kill -9` after
/// `kill_after` if still running, or by itself at a failpoint; returns its stderr.
fn compact_run(
    lake: &str,
    table: &str,
    logs: &Path,
    kill_after: Option<u64>,
    fail: &str,
) -> String {
    let log = logs.join(unique("compact"));
    let mut c = Command::new(bin("pq-compact"))
        .args(["--metastore", &live_env("HIVE_METASTORE"), "--table", table])
        .args([
            "--lateness",
            "3",
            "--grace",
            "5",
            "--min-age",
            "0",
            "--stale",
            "3",
        ])
        .arg(lake)
        .env("LAKEPIPE_FAILPOINT", fail)
        .stderr(File::create(&log).unwrap())
        .spawn()
        .unwrap();
    if let Some(ms) = kill_after {
        let deadline = Instant::now() + Duration::from_millis(ms);
        while c.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = c.kill(); // SIGKILL
    }
    let status = exited(&mut c, "pq-compact", Duration::from_secs(60));
    let err = std::fs::read_to_string(&log).unwrap_or_default();
    let killed = kill_after.is_some() || !fail.is_empty();
    assert!(killed || status.success(), "pq-compact: {status}\n{err}");
    err
}

/// pq-compact beside a live exactly-once stream (`--partition-by wave`, registered in the
/// metastore as it commits) while Trino counts the table in a loop; pq-compact is killed
/// with -9 at random moments and at its failpoints, and run again. Every count Trino
/// answers is right at its moment: no query fails, none exceeds what was produced, none
/// is lower than the one before; at the end the count is exact, `pq-cat --offsets` has
/// no gaps nor overlaps, the folders are compacted, and a resume is still exactly once.
#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_compaction_beside_a_stream_keeps_trino_counts_exact() {
    let _services = services_shared();
    let (topic, group, lake, logs) = setup("compact");
    let table = topic.replace('-', "_");
    let ms = live_env("HIVE_METASTORE");
    let pq_args = [
        "--partition-by",
        "wave",
        "--metastore",
        &ms,
        "--table",
        &table,
    ];
    let producer = Producer::start(&topic, 2000);
    let mut stream = Pipeline::start(&topic, &group, &lake, logs.path(), false, &pq_args);
    wait_for("the table in Trino", Duration::from_secs(60), || {
        trino_count(&table).is_ok()
    });
    // Trino counts in a loop: (count or error, messages produced once it answered)
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let counter = {
        let (stop, sent, table) = (stop.clone(), producer.sent.clone(), table.clone());
        let answered = answered.clone();
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let c = trino_count(&table);
                seen.push((c, sent.load(Ordering::Relaxed)));
                answered.fetch_add(1, Ordering::Relaxed);
            }
            seen
        })
    };
    // pq-compact killed at random moments and at its failpoints while the stream runs
    let fails = [
        "compact-moving",
        "",
        "compact-renamed",
        "",
        "compact-returning",
        "",
    ];
    let started = Instant::now();
    let mut most_files = 0;
    for round in 0.. {
        if started.elapsed() > Duration::from_secs(18) {
            break;
        }
        most_files = most_files.max(files_in(&lake));
        let fail = fails[round % fails.len()];
        let kill_after = fail.is_empty().then(|| 200 + random(1500));
        compact_run(&lake, &table, logs.path(), kill_after, fail);
        // Trino queries the state the kill left before the next run repairs it
        let asked = answered.load(Ordering::Relaxed);
        wait_for(
            "a Trino count after the kill",
            Duration::from_secs(30),
            || answered.load(Ordering::Relaxed) >= asked + 2,
        );
    }
    let sent = producer.finish();
    signal(stream.kcat.id(), "TERM");
    let (k, q, log) = stream.wait();
    assert_eq!((k, q), (Some(130), Some(0)), "stopping the stream:\n{log}");
    drain(&topic, &group, &lake, logs.path(), &pq_args);
    most_files = most_files.max(files_in(&lake));
    // runs to the end: every closed folder moved, compacted, moved back, copies deleted
    let records = format!("{lake}_lakepipe/compact/");
    wait_for("every partition compacted", Duration::from_secs(45), || {
        compact_run(&lake, &table, logs.path(), None, "");
        let plan = sh(&format!("pq-compact --dry-run --min-age 0 '{lake}'"));
        let pending = sh(&format!("hdfs-ls -R '{records}' 2>/dev/null || true"));
        !plan.contains("merge ") && !pending.contains(".json")
    });
    stop.store(true, Ordering::Relaxed);
    let seen = counter.join().unwrap();
    let mut last = 0;
    for (i, (c, produced)) in seen.iter().enumerate() {
        let n = c
            .as_ref()
            .unwrap_or_else(|e| panic!("Trino query {i} failed: {e}"));
        assert!(
            *n <= *produced,
            "query {i}: Trino counted {n} of {produced} produced"
        );
        assert!(*n >= last, "query {i}: Trino counted {n} after {last}");
        last = *n;
    }
    assert_eq!(trino_count(&table), Ok(sent), "Trino's final count");
    assert_exactly_once(&lake, sent);
    // compacted: one file per folder and topic-partition
    let names: Vec<String> = sh(&format!("hdfs-ls -R -C '{lake}'"))
        .lines()
        .filter(|l| l.ends_with(".parquet") && !l.contains("/_lakepipe/"))
        .map(|l| l.rsplitn(3, '+').nth(2).unwrap().to_string())
        .collect();
    let distinct: std::collections::BTreeSet<&String> = names.iter().collect();
    assert_eq!(distinct.len(), names.len(), "{names:?}");
    assert!(
        names.len() < most_files as usize,
        "{names:?} of {most_files}"
    );
    eprintln!(
        "{} Trino counts; files {most_files} -> {}",
        seen.len(),
        names.len()
    );
    // a resume on the compacted folders: still exactly once, and Trino counts it
    let extra = logs.path().join("extra.jsonl");
    std::fs::write(
        &extra,
        (sent..sent + 1000).map(|s| event(s, 0)).collect::<String>(),
    )
    .unwrap();
    sh(&format!(
        "kcat-lite -b {} -P -t {topic} -q < '{}'",
        live_env("KAFKA_BROKERS"),
        extra.display()
    ));
    drain(&topic, &group, &lake, logs.path(), &pq_args);
    assert_exactly_once(&lake, sent + 1000);
    assert_eq!(
        trino_count(&table),
        Ok(sent + 1000),
        "Trino's count after the resume"
    );
}
