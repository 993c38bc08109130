//! jq-lite's progress line in a real terminal (tmux): shown while stdout goes to a file,
//! never with -q. Needs tmux (make test installs it), no services.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A detached tmux session of fixed size on its own server (`-L`, so no test races
/// another test's server shutting down), killed on drop.
struct Tmux(String);

impl Tmux {
    fn start(tag: &str, script: &str) -> Tmux {
        let name = format!("jq-lite-test-{tag}-{}", std::process::id());
        let ok = Command::new("tmux")
            .args([
                "-L",
                &name,
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                "160",
                "-y",
                "24",
            ])
            .args(["sh", "-c", script])
            .status()
            .expect("tmux is needed for terminal tests (make test installs it)");
        assert!(ok.success(), "tmux new-session failed");
        Tmux(name)
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.0, "capture-pane", "-p", "-t", &self.0])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.0, "kill-server"])
            .status();
    }
}

fn write_input(path: &Path) {
    let text: String = (0..100_000)
        .map(|i| format!("{{\"id\":{i},\"t\":\"purchase\"}}\n"))
        .collect();
    std::fs::write(path, text).unwrap();
}

fn is_progress(screen: &str) -> bool {
    screen
        .lines()
        .any(|l| l.starts_with("jq-lite: ") && l.contains(" rows, ") && l.contains("/s, "))
}

#[test]
fn progress_shows_while_filtering_to_a_file_and_not_with_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write_input(&input);
    let jq = env!("CARGO_BIN_EXE_jq-lite");
    let run = |tag: &str, flags: &str| {
        let done = dir.path().join(format!("{tag}.done"));
        let tmux = Tmux::start(
            tag,
            &format!(
                "(cat '{}'; sleep 3) | '{jq}' {flags} .id > '{}'; touch '{}'; sleep 60",
                input.display(),
                dir.path().join(format!("{tag}.out")).display(),
                done.display()
            ),
        );
        (tmux, done)
    };
    // Shown: poll the screen until the line is there (the input stays open 3 s).
    let (tmux, _) = run("shown", "");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !is_progress(&tmux.screen()) {
        assert!(
            Instant::now() < deadline,
            "no progress line:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(tmux);
    // Quiet: record everything the terminal got until the run is over.
    let (tmux, done) = run("quiet", "-q");
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done.exists() {
        seen.push_str(&tmux.screen());
        assert!(Instant::now() < deadline, "the -q run did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!is_progress(&seen), "progress with -q:\n{seen}");
}
