//! `--split-by` (a table folder per event type) and schema evolution (a late field
//! becomes a column), through the pq-write binary.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{json, Value};

fn pq_write() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("pq-write").unwrap();
    for v in ["HDFS_NAMENODE", "HADOOP_CONF_DIR"] {
        c.env_remove(v);
    }
    c
}

/// One Parquet file: its column names and its rows as JSON (null fields omitted).
fn read_file(path: &Path) -> (Vec<String>, Vec<Value>) {
    let b = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(path).unwrap()).unwrap();
    let cols = b
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut w = arrow_json::LineDelimitedWriter::new(Vec::new());
    for batch in b.build().unwrap() {
        w.write(&batch.unwrap()).unwrap();
    }
    w.finish().unwrap();
    let text = String::from_utf8(w.into_inner()).unwrap();
    let rows = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (cols, rows)
}

/// The visible Parquet files of one table folder, in the order they were written.
fn parts(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.ends_with(".parquet") && !n.starts_with('.')
        })
        .collect();
    files.sort(); // part-NNNNN-<run>: the number is the order
    files
}

/// Lab events of three types with their own fields. From line `late_from` on,
/// purchases carry a `coupon` and arena events a `weather` object: fields the
/// inference sample never saw.
fn lab_events(n: usize, late_from: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let mut e = match (i * 7 + i / 5) % 3 {
                0 => json!({"event_type": "purchase", "seq": i, "item": format!("sword{}", i % 4), "price": (i % 50) as f64 + 0.5}),
                1 => json!({"event_type": "join_guild", "seq": i, "guild": {"name": format!("g{}", i % 3), "rank": i % 9}}),
                _ => json!({"event_type": "enter_arena", "seq": i, "arena_id": i % 20, "opponents": [i, i + 1]}),
            };
            if i + 1 >= late_from {
                match e["event_type"].as_str().unwrap() {
                    "purchase" => e["coupon"] = json!(format!("C{}", i % 7)),
                    "enter_arena" => e["weather"] = json!({"rain": i % 2 == 0}),
                    _ => {}
                }
            }
            e
        })
        .collect()
}

