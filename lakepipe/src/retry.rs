//! Riding out a service outage in a stream: capped exponential backoff for up to
//! `--retry-for`, with one warning when an outage starts and one when it ends.
//!
//! A tool sets the budget once ([`set_retry_for`], 0 = fail fast, the batch default);
//! each call site hands [`call`] the service it talks to and a test saying which errors
//! are transient (the classification lives with each error type:
//! [`crate::storage::StorageError::is_transient`], the metastore's and Kafka's next to
//! their clients). The outage clock belongs to the service, not to the call, so a
//! stream that keeps calling gives up `--retry-for` after the outage began, and the
//! warnings print once per outage however many calls wait on it. An outage ends only
//! once the service has answered for [`SETTLE`] without failing again and with no call
//! to it still in progress, so a service that fails once more just after it came back
//! gives one warning pair, not two.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// First wait after a failure; doubled each time up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// The longest wait between two attempts: a restarted service is noticed within this.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// The streaming default of `--retry-for`: survives a restart of a few minutes.
pub const STREAM_DEFAULT: Duration = Duration::from_secs(300);

static RETRY_FOR_MS: AtomicU64 = AtomicU64::new(0);

/// Retry transient errors for up to `d` per outage (0: fail at the first error).
pub fn set_retry_for(d: Duration) {
    RETRY_FOR_MS.store(
        d.as_millis().min(u64::MAX as u128) as u64,
        Ordering::Relaxed,
    );
}

/// The current budget.
pub fn retry_for() -> Duration {
    Duration::from_millis(RETRY_FOR_MS.load(Ordering::Relaxed))
}

/// `--retry-for DURATION`: seconds (`90`, `2.5`) or with a unit (`30s`, `5m`, `1h`); `0`
/// turns retrying off.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, scale) = match t.char_indices().last() {
        Some((i, 's')) => (&t[..i], 1.0),
        Some((i, 'm')) => (&t[..i], 60.0),
        Some((i, 'h')) => (&t[..i], 3600.0),
        _ => (t, 1.0),
    };
    match num.parse::<f64>() {
        Ok(n) if n >= 0.0 && (n * scale).is_finite() && n * scale < 1e9 => {
            Ok(Duration::from_secs_f64(n * scale))
        }
        _ => Err(format!(
            "must be a duration such as 0, 90, 30s, 5m or 1h, not '{s}'"
        )),
    }
}

/// `5m`, `90s`, `1h`: how the warnings show a duration.
pub fn show(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else if d.subsec_millis() == 0 {
        format!("{s}s")
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// A service as the warnings name it: `namenode 127.0.0.1:9000`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Service {
    pub kind: &'static str,
    pub address: String,
}

impl Service {
    pub fn new(kind: &'static str, address: impl Into<String>) -> Service {
        Service {
            kind,
            address: address.into(),
        }
    }
}

impl Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.address)
    }
}

/// How long a service must keep answering before its outage counts as over: a
/// restarted service often fails once more just after its first answer (librdkafka
/// reports the brokers down again while its other connections reconnect; a namenode
/// answers before its datanode is back), and that is the same outage, not a new one.
pub const SETTLE: Duration = Duration::from_secs(3);

/// A service's current outage: when it began and, once a call succeeded, since when
/// the service has answered (the outage ends [`SETTLE`] after that without a failure).
struct Outage {
    began: Instant,
    up_since: Option<Instant>,
}

fn outages() -> &'static Mutex<HashMap<Service, Outage>> {
    static O: OnceLock<Mutex<HashMap<Service, Outage>>> = OnceLock::new();
    O.get_or_init(Default::default)
}

fn lock() -> std::sync::MutexGuard<'static, HashMap<Service, Outage>> {
    outages().lock().unwrap_or_else(|p| p.into_inner())
}

/// A call to `service` failed with a transient `err`: starts the outage (one warning)
/// or continues it (a failure while it settles), and says whether the budget allows
/// another attempt.
pub fn failed(service: &Service, err: &dyn Display) -> bool {
    failed_within(retry_for(), service, err)
}

fn failed_within(budget: Duration, service: &Service, err: &dyn Display) -> bool {
    if budget.is_zero() {
        return false;
    }
    let mut o = lock();
    let outage = o.entry(service.clone()).or_insert_with(|| {
        crate::cli::warn(format!(
            "{service} unreachable ({err}); retrying for up to {}",
            show(budget)
        ));
        Outage {
            began: Instant::now(),
            up_since: None,
        }
    });
    outage.up_since = None;
    outage.began.elapsed() < budget
}

/// A call to `service` succeeded: its outage, if any, ends once the service has kept
/// answering for [`SETTLE`] (one warning, printed by a watcher thread, or by [`settle`]).
pub fn succeeded(service: &Service) {
    let mut o = lock();
    if o.is_empty() {
        return;
    }
    if let Some(outage) = o.get_mut(service) {
        outage.up_since.get_or_insert_with(Instant::now);
        watch();
    }
}

/// Whether `service` is in an outage now (settling included).
pub fn is_down(service: &Service) -> bool {
    lock().contains_key(service)
}

/// Calls to each service in progress (through [`call`]): an outage does not end while
/// one is, since a slow first call after a restart (a metastore's first create_table)
/// may still time out, and that belongs to the same outage.
fn in_flight() -> &'static Mutex<HashMap<Service, usize>> {
    static B: OnceLock<Mutex<HashMap<Service, usize>>> = OnceLock::new();
    B.get_or_init(Default::default)
}

