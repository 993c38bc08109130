//! A real terminal for tests (progress lines, interactive shells): a detached tmux
//! session of fixed size on its own server (`-L`), so no test races another test's
//! server shutting down; the server is killed on drop. `make test` installs tmux.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub struct Tmux {
    name: String,
}

impl Tmux {
    /// Run `script` (sh) in a new 160x24 terminal; `tag` names it in `tmux ls`.
    pub fn start(tag: &str, script: &str) -> Tmux {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "lakepipe-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let tmux = Tmux { name };
        let ok = tmux
            .cmd(&[
                "new-session",
                "-d",
                "-s",
                &tmux.name,
                "-x",
                "160",
                "-y",
                "24",
            ])
            .args(["sh", "-c", script])
            .status()
            .expect("tmux is needed for terminal tests (make test installs it)");
        assert!(ok.success(), "tmux new-session failed");
        tmux
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.name]).args(args);
        c
    }

    /// What the terminal shows now.
    pub fn screen(&self) -> String {
        let out = self
            .cmd(&["capture-pane", "-p", "-t", &self.name])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Type `text` literally, as a person would (tmux takes a trailing `;` as a separator).
    pub fn type_text(&self, text: &str) {
        assert!(
            !text.ends_with(';'),
            "send a trailing `;` escaped, with keys"
        );
        let ok = self
            .cmd(&["send-keys", "-t", &self.name, "-l", text])
            .status()
            .expect("tmux send-keys");
        assert!(ok.success(), "tmux send-keys failed");
    }

    /// Press keys by their tmux names (`Enter`, `C-c`).
    pub fn keys(&self, keys: &[&str]) {
        let ok = self
            .cmd(&["send-keys", "-t", &self.name])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(ok.success(), "tmux send-keys failed");
    }

    /// Everything written to the terminal from now on is copied to `log`.
    pub fn record(&self, log: &Path) {
        let pipe = format!("cat > '{}'", log.display());
        let ok = self
            .cmd(&["pipe-pane", "-t", &self.name, &pipe])
            .status()
            .expect("tmux pipe-pane");
        assert!(ok.success(), "tmux pipe-pane failed");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]).status();
    }
}

/// Poll `probe` every 50 ms until it returns Some; panic naming `what` after `secs`.
pub fn wait_for<T>(secs: u64, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
