//! Putting a merged file in its inputs' place, beside live `pq-write --exactly-once`
//! writers, under the writers' own claim (`_lakepipe/claims/<topic>+<partition>`, see
//! pq-write's commit.rs), so a compaction and a commit of one topic-partition never
//! interleave:
//! 1. the merged file is written under a hidden name (no claim: that is the slow part);
//! 2. the claim is published (a rename that fails when one exists); its body is a
//!    pq-write claim whose one rename is the merged file, so a writer that finds it stale
//!    finishes it as its own: the inputs hold the claim's offsets, so it deletes the
//!    hidden file and the claim;
//! 3. every input is checked to be there, the merged file renamed in (never replacing),
//!    the inputs deleted, the claim deleted.
//!
//! Kill -9 anywhere: before 3's rename, the inputs are whole and a hidden file is left
//! (deleted by the next run, or by a writer finishing the claim); after it, the merged
//! file covers the inputs still there, every reader reads the covering file
//! (`lakepipe::committed::covered`), and the next run deletes them.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use lakepipe::committed::{Claim, OffsetRange};
use lakepipe::location::Location;
use lakepipe::storage::{Fs, StorageError};

/// Writer names of pq-compact's claims start with this.
pub const WRITER_PREFIX: &str = "pq-compact-";

/// How a swap ended.
#[derive(Debug, PartialEq)]
pub enum Swapped {
    Done,
    /// Not done, nothing changed (the reason for the log).
    Skipped(String),
}

pub struct Swapper {
    pub fs: Fs,
    pub root: Location,
    pub writer: String,
    /// How long a claim may stand unchanged before it counts as left by a dead process.
    pub stale: Duration,
    /// The longest time a merged file and its inputs stood side by side (measured).
    pub window: std::cell::Cell<Option<Duration>>,
}

impl Swapper {
    pub fn longest_window(&self) -> Option<Duration> {
        self.window.get()
    }

    fn claim_path(&self, range: &OffsetRange) -> Location {
        let name = range.file_name("");
        let name = name.rsplitn(3, '+').nth(2).expect("topic+partition+...");
        self.root.join(&format!("_lakepipe/claims/{name}"))
    }

    /// Steps 2-3 for the merged file `tmp` of `range` made of `inputs`.
    pub fn swap(
        &self,
        range: &OffsetRange,
        tmp: &Location,
        target: &Location,
        inputs: &[Location],
    ) -> Result<Swapped> {
        let claim = Claim {
            writer: self.writer.clone(),
            topic: range.topic.clone(),
            partition: range.partition,
            first: range.first,
            renames: vec![(tmp.to_string(), target.to_string())],
            inputs: inputs.iter().map(|l| l.to_string()).collect(),
        };
        let at = self.claim_path(range);
        if let Some(why) = self.acquire(&at, &claim)? {
            return Ok(Swapped::Skipped(why));
        }
        crate::failpoint("compact-claimed");
        let r = self.swap_claimed(tmp, target, inputs);
        self.release(&at, &claim);
        r
    }

    /// Step 3 (under the claim, or for files no writer claims).
    pub fn swap_claimed(
        &self,
        tmp: &Location,
        target: &Location,
        inputs: &[Location],
    ) -> Result<Swapped> {
        let fs = &self.fs;
        let gone = each(inputs, |i| Ok(fs.stat(i)?.is_none()))?;
        if let Some((i, _)) = inputs.iter().zip(gone).find(|(_, g)| *g) {
            return Ok(Swapped::Skipped(format!(
                "{i} is gone (merged by another run?)"
            )));
        }
        match self.fs.rename(tmp, target, false) {
            Ok(()) => {}
            Err(StorageError::AlreadyExists(_)) => {
                return Ok(Swapped::Skipped(format!("{target} exists")))
            }
            Err(e) => {
                return Err(anyhow::Error::from(e).context(format!("renaming {tmp} to {target}")))
            }
        }
        let renamed = Instant::now();
        crate::failpoint("compact-renamed");
        // the first, then the others side by side: the window where a raw-folder reader
        // sees both is as short as the namenode allows
        let delete = |i: &Location| {
            fs.delete(i, false)
                .map(drop)
                .with_context(|| format!("deleting {i}"))
        };
        delete(&inputs[0])?;
        crate::failpoint("compact-deleting");
        each(&inputs[1..], delete)?;
        let took = renamed.elapsed();
        self.window
            .set(Some(self.window.get().map_or(took, |w| w.max(took))));
        Ok(Swapped::Done)
    }

