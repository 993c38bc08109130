//! `--exactly-once`: a topic-partition's rows are committed under a claim, so two
//! writers (a restarted pipeline and a frozen one that wakes up, or two members of one
//! group around a rebalance) never both make the same offsets visible.
//!
//! Files are named by their offsets (`lakepipe::committed`), so the folder itself is the
//! record of what is committed. Committing one topic-partition's closed files:
//! 1. publish a claim `_lakepipe/claims/<topic>+<partition>` listing the renames
//!    (hidden file, then a rename that fails when the claim exists: atomic on HDFS and,
//!    through a hard link, on local disks). A claim that exists means another writer is
//!    committing: wait, and after `stale` take it over by doing its renames (below);
//! 2. list the committed files: when one already holds offsets at or past our first,
//!    someone else wrote them: release, drop our rows up to that offset (rewriting the
//!    hidden files) and start again;
//! 3. rename each hidden file to its final name, then delete the claim.
//!
//! A writer killed inside 1-3 leaves a claim whose renames the next committer of that
//! partition finishes, after the same check. Renames are idempotent (a missing hidden
//! file whose final name exists is done), so a claim taken over from a writer that was
//! only frozen ends the same whichever of the two does the work. Cost per committed
//! partition: one small file written, renamed and deleted, and one listing of OUTPUT.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use lakepipe::committed::{self, Claim, OffsetRange};
use lakepipe::location::Location;
use lakepipe::storage::{Fs, StorageError};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReaderBuilder, RowSelection, RowSelector};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

/// How many files close, or partitions commit, side by side.
pub const AT_ONCE: usize = 16;
/// A Kafka topic-partition.
pub type Tp = (Arc<str>, i32);

/// A closed file under its hidden name, waiting to be committed.
#[derive(Debug)]
pub struct Staged {
    pub tmp: Location,
    /// The folder its final name goes in (OUTPUT, or a table or `k=v/` folder below it).
    pub folder: Location,
    /// Each row's offset, in row order (increasing: one partition's messages in order).
    pub offsets: Vec<i64>,
    pub bytes: u64,
}

/// What one commit did, for the summary.
#[derive(Debug, Default)]
pub struct Committed {
    pub files: u64,
    pub bytes: u64,
    /// Rows dropped because another writer had committed their offsets meanwhile.
    pub trimmed: u64,
    /// The highest offset now known committed (by this writer or another).
    pub seen: Option<i64>,
}

pub struct Committer {
    fs: Fs,
    root: Location,
    writer: String,
    /// The last committed offset per topic-partition, as far as this writer knows.
    last: HashMap<Tp, i64>,
    /// How long a foreign claim may sit unchanged before this writer finishes it.
    stale: Duration,
}

impl Committer {
    /// Reads what OUTPUT already holds (one listing), after finishing the commits that
    /// dead writers left half done.
    pub fn open(fs: Fs, root: Location, writer: String, stale: Duration) -> Result<Committer> {
        let mut c = Committer {
            fs,
            root,
            writer,
            last: HashMap::new(),
            stale,
        };
        c.finish_left_claims()?;
        let found = committed::scan(&c.fs, &c.root)
            .with_context(|| format!("listing committed files in {}", c.root))?;
        c.last = committed::last_offsets(&found)
            .into_iter()
            .map(|((t, p), o)| ((Arc::from(t), p), o))
            .collect();
        Ok(c)
    }

