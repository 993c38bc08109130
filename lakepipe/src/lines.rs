//! The ordered parallel engine of pq-write and jq-lite: inputs are cut into numbered
//! chunks of lines ([`Chunker`]), the chunks go to one worker per core, and their
//! results come back in chunk order ([`ordered`]).
//!
//! All the work here is per chunk (a channel send, a map insert), never per line: the
//! tools' own workers loop over the lines. At most `in_flight` chunks are between the
//! feeder and the consumer, so memory stays bounded even when one worker is slow on a
//! huge line and the others run ahead. A worker that panics is reported to the
//! consumer as an error (see [`crate::workers`]), never a wait for its chunk forever.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};

use crate::workers;

mod input;
pub use input::{spans, Chunk, Chunker, Cutting, Data, Input, Recycler};

/// Chunks in flight for `threads` workers: each busy, each with one queued, and two
/// finished ones waiting for an earlier chunk.
pub fn in_flight(threads: usize) -> usize {
    2 * threads + 2
}

/// Start `threads` workers. Each builds its state with `make` on its own thread (so it
/// need not be `Send`, as jaq's values are not) and then maps chunks to results. At most
/// `in_flight` chunks (at least one per worker; [`in_flight`] gives the usual number)
/// are between the feeder and the consumer. `what` names the workers in errors ("a
/// decoder").
pub fn ordered<C, R, W>(
    threads: usize,
    in_flight: usize,
    what: &'static str,
    make: impl Fn() -> W + Send + Sync + 'static,
) -> (Feeder<C>, Ordered<R>)
where
    C: Send + 'static,
    R: Send + 'static,
    W: FnMut(C) -> R,
{
    let in_flight = in_flight.max(threads);
    let (permit_tx, permit_rx) = bounded::<()>(in_flight);
    let (work_tx, work_rx) = bounded::<(u64, C)>(threads);
    let (done_tx, done_rx) = bounded(in_flight);
    let make = std::sync::Arc::new(make);
    for _ in 0..threads {
        let (make, work_rx, done_tx) = (make.clone(), work_rx.clone(), done_tx.clone());
        std::thread::spawn(move || {
            let died = workers::catch(what, || {
                let mut work = make();
                for (seq, chunk) in work_rx {
                    workers::maybe_panic();
                    if done_tx.send(Ok((seq, work(chunk)))).is_err() {
                        return;
                    }
                }
            });
            if let Err(e) = died {
                let _ = done_tx.send(Err(e));
            }
        });
    }
    let feeder = Feeder {
        work: work_tx,
        permits: permit_tx,
        seq: 0,
    };
    let ordered = Ordered {
        done: done_rx,
        permits: permit_rx,
        pending: BTreeMap::new(),
        next: 0,
    };
    (feeder, ordered)
}

/// The input side: numbers chunks and hands them to the workers.
pub struct Feeder<C> {
    work: Sender<(u64, C)>,
    permits: Sender<()>,
    seq: u64,
}

impl<C> Feeder<C> {
    /// Send the next chunk, waiting while `in_flight` chunks are unfinished; false once
    /// the workers or the consumer are gone.
    pub fn send(&mut self, chunk: C) -> bool {
        if self.permits.send(()).is_err() || self.work.send((self.seq, chunk)).is_err() {
            return false;
        }
        self.seq += 1;
        true
    }
}

/// What the consumer gets next.
pub enum Next<R> {
    /// The result of the next chunk in input order.
    Ready(R),
    /// Nothing within the wait (the next chunk is still being worked on, or not fed).
    Waiting,
    /// The feeder is done and every result was handed out.
    End,
}

/// The output side: results in chunk order.
pub struct Ordered<R> {
    done: Receiver<anyhow::Result<(u64, R)>>,
    permits: Receiver<()>,
    pending: BTreeMap<u64, R>,
    next: u64,
}

impl<R> Ordered<R> {
    /// The next result in order, waiting at most `wait` (`None`: until one comes). A
    /// panicked worker is an error.
    pub fn next(&mut self, wait: Option<Duration>) -> anyhow::Result<Next<R>> {
        let deadline = wait.map(|d| Instant::now() + d);
        loop {
            if let Some(r) = self.pending.remove(&self.next) {
                self.next += 1;
                let _ = self.permits.try_recv();
                return Ok(Next::Ready(r));
            }
            let got = match deadline {
                None => self.done.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(t) => self.done.recv_deadline(t),
            };
            match got {
                Ok(Ok((seq, r))) => {
                    self.pending.insert(seq, r);
                }
                Ok(Err(e)) => return Err(e),
                Err(RecvTimeoutError::Timeout) => return Ok(Next::Waiting),
                Err(RecvTimeoutError::Disconnected) => return Ok(Next::End),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_chunk_order() {
        // Later chunks finish first: results must still come in order.
        let (mut feed, mut out) = ordered(3, in_flight(3), "a worker", || {
            |n: u64| {
                std::thread::sleep(Duration::from_millis((20 - n % 20) / 4));
                n * 10
            }
        });
        let feeder = std::thread::spawn(move || (0..100).all(|n| feed.send(n)));
        let mut got = Vec::new();
        while let Next::Ready(r) = out.next(None).unwrap() {
            got.push(r);
        }
        assert!(feeder.join().unwrap());
        assert_eq!(got, (0..100).map(|n| n * 10).collect::<Vec<_>>());
    }

    #[test]
    fn a_panicking_worker_is_an_error() {
        let (mut feed, mut out) = ordered(2, in_flight(2), "a worker", || {
            |n: u32| {
                assert!(n != 3, "chunk three");
                n
            }
        });
        std::thread::spawn(move || (0..10).all(|n| feed.send(n)));
        let err = loop {
            match out.next(Some(Duration::from_secs(30))) {
                Ok(Next::Ready(_)) => {}
                Ok(_) => panic!("ended without the error"),
                Err(e) => break e,
            }
        };
        assert_eq!(err.to_string(), "a worker panicked: chunk three");
    }
}