/// Counts one call to a service while it lives.
struct Calling<'a>(&'a Service);

impl<'a> Calling<'a> {
    fn new(service: &'a Service) -> Calling<'a> {
        let mut b = in_flight().lock().unwrap_or_else(|p| p.into_inner());
        *b.entry(service.clone()).or_default() += 1;
        Calling(service)
    }
}

impl Drop for Calling<'_> {
    fn drop(&mut self) {
        let mut b = in_flight().lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = b.get_mut(self.0) {
            *n -= 1;
            if *n == 0 {
                b.remove(self.0);
            }
        }
    }
}

fn calling(service: &Service) -> bool {
    in_flight()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains_key(service)
}

/// End the outages of the services that answered at least `settled` ago and have no
/// call in progress, with their warnings (`back after`: from the first failure to the
/// first answer again).
fn end_outages(settled: Duration) {
    lock().retain(|service, outage| match outage.up_since {
        Some(up) if up.elapsed() >= settled && !calling(service) => {
            let secs = up.duration_since(outage.began).as_secs();
            crate::cli::warn(format!("{service} back after {secs}s"));
            false
        }
        _ => true,
    });
}

/// Before a tool exits: end the outages of services that answer again now, without
/// waiting for [`SETTLE`] (their warning pair stays whole).
pub fn settle() {
    end_outages(Duration::ZERO);
}

/// The thread that ends settled outages (started at the first answer after a failure).
fn watch() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        std::thread::Builder::new()
            .name("lakepipe-outages".into())
            .spawn(|| loop {
                std::thread::sleep(Duration::from_millis(200));
                end_outages(SETTLE);
            })
            .map(|_| ())
            .unwrap_or_else(|e| crate::cli::warn(format!("cannot watch outages: {e}")))
    });
}

/// Capped exponential backoff: the waits between attempts.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            next: FIRST_BACKOFF,
        }
    }
}

impl Backoff {
    /// The next wait (and doubles the one after, up to [`MAX_BACKOFF`]).
    pub fn next_wait(&mut self) -> Duration {
        let w = self.next;
        self.next = (self.next * 2).min(MAX_BACKOFF);
        w
    }

    pub fn sleep(&mut self) {
        std::thread::sleep(self.next_wait());
    }
}

/// Run `op` until it succeeds, fails with an error `transient` rejects, or `service`'s
/// outage has lasted `--retry-for`; the last error is returned as it is.
pub fn call<T, E: Display>(
    service: &Service,
    transient: impl Fn(&E) -> bool,
    op: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    call_within(retry_for(), service, transient, op)
}

fn call_within<T, E: Display>(
    budget: Duration,
    service: &Service,
    transient: impl Fn(&E) -> bool,
    mut op: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    let mut backoff = Backoff::default();
    loop {
        let result = {
            let _calling = Calling::new(service);
            op()
        };
        match result {
            Ok(v) => {
                succeeded(service);
                return Ok(v);
            }
            Err(e) if transient(&e) && failed_within(budget, service, &e) => backoff.sleep(),
            Err(e) => return Err(e),
        }
    }
}

/// An I/O error a restarting or unreachable service gives (refused, reset, timed out):
/// transient for every client (HDFS, the metastore).
pub fn is_transient_io(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused
            | ConnectionReset
            | ConnectionAborted
            | BrokenPipe
            | UnexpectedEof
            | TimedOut
            | WouldBlock
            | NotConnected
            | AddrNotAvailable
            | HostUnreachable
            | NetworkUnreachable
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units_and_zero() {
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("2.5s").unwrap(), Duration::from_millis(2500));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        for bad in ["", "-1", "5x", "m", "inf"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(show(Duration::from_secs(300)), "5m");
        assert_eq!(show(Duration::from_secs(90)), "90s");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let mut b = Backoff::default();
        let waits: Vec<_> = (0..8).map(|_| b.next_wait()).collect();
        assert_eq!(waits[0], FIRST_BACKOFF);
        assert_eq!(waits[1], FIRST_BACKOFF * 2);
        assert_eq!(*waits.last().unwrap(), MAX_BACKOFF);
    }

    // The budget is passed in: the global one stays 0 for the other tests of this binary.
    #[test]
    fn transient_errors_are_retried_until_the_budget_and_permanent_ones_never() {
        let svc = Service::new("test", "here:1");
        let mut n = 0;
        let r: Result<(), String> = call_within(
            Duration::ZERO,
            &svc,
            |_| true,
            || {
                n += 1;
                Err("down".into())
            },
        );
        assert!(r.is_err() && n == 1, "fail fast with 0");

        let minute = Duration::from_secs(60);
        let mut n = 0;
        let r: Result<i32, String> = call_within(
            minute,
            &svc,
            |_| true,
            || {
                n += 1;
                if n < 3 {
                    Err("refused".into())
                } else {
                    Ok(7)
                }
            },
        );
        assert_eq!(r.unwrap(), 7);
        assert!(is_down(&svc), "the outage settles before it ends");
        settle();
        assert!(!is_down(&svc), "settled: the outage ended");

        let mut n = 0;
        let r: Result<(), String> = call_within(
            minute,
            &svc,
            |e: &String| e != "denied",
            || {
                n += 1;
                Err("denied".into())
            },
        );
        assert!(r.is_err() && n == 1, "permanent errors are not retried");

        let short = Duration::from_millis(300);
        let r: Result<(), String> = call_within(short, &svc, |_| true, || Err("refused".into()));
        assert!(r.is_err(), "gives up once the outage outlasts the budget");
    }
}
