//! `--metastore`: compaction of a registered table's closed partitions that Trino and
//! Spark SQL never see mid-swap. They list a partition's folder themselves, so an
//! in-place swap (a merged file renamed in, then its inputs deleted) shows them both for a
//! moment, or a file they listed that is then gone. Instead, per partition folder R whose
//! newest file is older than `--lateness` (no writer commits there any more):
//! 1. *moved*: a record is written (`_lakepipe/compact/<hex of R>`), then a new folder V
//!    (`_lakepipe/compacted/<R below DIR>/v<run>`) gets R's content merged (plan groups
//!    merged, every other file copied), then one `alter_partition` points the partition
//!    at V. A query plans on R (all old files there) or on V (complete), never both.
//! 2. *back*, `--grace` later (queries that listed R have ended): R is compacted in place
//!    (no engine reads it; our own readers apply the covering rule), the record says
//!    so, then the partition points at R again (R now holds what V holds).
//! 3. `--grace` after that (queries on V have ended), V and the record are deleted.
//!
//! Each step is finished by a later run; kill -9 anywhere leaves a state the next run
//! recognises from the record and the partition's location. Partitions still written
//! (younger than `--lateness`) are left alone: an in-place swap would show engines both.

use std::time::Duration;

use anyhow::{Context, Result};
use lakepipe::location::Location;
use lakepipe::metastore::{Client, Value};
use lakepipe::progress::Progress;
use lakepipe::storage::{Fs, Status};
use lakepipe::{cli, partition, register};
use serde::{Deserialize, Serialize};

use crate::plan::Group;

const PARTITION_SD: i16 = 6;
const SD_LOCATION: i16 = 2;

/// Where a partition's compaction stands between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Phase {
    Moved,
    Back,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    phase: Phase,
    /// The partition's own folder (R) and the folder it was moved to (V).
    folder: String,
    moved_to: String,
    /// When the phase began (ms since the epoch): the grace counts from it.
    since_ms: u64,
}

/// One folder of the plan: its visible files, its merge groups and the inputs a crash
/// left beside their merged files.
#[derive(Clone, Copy)]
pub struct Folder<'a> {
    pub path: &'a Location,
    pub files: &'a [&'a Status],
    pub groups: &'a [&'a Group],
    pub covered: &'a [Location],
}

/// What the caller does with a folder after [`Relocator::step`].
#[derive(Debug, PartialEq)]
pub enum Step {
    /// Not registered (no engine lists it through the metastore): compact in place.
    InPlace,
    /// Engines read V: compact R in place, then call [`Relocator::back`].
    InPlaceThenBack,
    /// Nothing more now (the reason, for the log; empty when there is none to say).
    Done(String),
}

pub struct Relocator {
    pub fs: Fs,
    pub root: Location,
    pub client: Client,
    pub database: String,
    /// `--table`: the table's name, or with split tables their prefix.
    pub table: Option<String>,
    pub lateness: Duration,
    pub grace: Duration,
    pub run_id: String,
    pub now_ms: u64,
    pub row_group_rows: usize,
    /// Partitions moved to a merged folder and back in this run.
    pub moved: usize,
    pub returned: usize,
}

impl Relocator {
    /// The metastore table and partition values of a folder below the root: the folder
    /// is `k=v/..` of the table DIR, or `<table folder>/k=v/..` of `--split-by` tables.
    fn table_of(&self, folder: &Location) -> Option<(String, Vec<String>)> {
        let root = self.root.to_string();
        let f = folder.to_string();
        let rel = f
            .strip_prefix(root.trim_end_matches('/'))?
            .trim_matches('/');
        let mut comps: Vec<&str> = rel.split('/').filter(|c| !c.is_empty()).collect();
        let first_is_key = comps
            .first()
            .is_some_and(|c| partition::parse_folder(c).is_some());
        let table = if first_is_key {
            self.table
                .clone()
                .unwrap_or_else(|| register::default_table_name(&self.root))
        } else {
            let t = comps.first()?;
            let name = format!(
                "{}{}",
                self.table.clone().unwrap_or_default(),
                register::table_name_of_folder(t)
            );
            comps.remove(0);
            name
        };
        if comps.is_empty() {
            return None;
        }
        Some((table, register::part_of_folder(&comps.join("/")).1))
    }

