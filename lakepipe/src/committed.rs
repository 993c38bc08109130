//! Kafka offsets committed in a folder, read from file names alone.
//!
//! Files that hold rows of one topic-partition are named as Kafka Connect's HDFS sink
//! names them: `<topic>+<partition>+<first offset>+<last offset>.parquet`, offsets
//! zero-padded to 10 digits, so a folder either tool wrote can be continued by the other.
//! The names are the whole record: resuming (`kcat-lite --resume-from`) and auditing
//! (`pq-cat --offsets`) list the folder once and open no file, so their cost grows with
//! one listing, not with the data.

use std::collections::{BTreeMap, HashSet};

use crate::location::Location;
use crate::storage::{Fs, Result};

/// Kafka Connect's `filename.offset.zero.pad.width`.
const PAD: usize = 10;

/// One committed file's place in its topic-partition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OffsetRange {
    pub topic: String,
    pub partition: i32,
    pub first: i64,
    pub last: i64,
}

impl OffsetRange {
    /// The file name, `ext` included (`.parquet`). A topic starting with `_` or `.` would
    /// give a name that Hive, Spark and Trino skip as hidden, so that first character is
    /// written `%5F` / `%2E` (`%` is not legal in a topic name, so this cannot collide).
    pub fn file_name(&self, ext: &str) -> String {
        format!(
            "{}+{}+{:0pad$}+{:0pad$}{ext}",
            escape_topic(&self.topic),
            self.partition,
            self.first,
            self.last,
            pad = PAD
        )
    }

    /// The range a file name stands for, or None for any other name. Accepts what Kafka
    /// Connect's pattern `([a-zA-Z0-9._-]+)\+(\d+)\+(\d+)\+(\d+)(.\w+)?` accepts, plus
    /// the escaped first character above.
    pub fn parse(name: &str) -> Option<OffsetRange> {
        let mut it = name.rsplitn(4, '+');
        let (tail, first, partition, topic) = (it.next()?, it.next()?, it.next()?, it.next()?);
        let digits = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (last, ext) = tail.split_at(digits);
        let ext_ok = ext.is_empty()
            || (ext.len() > 1 && ext[1..].chars().all(|c| c.is_alphanumeric() || c == '_'));
        let topic = unescape_topic(topic)?;
        let range = OffsetRange {
            topic,
            partition: number(partition)?,
            first: number(first)?,
            last: number(last)?,
        };
        (ext_ok && range.first <= range.last).then_some(range)
    }
}

fn number<T: std::str::FromStr>(s: &str) -> Option<T> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn escape_topic(topic: &str) -> String {
    match topic.as_bytes().first() {
        Some(b'_') => format!("%5F{}", &topic[1..]),
        Some(b'.') => format!("%2E{}", &topic[1..]),
        _ => topic.to_string(),
    }
}

fn unescape_topic(s: &str) -> Option<String> {
    let topic = if let Some(rest) = s.strip_prefix("%5F") {
        format!("_{rest}")
    } else if let Some(rest) = s.strip_prefix("%2E") {
        format!(".{rest}")
    } else {
        s.to_string()
    };
    let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    (!topic.is_empty() && topic.chars().all(legal)).then_some(topic)
}

/// A committed file found in a folder.
#[derive(Debug, Clone)]
pub struct Found {
    pub location: Location,
    pub range: OffsetRange,
}

/// Every committed file below `dir` (`k=v` partition folders included; names starting
/// with `.` or `_` skipped, as readers skip them). A folder that does not exist yet has
/// nothing committed.
pub fn scan(fs: &Fs, dir: &Location) -> Result<Vec<Found>> {
    if fs.stat(dir)?.is_none() {
        return Ok(Vec::new());
    }
    let root = dir.to_string();
    let root = root.trim_end_matches('/');
    let mut found = Vec::new();
    for st in fs.list(dir, true)? {
        let path = st.location.to_string();
        let rel = path.strip_prefix(root).unwrap_or(&path);
        if st.is_dir || rel.split('/').any(crate::listing::is_hidden) {
            continue;
        }
        if let Some(range) = OffsetRange::parse(&st.name()) {
            found.push(Found {
                location: st.location,
                range,
            });
        }
    }
    found.sort_by(|a, b| a.range.cmp(&b.range));
    let covered = covered(found.iter().map(|f| &f.location));
    found.retain(|f| !covered.contains(&f.location));
    Ok(found)
}