    /// A writer killed inside a commit may have renamed some of its files (one table's)
    /// and not others: readers and `--resume-from` already count the partition as
    /// committed up to the last renamed one, so the rest must become visible too, even
    /// when this run never commits that partition. Claims still standing after `stale`
    /// are finished here; a claim that changes or goes belongs to a live writer.
    fn finish_left_claims(&self) -> Result<()> {
        let dir = self.root.join("_lakepipe/claims");
        let claims = match self.fs.list(&dir, false) {
            Ok(entries) => entries,
            Err(StorageError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(anyhow::Error::from(e).context(format!("listing {dir}"))),
        };
        for c in claims {
            if !c.is_dir && !lakepipe::listing::is_hidden(&c.name()) {
                self.settle(&c.location)?;
            }
        }
        Ok(())
    }

    /// The last offset committed for `tp` (rows at or below it are not written again).
    pub fn last(&self, tp: &Tp) -> Option<i64> {
        self.last.get(tp).copied()
    }

    /// [`Committer::commit_all`] for one partition.
    #[cfg(test)]
    pub fn commit(
        &mut self,
        tp: &Tp,
        staged: Vec<Staged>,
        props: &WriterProperties,
    ) -> Result<Committed> {
        let done = self.commit_one(tp, staged, props)?;
        self.note(tp, done.seen);
        Ok(done)
    }

    /// Make each job's `staged` (all of one topic-partition's closed files) visible,
    /// unless other writers committed their offsets first: those rows are dropped.
    /// The partitions commit side by side: each commit is a few namenode calls and a
    /// claim file whose close waits for the datanode on HDFS (see `sink::stage_all`), and
    /// partitions are independent (one claim each).
    pub fn commit_all(
        &mut self,
        jobs: Vec<(Tp, Vec<Staged>)>,
        props: &WriterProperties,
    ) -> Vec<(Tp, Result<Committed>)> {
        let this = &*self;
        let done = lakepipe::workers::side_by_side(jobs, AT_ONCE, |(tp, staged)| {
            let r = this.commit_one(&tp, staged, props);
            (tp, r)
        });
        for (tp, r) in &done {
            if let Ok(c) = r {
                self.note(tp, c.seen);
            }
        }
        done
    }

    fn commit_one(
        &self,
        tp: &Tp,
        mut staged: Vec<Staged>,
        props: &WriterProperties,
    ) -> Result<Committed> {
        let mut done = Committed::default();
        loop {
            staged.retain(|s| !s.offsets.is_empty());
            let Some(first) = staged.iter().map(|s| s.offsets[0]).min() else {
                return Ok(done);
            };
            let claim = Claim {
                writer: self.writer.clone(),
                topic: tp.0.to_string(),
                partition: tp.1,
                first,
                renames: staged
                    .iter()
                    .map(|s| (s.tmp.to_string(), self.final_name(tp, s).to_string()))
                    .collect(),
                inputs: Vec::new(),
            };
            let at = self.acquire(&claim)?;
            let theirs = match self.committed_elsewhere(&claim) {
                Ok(w) => w,
                Err(e) => {
                    self.release(&at, &claim);
                    return Err(e);
                }
            };
            if let Some(w) = theirs.filter(|&w| w >= first) {
                self.release(&at, &claim);
                done.seen = done.seen.max(Some(w));
                staged = self.trim(staged, w, props, &mut done)?;
                continue;
            }
            // A failed rename is a crash inside the commit: some files (tables) may be
            // visible already, so the claim stays for the next writer to finish.
            self.rename_all(&claim)?;
            self.release(&at, &claim);
            let last = staged.iter().filter_map(|s| s.offsets.last()).max();
            done.seen = done.seen.max(Some(*last.expect("staged files have rows")));
            done.files += staged.len() as u64;
            done.bytes += staged.iter().map(|s| s.bytes).sum::<u64>();
            return Ok(done);
        }
    }

    fn note(&mut self, tp: &Tp, offset: Option<i64>) {
        if let Some(offset) = offset {
            let e = self.last.entry(tp.clone()).or_insert(offset);
            *e = (*e).max(offset);
        }
    }

    fn final_name(&self, tp: &Tp, s: &Staged) -> Location {
        let range = OffsetRange {
            topic: tp.0.to_string(),
            partition: tp.1,
            first: s.offsets[0],
            last: *s.offsets.last().expect("not empty"),
        };
        s.folder.join(&range.file_name(".parquet"))
    }

    fn claim_path(&self, topic: &str, partition: i32) -> Location {
        // the committed-file rule for the name keeps a `_`/`.` topic visible there too
        let name = OffsetRange {
            topic: topic.to_string(),
            partition,
            first: 0,
            last: 0,
        }
        .file_name("");
        let name = name.rsplitn(3, '+').nth(2).expect("topic+partition+...");
        self.root.join(&format!("_lakepipe/claims/{name}"))
    }

    /// Publish the claim; while another writer's claim stands, wait, and finish it once
    /// it has not changed for `stale`.
    fn acquire(&self, claim: &Claim) -> Result<Location> {
        let at = self.claim_path(&claim.topic, claim.partition);
        let body = serde_json::to_vec(claim)?;
        let started = Instant::now();
        loop {
            match self.publish(&at, &body) {
                Ok(()) => return Ok(at),
                Err(e)
                    if !matches!(
                        e.downcast_ref::<StorageError>(),
                        Some(StorageError::AlreadyExists(_))
                    ) =>
                {
                    return Err(e)
                }
                Err(_) => {}
            }
            self.settle(&at)?;
            if started.elapsed() > self.stale * 4 {
                bail!(
                    "{at}: could not claim the partition's commit for {} s",
                    started.elapsed().as_secs()
                );
            }
        }
    }

    /// Wait while another writer's claim at `at` stands unchanged, and finish it once it
    /// has stood for `stale`. Returns when the claim is gone, changed (its writer is
    /// alive and committing) or finished here.
    fn settle(&self, at: &Location) -> Result<()> {
        let Some(seen) = self.read_claim(at)? else {
            return Ok(());
        };
        let since = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(100));
            if self.read_claim(at)?.as_ref() != Some(&seen) {
                return Ok(());
            }
            if since.elapsed() >= self.stale {
                lakepipe::cli::warn(format!(
                    "{at}: finishing the commit of writer {} (its claim is {} s old)",
                    seen.writer,
                    since.elapsed().as_secs()
                ));
                return self.finish_foreign(at, &seen);
            }
        }
    }

    /// Write `body` to `at` only if nothing is there: a hidden file renamed into place.
    fn publish(&self, at: &Location, body: &[u8]) -> Result<()> {
        let tmp = at.parent().expect("claims have a folder").join(&format!(
            ".{}.{}",
            at.file_name(),
            self.writer
        ));
        let mut w = self.fs.create(&tmp, true)?;
        std::io::Write::write_all(&mut w, body).with_context(|| format!("writing {tmp}"))?;
        w.close()?;
        match self.fs.rename(&tmp, at, false) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = self.fs.delete(&tmp, false);
                Err(e.into())
            }
        }
    }

    fn read_claim(&self, at: &Location) -> Result<Option<Claim>> {
        match self.fs.read_all(at) {
            Ok(b) => Ok(Some(serde_json::from_slice(&b).with_context(|| {
                format!("{at}: not a pq-write claim (delete it if no pq-write runs on this folder)")
            })?)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The highest offset of the claim's partition in committed files other than the
    /// claim's own final names.
    fn committed_elsewhere(&self, claim: &Claim) -> Result<Option<i64>> {
        let found = committed::scan(&self.fs, &self.root)?;
        Ok(found
            .iter()
            .filter(|f| f.range.topic == claim.topic && f.range.partition == claim.partition)
            .filter(|f| {
                let loc = f.location.to_string();
                !claim.renames.iter().any(|(_, dst)| *dst == loc)
            })
            .map(|f| f.range.last)
            .max())
    }

    /// Another writer's claim that did not move: do what it would have done.
    fn finish_foreign(&self, at: &Location, claim: &Claim) -> Result<()> {
        if self
            .committed_elsewhere(claim)?
            .is_some_and(|w| w >= claim.first)
        {
            for (tmp, _) in &claim.renames {
                let _ = self.fs.delete(&Location::parse(tmp)?, false);
            }
        } else {
            self.rename_all(claim)?;
        }
        self.release(at, claim);
        Ok(())
    }

    /// Rename each hidden file; one already renamed (by a writer finishing this claim)
    /// counts as done.
    fn rename_all(&self, claim: &Claim) -> Result<()> {
        for (tmp, dst) in &claim.renames {
            let (tmp, dst) = (Location::parse(tmp)?, Location::parse(dst)?);
            // test failpoint `commit-rename-fails:<topic>+<partition>`: that partition's
            // renames fail, as a rename into a name something else holds does
            if lakepipe::workers::failpoint_arg("commit-rename-fails")
                .is_some_and(|tp| dst.file_name().starts_with(&format!("{tp}+")))
            {
                bail!("committing {tmp} as {dst}: failpoint commit-rename-fails");
            }
            match self.fs.rename(&tmp, &dst, false) {
                Ok(()) => {}
                Err(StorageError::NotFound(_)) if self.fs.stat(&dst)?.is_some() => {}
                Err(e) => {
                    return Err(anyhow::Error::from(e).context(format!("committing {tmp} as {dst}")))
                }
            }
        }
        Ok(())
    }

    /// Delete the claim if it is still this one (a writer that finished it may have
    /// published the next claim under the same name).
    fn release(&self, at: &Location, claim: &Claim) {
        if let Ok(Some(c)) = self.read_claim(at) {
            if c == *claim {
                let _ = self.fs.delete(at, false);
            }
        }
    }

    /// Keep only rows past `w`: those up to it are committed by another writer.
    fn trim(
        &self,
        staged: Vec<Staged>,
        w: i64,
        props: &WriterProperties,
        done: &mut Committed,
    ) -> Result<Vec<Staged>> {
        let mut out = Vec::new();
        for s in staged {
            let skip = s.offsets.partition_point(|&o| o <= w);
            done.trimmed += skip as u64;
            if skip == s.offsets.len() {
                self.fs.delete(&s.tmp, false)?;
            } else if skip == 0 {
                out.push(s);
            } else {
                out.push(self.rewrite_without_first(s, skip, props)?);
            }
        }
        Ok(out)
    }

    /// A new hidden file with all but the first `skip` rows of `s`.
    fn rewrite_without_first(
        &self,
        s: Staged,
        skip: usize,
        props: &WriterProperties,
    ) -> Result<Staged> {
        let ctx = || format!("rewriting {}", s.tmp);
        let reader = self.fs.open(&s.tmp).with_context(ctx)?;
        let keep = s.offsets.len() - skip;
        let builder = ParquetRecordBatchReaderBuilder::try_new(reader).with_context(ctx)?;
        let schema = builder.schema().clone();
        let rows = builder
            .with_row_selection(RowSelection::from(vec![
                RowSelector::skip(skip),
                RowSelector::select(keep),
            ]))
            .build()
            .with_context(ctx)?;
        let tmp = s
            .tmp
            .parent()
            .expect("staged files have a folder")
            .join(&format!("{}.{skip}", s.tmp.file_name()));
        let f = self.fs.create(&tmp, true).with_context(ctx)?;
        let mut w = ArrowWriter::try_new(f, schema, Some(props.clone()))?;
        for batch in rows {
            w.write(&batch.with_context(ctx)?)?;
        }
        let bytes = w.into_inner()?.close()?;
        self.fs.delete(&s.tmp, false)?;
        Ok(Staged {
            tmp,
            folder: s.folder,
            offsets: s.offsets[skip..].to_vec(),
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, RecordBatch};
    use arrow_schema::{DataType, Field, Schema};

    fn tp() -> Tp {
        (Arc::from("_events"), 2)
    }

    /// A hidden file in `folder` with one row per offset (the offset is the row's value).
    fn stage(
        fs: &Fs,
        folder: &Location,
        name: &str,
        offsets: impl IntoIterator<Item = i64>,
    ) -> Staged {
        let tmp = folder.join(name);
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let offsets: Vec<i64> = offsets.into_iter().collect();
        let col = Arc::new(Int64Array::from(offsets.clone()));
        let mut w =
            ArrowWriter::try_new(fs.create(&tmp, false).unwrap(), schema.clone(), None).unwrap();
        w.write(&RecordBatch::try_new(schema, vec![col]).unwrap())
            .unwrap();
        let bytes = w.into_inner().unwrap().close().unwrap();
        Staged {
            tmp,
            folder: folder.clone(),
            offsets,
            bytes,
        }
    }

    fn names(dir: &std::path::Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn rows(dir: &std::path::Path, name: &str) -> Vec<i64> {
        let f = std::fs::File::open(dir.join(name)).unwrap();
        let r = ParquetRecordBatchReaderBuilder::try_new(f)
            .unwrap()
            .build()
            .unwrap();
        r.flat_map(|b| {
            let b = b.unwrap();
            let c = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            c.values().to_vec()
        })
        .collect()
    }

    fn setup() -> (tempfile::TempDir, Fs, Location) {
        let d = tempfile::tempdir().unwrap();
        let root = Location::parse(&format!("{}/", d.path().display())).unwrap();
        (d, Fs::Local, root)
    }

    #[test]
    fn commits_under_offset_names_and_leaves_no_claim() {
        let (d, fs, root) = setup();
        let mut c = Committer::open(
            fs.clone(),
            root.clone(),
            "w1".into(),
            Duration::from_secs(5),
        )
        .unwrap();
        let s = stage(&fs, &root, ".a.inprogress", 0..10);
        let done = c
            .commit(&tp(), vec![s], &WriterProperties::default())
            .unwrap();
        assert_eq!((done.files, done.trimmed), (1, 0));
        assert_eq!(
            names(d.path()),
            ["%5Fevents+2+0000000000+0000000009.parquet", "_lakepipe"]
        );
        assert!(names(&d.path().join("_lakepipe/claims")).is_empty());
        assert_eq!(c.last(&tp()), Some(9));
        // a new committer reads the same from the names
        let c2 = Committer::open(fs, root, "w2".into(), Duration::from_secs(5)).unwrap();
        assert_eq!(c2.last(&tp()), Some(9));
    }

    /// Another writer committed offsets 0-14 after this one started: only 15-19 of this
    /// writer's 0-19 become visible.
    #[test]
    fn rows_another_writer_committed_first_are_dropped() {
        let (d, fs, root) = setup();
        let mut c = Committer::open(
            fs.clone(),
            root.clone(),
            "late".into(),
            Duration::from_secs(5),
        )
        .unwrap();
        let mine = stage(&fs, &root, ".mine.inprogress", 0..20);
        let mut other = Committer::open(
            fs.clone(),
            root.clone(),
            "early".into(),
            Duration::from_secs(5),
        )
        .unwrap();
        let theirs = stage(&fs, &root, ".theirs.inprogress", 0..15);
        other
            .commit(&tp(), vec![theirs], &WriterProperties::default())
            .unwrap();
        let done = c
            .commit(&tp(), vec![mine], &WriterProperties::default())
            .unwrap();
        assert_eq!((done.files, done.trimmed), (1, 15));
        assert_eq!(
            rows(d.path(), "%5Fevents+2+0000000015+0000000019.parquet"),
            (15..20).collect::<Vec<_>>()
        );
        assert_eq!(
            rows(d.path(), "%5Fevents+2+0000000000+0000000014.parquet").len(),
            15
        );
        // a writer whose rows were all committed by another commits nothing
        let late = stage(&fs, &root, ".late.inprogress", 10..20);
        let done = other
            .commit(&tp(), vec![late], &WriterProperties::default())
            .unwrap();
        assert_eq!((done.files, done.trimmed), (0, 10));
        assert_eq!(names(d.path()).len(), 3, "{:?}", names(d.path()));
    }

    /// A writer killed between its claim and its renames: the next committer of the
    /// partition finishes that commit once the claim is stale, then commits its own
    /// rows past it.
    #[test]
    fn a_dead_writers_claim_is_finished_by_the_next() {
        let (d, fs, root) = setup();
        let dead = stage(&fs, &root, ".dead.inprogress", 0..5);
        let claim = Claim {
            writer: "dead".into(),
            topic: tp().0.to_string(),
            partition: tp().1,
            first: 0,
            renames: vec![(
                dead.tmp.to_string(),
                root.join("%5Fevents+2+0000000000+0000000004.parquet")
                    .to_string(),
            )],
            inputs: Vec::new(),
        };
        let mut c = Committer::open(
            fs.clone(),
            root.clone(),
            "next".into(),
            Duration::from_millis(300),
        )
        .unwrap();
        fs.create(&c.claim_path("_events", 2), false)
            .and_then(|mut w| {
                std::io::Write::write_all(&mut w, &serde_json::to_vec(&claim).unwrap()).unwrap();
                w.close()
            })
            .unwrap();
        let mine = stage(&fs, &root, ".mine.inprogress", 0..8);
        let done = c
            .commit(&tp(), vec![mine], &WriterProperties::default())
            .unwrap();
        assert_eq!((done.files, done.trimmed), (1, 5));
        assert_eq!(
            names(d.path()),
            [
                "%5Fevents+2+0000000000+0000000004.parquet",
                "%5Fevents+2+0000000005+0000000007.parquet",
                "_lakepipe"
            ]
        );
        assert!(names(&d.path().join("_lakepipe/claims")).is_empty());
    }

    /// Killed between the renames of one commit over two tables: table a's file is
    /// visible (so `--resume-from` starts after offset 4), table b's is not. The next
    /// writer's open finishes the commit, whether or not it ever writes that partition.
    #[test]
    fn open_finishes_a_commit_left_half_done_in_every_table() {
        let (d, fs, root) = setup();
        let (a, b) = (root.join("a"), root.join("b"));
        let in_a = stage(&fs, &a, ".a.inprogress", [0, 2, 4]);
        let in_b = stage(&fs, &b, ".b.inprogress", [1, 3]);
        let dst_a = a.join("%5Fevents+2+0000000000+0000000004.parquet");
        let dst_b = b.join("%5Fevents+2+0000000001+0000000003.parquet");
        let claim = Claim {
            writer: "dead".into(),
            topic: tp().0.to_string(),
            partition: tp().1,
            first: 0,
            renames: vec![
                (in_a.tmp.to_string(), dst_a.to_string()),
                (in_b.tmp.to_string(), dst_b.to_string()),
            ],
            inputs: Vec::new(),
        };
        fs.rename(&in_a.tmp, &dst_a, false).unwrap();
        let probe = Committer {
            fs: fs.clone(),
            root: root.clone(),
            writer: "probe".into(),
            last: HashMap::new(),
            stale: Duration::ZERO,
        };
        probe
            .publish(
                &probe.claim_path("_events", 2),
                &serde_json::to_vec(&claim).unwrap(),
            )
            .unwrap();
        let c = Committer::open(fs, root, "next".into(), Duration::from_millis(300)).unwrap();
        assert_eq!(c.last(&tp()), Some(4));
        assert_eq!(
            names(&d.path().join("b")),
            ["%5Fevents+2+0000000001+0000000003.parquet"]
        );
        assert_eq!(
            rows(
                &d.path().join("b"),
                "%5Fevents+2+0000000001+0000000003.parquet"
            ),
            [1, 3]
        );
        assert!(names(&d.path().join("_lakepipe/claims")).is_empty());
    }

    /// A rename that fails inside a commit is handled as a crash there: the claim stays
    /// for the next writer (the files renamed before it may be visible already).
    #[test]
    fn a_failed_rename_leaves_the_claim() {
        let (d, fs, root) = setup();
        let mut c =
            Committer::open(fs.clone(), root.clone(), "w".into(), Duration::from_secs(5)).unwrap();
        let s = stage(&fs, &root, ".a.inprogress", 0..3);
        // something already holds the final name (a rename never replaces)
        std::fs::write(
            d.path().join("%5Fevents+2+0000000000+0000000002.parquet"),
            "x",
        )
        .unwrap();
        let err = c
            .commit(&tp(), vec![s], &WriterProperties::default())
            .unwrap_err();
        assert!(format!("{err:#}").contains("committing"), "{err:#}");
        assert_eq!(names(&d.path().join("_lakepipe/claims")), ["%5Fevents+2"]);
    }

    #[test]
    fn local_rename_without_overwrite_never_replaces() {
        let (d, fs, root) = setup();
        std::fs::write(d.path().join("a"), "a").unwrap();
        std::fs::write(d.path().join("b"), "b").unwrap();
        let err = fs
            .rename(&root.join("a"), &root.join("b"), false)
            .unwrap_err();
        assert!(matches!(err, StorageError::AlreadyExists(_)), "{err}");
        assert_eq!(std::fs::read_to_string(d.path().join("b")).unwrap(), "b");
        fs.rename(&root.join("a"), &root.join("c"), false).unwrap();
        assert_eq!(names(d.path()), ["b", "c"]);
    }
}