    fn record_path(&self, folder: &Location) -> Location {
        let hex: String = folder
            .to_string()
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.root.join(&format!("_lakepipe/compact/{hex}.json"))
    }

    fn read_record(&self, folder: &Location) -> Result<Option<Record>> {
        match self.fs.read_all(&self.record_path(folder)) {
            Ok(b) => Ok(serde_json::from_slice(&b).ok()),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn write_record(&self, r: &Record) -> Result<()> {
        let at = self.record_path(&Location::parse(&r.folder)?);
        let mut w = self.fs.create(&at, true)?;
        std::io::Write::write_all(&mut w, &serde_json::to_vec(r)?)
            .with_context(|| format!("writing {at}"))?;
        w.close()?;
        Ok(())
    }

    fn delete_record(&self, folder: &Location) -> Result<()> {
        self.fs.delete(&self.record_path(folder), false)?;
        Ok(())
    }

    fn older_than(&self, since_ms: u64, d: Duration) -> bool {
        self.now_ms.saturating_sub(since_ms) >= d.as_millis() as u64
    }

    /// The next step for a folder.
    pub fn step(&mut self, f: Folder<'_>, progress: &Progress) -> Result<Step> {
        let folder = f.path;
        let Some((table, values)) = self.table_of(folder) else {
            return Ok(Step::Done(format!(
                "{folder}: not a partition of a table: left alone (an in-place swap would show engines both)"
            )));
        };
        let Some(mut part) = self
            .client
            .get_partition(&self.database, &table, &values)
            .with_context(|| format!("{folder}: the metastore's partition of {table}"))?
        else {
            return Ok(Step::InPlace);
        };
        let at = location_of(&part)?;
        let record = self.read_record(folder)?;
        match record {
            Some(r) if r.phase == Phase::Moved && same_place(&at, &r.moved_to) => {
                if self.older_than(r.since_ms, self.grace) {
                    Ok(Step::InPlaceThenBack)
                } else {
                    Ok(Step::Done(String::new()))
                }
            }
            Some(r) if r.phase == Phase::Back && same_place(&at, &r.moved_to) => {
                // killed between the record and the alter
                self.point(&mut part, &table, folder)?;
                self.write_record(&Record {
                    since_ms: self.now_ms,
                    ..r
                })?;
                Ok(Step::Done(String::new()))
            }
            Some(r) if r.phase == Phase::Back && same_place(&at, &r.folder) => {
                if self.older_than(r.since_ms, self.grace) {
                    let copy = Location::parse(&r.moved_to)?;
                    self.fs.delete(&copy, true)?;
                    if let Some(parent) = copy.parent() {
                        let _ = self.fs.delete(&parent, false); // when empty
                    }
                    self.delete_record(folder)?;
                }
                Ok(Step::Done(String::new()))
            }
            Some(r) if same_place(&at, &r.folder) => {
                // moved, killed before the alter: V was never read
                self.fs.delete(&Location::parse(&r.moved_to)?, true)?;
                self.delete_record(folder)?;
                self.move_out(&mut part, &table, f, progress)
            }
            Some(r) => Ok(Step::Done(format!(
                "{folder}: the metastore's partition is at {at}, not at {} nor {}: left alone",
                r.folder, r.moved_to
            ))),
            None if same_place(&at, &folder.to_string()) => {
                self.move_out(&mut part, &table, f, progress)
            }
            None => Ok(Step::Done(format!(
                "{folder}: the metastore's partition is at {at}: left alone"
            ))),
        }
    }

    /// Step 1 for a closed folder with something to merge.
    fn move_out(
        &mut self,
        part: &mut Value,
        table: &str,
        f: Folder<'_>,
        progress: &Progress,
    ) -> Result<Step> {
        let Folder {
            path: folder,
            files,
            groups,
            covered,
        } = f;
        let newest = files.iter().map(|s| s.modification_time).max().unwrap_or(0);
        if groups.is_empty() || !self.older_than(newest, self.lateness) {
            return Ok(Step::Done(String::new()));
        }
        let rel = folder.to_string();
        let rel = rel
            .strip_prefix(self.root.to_string().trim_end_matches('/'))
            .unwrap_or(&rel)
            .trim_matches('/')
            .to_string();
        let to = self.root.join(&format!(
            "_lakepipe/compacted/{rel}/v{}",
            &self.run_id[..12]
        ));
        self.write_record(&Record {
            phase: Phase::Moved,
            folder: folder.to_string(),
            moved_to: to.to_string(),
            since_ms: self.now_ms,
        })?;
        let merged: Vec<&Location> = groups
            .iter()
            .flat_map(|g| g.inputs.iter().map(|f| &f.location))
            .collect();
        for g in groups {
            let inputs: Vec<Location> = g.inputs.iter().map(|f| f.location.clone()).collect();
            let out = to.join(&g.target(&self.run_id).file_name());
            crate::merge::merge(&self.fs, &inputs, &out, self.row_group_rows, progress)
                .with_context(|| format!("merging into {out}"))?;
        }
        for st in files {
            let loc = &st.location;
            if !merged.contains(&loc) && !covered.contains(loc) {
                copy(&self.fs, loc, &to.join(&loc.file_name()))?;
            }
        }
        crate::failpoint("compact-moving");
        self.point(part, table, &to)?;
        self.write_record(&Record {
            phase: Phase::Moved,
            folder: folder.to_string(),
            moved_to: to.to_string(),
            since_ms: crate::now_ms(),
        })?;
        self.moved += 1;
        Ok(Step::Done(String::new()))
    }

    /// Step 2's end, after R was compacted in place: the partition points at R again.
    pub fn back(&mut self, folder: &Location) -> Result<()> {
        let Some((table, values)) = self.table_of(folder) else {
            return Ok(());
        };
        let Some(r) = self.read_record(folder)? else {
            return Ok(());
        };
        let Some(mut part) = self.client.get_partition(&self.database, &table, &values)? else {
            return Ok(());
        };
        if !self.settled(folder)? {
            return Ok(());
        }
        let rec = Record {
            phase: Phase::Back,
            since_ms: self.now_ms,
            ..r
        };
        self.write_record(&rec)?;
        crate::failpoint("compact-returning");
        self.point(&mut part, &table, folder)?;
        self.write_record(&Record {
            since_ms: crate::now_ms(),
            ..rec
        })?;
        self.returned += 1;
        Ok(())
    }

    /// True when no merged file in `folder` has an input beside it (a swap that did not
    /// finish): engines, which know no covering rule, would count those rows twice.
    fn settled(&self, folder: &Location) -> Result<bool> {
        let list = self.fs.list(folder, false)?;
        let visible = list
            .iter()
            .filter(|s| !s.is_dir && !lakepipe::listing::is_hidden(&s.name()))
            .map(|s| &s.location);
        Ok(lakepipe::committed::covered(visible).is_empty())
    }

    fn point(&mut self, part: &mut Value, table: &str, to: &Location) -> Result<()> {
        let mut sd = part
            .get(PARTITION_SD)
            .cloned()
            .context("a partition without a storage descriptor")?;
        sd.set(SD_LOCATION, Value::Str(to.to_string()));
        part.set(PARTITION_SD, sd);
        self.client
            .alter_partition(&self.database, table, part.clone())
            .with_context(|| format!("pointing a partition of {table} at {to}"))
    }
}

fn location_of(part: &Value) -> Result<String> {
    part.get(PARTITION_SD)
        .and_then(|sd| sd.get(SD_LOCATION))
        .and_then(Value::as_str)
        .map(str::to_string)
        .context("a partition without a location")
}

/// Two spellings of one folder (a trailing `/`, a `file:` scheme) are one place.
fn same_place(a: &str, b: &str) -> bool {
    let norm =
        |s: &str| Location::parse(s).map(|l| l.to_string().trim_end_matches('/').to_string());
    matches!((norm(a), norm(b)), (Ok(a), Ok(b)) if a == b)
}

fn copy(fs: &Fs, from: &Location, to: &Location) -> Result<()> {
    let bytes = fs
        .read_all(from)
        .with_context(|| format!("reading {from}"))?;
    let mut w = fs.create(to, true)?;
    std::io::Write::write_all(&mut w, &bytes).with_context(|| format!("writing {to}"))?;
    w.close()?;
    Ok(())
}

/// Warn about a step's reason, if any.
pub fn say(progress: &Progress, step: &Step) {
    if let Step::Done(why) = step {
        if !why.is_empty() {
            progress.suspend(|| cli::warn(why));
        }
    }
}
