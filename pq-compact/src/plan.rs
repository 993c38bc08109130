//! Which files merge into which: pure, from one listing.
//!
//! In each folder, a topic-partition's committed files (`lakepipe::committed` names),
//! oldest offsets first, form runs of contiguous offsets; a run is cut into groups of
//! about the target size, and each group of two or more files becomes one file named by
//! the range it covers. An offset gap breaks a run unless files of the same
//! topic-partition in other folders (`--partition-by` spreads one partition over
//! several) hold the missing offsets: a gap no folder fills stays visible to
//! `pq-cat --offsets`. Files younger than `--min-age`, and every file after one, are left
//! alone: they may still be read by a reader that just listed them, or be part of a
//! commit still settling.

use std::collections::BTreeMap;

use lakepipe::committed::{self, OffsetRange};
use lakepipe::location::Location;
use lakepipe::storage::Status;

/// A committed file as the plan sees it.
#[derive(Debug, Clone)]
pub struct File {
    pub location: Location,
    pub range: OffsetRange,
    pub bytes: u64,
    /// Milliseconds since the epoch.
    pub modified: u64,
}

/// Files of one folder and topic-partition (or batch part files of one folder) that
/// become one.
#[derive(Debug, Clone)]
pub struct Group {
    pub folder: Location,
    pub inputs: Vec<File>,
    /// Batch runs' `part-*` files: no offsets, so merged under a part name
    /// (`part-<n>-compacted-<run>.parquet`, n counting the folder's groups) and swapped
    /// without a claim (batch writers take none).
    pub parts: Option<usize>,
}

impl Group {
    /// The range the merged file covers.
    pub fn range(&self) -> OffsetRange {
        let first = &self.inputs[0].range;
        OffsetRange {
            topic: first.topic.clone(),
            partition: first.partition,
            first: first.first,
            last: self.inputs.last().expect("groups have files").range.last,
        }
    }

    /// The merged file's place; `run` is the run's id (part names carry it).
    pub fn target(&self, run: &str) -> Location {
        match self.parts {
            Some(n) => self.folder.join(&format!(
                "part-{n:05}-compacted-{}.parquet",
                &run[..run.len().min(12)]
            )),
            None => self.folder.join(&self.range().file_name(".parquet")),
        }
    }

    pub fn bytes(&self) -> u64 {
        self.inputs.iter().map(|f| f.bytes).sum()
    }
}

/// What a run does.
#[derive(Debug, Default)]
pub struct Plan {
    /// The merges to run: runs of contiguous files, each to become one file.
    pub groups: Vec<Group>,
    /// Folders holding committed files, how many files they hold and their bytes.
    pub folders: usize,
    pub files: usize,
    pub bytes: u64,
    /// Inputs of an earlier merge still beside the merged file (a crash, or a reader's
    /// grace): deleted.
    pub covered: Vec<Location>,
}

/// The plan for the files `listing` (every file below the folder, hidden ones left out)
/// at `now` (ms since the epoch).
pub fn plan(listing: &[Status], now: u64, min_age_ms: u64, target: u64) -> Plan {
    let mut out = Plan::default();
    let covered = committed::covered(listing.iter().map(|s| &s.location));
    let mut by_tp: BTreeMap<(String, i32), Vec<File>> = BTreeMap::new();
    let mut folders = std::collections::BTreeSet::new();
    let mut parts: BTreeMap<String, Vec<File>> = BTreeMap::new();
    for st in listing {
        let Some(range) = OffsetRange::parse(&st.name()) else {
            if is_part(&st.name()) {
                let folder = folder_of(&st.location);
                folders.insert(folder.to_string());
                out.files += 1;
                out.bytes += st.length;
                let files = parts.entry(folder.to_string()).or_default();
                files.push(File {
                    location: st.location.clone(),
                    // no offsets: the name order, for the packing below
                    range: OffsetRange {
                        topic: String::new(),
                        partition: 0,
                        first: files.len() as i64,
                        last: files.len() as i64,
                    },
                    bytes: st.length,
                    modified: st.modification_time,
                });
            }
            continue;
        };
        if covered.contains(&st.location) {
            out.covered.push(st.location.clone());
            continue;
        }
        folders.insert(folder_of(&st.location).to_string());
        out.files += 1;
        out.bytes += st.length;
        by_tp
            .entry((range.topic.clone(), range.partition))
            .or_default()
            .push(File {
                location: st.location.clone(),
                range,
                bytes: st.length,
                modified: st.modification_time,
            });
    }
    out.folders = folders.len();
    for files in parts.into_values() {
        // young part files may belong to a batch run still writing: they stay
        let old: Vec<File> = files
            .into_iter()
            .filter(|f| now.saturating_sub(f.modified) >= min_age_ms)
            .collect();
        if old.len() > 1 {
            for (n, mut g) in pack(old, target).into_iter().enumerate() {
                g.parts = Some(n);
                out.groups.push(g);
            }
        }
    }
    for files in by_tp.into_values() {
        let held = held(&files);
        let mut by_folder: BTreeMap<String, Vec<File>> = BTreeMap::new();
        for f in files {
            by_folder
                .entry(folder_of(&f.location).to_string())
                .or_default()
                .push(f);
        }
        for mut files in by_folder.into_values() {
            files.sort_by_key(|f| f.range.first);
            let old = files
                .iter()
                .take_while(|f| now.saturating_sub(f.modified) >= min_age_ms)
                .count();
            files.truncate(old);
            for run in runs(files, &held) {
                out.groups.extend(pack(run, target));
            }
        }
    }
    out
}

