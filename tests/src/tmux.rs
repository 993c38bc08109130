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
    /// Run `script` (bash) in a new 160x24 terminal; `tag` names it in `tmux ls`.
    pub fn start(tag: &str, script: &str) -> Tmux {
        Tmux::start_sized(tag, script, 160, 24)
    }

    /// Run `script` (bash: after a Ctrl-C that the program handled, dash would stop the
    /// script) in a new terminal of `cols` x `rows`, UTF-8, without the user's tmux
    /// configuration.
    pub fn start_sized(tag: &str, script: &str, cols: u16, rows: u16) -> Tmux {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "lakepipe-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let tmux = Tmux { name };
        let (cols, rows) = (cols.to_string(), rows.to_string());
        let ok = tmux
            .cmd(&[
                "-u",
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                &tmux.name,
            ])
            .args(["-x", &cols, "-y", &rows])
            .args(["bash", "-c", script])
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

    /// The screen and up to 2,000 lines above it, wrapped lines joined.
    pub fn history(&self) -> String {
        let out = self
            .cmd(&["capture-pane", "-p", "-J", "-S", "-2000", "-t", &self.name])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// [`Tmux::history`] once `ok` holds for it; panics with it after `secs`.
    pub fn wait_screen(&self, secs: u64, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let screen = self.history();
            if ok(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited {secs} s for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Type `text` literally, as a person would (a trailing `;` is escaped: tmux would
    /// take it as a separator).
    pub fn type_text(&self, text: &str) {
        let text = match text.strip_suffix(';') {
            Some(t) => format!("{t}\\;"),
            None => text.to_string(),
        };
        let ok = self
            .cmd(&["send-keys", "-t", &self.name, "-l", &text])
            .status()
            .expect("tmux send-keys");
        assert!(ok.success(), "tmux send-keys failed");
    }

    /// Type a line and press Enter.
    pub fn line(&self, text: &str) {
        self.type_text(text);
        self.keys(&["Enter"]);
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
        let socket = self
            .cmd(&["display-message", "-p", "#{socket_path}"])
            .stderr(std::process::Stdio::null())
            .output();
        let _ = self
            .cmd(&["kill-server"])
            .stderr(std::process::Stdio::null())
            .status();
        // kill-server leaves the socket file behind
        if let Ok(out) = socket {
            let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if path.ends_with(&self.name) {
                let _ = std::fs::remove_file(path);
            }
        }
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
