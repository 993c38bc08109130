//! The progress line on stderr: state, splits, rows, bytes; only on a terminal.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::client::Stats;

pub struct Progress {
    enabled: bool,
    started: Instant,
    last: Option<Instant>,
    drawn: bool,
}

impl Progress {
    pub fn new(enabled: bool) -> Self {
        Progress {
            enabled,
            started: Instant::now(),
            last: None,
            drawn: false,
        }
    }

    /// Redraw at most five times a second, and not in the first half second (quick
    /// queries would only flicker).
    pub fn update(&mut self, stats: &Stats) {
        if !self.enabled || self.started.elapsed() < Duration::from_millis(500) {
            return;
        }
        if self
            .last
            .is_some_and(|t| t.elapsed() < Duration::from_millis(200))
        {
            return;
        }
        self.last = Some(Instant::now());
        let secs = self.started.elapsed().as_secs_f64();
        let line = format!(
            "\r\x1b[K{} {}/{} splits, {} rows, {}, {} rows/s, {secs:.1}s",
            stats.state,
            stats.completed_splits,
            stats.total_splits,
            stats.processed_rows,
            human_bytes(stats.processed_bytes),
            human_count(stats.processed_rows as f64 / secs),
        );
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(line.as_bytes());
        let _ = err.flush();
        self.drawn = true;
    }

    /// Erase the line (before results or messages are printed on the same terminal).
    pub fn clear(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(b"\r\x1b[K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

/// A rate as trino-cli prints it: `950`, `12.3K`, `4.5M`.
pub fn human_count(n: f64) -> String {
    match n {
        n if n >= 1e9 => format!("{:.1}G", n / 1e9),
        n if n >= 1e6 => format!("{:.1}M", n / 1e6),
        n if n >= 1e3 => format!("{:.1}K", n / 1e3),
        n => format!("{n:.0}"),
    }
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bytes_read_well() {
        assert_eq!(super::human_bytes(999), "999 B");
        assert_eq!(super::human_bytes(1_234_567), "1.2 MB");
        assert_eq!(super::human_count(950.4), "950");
        assert_eq!(super::human_count(12_345.0), "12.3K");
        assert_eq!(super::human_count(4_500_000.0), "4.5M");
    }
}
