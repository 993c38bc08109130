//! Live tests against the real MiniDFSCluster started by `services/up.sh hdfs`:
//! hdfs-ls output byte for byte against `hdfs dfs -ls`, `--json`, pq-write to HDFS (read
//! back with pyarrow), SIGKILL mid-write, and the error cases.
//!
//! `cargo test --profile ci -p hdfs-ls --test live -- --ignored` (after
//! `make services-up; source services/.state/env.sh`). They fail, never skip, when the
//! services are missing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn env(name: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!("${name} is not set: start the services: make services-up; source services/.state/env.sh"),
    }
}

/// `$LAKEPIPE_HDFS_DFS ARGS` (Hadoop's FsShell) as `user` (None: the superuser running
/// the services); must succeed.
fn dfs(user: Option<&str>, args: &[&str]) -> String {
    let out = dfs_raw(user, args);
    assert!(
        out.status.success(),
        "hdfs dfs {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 from hdfs dfs")
}

fn dfs_raw(user: Option<&str>, args: &[&str]) -> Output {
    let mut c = Command::new(env("LAKEPIPE_HDFS_DFS"));
    c.args(args);
    match user {
        Some(u) => c.env("HADOOP_USER_NAME", u),
        None => c.env_remove("HADOOP_USER_NAME"),
    };
    c.output().expect("running $LAKEPIPE_HDFS_DFS")
}

fn ours(user: Option<&str>, args: &[&str]) -> Output {
    env("HDFS_NAMENODE");
    let mut c = Command::new(env!("CARGO_BIN_EXE_hdfs-ls"));
    c.args(args);
    match user {
        Some(u) => c.env("HADOOP_USER_NAME", u),
        None => c.env_remove("HADOOP_USER_NAME"),
    };
    c.output().expect("running hdfs-ls")
}

fn pq_write_bin() -> PathBuf {
    // Built by the same `cargo build --release` as this test's binary.
    let p = Path::new(env!("CARGO_BIN_EXE_hdfs-ls")).with_file_name("pq-write");
    assert!(
        p.exists(),
        "{} is missing: cargo build --release -p pq-write",
        p.display()
    );
    p
}

