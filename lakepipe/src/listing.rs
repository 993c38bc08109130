//! Which files an input names, by one rule for local paths and HDFS alike:
//! - a file named directly is read whatever its name;
//! - a folder means every file below it, and a glob every file it matches (folders it
//!   matches count as folders), skipping any path component below the folder or below
//!   the glob's literal prefix that is hidden ([`is_hidden`]), and any committed file
//!   that a merged one beside it covers ([`crate::committed::covered`]);
//! - files come in path order, folder by folder, each with its path below that base
//!   (where `k=v` partition folders are read).
//!
//! Listing and globbing themselves go through [`crate::storage`], so the local file
//! system and the namenode answer the same calls.

use std::path::{Path, PathBuf};

use anyhow::bail;

use crate::location::Location;
use crate::storage::{self, Fs, Status, StorageError};

/// Names Hive, Spark and Trino skip, and so do we: a leading `_` or `.` (markers such as
/// `_SUCCESS`, `_temporary/`, checksums, and files still being written under a hidden
/// name, as pq-write does).
pub fn is_hidden(name: &str) -> bool {
    name.starts_with('_') || name.starts_with('.')
}

/// True when `s` has a wildcard: `*`, `?`, `[..]`, or `{a,b}` (HDFS only).
pub fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

/// A file an input names.
#[derive(Debug, Clone)]
pub struct Found {
    pub status: Status,
    /// The path below the folder given or the glob's literal prefix; empty for a file
    /// named directly.
    pub below: PathBuf,
}

/// The files `loc` names (see the module docs); `input` is the text used in errors.
pub fn files(input: &str, loc: &Location) -> anyhow::Result<Vec<Found>> {
    let fs = storage::connect(loc)?;
    let mut found = Vec::new();
    match fs.stat(loc)? {
        Some(st) if !st.is_dir => {
            return Ok(vec![Found {
                status: st,
                below: PathBuf::new(),
            }])
        }
        Some(_) => {
            walk(&fs, &path_of(loc), loc, &mut found)?;
            if found.is_empty() {
                bail!("{input}: no Parquet files in this folder");
            }
        }
        None if is_glob(&path_of(loc).to_string_lossy()) => {
            let base = literal_prefix(&path_of(loc));
            for st in fs.glob(loc)? {
                let Some(below) = visible_below(&base, &st.location) else {
                    continue;
                };
                if st.is_dir {
                    walk(&fs, &base, &st.location, &mut found)?;
                } else {
                    found.push(Found { status: st, below });
                }
            }
            if found.is_empty() {
                bail!("{input}: no files match");
            }
        }
        None => return Err(StorageError::NotFound(input.to_string()).into()),
    }
    found.sort_by(|a, b| a.below.cmp(&b.below));
    found.dedup_by(|a, b| a.status.location == b.status.location);
    // a merged file and its inputs side by side: the merged one is read
    let covered = crate::committed::covered(found.iter().map(|f| &f.status.location));
    found.retain(|f| !covered.contains(&f.status.location));
    Ok(found)
}

/// The table folders of a root of tables: when folder `loc` holds neither visible files
/// nor `k=v` partition folders, only plain-named folders (e.g. `pq-write --split-by`'s
/// output), those folders in name order. None when `loc` is one table (a file, a glob, a
/// folder with files or partitions) or is not there (reading it says why).
pub fn table_folders(loc: &Location) -> anyhow::Result<Option<Vec<Status>>> {
    if is_glob(&path_of(loc).to_string_lossy()) {
        return Ok(None);
    }
    let fs = storage::connect(loc)?;
    if !fs.is_dir(loc)? {
        return Ok(None);
    }
    let visible: Vec<Status> = fs
        .list(loc, false)?
        .into_iter()
        .filter(|st| !is_hidden(&st.name()))
        .collect();
    let one_table = visible.is_empty()
        || visible
            .iter()
            .any(|st| !st.is_dir || crate::partition::parse_folder(&st.name()).is_some());
    Ok((!one_table).then_some(visible))
}

/// Every visible file below `dir`, with its path below `base`.
fn walk(fs: &Fs, base: &Path, dir: &Location, found: &mut Vec<Found>) -> anyhow::Result<()> {
    for st in fs.list(dir, true)? {
        if st.is_dir {
            continue;
        }
        if let Some(below) = visible_below(base, &st.location) {
            found.push(Found { status: st, below });
        }
    }
    Ok(())
}

/// The path of `loc` below `base`, or None when a component of it is hidden.
fn visible_below(base: &Path, loc: &Location) -> Option<PathBuf> {
    let path = path_of(loc);
    let below = path.strip_prefix(base).unwrap_or(&path);
    let hidden = below
        .components()
        .any(|c| is_hidden(&c.as_os_str().to_string_lossy()));
    (!hidden).then(|| below.to_path_buf())
}

