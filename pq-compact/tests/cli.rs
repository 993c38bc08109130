//! pq-compact on local folders: merges, the plan, schema growth, and kill -9 at each step
//! of the swap followed by a re-run, with the readers' view checked at every moment.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::{Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use assert_cmd::Command;
use lakepipe::committed::{self, OffsetRange};
use lakepipe::location::Location;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;

/// A committed file of topic `ev` partition 0 holding offsets `first..=last`, with an
/// `extra` column when `wide`.
fn file(dir: &Path, first: i64, last: i64, wide: bool) {
    let offsets: Vec<i64> = (first..=last).collect();
    let mut fields = vec![Field::new("offset", DataType::Int64, false)];
    let mut cols: Vec<Arc<dyn Array>> = vec![Arc::new(Int64Array::from(offsets.clone()))];
    if wide {
        fields.push(Field::new("extra", DataType::Int64, true));
        cols.push(Arc::new(Int64Array::from(
            offsets.iter().map(|o| o * 2).collect::<Vec<_>>(),
        )));
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap();
    let r = OffsetRange {
        topic: "ev".into(),
        partition: 0,
        first,
        last,
    };
    std::fs::create_dir_all(dir).unwrap();
    let f = std::fs::File::create(dir.join(r.file_name(".parquet"))).unwrap();
    let mut w = ArrowWriter::try_new(f, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// Six files of 100 offsets, the last three with the `extra` column.
fn lake() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for i in 0..6 {
        file(&d.path().join("t"), i * 100, i * 100 + 99, i >= 3);
    }
    d
}

fn compact(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("pq-compact").unwrap();
    c.arg("--min-age").arg("0").arg(dir);
    c
}

/// What every reader sees: the offsets of the rows in the files `lakepipe::listing`
/// names (covered files left out), in order, and the audit of the names.
fn seen(dir: &Path) -> (Vec<i64>, Vec<committed::PartitionAudit>) {
    let loc = Location::Local(dir.to_path_buf());
    let mut rows = Vec::new();
    for f in lakepipe::listing::files("lake", &loc).unwrap() {
        let Location::Local(p) = &f.status.location else {
            unreachable!()
        };
        let r = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(p).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for b in r {
            let b = b.unwrap();
            let c = b.column_by_name("offset").unwrap();
            rows.extend(c.as_any().downcast_ref::<Int64Array>().unwrap().values());
        }
    }
    let fs = lakepipe::storage::connect(&loc).unwrap();
    (rows, committed::audit(&committed::scan(&fs, &loc).unwrap()))
}

fn assert_exact(dir: &Path) {
    let (rows, audit) = seen(dir);
    assert_eq!(rows, (0..600).collect::<Vec<_>>());
    assert_eq!(audit.len(), 1);
    assert!(
        audit[0].gaps.is_empty() && audit[0].overlaps.is_empty(),
        "{audit:?}"
    );
    assert_eq!((audit[0].first, audit[0].last), (0, 599));
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn merges_a_run_keeping_rows_order_and_grown_schema() {
    let d = lake();
    compact(d.path()).assert().success();
    assert_eq!(
        names(&d.path().join("t")),
        ["ev+0+0000000000+0000000599.parquet"]
    );
    assert_exact(d.path());
    let f = std::fs::File::open(d.path().join("t/ev+0+0000000000+0000000599.parquet")).unwrap();
    let b: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect();
    let b = arrow_select::concat::concat_batches(&b[0].schema(), &b).unwrap();
    let extra = b.column_by_name("extra").unwrap();
    assert_eq!(extra.null_count(), 300);
    let extra = extra.as_any().downcast_ref::<Int64Array>().unwrap();
    assert!(extra.is_null(299) && extra.value(300) == 600);
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let d = lake();
    let before = names(&d.path().join("t"));
    let out = compact(d.path()).arg("--dry-run").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("merge 6 files") && text.contains("ev+0+0000000000+0000000599.parquet"),
        "{text}"
    );
    assert_eq!(names(&d.path().join("t")), before);
}

#[test]
fn target_size_and_min_age_limit_merges() {
    let d = lake();
    let one = std::fs::metadata(d.path().join("t/ev+0+0000000000+0000000099.parquet"))
        .unwrap()
        .len();
    // room for about two files a group (the wide ones are larger): several merged files
    compact(d.path())
        .arg("--target-size")
        .arg((one * 2 + one / 2).to_string())
        .assert()
        .success();
    let n = names(&d.path().join("t")).len();
    assert!((2..6).contains(&n), "{:?}", names(&d.path().join("t")));
    assert_exact(d.path());
    let d = lake();
    Command::cargo_bin("pq-compact")
        .unwrap()
        .args(["--min-age", "3600"])
        .arg(d.path())
        .assert()
        .success();
    assert_eq!(names(&d.path().join("t")).len(), 6);
}

/// Killed (SIGKILL) at each step of the swap: readers see every offset once at once,
/// and re-runs end with one file and no claim nor hidden file left.
#[test]
fn kill_9_at_every_step_then_rerun_is_exact() {
    for point in [
        "compact-written",
        "compact-claimed",
        "compact-renamed",
        "compact-deleting",
    ] {
        let d = lake();
        let out = compact(d.path())
            .env("LAKEPIPE_FAILPOINT", point)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{point}: not killed");
        assert_exact(d.path());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            compact(d.path())
                .args(["--stale", "0.3"])
                .assert()
                .success();
            assert_exact(d.path());
            let t = names(&d.path().join("t"));
            let claims = d.path().join("_lakepipe/claims");
            let claims = if claims.exists() {
                names(&claims)
            } else {
                vec![]
            };
            if t == ["ev+0+0000000000+0000000599.parquet"] && claims.is_empty() {
                break;
            }
            assert!(Instant::now() < deadline, "{point}: {t:?} {claims:?}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Batch runs' `part-*` files merge too, under a part name, rows in name order; the
/// stream's files beside them stay as they were planned.
#[test]
fn batch_part_files_merge_under_a_part_name() {
    let d = lake();
    let t = d.path().join("t");
    for i in 0..3 {
        file(&t, 1000 + i * 10, 1009 + i * 10, false);
        let from = t.join(format!(
            "ev+0+{:010}+{:010}.parquet",
            1000 + i * 10,
            1009 + i * 10
        ));
        std::fs::rename(from, t.join(format!("part-{i:05}-batch.parquet"))).unwrap();
    }
    compact(d.path()).assert().success();
    let names = names(&t);
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[1].starts_with("part-00000-compacted-"), "{names:?}");
    let (rows, _) = seen(d.path());
    let want: Vec<i64> = (0..600).chain(1000..1030).collect();
    assert_eq!(rows, want);
}
