//! Results taller than the screen go through a pager (`$PRESTO_PAGER`, else
//! `less -FXRSn`, as trino-cli); shorter ones, or all of them without a pager, go
//! straight to the terminal.

use std::io::{self, Write};
use std::process::{Child, ChildStdin, Command, Stdio};

/// The pager's program and arguments: `$PRESTO_PAGER` split on blanks, `less -FXRSn`
/// when unset, none when set but empty.
pub fn pager_command(var: Option<String>) -> Option<Vec<String>> {
    match var {
        None => Some(vec!["less".into(), "-FXRSn".into()]),
        Some(v) => {
            let words: Vec<String> = v.split_whitespace().map(String::from).collect();
            (!words.is_empty()).then_some(words)
        }
    }
}

/// Rows of the terminal on stdout, if it is one.
pub fn screen_rows() -> Option<usize> {
    // SAFETY: TIOCGWINSZ only fills the winsize struct it is given.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
    (ok && ws.ws_row > 0).then_some(ws.ws_row as usize)
}

/// Output of one statement: held back until it is known to fit on the screen, then
/// either printed or handed to the pager (which gets the rest as it comes).
pub struct Paged<W: Write> {
    /// The terminal.
    out: W,
    pager: Option<Vec<String>>,
    /// Lines that fit: the screen less one line for the next prompt.
    fits: usize,
    held: Vec<u8>,
    lines: usize,
    child: Option<(Child, ChildStdin)>,
    /// Past the screen height with no pager available: write straight through.
    direct: bool,
}

impl<W: Write> Paged<W> {
    pub fn new(out: W, pager: Option<Vec<String>>, rows: Option<usize>) -> Paged<W> {
        let direct = pager.is_none() || rows.is_none();
        Paged {
            out,
            pager,
            fits: rows.unwrap_or(usize::MAX).saturating_sub(1),
            held: Vec::new(),
            lines: 0,
            child: None,
            direct,
        }
    }

    /// Whether the output went to the pager (for tests and messages).
    pub fn paged(&self) -> bool {
        self.child.is_some()
    }

    /// Show what is held back and wait for the pager to be closed.
    pub fn finish(&mut self) -> io::Result<()> {
        if let Some((mut child, stdin)) = self.child.take() {
            drop(stdin);
            child.wait()?;
            return Ok(());
        }
        self.out.write_all(&self.held)?;
        self.held.clear();
        self.out.flush()
    }

    fn start_pager(&mut self) -> io::Result<()> {
        let Some(argv) = self.pager.as_ref() else {
            return self.go_direct();
        };
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]).stdin(Stdio::piped());
        if std::env::var_os("LESSCHARSET").is_none() {
            // Wide and accented characters even under a C locale.
            cmd.env("LESSCHARSET", "utf-8");
        }
        match cmd.spawn() {
            Ok(mut child) => {
                let mut stdin = child.stdin.take().expect("piped stdin");
                let held = std::mem::take(&mut self.held);
                let written = stdin.write_all(&held);
                self.child = Some((child, stdin));
                written
            }
            Err(e) => {
                lakepipe::cli::warn(format_args!(
                    "pager '{}' cannot run ({e}): showing the output without it (PRESTO_PAGER= turns it off)",
                    argv.join(" ")
                ));
                self.pager = None;
                self.go_direct()
            }
        }
    }

    fn go_direct(&mut self) -> io::Result<()> {
        self.direct = true;
        let held = std::mem::take(&mut self.held);
        self.out.write_all(&held)
    }
}

impl<W: Write> Write for Paged<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if let Some((_, stdin)) = &mut self.child {
            stdin.write_all(data)?;
        } else if self.direct {
            self.out.write_all(data)?;
        } else {
            self.held.extend_from_slice(data);
            self.lines += data.iter().filter(|&&b| b == b'\n').count();
            if self.lines > self.fits {
                self.start_pager()?;
            }
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.child {
            Some((_, stdin)) => stdin.flush(),
            None if self.direct => self.out.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pager_from_env() {
        assert_eq!(
            pager_command(None),
            Some(vec!["less".to_string(), "-FXRSn".to_string()])
        );
        assert_eq!(pager_command(Some(String::new())), None);
        assert_eq!(pager_command(Some("  ".into())), None);
        assert_eq!(
            pager_command(Some("more -d".into())),
            Some(vec!["more".to_string(), "-d".to_string()])
        );
    }

    /// A pager that copies what it gets into a file, so the test sees what it was given.
    fn pager_into(file: &std::path::Path) -> Vec<String> {
        vec![
            "sh".into(),
            "-c".into(),
            format!("cat > '{}'", file.display()),
        ]
    }

    #[test]
    fn only_output_taller_than_the_screen_is_paged() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("paged");
        let mut short = Paged::new(Vec::new(), Some(pager_into(&file)), Some(5));
        short.write_all(b"1\n2\n3\n4\n").unwrap();
        assert!(!short.paged() && short.out.is_empty());
        short.finish().unwrap();
        assert_eq!(short.out, b"1\n2\n3\n4\n");

        let mut tall = Paged::new(Vec::new(), Some(pager_into(&file)), Some(5));
        tall.write_all(b"1\n2\n3\n").unwrap();
        tall.write_all(b"4\n5\n").unwrap();
        assert!(tall.paged());
        tall.write_all(b"6\n").unwrap();
        tall.finish().unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"1\n2\n3\n4\n5\n6\n");
        assert!(tall.out.is_empty());
    }

    #[test]
    fn a_missing_pager_falls_back_to_plain_output() {
        let mut p = Paged::new(Vec::new(), Some(vec!["/nonexistent/pager".into()]), Some(2));
        p.write_all(b"1\n2\n3\n").unwrap();
        p.write_all(b"4\n").unwrap();
        assert!(!p.paged() && p.direct && p.held.is_empty());
        assert_eq!(p.out, b"1\n2\n3\n4\n");
        // No screen size (not a terminal): never paged.
        let p = Paged::new(Vec::new(), Some(vec!["less".into()]), None);
        assert!(p.direct);
    }
}
