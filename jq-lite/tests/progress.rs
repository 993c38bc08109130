//! jq-lite's progress line in a real terminal (tmux): shown while stdout goes to a file,
//! never with -q or into a pipe. Needs tmux (make test installs it), no services.

use std::path::Path;

use lakepipe_tests::tmux::{wait_for, Tmux};

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
fn progress_shows_while_filtering_to_a_file_and_not_with_quiet_or_into_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = d.join("in.jsonl");
    write_input(&input);
    let jq = env!("CARGO_BIN_EXE_jq-lite");
    // Each run waits for its go file (so recording can start first); its input stays
    // open 3 s after the lines, long enough for a line to be drawn. `pipe` puts `| cat`
    // on jq-lite's stdout.
    let run = |tag: &str, flags: &str, pipe: bool| {
        let (go, done) = (d.join(format!("{tag}.go")), d.join(format!("{tag}.done")));
        let tmux = Tmux::start(
            tag,
            &format!(
                "while [ ! -e '{go}' ]; do sleep 0.05; done; \
                 (cat '{input}'; sleep 3) | '{jq}' {flags} .id {pipe} > '{out}'; \
                 touch '{done}'; sleep 60",
                go = go.display(),
                input = input.display(),
                pipe = if pipe { "| cat" } else { "" },
                out = d.join(format!("{tag}.out")).display(),
                done = done.display()
            ),
        );
        (tmux, go, done)
    };
    let (tmux, go, _) = run("shown", "", false);
    std::fs::write(&go, "").unwrap();
    wait_for(30, "the progress line", || {
        is_progress(&tmux.screen()).then_some(())
    });
    drop(tmux);
    // Neither with -q nor into a pipe (where the pipeline's next tool draws its own).
    for (tag, flags, pipe) in [("quiet", "-q", false), ("piped", "", true)] {
        let (tmux, go, done) = run(tag, flags, pipe);
        let log = d.join(format!("{tag}.log"));
        tmux.record(&log);
        std::fs::write(&go, "").unwrap();
        wait_for(60, tag, || done.exists().then_some(()));
        let seen = String::from_utf8_lossy(&std::fs::read(&log).unwrap()).into_owned();
        assert!(!is_progress(&seen), "progress ({tag}):\n{seen}");
        let out = std::fs::read_to_string(d.join(format!("{tag}.out"))).unwrap();
        assert!(out.starts_with("0\n"), "{tag}: {out:?}");
    }
}