/// Malformed lines, each with the line number (1-based, counting these) to put it at.
fn malformed() -> Vec<(usize, String)> {
    [
        (40, "not json at all"),
        (700, r#"{"seq":-1,"item":"no type"}"#),
        (1500, r#"{"event_type":null,"seq":-2}"#),
        (1800, r#"{"event_type":{"nested":1},"seq":-3}"#),
        (2100, r#"{"event_type":["purchase"],"seq":-4}"#),
        // a type conflict: price is a double in the purchase table
        (
            2300,
            r#"{"event_type":"purchase","seq":-5,"price":"cheap"}"#,
        ),
        // a late field together with a conflict: the field must not become a column
        (
            2400,
            r#"{"event_type":"purchase","seq":-6,"never_column":1,"price":"x"}"#,
        ),
    ]
    .iter()
    .map(|(n, l)| (*n, l.to_string()))
    .collect()
}

/// Events and malformed lines interleaved; returns the input and the good events.
fn input_with_bad_lines(events: &[Value]) -> (String, Vec<String>) {
    let mut bad = malformed().into_iter().peekable();
    let mut lines = Vec::new();
    let mut rejected = Vec::new();
    for e in events {
        while let Some((_, l)) = bad.next_if(|(n, _)| *n == lines.len() + 1) {
            rejected.push(l.clone());
            lines.push(l);
        }
        lines.push(e.to_string());
    }
    (lines.join("\n") + "\n", rejected)
}

/// Every table: its columns (union over files) and rows (in file order).
fn read_tables(out: &Path) -> BTreeMap<String, (BTreeSet<String>, Vec<Value>)> {
    let mut tables = BTreeMap::new();
    for e in fs::read_dir(out).unwrap() {
        let e = e.unwrap();
        assert!(
            e.file_type().unwrap().is_dir(),
            "{:?} is not a table folder",
            e.path()
        );
        let name = e.file_name().to_string_lossy().into_owned();
        let (mut cols, mut rows) = (BTreeSet::new(), Vec::new());
        for f in parts(&e.path()) {
            let (c, r) = read_file(&f);
            cols.extend(c);
            rows.extend(r);
        }
        tables.insert(lakepipe::partition::parse_table_folder(&name), (cols, rows));
    }
    tables
}

#[test]
fn split_by_gives_each_type_its_table_and_late_fields_their_columns() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let rej = dir.path().join("rejected.jsonl");
    let events = lab_events(3000, 2000);
    let (input, rejected) = input_with_bad_lines(&events);
    let run = pq_write()
        .args([
            "--split-by",
            "event_type",
            "--infer-rows",
            "1000",
            "--roll-rows",
            "300",
        ])
        .arg("--bad-lines")
        .arg(&rej)
        .arg(format!("{}/", out.display()))
        .write_stdin(input.clone())
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();

    // Only the malformed lines are rejected, verbatim.
    assert_eq!(
        fs::read_to_string(&rej).unwrap(),
        rejected.join("\n") + "\n"
    );
    assert!(
        stderr.contains(&format!("{} line(s) rejected", rejected.len())),
        "{stderr}"
    );

    let tables = read_tables(&out);
    let types: BTreeSet<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        tables.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        types
    );
    for (name, (cols, rows)) in &tables {
        let expect: Vec<&Value> = events
            .iter()
            .filter(|e| e["event_type"] == **name)
            .collect();
        assert_eq!(rows.len(), expect.len(), "{name}: row count");
        for (got, want) in rows.iter().zip(&expect) {
            assert_eq!(&got, want, "{name}: a row differs");
        }
        // No column that only other types carry.
        let own: BTreeSet<String> = expect
            .iter()
            .flat_map(|e| e.as_object().unwrap().keys().cloned())
            .collect();
        assert_eq!(cols, &own, "{name}: columns");
    }

    // The summary names each added column, its table and the line it came from.
    let lines: Vec<&str> = input.lines().collect();
    for (table, col) in [("purchase", "coupon"), ("enter_arena", "weather")] {
        let first = 1 + lines
            .iter()
            .position(|l| l.contains(&format!("\"{col}\"")))
            .unwrap();
        let said = format!("new column '{col}' of table event_type={table} from line {first}");
        assert!(stderr.contains(&said), "want {said:?} in:\n{stderr}");
    }
    assert!(!stderr.contains("never_column"), "{stderr}");

    // Files written before the late field keep their schema; later ones have it.
    let purchase = parts(&out.join("purchase"));
    let with: Vec<bool> = purchase
        .iter()
        .map(|f| read_file(f).0.contains(&"coupon".to_string()))
        .collect();
    assert!(!with[0] && *with.last().unwrap(), "{with:?}");
    assert!(with.windows(2).all(|w| w[0] <= w[1]), "{with:?}");
}

#[test]
fn folder_output_evolves_but_a_file_and_a_given_schema_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let input = "{\"id\":1}\n{\"id\":2}\n{\"id\":3,\"late\":\"x\"}\n{\"id\":4,\"late\":\"y\",\"later\":[1]}\n{\"id\":5}\n";
    let folder = dir.path().join("f");
    pq_write()
        .args(["--infer-rows", "2"])
        .arg(format!("{}/", folder.display()))
        .write_stdin(input)
        .assert()
        .success()
        .stderr(predicates::str::contains("new column 'late' from line 3"))
        .stderr(predicates::str::contains("new column 'later' from line 4"));
    let files = parts(&folder);
    let read: Vec<(Vec<String>, Vec<Value>)> = files.iter().map(|f| read_file(f)).collect();
    let cols: Vec<Vec<String>> = read.iter().map(|(c, _)| c.clone()).collect();
    assert_eq!(
        cols,
        [vec!["id"], vec!["id", "late"], vec!["id", "late", "later"]]
    );
    let rows: Vec<Value> = read.into_iter().flat_map(|(_, r)| r).collect();
    assert_eq!(
        rows,
        [
            json!({"id": 1}),
            json!({"id": 2}),
            json!({"id": 3, "late": "x"}),
            json!({"id": 4, "late": "y", "later": [1]}),
            json!({"id": 5})
        ]
    );

    // One file: the late field is a bad line, as before.
    pq_write()
        .args(["--infer-rows", "2", "--bad-lines", "skip"])
        .arg(dir.path().join("one.parquet"))
        .write_stdin(input)
        .assert()
        .success()
        .stderr(predicates::str::contains("late (2)"));
    // A given schema: the same in a folder.
    pq_write()
        .args(["--schema", "id BIGINT", "--bad-lines", "skip"])
        .arg(format!("{}/", dir.path().join("given").display()))
        .write_stdin(input)
        .assert()
        .success()
        .stderr(predicates::str::contains("late (2)"));
    assert_eq!(read_file(&parts(&dir.path().join("given"))[0]).1.len(), 3);
}

/// The first 20,000 lines are decoded before the pipeline starts (for the dictionary
/// sample, over two chunks here) and written first: every good row once, in input
/// order, with a new field and bad lines both inside and after that part.
#[test]
fn rows_decoded_for_the_sample_are_written_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let pad = "p".repeat(180); // about 200 bytes a line: lines 1-20,000 span 2 chunks
    let line = |i: usize| match i {
        500 | 50_000 => format!("{{\"id\":{i},\"pad\":"), // cut short
        i if i >= 40_000 => json!({"id": i, "pad": pad, "late": i, "later": [i]}).to_string(),
        i if i >= 15_000 => json!({"id": i, "pad": pad, "late": i}).to_string(),
        i => json!({"id": i, "pad": pad}).to_string(),
    };
    let input: String = (1..=60_000).map(|i| line(i) + "\n").collect();
    let folder = dir.path().join("f");
    pq_write()
        .args(["--infer-rows", "12000", "--bad-lines", "skip", "-q"])
        .arg(format!("{}/", folder.display()))
        .write_stdin(input.clone())
        .assert()
        .success();
    let read: Vec<(Vec<String>, Vec<Value>)> =
        parts(&folder).iter().map(|f| read_file(f)).collect();
    let cols: Vec<Vec<String>> = read.iter().map(|(c, _)| c.clone()).collect();
    assert_eq!(
        cols,
        [
            vec!["id", "pad"],
            vec!["id", "pad", "late"],
            vec!["id", "pad", "late", "later"]
        ]
    );
    let rows: Vec<Value> = read.into_iter().flat_map(|(_, r)| r).collect();
    let good: Vec<Value> = input
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect();
    assert_eq!(rows.len(), 59_998);
    assert!(rows == good, "rows differ from the good lines");
}