/// The files among `files` that another file of the same folder and topic-partition
/// covers (its range holds theirs): the inputs of a merge (`pq-compact`) that are still
/// there beside the merged file, for a moment or after a crash. Every reader drops them,
/// so the covering file wins and each offset is read once. Of two files with the same
/// range (never written), the one with the greater name wins. Files whose names carry
/// no offsets are never covered.
pub fn covered<'a>(files: impl IntoIterator<Item = &'a Location>) -> HashSet<Location> {
    // (folder, topic, partition) -> (first, last, file)
    type Ranges<'a> = Vec<(i64, i64, &'a Location)>;
    let mut groups: BTreeMap<(String, String, i32), Ranges> = BTreeMap::new();
    for loc in files {
        if let Some(r) = OffsetRange::parse(&loc.file_name()) {
            let dir = loc.parent().map(|p| p.to_string()).unwrap_or_default();
            groups
                .entry((dir, r.topic, r.partition))
                .or_default()
                .push((r.first, r.last, loc));
        }
    }
    let mut out = HashSet::new();
    for mut v in groups.into_values() {
        // widest first among equal starts: a file is covered when an earlier one in
        // this order reaches at least as far
        v.sort_by_cached_key(|&(first, last, loc)| {
            (
                first,
                std::cmp::Reverse(last),
                std::cmp::Reverse(loc.to_string()),
            )
        });
        let mut reach: Option<i64> = None;
        for (_, last, loc) in v {
            if reach.is_some_and(|r| r >= last) {
                out.insert(loc.clone());
            }
            reach = reach.max(Some(last));
        }
    }
    out
}

/// The last committed offset of each topic-partition.
pub fn last_offsets(found: &[Found]) -> BTreeMap<(String, i32), i64> {
    let mut last = BTreeMap::new();
    for f in found {
        let r = &f.range;
        let e = last.entry((r.topic.clone(), r.partition)).or_insert(r.last);
        *e = (*e).max(r.last);
    }
    last
}

/// One topic-partition as the audit sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionAudit {
    pub topic: String,
    pub partition: i32,
    pub files: usize,
    pub first: i64,
    pub last: i64,
    /// Offsets no file covers, as inclusive ranges.
    pub gaps: Vec<(i64, i64)>,
    /// Pairs of files whose ranges share offsets (rows written twice).
    pub overlaps: Vec<(String, String)>,
}

/// Files, range, gaps and overlaps per topic-partition (`found` sorted as [`scan`] gives).
/// With `--partition-by`, one partition's offsets are spread over several folders, so
/// only files in the same folder are compared for overlap.
pub fn audit(found: &[Found]) -> Vec<PartitionAudit> {
    let mut out: Vec<PartitionAudit> = Vec::new();
    let mut by_part: BTreeMap<(String, i32), Vec<&Found>> = BTreeMap::new();
    for f in found {
        let key = (f.range.topic.clone(), f.range.partition);
        by_part.entry(key).or_default().push(f);
    }
    for ((topic, partition), files) in by_part {
        out.push(PartitionAudit {
            topic,
            partition,
            files: files.len(),
            first: files.iter().map(|f| f.range.first).min().unwrap_or(0),
            last: files.iter().map(|f| f.range.last).max().unwrap_or(0),
            gaps: gaps(&files),
            overlaps: overlaps(&files),
        });
    }
    out
}