    /// Publish the claim. While another stands: wait; finish it when it is a dead
    /// pq-compact's; give up (None = claimed) after `stale` on a writer's claim, which
    /// the writer's next start finishes.
    fn acquire(&self, at: &Location, claim: &Claim) -> Result<Option<String>> {
        let body = serde_json::to_vec(claim)?;
        let mut seen: Option<(Vec<u8>, Instant)> = None;
        loop {
            match self.publish(at, &body) {
                Ok(()) => return Ok(None),
                Err(StorageError::AlreadyExists(_)) => {}
                Err(e) => return Err(anyhow::Error::from(e).context(format!("claiming {at}"))),
            }
            let now = match self.fs.read_all(at) {
                Ok(b) => b.to_vec(),
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            match &seen {
                Some((b, since)) if *b == now => {
                    if since.elapsed() >= self.stale {
                        let theirs: Option<Claim> = serde_json::from_slice(&now).ok();
                        match theirs {
                            Some(c) if c.writer.starts_with(WRITER_PREFIX) => {
                                lakepipe::cli::warn(format!(
                                    "{at}: finishing the compaction of {} (its claim is {} s old)",
                                    c.writer,
                                    since.elapsed().as_secs()
                                ));
                                self.finish_dead(at, &c)?;
                                seen = None;
                                continue;
                            }
                            _ => {
                                return Ok(Some(format!(
                                "{at} has stood for {} s: a writer's commit, left for it to finish",
                                since.elapsed().as_secs()
                            )))
                            }
                        }
                    }
                }
                _ => seen = Some((now, Instant::now())),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Finish the claims of dead pq-compact runs (unchanged for `stale`): a run killed
    /// after its rename leaves one that no later merge of the partition would take.
    pub fn finish_stale_claims(&self, now_ms: u64) -> Result<()> {
        let dir = self.root.join("_lakepipe/claims");
        let list = match self.fs.list(&dir, false) {
            Ok(l) => l,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        for st in list {
            let old = now_ms.saturating_sub(st.modification_time) >= self.stale.as_millis() as u64;
            if st.is_dir || lakepipe::listing::is_hidden(&st.name()) || !old {
                continue;
            }
            let Ok(b) = self.fs.read_all(&st.location) else {
                continue;
            };
            if let Ok(c) = serde_json::from_slice::<Claim>(&b) {
                if c.writer.starts_with(WRITER_PREFIX) {
                    self.finish_dead(&st.location, &c)?;
                }
            }
        }
        Ok(())
    }

    /// A dead pq-compact's claim: its hidden file goes (when not renamed yet, the inputs
    /// are whole; when renamed, covered inputs are deleted by the plan), then the claim.
    fn finish_dead(&self, at: &Location, c: &Claim) -> Result<()> {
        for (tmp, _) in &c.renames {
            let _ = self.fs.delete(&Location::parse(tmp)?, false);
        }
        self.release(at, c);
        Ok(())
    }

    /// Write `body` at `at` only if nothing is there: a hidden file renamed into place.
    fn publish(&self, at: &Location, body: &[u8]) -> Result<(), StorageError> {
        let tmp = at.parent().expect("claims have a folder").join(&format!(
            ".{}.{}",
            at.file_name(),
            self.writer
        ));
        let mut w = self.fs.create(&tmp, true)?;
        std::io::Write::write_all(&mut w, body)
            .map_err(|e| StorageError::Io(tmp.to_string(), e))?;
        w.close()?;
        let r = self.fs.rename(&tmp, at, false);
        if r.is_err() {
            let _ = self.fs.delete(&tmp, false);
        }
        r
    }

    /// Delete the claim if it is still this one.
    fn release(&self, at: &Location, claim: &Claim) {
        if let Ok(b) = self.fs.read_all(at) {
            if serde_json::from_slice::<Claim>(&b).is_ok_and(|c| c == *claim) {
                let _ = self.fs.delete(at, false);
            }
        }
    }
}

/// `f` of every item, by up to 8 threads (namenode and datanode calls are round trips,
/// which one at a time dominate a stream's small files); results in order, the first
/// error wins.
pub(crate) fn each<T: Send>(
    items: &[Location],
    f: impl Fn(&Location) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let per = items.len().div_ceil(8).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|chunk| {
                let f = &f;
                s.spawn(move || chunk.iter().map(f).collect::<Result<Vec<T>>>())
            })
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for h in handles {
            let got = h
                .join()
                .map_err(|p| lakepipe::workers::panicked("HDFS calls", p))?;
            out.extend(got?);
        }
        Ok(out)
    })
}