/// The folders of a glob pattern before its first wildcard component.
fn literal_prefix(pattern: &Path) -> PathBuf {
    pattern
        .components()
        .take_while(|c| !is_glob(&c.as_os_str().to_string_lossy()))
        .collect()
}

/// The path part of a location (HDFS paths are absolute, like local ones here).
fn path_of(loc: &Location) -> PathBuf {
    match loc {
        Location::Local(p) => p.clone(),
        Location::Hdfs { path, .. } => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Spark-style folder: markers, files in progress, `_temporary/`, partitions.
    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            "a.parquet",
            "_SUCCESS",
            ".a.parquet.inprogress",
            "_temporary/0/x.parquet",
            "k=1/b.parquet",
            "k=1/.hidden/c.parquet",
            "k=1/_c.parquet",
            "k=2/_tmp.parquet",
            "k=10/d.parquet",
        ];
        crate::testing::touch(dir.path(), &files);
        dir
    }

    fn below(input: &Path) -> anyhow::Result<Vec<String>> {
        let text = input.to_string_lossy();
        let found = files(&text, &Location::Local(input.to_path_buf()))?;
        Ok(found
            .iter()
            .map(|f| f.below.to_string_lossy().into_owned())
            .collect())
    }

    #[test]
    fn a_folder_of_plain_folders_is_a_root_of_tables() {
        let d = tempfile::tempdir().unwrap();
        for f in [
            "root/b%2Fx/k=1/p.parquet",
            "root/a/p.parquet",
            "root/_tmp/p.parquet",
            "root/.x",
        ] {
            let p = d.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        }
        let names = |p: &Path| {
            table_folders(&Location::Local(p.to_path_buf()))
                .unwrap()
                .map(|v| v.iter().map(Status::name).collect::<Vec<_>>())
        };
        let root = d.path().join("root");
        assert_eq!(
            names(&root),
            Some(vec!["a".to_string(), "b%2Fx".to_string()])
        );
        // a folder with k=v folders, or with files, is one table
        assert_eq!(names(&root.join("b%2Fx")), None);
        assert_eq!(names(&root.join("a")), None);
        std::fs::write(root.join("stray.parquet"), b"x").unwrap();
        assert_eq!(names(&root), None);
        assert_eq!(names(&root.join("a/p.parquet")), None);
        assert_eq!(names(&root.join("nope")), None);
    }

    #[test]
    fn hidden_names() {
        assert!(is_hidden("_SUCCESS") && is_hidden(".part-0.crc") && is_hidden("_temporary"));
        assert!(!is_hidden("part-0.parquet") && !is_hidden("k=_x"));
    }

    #[test]
    fn folders_skip_hidden_components_below_them() {
        let d = tree();
        // path order, folder by folder: k=1/ before k=10/
        assert_eq!(
            below(d.path()).unwrap(),
            ["a.parquet", "k=1/b.parquet", "k=10/d.parquet"]
        );
        // the input folder itself may be hidden (a tempdir is `.tmpXXXX`)
        assert_eq!(
            below(&d.path().join("_temporary")).unwrap(),
            ["0/x.parquet"]
        );
    }

    #[test]
    fn globs_skip_hidden_components_below_their_prefix() {
        let d = tree();
        assert_eq!(
            below(&d.path().join("*")).unwrap(),
            ["a.parquet", "k=1/b.parquet", "k=10/d.parquet"]
        );
        assert_eq!(
            below(&d.path().join("k=*/*.parquet")).unwrap(),
            ["k=1/b.parquet", "k=10/d.parquet"]
        );
        assert_eq!(
            below(&d.path().join("_temporary/*/*.parquet")).unwrap(),
            ["0/x.parquet"]
        );
        let err = below(&d.path().join("k=2/*")).unwrap_err().to_string();
        assert!(err.ends_with("k=2/*: no files match"), "{err}");
    }

    #[test]
    fn a_file_named_directly_is_read_whatever_its_name() {
        let d = tree();
        assert_eq!(below(&d.path().join("_SUCCESS")).unwrap(), [""]);
        // a merged file beside its inputs: only the merged one
        let m = tempfile::tempdir().unwrap();
        crate::testing::touch(
            m.path(),
            &[
                "t+0+0000000000+0000000004.parquet",
                "t+0+0000000005+0000000009.parquet",
                "t+0+0000000000+0000000009.parquet",
                "t+0+0000000010+0000000011.parquet",
            ],
        );
        assert_eq!(
            below(m.path()).unwrap(),
            [
                "t+0+0000000000+0000000009.parquet",
                "t+0+0000000010+0000000011.parquet"
            ]
        );
        let err = below(&d.path().join("nope")).unwrap_err().to_string();
        assert!(err.ends_with("nope: No such file or directory"), "{err}");
        let err = below(&d.path().join("k=2")).unwrap_err().to_string();
        assert!(err.ends_with("no Parquet files in this folder"), "{err}");
    }
}
