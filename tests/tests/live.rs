//! Tests against independent engines and real services (make test starts them).

use lakepipe_tests::{assert_same_rows, live_env, parse_lines, sh};

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_pq_write_files_are_read_by_pyarrow_and_duckdb() {
    let py = live_env("LAKEPIPE_PYTHON");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    sh(&format!(
        "python3 bench/gen_events.py 4000 11 > {d}/ev.jsonl"
    ));
    sh(&format!("pq-write -q -i {d}/ev.jsonl {d}/ev.parquet"));
    sh(&format!(
        "pq-write -q --compression zstd --partition-by event_type -i {d}/ev.jsonl {d}/lake/"
    ));
    let original = parse_lines(&std::fs::read_to_string(dir.path().join("ev.jsonl")).unwrap());
    for engine in ["pyarrow", "duckdb"] {
        let rows = parse_lines(&sh(&format!(
            "{py} tests/py/read_parquet.py {engine} {d}/ev.parquet"
        )));
        assert_same_rows(&original, &rows, engine);
    }
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_typed_columns_agree_with_pyarrow() {
    let py = live_env("LAKEPIPE_PYTHON");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let input = concat!(
        r#"{"d":"12.30","ts":"2024-01-02T03:04:05.123456Z","day":"2024-02-29","m":{"x":1,"y":null},"b":"aGk=","i":-7,"f":1.5,"s":"ключ \"q\"","l":[[1,2],[]],"st":{"a":{"b":[true,null]}}}"#,
        "\n",
        r#"{"d":null,"ts":null,"day":null,"m":null,"b":null,"i":null,"f":null,"s":null,"l":null,"st":null}"#,
        "\n"
    );
    std::fs::write(dir.path().join("in.jsonl"), input).unwrap();
    sh(&format!(
        "pq-write -q --schema 'd DECIMAL(10,2), ts TIMESTAMP, day DATE, m MAP<STRING,INT>, b BINARY, i TINYINT, f FLOAT, \
         s STRING, l ARRAY<ARRAY<BIGINT>>, st STRUCT<a:STRUCT<b:ARRAY<BOOLEAN>>>' -i {d}/in.jsonl {d}/t.parquet"
    ));
    let ours = parse_lines(&sh(&format!("pq-cat {d}/t.parquet")));
    let theirs = parse_lines(&sh(&format!(
        "{py} tests/py/read_parquet.py pyarrow {d}/t.parquet"
    )));
    assert_same_rows(&ours, &theirs, "pq-cat vs pyarrow");
    assert_eq!(ours[0]["d"], "12.30");
    assert_eq!(ours[0]["ts"], "2024-01-02T03:04:05.123456Z");
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_interrupted_folder_has_only_readable_files() {
    let py = live_env("LAKEPIPE_PYTHON");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    for sig in ["TERM", "KILL"] {
        // a stream that stays open, cut once the first rolled file is complete (a fixed
        // sleep was too short on a loaded machine); pq-write's own pid, so `wait` does
        // not wait for the generator
        let script = format!(
            "pq-write -q --roll-rows 50000 {d}/{sig}/ < <(python3 bench/gen_events.py 400000 2 2>/dev/null; exec sleep 30 2>/dev/null) & \
             pid=$!; \
             for i in $(seq 600); do [ -n \"$(find {d}/{sig} -name '*.parquet' ! -name '.*' 2>/dev/null)\" ] && break; sleep 0.1; done; \
             kill -{sig} $pid; wait $pid || true"
        );
        sh(&script);
        let files = sh(&format!("find {d}/{sig} -name '*.parquet' ! -name '.*'"));
        assert!(
            !files.trim().is_empty(),
            "{sig}: some files were complete before the signal"
        );
        for f in files.lines() {
            sh(&format!(
                "{py} -c \"import pyarrow.parquet as pq, sys; pq.read_table(sys.argv[1])\" {f}"
            ));
        }
    }
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_pq_write_to_hdfs_then_pq_cat_from_hdfs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let remote = hdfs_test_path("roundtrip");
    sh(&format!(
        "python3 bench/gen_events.py 6000 13 > {d}/ev.jsonl"
    ));
    sh(&format!(
        "pq-write -q --partition-by event_type --roll-rows 700 -i {d}/ev.jsonl {remote}/"
    ));
    let original = parse_lines(&std::fs::read_to_string(dir.path().join("ev.jsonl")).unwrap());
    let mut back = parse_lines(&sh(&format!("pq-cat {remote}")));
    back.sort_by_key(|r| r["seq"].as_i64());
    assert_same_rows(&original, &back, "pq-write hdfs:// -> pq-cat hdfs://");
    assert_eq!(
        sh(&format!("pq-cat --count '{remote}/event_type=*'")).trim(),
        "6000",
        "globs on HDFS"
    );
    let listed = sh(&format!("hdfs-ls -R -C {remote}"));
    assert!(
        listed
            .lines()
            .all(|l| !l.rsplit('/').next().unwrap_or("").starts_with('.')),
        "no hidden files left:\n{listed}"
    );
}

/// A file over several of the datanode syncs the HDFS writer asks for (every 8 MB of a
/// block; vendor/README.md) makes the datanode sync that often, and reads back the same
/// as the local file from the same input. Published hdfs-native asks for one sync per
/// block (with the last packet) and fails this test.
#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_a_file_of_several_syncs_reads_back_from_hdfs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let remote = hdfs_test_path("syncs") + ".parquet";
    // Random hex does not compress: about 24 MB of uncompressed Parquet.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut text = String::new();
    for i in 0..12_000 {
        let hex: String = (0..125)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                format!("{x:016x}")
            })
            .collect();
        text.push_str(&format!("{{\"i\":{i},\"r\":\"{hex}\"}}\n"));
    }
    std::fs::write(dir.path().join("big.jsonl"), text).unwrap();
    let write = |to: &str| {
        sh(&format!(
            "pq-write -q --compression none -i {d}/big.jsonl {to}"
        ))
    };
    write(&format!("{d}/local.parquet"));
    let local_len = std::fs::metadata(dir.path().join("local.parquet"))
        .unwrap()
        .len();
    assert!(
        local_len > 16 << 20,
        "{local_len} bytes: fewer than 2 syncs"
    );
    let local = sh(&format!("pq-cat {d}/local.parquet | md5sum"));
    let before = datanode_activity();
    write(&remote);
    // Other tests write to HDFS meanwhile: one sync per block each (their files are
    // small), so the syncs beyond one per block are this file's.
    let want = local_len / (8 << 20);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let now = datanode_activity();
        let (syncs, blocks) = (now.0 - before.0, now.1 - before.1);
        if syncs.saturating_sub(blocks) >= want {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{syncs} datanode syncs for {blocks} blocks after writing {local_len} bytes: want {want} beyond one per block"
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert_eq!(sh(&format!("pq-cat {remote} | md5sum")), local);
    assert_eq!(sh(&format!("pq-cat --count {remote}")).trim(), "12000");
}

