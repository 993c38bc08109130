//! CLI tests that need no HDFS: usage, exit codes, and the timeout on a namenode that
//! accepts connections but never answers.

use std::time::Duration;

use assert_cmd::Command;
use lakepipe_tests::{fails_within, silent_address};

/// hdfs-ls with the environment variables it reads cleared.
fn hdfs_ls() -> Command {
    let mut c = Command::cargo_bin("hdfs-ls").unwrap();
    for k in [
        "HDFS_NAMENODE",
        "HADOOP_CONF_DIR",
        "HADOOP_USER_NAME",
        "HADOOP_HOME",
    ] {
        c.env_remove(k);
    }
    c
}

#[test]
fn help_shows_examples_and_flags() {
    let out = hdfs_ls().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Examples:") && text.contains("-R") && text.contains("--json"),
        "{text}"
    );
}

#[test]
fn bad_flag_is_a_usage_error() {
    hdfs_ls().arg("-Z").assert().code(2);
    hdfs_ls().args(["--timeout", "0", "/x"]).assert().code(2);
    hdfs_ls().arg("s3://bucket/x").assert().code(2);
}

#[test]
fn no_namenode_configured_is_a_clear_error() {
    let out = hdfs_ls().arg("/data").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no namenode given"));
}

#[test]
fn silent_namenode_times_out_naming_the_address() {
    let (_silent, addr) = silent_address();
    let err = fails_within(Duration::from_secs(10), || {
        let url = format!("hdfs://{addr}/data");
        hdfs_ls().args(["--timeout", "2", &url]).output().unwrap()
    });
    assert!(
        err.contains(&addr) && err.contains("did not answer within 2 s"),
        "{err}"
    );
}
