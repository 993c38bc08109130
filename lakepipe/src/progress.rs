//! The progress line every tool shows on stderr during long work: rows, bytes, rate
//! and elapsed time, redrawn a few times a second by a background tick.
//!
//! Shown only when stderr is a terminal and never with `-q`. A tool that writes its
//! results to stdout shows it only when stdout is a file (or /dev/null): not the
//! terminal, where the line would garble the results, and not a pipe, where the next
//! tool shows its own line, so a pipeline on a terminal draws one line, its last stage's. Counting costs two relaxed atomic adds per call (no clock, no
//! syscall), so call [`Progress::add`] per chunk, batch or message, never per byte.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{
    HumanBytes, HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle,
};

/// Time before the first draw: a quick run never flickers a line.
const FIRST_DRAW: Duration = Duration::from_millis(500);
/// Redraw interval of the background tick.
const TICK: Duration = Duration::from_millis(250);

/// The bar being drawn, so warnings and errors can be printed above it ([`suspend`]).
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

#[derive(Default)]
struct Counts {
    rows: AtomicU64,
    bytes: AtomicU64,
}

/// Counters and, when shown, the line that displays them. Clones share both.
#[derive(Clone)]
pub struct Progress {
    counts: Arc<Counts>,
    bar: Option<ProgressBar>,
    /// One per clone: the last one dropped erases the line.
    clones: Arc<()>,
}

impl Progress {
    /// Progress for a run. `results_on_stdout`: the tool prints its results on stdout,
    /// so the line is shown only when stdout is a file (see the module comment).
    pub fn new(quiet: bool, results_on_stdout: bool) -> Progress {
        let show = !quiet
            && crate::cli::stderr_is_terminal()
            && (!results_on_stdout || stdout_is_a_file());
        if show {
            Progress::shown(crate::cli::tool())
        } else {
            Progress::hidden()
        }
    }

    /// Counters only, nothing drawn.
    pub fn hidden() -> Progress {
        Progress {
            counts: Arc::default(),
            bar: None,
            clones: Arc::default(),
        }
    }

    /// Draw on stderr (after [`FIRST_DRAW`]), whatever stderr is.
    fn shown(tool: &str) -> Progress {
        let counts = Arc::new(Counts::default());
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(style(tool, &counts));
        let active = bar.clone();
        // The tick thread draws; the first draw waits so quick runs stay silent.
        std::thread::spawn(move || {
            std::thread::sleep(FIRST_DRAW);
            if !active.is_finished() {
                active.enable_steady_tick(TICK);
            }
        });
        *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar.clone());
        Progress {
            counts,
            bar: Some(bar),
            clones: Arc::default(),
        }
    }

    /// Count `rows` more rows (lines, messages) and `bytes` more bytes.
    pub fn add(&self, rows: u64, bytes: u64) {
        self.counts.rows.fetch_add(rows, Ordering::Relaxed);
        self.counts.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Set the row count (for tools that keep their own running total).
    pub fn set_rows(&self, rows: u64) {
        self.counts.rows.store(rows, Ordering::Relaxed);
    }

    /// Set the byte count (for tools that keep their own running total).
    pub fn set_bytes(&self, bytes: u64) {
        self.counts.bytes.store(bytes, Ordering::Relaxed);
    }

    /// Text shown before the counts, such as a query's state (`RUNNING 3/9 splits, `).
    pub fn set_prefix(&self, text: String) {
        if let Some(bar) = &self.bar {
            bar.set_message(text);
        }
    }

    /// (rows, bytes) counted so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.counts.rows.load(Ordering::Relaxed),
            self.counts.bytes.load(Ordering::Relaxed),
        )
    }

    /// Run `f` (which prints on the terminal) with the line erased, then draw it again.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) if !bar.is_finished() => bar.suspend(f),
            _ => f(),
        }
    }

    /// True when the line is drawn.
    pub fn is_shown(&self) -> bool {
        self.bar.is_some()
    }

    /// Erase the line (the tool's summary follows it). Also done on drop.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
            let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
            if active.as_ref().is_some_and(|a| a.is_finished()) {
                *active = None;
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // The last clone erases the line (the tick thread holds the bar, not Progress).
        if Arc::strong_count(&self.clones) == 1 {
            self.finish();
        }
    }
}

/// True when stdout is a file or a device other than a terminal (not a pipe or socket).
fn stdout_is_a_file() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    let out = std::io::stdout();
    if std::io::IsTerminal::is_terminal(&out) {
        return false;
    }
    let Ok(fd) = out.as_fd().try_clone_to_owned() else {
        return false;
    };
    std::fs::File::from(fd)
        .metadata()
        .is_ok_and(|m| !m.file_type().is_fifo() && !m.file_type().is_socket())
}

/// Erase the line for good, whoever still holds a clone (the run is over: [`crate::cli::finish`]).
pub fn clear() {
    if let Some(bar) = ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).take() {
        bar.finish_and_clear();
    }
}

/// Run `f` (which prints on stderr) with the progress line erased, then redraw it.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    let bar = ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match bar {
        Some(bar) if !bar.is_finished() => bar.suspend(f),
        _ => f(),
    }
}

/// `TOOL: 1,234,567 rows, 312.5 MiB, 48.2 MiB/s, 6s`, with the prefix (if any) after `TOOL: `.
fn style(tool: &str, counts: &Arc<Counts>) -> ProgressStyle {
    let (rows, bytes, rate) = (counts.clone(), counts.clone(), counts.clone());
    ProgressStyle::with_template(&format!(
        "{tool}: {{msg}}{{rows}} rows, {{bytes}}, {{rate}}, {{elapsed}}"
    ))
    .expect("valid template")
    .with_key(
        "rows",
        move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}", HumanCount(rows.rows.load(Ordering::Relaxed)));
        },
    )
    .with_key(
        "bytes",
        move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}", HumanBytes(bytes.bytes.load(Ordering::Relaxed)));
        },
    )
    .with_key(
        "rate",
        move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(
                w,
                "{}",
                rate_text(rate.bytes.load(Ordering::Relaxed), s.elapsed())
            );
        },
    )
}

/// Bytes per second over the whole run.
fn rate_text(bytes: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    if secs <= 0.0 {
        return "-/s".into();
    }
    format!("{}/s", HumanBytes((bytes as f64 / secs) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_progress_still_counts() {
        let p = Progress::hidden();
        let q = p.clone();
        p.add(2, 100);
        q.add(1, 50);
        assert_eq!(p.counts(), (3, 150));
        p.set_rows(10);
        assert_eq!(q.counts(), (10, 150));
        assert!(!p.is_shown());
    }

    #[test]
    fn rate_is_bytes_over_elapsed() {
        assert_eq!(rate_text(3 << 20, Duration::from_secs(3)), "1.00 MiB/s");
        assert_eq!(rate_text(1, Duration::ZERO), "-/s");
    }
}
