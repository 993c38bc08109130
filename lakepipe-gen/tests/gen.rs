//! The generator writes a man page and three completion files per tool, each naming the
//! tool's own flags.

use std::fs;
use std::path::Path;

const TOOLS: [&str; 7] = [
    "kcat-lite",
    "jq-lite",
    "pq-write",
    "pq-cat",
    "hdfs-ls",
    "hive-ddl",
    "presto-q",
];

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn every_tool_gets_a_man_page_and_completions() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lakepipe-gen"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = dir.path();
    for t in TOOLS {
        let man = read(&d.join(format!("man/man1/{t}.1")));
        assert!(man.contains(".TH") && man.contains(t), "{t}.1:\n{man}");
        let bash = read(&d.join(format!("bash-completion/completions/{t}")));
        let func = t.replace('-', "__"); // clap_complete's bash function name
        assert!(
            bash.contains(&format!("complete -F _{func} ")) && bash.contains(&format!(" {t}\n")),
            "bash {t}:\n{bash}"
        );
        let zsh = read(&d.join(format!("zsh/site-functions/_{t}")));
        assert!(zsh.starts_with(&format!("#compdef {t}")), "zsh {t}");
        assert!(
            zsh.contains(&format!("_{t}()")),
            "zsh {t}: no _{t} function"
        );
        let fish = read(&d.join(format!("fish/vendor_completions.d/{t}.fish")));
        assert!(fish.contains(&format!("complete -c {t}")), "fish {t}");
    }
}

#[test]
fn pages_and_completions_name_each_tools_flags() {
    let dir = tempfile::tempdir().unwrap();
    lakepipe_gen::generate(dir.path()).unwrap();
    let d = dir.path();
    // --timeout in every tool that talks to a service, -q everywhere, and own flags.
    for (t, flags) in [
        ("pq-cat", &["timeout", "quiet", "format", "columns"][..]),
        ("hive-ddl", &["timeout", "quiet", "dialect"]),
        ("pq-write", &["timeout", "quiet", "partition-by"]),
        ("hdfs-ls", &["timeout", "json", "namenode"]),
        ("kcat-lite", &["timeout", "quiet", "create-topic"]),
        ("presto-q", &["timeout", "quiet", "server"]),
        ("jq-lite", &["quiet", "skip-invalid", "flatten"]),
    ] {
        let man = read(&d.join(format!("man/man1/{t}.1")));
        let bash = read(&d.join(format!("bash-completion/completions/{t}")));
        let zsh = read(&d.join(format!("zsh/site-functions/_{t}")));
        let fish = read(&d.join(format!("fish/vendor_completions.d/{t}.fish")));
        for f in flags {
            // roff escapes the dashes of --flag as \-\-flag
            assert!(
                man.contains(&format!("\\-\\-{}", f.replace('-', "\\-"))),
                "{t}.1 lacks --{f}"
            );
            assert!(bash.contains(&format!("--{f}")), "bash {t} lacks --{f}");
            assert!(zsh.contains(&format!("--{f}")), "zsh {t} lacks --{f}");
            assert!(fish.contains(&format!("-l {f}")), "fish {t} lacks --{f}");
        }
    }
    assert!(!read(&d.join("man/man1/jq-lite.1")).contains("timeout"));
}

/// clap's own consistency checks on every tool's command line (flag clashes, bad
/// defaults), once for all seven.
#[test]
fn every_command_line_is_consistent() {
    for cmd in lakepipe_gen::tools() {
        cmd.debug_assert();
    }
}