#[test]
fn hostile_type_values_make_folders_that_round_trip_inside_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let values = [
        "a/b",
        "..",
        ".",
        "x=y",
        "ключ 東京",
        "",
        "_hidden",
        "../../etc",
        "%2F",
    ];
    let input: String = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{}\n", json!({"t": v, "n": i})))
        .collect();
    pq_write()
        .args(["-q", "--split-by", "t"])
        .arg(format!("{}/", out.display()))
        .write_stdin(input)
        .assert()
        .success();
    // Nothing outside OUTPUT, and one visible folder per value right below it.
    let beside: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(beside, ["out"]);
    for e in fs::read_dir(&out).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            !name.starts_with('.') && !name.starts_with('_'),
            "{name} is hidden from readers"
        );
    }
    let tables = read_tables(&out);
    let names: BTreeSet<&str> = tables.keys().map(String::as_str).collect();
    assert_eq!(names, values.iter().copied().collect::<BTreeSet<&str>>());
    for (i, v) in values.iter().enumerate() {
        assert_eq!(tables[*v].1, [json!({"t": v, "n": i})], "{v:?}");
    }
}

#[test]
fn split_by_reads_the_payload_of_kcat_envelopes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let input: String = (0..40)
        .map(|i| {
            let payload = if i % 2 == 0 {
                json!({"event_type": "a", "x": i})
            } else {
                json!({"event_type": "b", "y": format!("v{i}")})
            };
            let env = json!({"topic": "ev", "partition": 0, "offset": i, "key": null, "payload": payload.to_string()});
            format!("{env}\n")
        })
        .collect();
    pq_write()
        .args([
            "-q",
            "--envelope",
            "kcat",
            "--kafka-meta",
            "--split-by",
            "event_type",
            "--infer-rows",
            "4",
        ])
        .arg(format!("{}/", out.display()))
        .write_stdin(input)
        .assert()
        .success();
    let tables = read_tables(&out);
    let (cols, rows) = &tables["a"];
    assert!(
        cols.contains("x") && cols.contains("_offset") && !cols.contains("y"),
        "{cols:?}"
    );
    assert_eq!(rows.len(), 20);
    assert_eq!(rows[3]["_offset"], json!(6));
    assert_eq!(tables["b"].1.len(), 20);
}

#[test]
fn default_policy_stops_at_a_bad_type_value_keeping_earlier_rows_of_every_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let input = "{\"t\":\"a\",\"n\":1}\n{\"t\":\"b\",\"m\":2}\n{\"t\":\"a\",\"n\":3,\"new\":true}\n{\"n\":4}\n{\"t\":\"a\",\"n\":5}\n";
    pq_write()
        .args(["--split-by", "t", "--infer-rows", "1"])
        .arg(format!("{}/", out.display()))
        .write_stdin(input)
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "stdin:4: --split-by column 't' is missing",
        ));
    let tables = read_tables(&out);
    assert_eq!(
        tables["a"].1,
        [
            json!({"t": "a", "n": 1}),
            json!({"t": "a", "n": 3, "new": true})
        ]
    );
    assert_eq!(tables["b"].1, [json!({"t": "b", "m": 2})]);
}