/// Offsets between the first and last that no file covers.
fn gaps(files: &[&Found]) -> Vec<(i64, i64)> {
    let mut ranges: Vec<(i64, i64)> = files
        .iter()
        .map(|f| (f.range.first, f.range.last))
        .collect();
    ranges.sort();
    let mut gaps = Vec::new();
    let mut covered = ranges.first().map_or(0, |r| r.1);
    for (first, last) in ranges.into_iter().skip(1) {
        if first > covered + 1 {
            gaps.push((covered + 1, first - 1));
        }
        covered = covered.max(last);
    }
    gaps
}

/// Files in the same folder whose ranges intersect.
fn overlaps(files: &[&Found]) -> Vec<(String, String)> {
    let mut by_dir: BTreeMap<String, Vec<&Found>> = BTreeMap::new();
    for f in files {
        let dir = f
            .location
            .parent()
            .map(|p| p.to_string())
            .unwrap_or_default();
        by_dir.entry(dir).or_default().push(f);
    }
    let mut out = Vec::new();
    for mut v in by_dir.into_values() {
        v.sort_by_key(|f| (f.range.first, f.range.last));
        // sorted by first: a file overlaps an earlier one when it starts at or before the
        // furthest end seen so far
        let mut furthest: Option<&Found> = None;
        for f in v {
            if let Some(p) = furthest {
                if f.range.first <= p.range.last {
                    out.push((p.location.to_string(), f.location.to_string()));
                }
            }
            if furthest.is_none_or(|p| f.range.last > p.range.last) {
                furthest = Some(f);
            }
        }
    }
    out
}