/// The datanodes' syncs and blocks written so far (`FsyncCount` and `BlocksWritten` of
/// their `DataNodeActivity` metrics, which JMX shows a few seconds late; the HTTP ports
/// are written by services/java/MiniHdfs.java).
fn datanode_activity() -> (u64, u64) {
    let conf = live_env("HADOOP_CONF_DIR");
    let ports = std::fs::read_to_string(format!("{conf}/datanode-http-ports")).unwrap();
    ports.lines().fold((0, 0), |(syncs, blocks), port| {
        let url = format!(
            "http://127.0.0.1:{port}/jmx?qry=Hadoop:service=DataNode,name=DataNodeActivity-*"
        );
        let jmx: serde_json::Value =
            serde_json::from_str(&sh(&format!("curl -sf '{url}'"))).unwrap();
        let count = |name: &str| {
            jmx["beans"][0][name]
                .as_u64()
                .unwrap_or_else(|| panic!("no {name} in {jmx}"))
        };
        (syncs + count("FsyncCount"), blocks + count("BlocksWritten"))
    })
}

/// A new path under the live tests' HDFS folder: `NAME_<nanos>`.
fn hdfs_test_path(name: &str) -> String {
    let nn = live_env("HDFS_NAMENODE");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nn}/lakepipe-tests/{name}_{nanos}")
}