/// A fresh folder name for one test.
fn rand_dir(tag: &str) -> String {
    format!(
        "/tmp/lakepipe-live-{tag}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

fn nn_url() -> String {
    env("HDFS_NAMENODE").trim_end_matches('/').to_string()
}

/// A tree with nested and empty folders, sizes from 0 B to 24 MiB, names with spaces,
/// `!` and unicode, several owners, groups and permissions, and older mtimes.
fn build_tree(base: &str) {
    let local = tempfile::tempdir().unwrap();
    let t = local.path().join("tree");
    let files: &[(&str, usize)] = &[
        ("empty.txt", 0),
        ("one.txt", 1),
        ("kilo.bin", 1000),
        ("a b.txt", 1536),
        ("a!b", 1280),
        ("ünïcødé файл.txt", 4096),
        ("big.bin", 5 << 20),
        ("huge.bin", 24 << 20),
        ("nested/deep/x.txt", 123),
        ("nested/deep/y y.txt", 99_999),
        ("nested/z.csv", 2048),
        ("other/secret.txt", 10),
    ];
    for (name, size) in files {
        let p = t.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let data: Vec<u8> = (0..*size).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, data).unwrap();
    }
    std::fs::create_dir_all(t.join("empty dir")).unwrap();
    std::fs::create_dir_all(t.join("nested/empty")).unwrap();
    dfs(None, &["-mkdir", "-p", base]);
    dfs(None, &["-put", t.to_str().unwrap(), base]);
    let p = |rel: &str| format!("{base}/tree/{rel}");
    dfs(None, &["-chown", "-R", "alice:analysts", &p("nested")]);
    dfs(
        None,
        &["-chown", "verylongownername:g", &p("a b.txt"), &p("other")],
    );
    dfs(
        None,
        &[
            "-chmod",
            "700",
            &p("other"),
            &p("other/secret.txt"),
            &p("one.txt"),
        ],
    );
    dfs(None, &["-chmod", "1777", &p("empty dir")]);
    dfs(
        None,
        &[
            "-touch",
            "-m",
            "-t",
            "20200102:030405",
            &p("kilo.bin"),
            &p("nested/z.csv"),
        ],
    );
}

/// Our stdout must equal FsShell's, byte for byte, for each flag set. The cases run on
/// two threads: each FsShell call is a JVM start, and the listings only read.
fn compare(cases: &[Vec<String>], user: Option<&str>) {
    let run = |args: &Vec<String>| {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        (dfs_raw(user, &[&["-ls"], &a[..]].concat()), ours(user, &a))
    };
    let half = cases.len().div_ceil(2);
    let results: Vec<(Output, Output)> = std::thread::scope(|s| {
        let second = s.spawn(|| cases[half..].iter().map(run).collect::<Vec<_>>());
        let mut first: Vec<_> = cases[..half].iter().map(run).collect();
        first.extend(second.join().expect("comparison thread"));
        first
    });
    for (args, (theirs, mine)) in cases.iter().zip(results) {
        assert_eq!(
            String::from_utf8_lossy(&mine.stdout),
            String::from_utf8_lossy(&theirs.stdout),
            "stdout differs for -ls {args:?}; our stderr: {}",
            String::from_utf8_lossy(&mine.stderr)
        );
        assert_eq!(
            mine.status.success(),
            theirs.status.success(),
            "exit status differs for {args:?}"
        );
    }
}

fn case(flags: &str, paths: &[&str]) -> Vec<String> {
    flags
        .split_whitespace()
        .chain(paths.iter().copied())
        .map(String::from)
        .collect()
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_output_matches_hdfs_dfs_ls_for_every_flag() {
    let base = rand_dir("ls");
    build_tree(&base);
    let tree = format!("{base}/tree");
    let url = format!("{}{tree}", nn_url());
    let mut cases: Vec<Vec<String>> = Vec::new();
    for flags in [
        "", "-R", "-h", "-d", "-C", "-t", "-S", "-r", "-u", "-R -h", "-t -r", "-S -r", "-C -R",
        "-t -u", "-R -t -S", "-d -h",
    ] {
        cases.push(case(flags, &[&tree]));
    }
    cases.push(case("", &[&url]));
    cases.push(case("-R", &[&format!("{url}/")]));
    cases.push(case("", &[&format!("{tree}/*.txt")]));
    cases.push(case(
        "-d",
        &[&format!("{tree}/{{nested,other}}"), &format!("{tree}/a?b")],
    ));
    cases.push(case(
        "-h",
        &[&format!("{tree}/huge.bin"), &format!("{tree}/nested")],
    ));
    compare(&cases, None);
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_no_path_lists_the_home_folder() {
    let user = format!("u{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let home = format!("/user/{user}");
    dfs(
        None,
        &[
            "-mkdir",
            "-p",
            &format!("{home}/sub dir/inner"),
            &format!("{home}/other"),
        ],
    );
    dfs(None, &["-chown", "-R", &format!("{user}:{user}"), &home]);
    compare(
        &[
            vec![],
            case("-R", &[]),
            case("-C", &["sub dir"]),
            case("-d", &["."]),
        ],
        Some(&user),
    );
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_json_carries_the_same_facts() {
    let base = rand_dir("json");
    build_tree(&base);
    let tree = format!("{base}/tree");
    let long = dfs(None, &["-ls", "-R", &tree]);
    let json = ours(None, &["--json", "-R", &tree]);
    assert!(json.status.success());
    let entries: Vec<serde_json::Value> = String::from_utf8(json.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let lines: Vec<&str> = long.lines().collect();
    assert_eq!(entries.len(), lines.len());
    for (e, line) in entries.iter().zip(&lines) {
        let (f, path) = long_fields(line);
        let is_dir = e["type"] == "directory";
        let perm = u16::from_str_radix(e["permission"].as_str().unwrap(), 8).unwrap();
        assert_eq!(
            f[0],
            format!(
                "{}{}",
                if is_dir { 'd' } else { '-' },
                hdfs_ls::format::permission_string(perm)
            ),
            "{line}"
        );
        assert_eq!(
            f[1],
            if is_dir {
                "-".to_string()
            } else {
                e["replication"].to_string()
            },
            "{line}"
        );
        assert_eq!(f[2], e["owner"].as_str().unwrap());
        assert_eq!(f[3], e["group"].as_str().unwrap());
        assert_eq!(f[4], e["length"].to_string());
        assert_eq!(
            format!("{} {}", f[5], f[6]),
            hdfs_ls::format::format_time(e["modification_time"].as_u64().unwrap())
        );
        assert_eq!(path, e["path"].as_str().unwrap(), "{line} vs {e}");
        if !is_dir {
            assert!(e["block_size"].as_u64().unwrap() > 0);
        }
    }
}

/// The seven fields of a long listing line, and the path (which may hold spaces).
fn long_fields(line: &str) -> (Vec<&str>, &str) {
    let mut rest = line;
    let mut fields = Vec::new();
    for _ in 0..7 {
        rest = rest.trim_start();
        let end = rest.find(' ').expect("a long listing line");
        fields.push(&rest[..end]);
        rest = &rest[end..];
    }
    (fields, &rest[1..])
}

fn events(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "{{\"id\":{i},\"event_type\":\"{}\",\"user\":{{\"id\":{},\"country\":\"fr\"}},\"amount\":{}.5}}\n",
            ["purchase_sword", "login", "logout"][i % 3],
            i % 97,
            i % 13
        ));
    }
    s
}

/// Copy visible files out with FsShell and count their rows with pyarrow (each file
/// must read on its own).
fn pyarrow_rows(files: &[String]) -> u64 {
    let local = tempfile::tempdir().unwrap();
    let mut args = vec!["-get"];
    args.extend(files.iter().map(String::as_str));
    args.push(local.path().to_str().unwrap());
    dfs(None, &args);
    let out = Command::new(env("LAKEPIPE_PYTHON"))
        .args([
            "-c",
            "import sys, os, pyarrow.parquet as pq\nd = sys.argv[1]\nprint(sum(pq.read_table(os.path.join(d, f)).num_rows for f in sorted(os.listdir(d))))",
            local.path().to_str().unwrap(),
        ])
        .output()
        .expect("running $LAKEPIPE_PYTHON");
    assert!(
        out.status.success(),
        "pyarrow: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// Visible part files under a folder (hdfs-ls -C -R, names not starting with . or _).
fn visible_parquet(dir: &str) -> Vec<String> {
    let out = ours(None, &["-C", "-R", dir]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|p| {
            let name = p.rsplit('/').next().unwrap_or("");
            name.ends_with(".parquet") && !name.starts_with('.') && !name.starts_with('_')
        })
        .map(String::from)
        .collect()
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_pq_write_to_hdfs_then_every_row_reads_back() {
    let dir = rand_dir("pqw");
    let url = format!("{}{dir}/t/", nn_url());
    let n = 25_000;
    let mut child = Command::new(pq_write_bin())
        .args(["-q", "--roll-rows", "10000", &url])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(events(n).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = visible_parquet(&format!("{dir}/t"));
    assert_eq!(files.len(), 3, "{files:?}");
    assert_eq!(pyarrow_rows(&files), n as u64);
    // Nothing hidden is left behind after a clean run.
    let all = String::from_utf8(ours(None, &["-C", &format!("{dir}/t")]).stdout).unwrap();
    assert!(!all.contains(".inprogress"), "{all}");

    // --overwrite replaces the folder's earlier parts once the new ones are complete.
    let mut child = Command::new(pq_write_bin())
        .args(["-q", "--overwrite", &url])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(events(100).as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let files = visible_parquet(&format!("{dir}/t"));
    assert_eq!(files.len(), 1);
    assert_eq!(pyarrow_rows(&files), 100);
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_sigkill_mid_write_leaves_no_unreadable_visible_file() {
    let dir = rand_dir("kill");
    let url = format!("{}{dir}/t/", nn_url());
    let mut child = Command::new(pq_write_bin())
        .args([
            "-q",
            "--roll-rows",
            "5000",
            "--row-group-rows",
            "1000",
            &url,
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(events(12_000).as_bytes()).unwrap();
    stdin.flush().unwrap();
    // Wait until the first rolled files are visible, so the kill lands mid-file.
    let started = Instant::now();
    while visible_parquet_quiet(&format!("{dir}/t")) < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "pq-write wrote nothing visible in 60 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait();
    drop(stdin);
    let files = visible_parquet(&format!("{dir}/t"));
    assert!(!files.is_empty());
    // Every visible file is complete: pyarrow reads each one.
    let rows = pyarrow_rows(&files);
    assert_eq!(
        rows % 5000,
        0,
        "visible files hold whole rolled files only: {rows} rows"
    );
}

fn visible_parquet_quiet(dir: &str) -> usize {
    let out = ours(None, &["-C", "-R", dir]);
    if !out.status.success() {
        return 0;
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|p| p.ends_with(".parquet") && !p.rsplit('/').next().unwrap_or("").starts_with('.'))
        .count()
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_missing_path_is_an_error() {
    let dir = rand_dir("missing");
    let out = ours(None, &[&dir]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("hdfs-ls: error: `{dir}': No such file or directory\n")
    );
    let theirs = dfs_raw(None, &["-ls", &dir]);
    assert!(String::from_utf8_lossy(&theirs.stderr)
        .contains(&format!("ls: `{dir}': No such file or directory")));
    // Other paths are still listed; the exit code says something failed.
    let out = ours(None, &[&dir, "/"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("/tmp"));
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_permission_denied_is_an_error() {
    let dir = rand_dir("perm");
    let local = tempfile::tempdir().unwrap();
    let secret = local.path().join("secret.txt");
    std::fs::write(&secret, "s").unwrap();
    dfs(None, &["-mkdir", "-p", &format!("{dir}/private")]);
    dfs(
        None,
        &["-put", secret.to_str().unwrap(), &format!("{dir}/private/")],
    );
    dfs(
        None,
        &["-chown", "-R", "owner1:owners", &format!("{dir}/private")],
    );
    dfs(None, &["-chmod", "-R", "700", &format!("{dir}/private")]);
    for path in [
        format!("{dir}/private"),
        format!("{dir}/private/secret.txt"),
    ] {
        let out = ours(Some("mallory"), &[&path]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.starts_with("hdfs-ls: error: ") && err.contains("Permission denied: user=mallory"),
            "{err}"
        );
        assert_eq!(
            err.lines().count(),
            1,
            "one clear line, no Java stack: {err}"
        );
    }
    // pq-write into a folder it may not write to.
    let mut c = Command::new(pq_write_bin())
        .env("HADOOP_USER_NAME", "mallory")
        .args(["-q", &format!("{}{dir}/private/t/", nn_url())])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin
        .take()
        .unwrap()
        .write_all(events(10).as_bytes())
        .unwrap();
    let out = c.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("Permission denied"), "{err}");
}

#[test]
#[ignore = "live: needs services/ (make test runs it)"]
fn live_unreachable_namenode_fails_fast_naming_the_address() {
    env("HDFS_NAMENODE");
    // Nothing listens on port 1; the default --timeout (30 s) applies.
    for args in [
        vec!["hdfs://127.0.0.1:1/data"],
        vec!["--namenode", "127.0.0.1:1", "/data"],
    ] {
        let started = Instant::now();
        let out = ours(None, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "took {:?}",
            started.elapsed()
        );
        assert!(err.contains("127.0.0.1:1"), "{err}");
    }
    let mut c = Command::new(pq_write_bin())
        .args(["-q", "hdfs://127.0.0.1:1/t/"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin
        .take()
        .unwrap()
        .write_all(events(10).as_bytes())
        .unwrap();
    let started = Instant::now();
    let out = c.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(String::from_utf8_lossy(&out.stderr).contains("127.0.0.1:1"));
}
