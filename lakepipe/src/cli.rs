//! The command-line conventions shared by every tool: the shared arguments (`--timeout`,
//! `-q`), one way to report errors and warnings, exit codes 0/1/2/130, quiet exit on a
//! closed stdout, interrupts, stdout buffering.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

static TOOL: OnceLock<&'static str> = OnceLock::new();
static INTERRUPTED: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Exit code for a usage error (clap uses the same).
pub const EXIT_USAGE: u8 = 2;
/// Exit code after SIGINT/SIGTERM (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// A usage error found after argument parsing (conflicting flags, bad values): exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The run stopped because of SIGINT/SIGTERM; the message says what was not processed.
#[derive(Debug, thiserror::Error)]
#[error("interrupted: {0}")]
pub struct Interrupted(pub String);

/// `-q/--quiet`, the same flag in every tool (flatten it into the tool's `Args`).
#[derive(clap::Args, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quiet {
    /// Quiet: no progress, summary or warnings on stderr (errors are still printed)
    #[arg(short, long)]
    pub quiet: bool,
}

/// The arguments of every tool that talks to a service (Kafka broker, HDFS namenode,
/// Trino server): `--timeout` and `-q`. Flatten it into the tool's `Args`.
#[derive(clap::Args, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Common {
    /// Seconds to wait for a service (Kafka broker, HDFS namenode or datanode, Presto/Trino
    /// server) before failing with an error that names its address
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_timeout)]
    pub timeout: Duration,

    #[command(flatten)]
    pub q: Quiet,
}

impl Common {
    /// True with `-q`.
    pub fn quiet(&self) -> bool {
        self.q.quiet
    }
}

/// `--timeout SECS`: a positive, finite number of seconds (fractions allowed).
fn parse_timeout(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs.is_finite() && secs < 1e9 => {
            Ok(Duration::from_secs_f64(secs))
        }
        _ => Err(format!("must be a positive number of seconds, not '{s}'")),
    }
}

/// End the run with this exit code and no message (jq's `halt`, which printed its own).
#[derive(Debug, thiserror::Error)]
#[error("exit {0}")]
pub struct ExitWith(pub i32);

/// Build a usage error (exit code 2).
pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

/// The tool's name as set by [`run_main`], for diagnostics.
pub fn tool() -> &'static str {
    TOOL.get().copied().unwrap_or("lakepipe")
}

/// Print `TOOL: warning: MSG` on stderr (never panics, even if stderr is closed).
pub fn warn(msg: impl std::fmt::Display) {
    crate::progress::suspend(|| writeln!(io::stderr().lock(), "{}: warning: {msg}", tool()).ok());
}

/// Print `TOOL: error: MSG` on stderr, for an error the run goes on after (the exit
/// code is the caller's business); [`finish`] prints the one that ends a run.
pub fn error(msg: impl std::fmt::Display) {
    crate::progress::suspend(|| writeln!(io::stderr().lock(), "{}: error: {msg}", tool()).ok());
}

/// Print `line` on stderr as it is (kcat's `% ...` notices), above the progress line.
pub fn notice(line: impl std::fmt::Display) {
    crate::progress::suspend(|| writeln!(io::stderr().lock(), "{line}").ok());
}

/// Print an informational line (summaries) on stderr unless `quiet`.
pub fn info(quiet: bool, msg: impl std::fmt::Display) {
    if !quiet {
        crate::progress::suspend(|| writeln!(io::stderr().lock(), "{}: {msg}", tool()).ok());
    }
}

/// Install SIGINT/SIGTERM handlers that only set a flag, so a tool can finish its
/// current file before exiting. A second signal terminates at once.
pub fn install_interrupt_handler() -> Arc<AtomicBool> {
    INTERRUPTED
        .get_or_init(|| {
            let flag = Arc::new(AtomicBool::new(false));
            for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
                // Order matters: the conditional default is checked before the flag is set.
                let _ = signal_hook::flag::register_conditional_default(sig, Arc::clone(&flag));
                let _ = signal_hook::flag::register(sig, Arc::clone(&flag));
            }
            flag
        })
        .clone()
}

/// True once SIGINT or SIGTERM arrived (false if no handler was installed).
pub fn interrupted() -> bool {
    INTERRUPTED.get().is_some_and(|f| f.load(Ordering::Relaxed))
}

