//! `--exactly-once` over all tables of a run (one, or one per `--split-by` value).
//!
//! A Kafka partition's offsets are spread over the tables (a purchase at offset 7, a
//! guild event at offset 8), but `kcat-lite --resume-from` and a restarted pq-write
//! know one committed offset per partition: the highest in any table's file names. So
//! a partition is committed in one step for every table: a commit that makes offset X
//! visible in one table also makes visible every other table's rows of that partition
//! at or below X (closing their open files early), under one claim at OUTPUT
//! (`_lakepipe/claims/<topic>+<partition>`, see [`crate::commit`]). A crash inside
//! that step leaves the claim, which the next writer finishes for every table.
//!
//! Rows at or below a partition's committed offset (the same for every table), or at or
//! below the highest offset their table already took (a redelivery after a rebalance:
//! a message goes to the same table each time), are dropped before they reach a file.
//! The second is per table because a chunk's rows reach the tables one table after the
//! other: table B's offset 5 may come after table A's offset 9. For the same reason
//! commits happen only between chunks ([`crate::tables::Tables::commit_due`]).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use anyhow::Result;
use arrow_array::{BooleanArray, RecordBatch};
use arrow_select::filter::filter_record_batch;
use lakepipe::location::Location;
use parquet::file::properties::WriterProperties;

use crate::commit::{Committer, Staged, Tp};
use crate::kafka_meta::{tp_indices, TpColumns};
use crate::sink::{Sink, Totals};

pub struct ExactlyOnce {
    committer: Committer,
    /// Partitions whose commit failed: nothing later of theirs may become visible in
    /// this run (it would hide the failed offsets from the next run's resume).
    failed: HashSet<Tp>,
    /// Files, bytes, dropped and trimmed rows (the rows are the sinks').
    pub totals: Totals,
}

impl ExactlyOnce {
    /// One committer at OUTPUT, which holds every table folder.
    pub fn open(root: &Location, writer: String, stale: Duration) -> Result<ExactlyOnce> {
        let fs = lakepipe::storage::connect(root)?;
        Ok(ExactlyOnce {
            committer: Committer::open(fs, root.clone(), writer, stale)?,
            failed: HashSet::new(),
            totals: Totals::default(),
        })
    }

    /// The rows of `batch` (one table's) past everything committed for their partition
    /// and past `high`, the highest offsets the table took (updated).
    pub fn keep_new(
        &mut self,
        batch: &RecordBatch,
        high: &mut HashMap<Tp, i64>,
    ) -> Result<RecordBatch> {
        let mut tps = TpColumns::new(batch, tp_indices(&batch.schema())?);
        let keep: Vec<bool> = (0..batch.num_rows())
            .map(|row| {
                let (tp, offset) = tps.get(row);
                let floor = self.committer.last(&tp).max(high.get(&tp).copied());
                let new = floor.is_none_or(|f| offset > f);
                if new {
                    high.insert(tp, offset);
                }
                new
            })
            .collect();
        let dropped = keep.iter().filter(|k| !**k).count();
        if dropped == 0 {
            return Ok(batch.clone());
        }
        self.totals.dropped += dropped as u64;
        Ok(filter_record_batch(batch, &BooleanArray::from(keep))?)
    }

    /// Commit each partition that a table closed a file of (a roll, a wider schema, the
    /// end), every table's rows of it up to that file's last offset included. Goes on
    /// with the other partitions after a failed one (its files, and all it writes
    /// later, stay hidden).
    pub fn commit_due(&mut self, sinks: &mut [&mut Sink], props: &WriterProperties) -> Result<()> {
        let due: BTreeSet<Tp> = sinks
            .iter()
            .flat_map(|s| s.staged_partitions().cloned())
            .collect();
        let mut first_err = None;
        let mut jobs = Vec::new();
        for tp in due {
            if self.failed.contains(&tp) {
                sinks.iter_mut().for_each(|s| drop(s.take_staged(&tp)));
                continue;
            }
            match gather(&tp, sinks) {
                Ok(staged) => jobs.push((tp, staged)),
                Err(e) => {
                    self.failed.insert(tp);
                    first_err.get_or_insert(e);
                }
            }
        }
        for (tp, done) in self.committer.commit_all(jobs, props) {
            match done {
                Ok(done) => {
                    self.totals.files += done.files;
                    self.totals.bytes += done.bytes;
                    self.totals.trimmed += done.trimmed;
                }
                Err(e) => {
                    self.failed.insert(tp);
                    first_err.get_or_insert(e);
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

/// Every table's staged files of `tp`, and its open files that hold an offset at or below
/// the commit's last: those join, and their own later offsets then raise that last, so
/// repeat until no file joins.
fn gather(tp: &Tp, sinks: &mut [&mut Sink]) -> Result<Vec<Staged>> {
    let mut staged: Vec<_> = sinks.iter_mut().flat_map(|s| s.take_staged(tp)).collect();
    while let Some(&upto) = staged.iter().filter_map(|s| s.offsets.last()).max() {
        let mut joined = Vec::new();
        for s in sinks.iter_mut() {
            joined.extend(s.close_through(tp, upto)?);
        }
        if joined.is_empty() {
            break;
        }
        staged.extend(joined);
    }
    Ok(staged)
}