/// A claim file (`OUTPUT/_lakepipe/claims/<topic>+<partition>`): what a writer (pq-write
/// committing, pq-compact swapping) is about to make visible, with enough for another
/// writer to finish it after a crash (docs/design.md, "Exactly once").
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Claim {
    pub writer: String,
    pub topic: String,
    pub partition: i32,
    pub first: i64,
    /// (hidden file, final name) pairs, as locations.
    pub renames: Vec<(String, String)>,
    /// pq-compact: the files the renamed one replaces, deleted once it is visible.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(topic: &str, p: i32, first: i64, last: i64) -> OffsetRange {
        OffsetRange {
            topic: topic.into(),
            partition: p,
            first,
            last,
        }
    }

    #[test]
    fn names_are_kafka_connects() {
        let name = r("events", 3, 0, 41).file_name(".parquet");
        assert_eq!(name, "events+3+0000000000+0000000041.parquet");
        assert_eq!(OffsetRange::parse(&name), Some(r("events", 3, 0, 41)));
        // a topic with '+'-free dots and dashes, and offsets past 10 digits
        let big = r("lab.events-v2", 0, 12345678901, 12345678905);
        assert_eq!(OffsetRange::parse(&big.file_name(".parquet")), Some(big));
        assert_eq!(
            OffsetRange::parse("t+0+0000000001+0000000002"),
            Some(r("t", 0, 1, 2))
        );
    }

    #[test]
    fn hidden_looking_topics_stay_visible_and_round_trip() {
        for topic in ["_internal", ".dot", "__consumer_like"] {
            let name = r(topic, 1, 5, 9).file_name(".parquet");
            assert!(!name.starts_with('_') && !name.starts_with('.'), "{name}");
            assert_eq!(OffsetRange::parse(&name).unwrap().topic, topic);
        }
    }

    #[test]
    fn other_names_are_not_offsets() {
        for name in [
            "part-00000-abc.parquet",
            "t+0+1.parquet",
            "t+x+1+2.parquet",
            "t+0+5+4.parquet",
            "a b+0+1+2.parquet",
            "t+0+1+2.par-quet",
            "+0+1+2.parquet",
        ] {
            assert_eq!(OffsetRange::parse(name), None, "{name}");
        }
    }

    fn found(dir: &str, range: OffsetRange) -> Found {
        Found {
            location: Location::Local(format!("/lake/{dir}{}", range.file_name(".parquet")).into()),
            range,
        }
    }

    #[test]
    fn audit_finds_gaps_and_overlaps_per_partition() {
        let files = vec![
            found("", r("t", 0, 0, 9)),
            found("", r("t", 0, 10, 19)),
            found("", r("t", 0, 25, 30)),
            found("", r("t", 1, 0, 9)),
            found("", r("t", 1, 5, 12)),
        ];
        let a = audit(&files);
        assert_eq!(a.len(), 2);
        assert_eq!((a[0].files, a[0].first, a[0].last), (3, 0, 30));
        assert_eq!(a[0].gaps, vec![(20, 24)]);
        assert!(a[0].overlaps.is_empty());
        assert_eq!(a[1].gaps, vec![]);
        assert_eq!(a[1].overlaps.len(), 1);
        assert!(a[1].overlaps[0]
            .1
            .ends_with("t+1+0000000005+0000000012.parquet"));
        let last = last_offsets(&files);
        assert_eq!(last[&("t".to_string(), 0)], 30);
        assert_eq!(last[&("t".to_string(), 1)], 12);
    }

    #[test]
    fn partition_folders_interleave_without_overlap() {
        // one Kafka partition's rows split over two `k=v` folders: ranges interleave
        let files = vec![
            found("kind=a/", r("t", 0, 0, 10)),
            found("kind=b/", r("t", 0, 2, 8)),
        ];
        assert!(audit(&files)[0].overlaps.is_empty());
    }

    #[test]
    fn a_covering_file_wins_over_the_files_it_holds() {
        let files: Vec<Location> = [
            "a/t+0+0000000000+0000000009.parquet",
            "a/t+0+0000000010+0000000019.parquet",
            "a/t+0+0000000000+0000000019.parquet",
            "a/t+0+0000000020+0000000029.parquet",
            "a/t+1+0000000000+0000000009.parquet",
            "b/t+0+0000000005+0000000006.parquet",
            "a/part-00000-x.parquet",
        ]
        .iter()
        .map(|n| Location::Local(format!("/lake/{n}").into()))
        .collect();
        let mut c: Vec<String> = covered(&files).iter().map(|l| l.to_string()).collect();
        c.sort();
        assert_eq!(
            c,
            [
                "/lake/a/t+0+0000000000+0000000009.parquet",
                "/lake/a/t+0+0000000010+0000000019.parquet"
            ]
        );
        // two files of one range: exactly one of them is read
        let twins: Vec<Location> = [
            "/l/t+0+0000000000+0000000009.parquet",
            "/l/t+0+0000000000+0000000009",
        ]
        .iter()
        .map(|n| Location::Local(n.into()))
        .collect();
        assert_eq!(covered(&twins).len(), 1);
    }

    #[test]
    fn scan_lists_committed_files_and_skips_hidden_ones() {
        let dir = tempfile::tempdir().unwrap();
        let root = Location::Local(dir.path().to_path_buf());
        let files = [
            "t+0+0000000000+0000000004.parquet",
            "kind=a/t+1+0000000000+0000000002.parquet",
            ".t+0+0000000005+0000000009.parquet.run.inprogress",
            "_tmp/t+0+0000000005+0000000009.parquet",
            "part-00000-x.parquet",
            "t+0+0000000001+0000000003.parquet",
            "t+0+0000000000+0000000003.parquet",
        ];
        crate::testing::touch(dir.path(), &files);
        let fs = crate::storage::connect(&root).unwrap();
        let found = scan(&fs, &root).unwrap();
        let ranges: Vec<_> = found.iter().map(|f| f.range.clone()).collect();
        assert_eq!(ranges, vec![r("t", 0, 0, 4), r("t", 1, 0, 2)]);
        assert!(scan(&fs, &root.join("missing")).unwrap().is_empty());
    }
}
