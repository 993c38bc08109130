//! Worker threads: a panic in one becomes an error of the run (exit 1 with an error
//! line), never a silent exit 0 with partial output or a hang; and the test failpoint
//! that proves it.

use std::sync::OnceLock;
use std::thread::JoinHandle;

/// The environment variable naming the failpoint to trigger (tests only set it).
pub const FAILPOINT_VAR: &str = "LAKEPIPE_FAILPOINT";

/// Worker threads for CPU-bound work: one per core (2 when the count is unknown).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// True when `LAKEPIPE_FAILPOINT` names `name` (e.g. `worker-panic`). The variable is
/// read once per process, so callers may ask per chunk; nobody should ask per line.
pub fn failpoint(name: &str) -> bool {
    failpoint_value().is_some_and(|v| v == name)
}

/// The argument of a failpoint set as `NAME:ARG` (e.g. `commit-rename-fails:t+0`).
pub fn failpoint_arg(name: &str) -> Option<&'static str> {
    failpoint_value()?.strip_prefix(name)?.strip_prefix(':')
}

fn failpoint_value() -> Option<&'static str> {
    static SET: OnceLock<Option<String>> = OnceLock::new();
    SET.get_or_init(|| std::env::var(FAILPOINT_VAR).ok())
        .as_deref()
}

/// Panic when the `worker-panic` failpoint is set: workers call this where they start
/// real work, so tests can check that the tool notices.
pub fn maybe_panic() {
    if failpoint("worker-panic") {
        panic!("failpoint worker-panic");
    }
}

/// The error for a thread that panicked, with the panic's message when it has one.
pub fn panicked(what: &str, payload: Box<dyn std::any::Any + Send>) -> anyhow::Error {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned());
    match msg {
        Some(m) => anyhow::anyhow!("{what} panicked: {m}"),
        None => anyhow::anyhow!("{what} panicked"),
    }
}

/// Run `f`, turning a panic into an error that names `what`: a worker wraps its body in
/// this and sends the error to whoever waits for its results, who would otherwise wait
/// for them forever.
pub fn catch<T>(what: &str, f: impl FnOnce() -> T) -> anyhow::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| panicked(what, p))
}

/// Join a thread, turning a panic into an error that names `what`.
pub fn join<T>(handle: JoinHandle<T>, what: &str) -> anyhow::Result<T> {
    handle.join().map_err(|p| panicked(what, p))
}

/// Join every thread; the first panic wins.
pub fn join_all<T>(handles: Vec<JoinHandle<T>>, what: &str) -> anyhow::Result<Vec<T>> {
    let mut results = Vec::with_capacity(handles.len());
    let mut first = None;
    for h in handles {
        match join(h, what) {
            Ok(v) => results.push(v),
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    first.map_or(Ok(results), Err)
}

/// `f` on every item, up to `at_once` threads side by side, the results in the order of
/// `items`. For work that mostly waits on a service (closing files on HDFS, committing
/// partitions): a panic in `f` is re-raised here, in the caller's thread.
pub fn side_by_side<T: Send, R: Send>(
    items: Vec<T>,
    at_once: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    if items.len() <= 1 {
        return items.into_iter().map(f).collect();
    }
    let f = &f;
    let mut out = Vec::with_capacity(items.len());
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let batch: Vec<T> = items.by_ref().take(at_once.max(1)).collect();
        std::thread::scope(|s| {
            let running: Vec<_> = batch.into_iter().map(|t| s.spawn(move || f(t))).collect();
            out.extend(
                running
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))),
            );
        });
    }
    out
}

/// `f` of every item, on up to 4 cores, the results in the order of `items`: CPU work done
/// before a pipeline starts (inference, the dictionary test) would otherwise leave a core
/// idle. A panic in `f` is an error naming `what`.
pub fn each<I: Sync, T: Send>(
    items: &[I],
    what: &str,
    f: impl Fn(&I) -> T + Sync,
) -> anyhow::Result<Vec<T>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut parts: Vec<(usize, T)> = std::thread::scope(|s| {
        let work = || {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(item) = items.get(i) else {
                    return done;
                };
                done.push((i, f(item)));
            }
        };
        let threads: Vec<_> = (0..cores().clamp(1, 4)).map(|_| s.spawn(work)).collect();
        let parts = threads
            .into_iter()
            .map(|t| t.join().map_err(|p| panicked(what, p)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok::<_, anyhow::Error>(parts.into_iter().flatten().collect())
    })?;
    parts.sort_by_key(|(i, _)| *i);
    Ok(parts.into_iter().map(|(_, p)| p).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_by_side_keeps_the_order_and_runs_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Barrier;
        // 3 items with at_once 3 must all be running together to pass the barrier
        let barrier = Barrier::new(3);
        let out = side_by_side(vec![1, 2, 3], 3, |i| {
            barrier.wait();
            i * 10
        });
        assert_eq!(out, vec![10, 20, 30]);
        // more items than at_once: never more than at_once at a time
        let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let out = side_by_side((0..7).collect(), 2, |i| {
            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(n, Ordering::SeqCst);
            std::thread::yield_now();
            now.fetch_sub(1, Ordering::SeqCst);
            i
        });
        assert_eq!(out, (0..7).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= 2);
    }

    #[test]
    fn a_panic_becomes_an_error_naming_the_thread() {
        let h = std::thread::spawn(|| panic!("boom {}", 1));
        let err = join(h, "a decoder").unwrap_err();
        assert_eq!(err.to_string(), "a decoder panicked: boom 1");
        let ok = std::thread::spawn(|| 7);
        let bad = std::thread::spawn(|| -> i32 { panic!("static") });
        let err = join_all(vec![ok, bad], "a worker").unwrap_err();
        assert_eq!(err.to_string(), "a worker panicked: static");
        let err = catch("a decoder", || -> u8 { panic!("caught") }).unwrap_err();
        assert_eq!(err.to_string(), "a decoder panicked: caught");
        assert_eq!(catch("x", || 3).unwrap(), 3);
    }
}