/// A tool of the pipeline, spawned from the built binaries.
fn tool(name: &str) -> std::process::Command {
    std::process::Command::new(lakepipe_tests::bin_dir().join(name))
}

/// Waits (up to `secs`) for `child` to exit on its own; kills it and fails otherwise.
fn exits_within(
    child: &mut std::process::Child,
    secs: u64,
    what: &str,
) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if start.elapsed() > std::time::Duration::from_secs(secs) {
            let _ = child.kill();
            panic!("{what} did not exit within {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Waits (up to 60 s) until group `topic` committed every message of `topic`, that is,
/// until kcat-lite wrote them all to its stdout (offsets are stored only after that).
/// Read with -C and the group's stored offsets, which does not join the group.
fn wait_committed(brokers: &str, topic: &str) {
    let start = std::time::Instant::now();
    while !sh(&format!(
        "kcat-lite -b {brokers} -q -C -t {topic} -X group.id={topic} \\
         -X auto.offset.reset=earliest -o stored -e"
    ))
    .is_empty()
    {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "group {topic} did not commit the whole topic within 60 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// `kcat-lite -G g -J --resume-from DIR topic | pq-write --envelope kcat --roll-rows 5 DIR/`
/// on a topic whose messages are already produced: the two processes.
fn idle_pipeline(
    brokers: &str,
    topic: &str,
    lake: &std::path::Path,
) -> (std::process::Child, std::process::Child) {
    use std::process::Stdio;
    std::fs::create_dir_all(lake).unwrap();
    let lake_s = format!("{}/", lake.display());
    let mut kcat = tool("kcat-lite")
        .args([
            "-b",
            brokers,
            "-q",
            "-G",
            topic,
            topic,
            "-J",
            "--resume-from",
        ])
        .arg(&lake_s)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pq = tool("pq-write")
        .args(["-q", "--envelope", "kcat", "--roll-rows", "5", &lake_s])
        .stdin(kcat.stdout.take().unwrap())
        .spawn()
        .unwrap();
    (kcat, pq)
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_idle_pipeline_ends_when_either_side_dies() {
    let brokers = live_env("KAFKA_BROKERS");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let topic = format!("idle-{}-{nanos}", std::process::id());
    sh(&format!(
        "kcat-lite -b {brokers} -q --create-topic {topic} --partitions 1 && \
         seq 1 5 | sed 's/.*/{{\"n\":&}}/' | kcat-lite -b {brokers} -q -P -t {topic}"
    ));
    let dir = tempfile::tempdir().unwrap();

    // pq-write dies (kill -9) while the topic is idle: kcat-lite notices its reader is
    // gone without a message to write, and ends quietly with 0 as under `| head`.
    let first = dir.path().join("first");
    let (mut kcat, mut pq) = idle_pipeline(&brokers, &topic, &first);
    wait_committed(&brokers, &topic);
    pq.kill().unwrap();
    pq.wait().unwrap();
    let status = exits_within(&mut kcat, 30, "kcat-lite after pq-write was killed");
    assert_eq!(status.code(), Some(0), "kcat-lite: {status}");

    // kcat-lite dies: pq-write gets EOF, closes its file and ends with 0.
    sh(&format!(
        "seq 6 10 | sed 's/.*/{{\"n\":&}}/' | kcat-lite -b {brokers} -q -P -t {topic}"
    ));
    let second = dir.path().join("second");
    let (mut kcat, mut pq) = idle_pipeline(&brokers, &topic, &second);
    wait_committed(&brokers, &topic);
    kcat.kill().unwrap();
    kcat.wait().unwrap();
    let status = exits_within(&mut pq, 30, "pq-write after kcat-lite was killed");
    assert_eq!(status.code(), Some(0), "pq-write: {status}");
    let rows = sh(&format!("pq-cat --count {}", second.display()));
    assert_eq!(rows.trim(), "10", "rows pq-write committed on EOF");
}
