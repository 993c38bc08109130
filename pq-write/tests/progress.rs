//! The progress line in a real terminal (tmux): shown while pq-write works, never when
//! stderr is a file or with -q. Needs tmux (make test installs it), no services.

use std::path::{Path, PathBuf};

use lakepipe_tests::tmux::{wait_for, Tmux};

/// 200k JSON lines (~7 MB): long enough that the line is drawn in a debug build too.
fn input(dir: &Path) -> PathBuf {
    let path = dir.join("in.jsonl");
    let mut text = String::new();
    for i in 0..200_000 {
        text.push_str(&format!(
            "{{\"id\":{i},\"name\":\"user-{i}\",\"price\":{i}.5}}\n"
        ));
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn pq_write() -> String {
    env!("CARGO_BIN_EXE_pq-write").to_string()
}

/// A progress line: `pq-write: N rows, X MiB, Y MiB/s, Ts` (the summary has no rate).
fn is_progress(text: &str) -> bool {
    text.lines()
        .any(|l| l.contains("pq-write: ") && l.contains(" rows, ") && l.contains("/s, "))
}

#[test]
fn progress_shows_on_a_terminal_while_writing() {
    let dir = tempfile::tempdir().unwrap();
    let input = input(dir.path());
    let out = dir.path().join("out/");
    // The input stays open after its lines, so the run is still going when we look.
    let tmux = Tmux::start(
        "pq-write",
        &format!(
            "(cat '{}'; sleep 60) | '{}' '{}'",
            input.display(),
            pq_write(),
            out.display()
        ),
    );
    let screen = wait_for(30, "the progress line", || {
        let s = tmux.screen();
        is_progress(&s).then_some(s)
    });
    assert!(screen.contains("rows"), "{screen}");
}

#[test]
fn no_progress_when_stderr_is_a_file_or_with_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = input(d);
    let (go, done) = (d.join("go"), d.join("done"));
    let (log, err) = (d.join("pane.log"), d.join("stderr.txt"));
    // Each run's input stays open 2 s after its lines: a line would be drawn by then.
    let slow = format!("(cat '{}'; sleep 2)", input.display());
    let tmux = Tmux::start(
        "pq-write",
        &format!(
            "while [ ! -e '{go}' ]; do sleep 0.05; done; \
         {slow} | '{pq}' '{out1}' 2>'{err}'; \
         {slow} | '{pq}' -q '{out2}'; echo ALL-DONE; touch '{done}'; sleep 60",
            go = go.display(),
            done = done.display(),
            pq = pq_write(),
            out1 = d.join("a/").display(),
            out2 = d.join("b/").display(),
            err = err.display(),
        ),
    );
    tmux.record(&log);
    std::fs::write(&go, "").unwrap();
    wait_for(60, "both runs", || done.exists().then_some(()));
    let stderr = std::fs::read_to_string(&err).unwrap();
    assert!(
        !is_progress(&stderr) && !stderr.contains('\r'),
        "stderr file: {stderr:?}"
    );
    assert!(
        stderr.contains("200000 rows"),
        "summary expected: {stderr:?}"
    );
    // tmux's pipe-pane recorder (a `cat` of its own) can lag the shell: the recording is
    // complete once the last line has reached it
    let terminal = wait_for(10, "the terminal's recording to end", || {
        let t = String::from_utf8_lossy(&std::fs::read(&log).ok()?).into_owned();
        t.contains("ALL-DONE").then_some(t)
    });
    assert!(!is_progress(&terminal), "terminal got: {terminal:?}");
}