/// Parse arguments, run, and turn the result into the exit code. Used by every `main.rs`.
pub fn run_main<A: clap::Parser>(tool: &'static str, run: fn(A) -> anyhow::Result<()>) -> ExitCode {
    let _ = TOOL.set(tool);
    let args = match A::try_parse() {
        Ok(args) => args,
        Err(e) => {
            // --help and --version are "errors" to clap that print to stdout and exit 0.
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    finish(tool, run(args))
}

/// Report the outcome of a run on stderr and map it to an exit code.
pub fn finish(tool: &str, result: anyhow::Result<()>) -> ExitCode {
    crate::progress::clear();
    // an outage whose service answers again ends with its warning, even mid-settle
    crate::retry::settle();
    let err = match result {
        Ok(()) => return ExitCode::SUCCESS,
        Err(err) => err,
    };
    if is_broken_pipe(&err) {
        return ExitCode::SUCCESS;
    }
    if let Some(ExitWith(code)) = err.downcast_ref::<ExitWith>() {
        // As the OS keeps it: the low 8 bits (exit(-1) is 255).
        return ExitCode::from(*code as u8);
    }
    if let Some(e) = err.downcast_ref::<clap::Error>() {
        let _ = e.print();
        return ExitCode::from(EXIT_USAGE);
    }
    let mut stderr = io::stderr().lock();
    if err.downcast_ref::<UsageError>().is_some() {
        let _ = writeln!(
            stderr,
            "{tool}: error: {err:#}\nTry '{tool} --help' for more information."
        );
        return ExitCode::from(EXIT_USAGE);
    }
    if err.chain().any(|c| c.is::<Interrupted>()) {
        let _ = writeln!(stderr, "{tool}: {err:#}");
        return ExitCode::from(EXIT_INTERRUPTED);
    }
    let _ = writeln!(stderr, "{tool}: error: {err:#}");
    ExitCode::FAILURE
}

/// True when the error comes from writing to a closed pipe (`| head`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            || arrow_broken_pipe(c)
    })
}

#[cfg(feature = "parquet")]
fn arrow_broken_pipe(c: &(dyn std::error::Error + 'static)) -> bool {
    c.downcast_ref::<arrow_schema::ArrowError>().is_some_and(|e| {
        matches!(e, arrow_schema::ArrowError::IoError(_, io) if io.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[cfg(not(feature = "parquet"))]
fn arrow_broken_pipe(_: &(dyn std::error::Error + 'static)) -> bool {
    false
}

/// Locked stdout: buffered in large blocks when piped, unbuffered on a terminal so
/// output appears at once. Callers must `flush()` and propagate its error.
pub fn stdout() -> Box<dyn Write> {
    let out = io::stdout();
    if out.is_terminal() {
        Box::new(io::LineWriter::new(out.lock()))
    } else {
        Box::new(io::BufWriter::with_capacity(256 * 1024, out.lock()))
    }
}

/// True when stderr is a terminal (progress display is only shown then).
pub fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_pipe_is_detected_through_context() {
        let err =
            anyhow::Error::from(io::Error::from(io::ErrorKind::BrokenPipe)).context("writing rows");
        assert!(is_broken_pipe(&err));
        let other = anyhow::Error::from(io::Error::from(io::ErrorKind::NotFound));
        assert!(!is_broken_pipe(&other));
    }

    #[derive(clap::Parser, Debug)]
    struct Tool {
        #[command(flatten)]
        common: Common,
    }

    fn parse(args: &[&str]) -> Result<Common, clap::Error> {
        use clap::Parser;
        Tool::try_parse_from(std::iter::once("tool").chain(args.iter().copied())).map(|t| t.common)
    }

    #[test]
    fn timeout_defaults_to_the_storage_bound_and_takes_fractions() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.timeout, crate::storage::DEFAULT_TIMEOUT);
        assert!(!c.quiet());
        let c = parse(&["--timeout", "2.5", "-q"]).unwrap();
        assert_eq!(c.timeout, Duration::from_millis(2500));
        assert!(c.quiet());
        assert!(parse(&["--quiet"]).unwrap().quiet());
    }

    #[test]
    fn bad_timeouts_are_usage_errors() {
        for bad in ["0", "-1", "nan", "inf", "soon", ""] {
            let e = parse(&[&format!("--timeout={bad}")]).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
            assert!(e.to_string().contains("positive number of seconds"), "{e}");
        }
    }

    #[test]
    fn exit_codes_follow_the_spec() {
        assert_eq!(finish("t", Ok(())), ExitCode::SUCCESS);
        assert_eq!(finish("t", Err(usage("bad flag"))), ExitCode::from(2));
        assert_eq!(
            finish("t", Err(Interrupted("x".into()).into())),
            ExitCode::from(130)
        );
        assert_eq!(finish("t", Err(anyhow::anyhow!("boom"))), ExitCode::FAILURE);
        assert_eq!(finish("t", Err(ExitWith(5).into())), ExitCode::from(5));
        assert_eq!(finish("t", Err(ExitWith(-1).into())), ExitCode::from(255));
        let pipe = anyhow::Error::from(io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(finish("t", Err(pipe)), ExitCode::SUCCESS);
    }
}