/// A batch run's file (`pq-write` names them `part-<n>-<run>.parquet`, as Spark does).
fn is_part(name: &str) -> bool {
    name.starts_with("part-") && name.ends_with(".parquet")
}

fn folder_of(loc: &Location) -> Location {
    loc.parent().unwrap_or_else(|| loc.clone())
}

/// The offsets a topic-partition's files hold, as sorted disjoint inclusive ranges.
fn held(files: &[File]) -> Vec<(i64, i64)> {
    let mut r: Vec<(i64, i64)> = files
        .iter()
        .map(|f| (f.range.first, f.range.last))
        .collect();
    r.sort();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (a, b) in r {
        match out.last_mut() {
            Some(l) if a <= l.1 + 1 => l.1 = l.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// True when every offset from `a` to `b` is held.
fn all_held(held: &[(i64, i64)], a: i64, b: i64) -> bool {
    a > b || held.iter().any(|&(x, y)| x <= a && b <= y)
}

/// A folder's files (sorted by first offset) cut where offsets no folder holds are missing.
fn runs(files: Vec<File>, held: &[(i64, i64)]) -> Vec<Vec<File>> {
    let mut out: Vec<Vec<File>> = Vec::new();
    for f in files {
        let joins = out.last().and_then(|r| r.last()).is_some_and(|p| {
            f.range.first > p.range.last && all_held(held, p.range.last + 1, f.range.first - 1)
        });
        if joins {
            out.last_mut().expect("joins").push(f);
        } else {
            out.push(vec![f]);
        }
    }
    out
}

/// A run cut into groups of about `target` bytes (a group stops before the file that
/// would take it past the target); groups of one file stay as they are.
fn pack(run: Vec<File>, target: u64) -> Vec<Group> {
    let folder = folder_of(&run[0].location);
    let mut groups: Vec<Vec<File>> = vec![Vec::new()];
    let mut bytes = 0;
    for f in run {
        let cur = groups.last_mut().expect("one group");
        if !cur.is_empty() && bytes + f.bytes > target {
            groups.push(Vec::new());
            bytes = 0;
        }
        bytes += f.bytes;
        groups.last_mut().expect("one group").push(f);
    }
    groups
        .into_iter()
        .filter(|g| g.len() > 1)
        .map(|inputs| Group {
            folder: folder.clone(),
            inputs,
            parts: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(rel: &str, bytes: u64, modified: u64) -> Status {
        Status {
            location: Location::Local(format!("/lake/{rel}").into()),
            is_dir: false,
            length: bytes,
            replication: 0,
            block_size: 0,
            owner: String::new(),
            group: String::new(),
            permission: 0o644,
            modification_time: modified,
            access_time: 0,
        }
    }

    fn name(dir: &str, tp: (&str, i32), first: i64, last: i64) -> String {
        let r = OffsetRange {
            topic: tp.0.into(),
            partition: tp.1,
            first,
            last,
        };
        format!("{dir}{}", r.file_name(".parquet"))
    }

    fn ranges(p: &Plan) -> Vec<(String, i64, i64, usize)> {
        p.groups
            .iter()
            .map(|g| {
                let r = g.range();
                (g.folder.to_string(), r.first, r.last, g.inputs.len())
            })
            .collect()
    }

    #[test]
    fn contiguous_runs_merge_and_gaps_cut_them() {
        let l = vec![
            st(&name("", ("t", 0), 0, 9), 10, 0),
            st(&name("", ("t", 0), 10, 19), 10, 0),
            st(&name("", ("t", 0), 20, 29), 10, 0),
            // gap 30-39: a new run
            st(&name("", ("t", 0), 40, 49), 10, 0),
            st(&name("", ("t", 0), 50, 59), 10, 0),
            st(&name("", ("t", 1), 0, 9), 10, 0),
            st("part-00000-x.parquet", 10, 0),
        ];
        let p = plan(&l, 1000, 0, 1 << 20);
        assert_eq!(
            ranges(&p),
            [
                ("/lake".to_string(), 0, 29, 3),
                ("/lake".to_string(), 40, 59, 2)
            ]
        );
        assert_eq!((p.folders, p.files, p.bytes), (1, 7, 70));
    }

    #[test]
    fn batch_part_files_merge_under_part_names() {
        let mut l: Vec<Status> = (0..5)
            .map(|i| st(&format!("d=1/part-{i:05}-r.parquet"), 30, 0))
            .collect();
        l.push(st("d=1/part-00009-young.parquet", 30, 900));
        l.push(st("d=2/part-00000-alone.parquet", 30, 0));
        // 100 bytes: 3 files a group, then 2; the young one and a lone one stay
        let p = plan(&l, 1000, 500, 100);
        let got: Vec<(String, usize, String)> = p
            .groups
            .iter()
            .map(|g| {
                (
                    g.folder.to_string(),
                    g.inputs.len(),
                    g.target("abc").file_name(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "/lake/d=1".into(),
                    3,
                    "part-00000-compacted-abc.parquet".into()
                ),
                (
                    "/lake/d=1".into(),
                    2,
                    "part-00001-compacted-abc.parquet".into()
                )
            ]
        );
        assert_eq!(p.files, 7);
    }

    #[test]
    fn target_size_cuts_runs() {
        let l: Vec<Status> = (0..10)
            .map(|i| st(&name("", ("t", 0), i * 10, i * 10 + 9), 30, 0))
            .collect();
        // 100 bytes: 3 files a group (a 4th would pass it); the last one alone stays
        let p = plan(&l, 0, 0, 100);
        assert_eq!(
            ranges(&p)
                .iter()
                .map(|g| (g.1, g.2, g.3))
                .collect::<Vec<_>>(),
            [(0, 29, 3), (30, 59, 3), (60, 89, 3)]
        );
        // a file as large as the target stays alone
        let p = plan(&l, 0, 0, 30);
        assert!(p.groups.is_empty());
    }

    #[test]
    fn young_files_and_those_after_them_stay() {
        let l = vec![
            st(&name("", ("t", 0), 0, 9), 10, 0),
            st(&name("", ("t", 0), 10, 19), 10, 0),
            st(&name("", ("t", 0), 20, 29), 10, 900),
            st(&name("", ("t", 0), 30, 39), 10, 0),
        ];
        let p = plan(&l, 1000, 500, 1 << 20);
        assert_eq!(
            ranges(&p).iter().map(|g| (g.1, g.2)).collect::<Vec<_>>(),
            [(0, 19)]
        );
    }

    #[test]
    fn gaps_other_folders_fill_do_not_cut() {
        // one partition spread over kind=a and kind=b; offset 30-39 is nowhere
        let l = vec![
            st(&name("kind=a/", ("t", 0), 0, 9), 10, 0),
            st(&name("kind=b/", ("t", 0), 10, 19), 10, 0),
            st(&name("kind=a/", ("t", 0), 20, 29), 10, 0),
            st(&name("kind=a/", ("t", 0), 40, 49), 10, 0),
            st(&name("kind=b/", ("t", 0), 50, 59), 10, 0),
        ];
        let p = plan(&l, 0, 0, 1 << 20);
        assert_eq!(ranges(&p), [("/lake/kind=a".to_string(), 0, 29, 2)]);
        assert_eq!(p.folders, 2);
    }

    #[test]
    fn covered_inputs_left_by_a_crash_are_deleted_not_merged() {
        let l = vec![
            st(&name("", ("t", 0), 0, 9), 10, 0),
            st(&name("", ("t", 0), 10, 19), 10, 0),
            st(&name("", ("t", 0), 0, 19), 20, 0),
            st(&name("", ("t", 0), 20, 29), 10, 0),
        ];
        let p = plan(&l, 0, 0, 1 << 20);
        assert_eq!(p.covered.len(), 2);
        assert_eq!(ranges(&p), [("/lake".to_string(), 0, 29, 2)]);
    }
}
