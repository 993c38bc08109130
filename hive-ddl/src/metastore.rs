//! `--metastore`: make the Hive metastore match the files through its thrift API. Creates
//! the database and the external table (the same columns, types, location and partition
//! keys as the printed DDL), then adds what appeared since: partitions, and columns at
//! the end. Never drops or retypes anything; a column whose type changed is an error.

use std::collections::BTreeSet;

use anyhow::{bail, Result};
use arrow::datatypes::Schema;
use lakepipe::ddl::metastore_type;
use lakepipe::metastore::{Client, Value};
use lakepipe::partition::{self, NULL_VALUE};
use lakepipe::read::Table;

use crate::tables::Spec;

const PARQUET_INPUT: &str = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat";
const PARQUET_OUTPUT: &str = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat";
const PARQUET_SERDE: &str = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe";
/// Partitions per add_partitions call.
const BATCH: usize = 500;

// Field ids of hive_metastore.thrift (Table, StorageDescriptor, FieldSchema, Partition).
const TABLE_SD: i16 = 7;
const TABLE_KEYS: i16 = 8;
const SD_COLS: i16 = 1;
const SD_LOCATION: i16 = 2;

/// One table to make match: its name, the declared schema (partition keys last) and files.
pub struct Target<'a> {
    pub database: &'a str,
    pub spec: &'a Spec,
    pub schema: &'a Schema,
    pub table: &'a Table,
}

/// What a sync did (or, dry, would do), one line each, for stderr or stdout.
pub fn sync(client: &mut Client, t: &Target, dry_run: bool) -> Result<Vec<String>> {
    let db = t.database.to_lowercase();
    let name = t.spec.name.to_lowercase();
    let qualified = format!("{db}.{name}");
    let mut changes = Vec::new();
    if client.get_database(&db)?.is_none() {
        changes.push(format!("create database {db}"));
        if !dry_run {
            client.create_database(database(&db))?;
        }
    }
    let (cols, keys) = columns(t);
    let wanted = partitions_of(t);
    // a dry run of a new table in a new database cannot ask about the table
    let existing = match dry_run && !changes.is_empty() {
        true => None,
        false => client.get_table(&db, &name)?,
    };
    let (sd, known) = match existing {
        None => {
            let table = table(&db, &name, &t.spec.location, cols.clone(), keys);
            changes.push(format!(
                "create table {qualified} ({} columns, {} partition keys) at {}",
                cols.len(),
                t.table.partition_keys.len(),
                t.spec.location
            ));
            if !dry_run {
                client.create_table(table.clone())?;
            }
            (table.get(TABLE_SD).cloned(), BTreeSet::new())
        }
        Some(mut current) => {
            check_same_keys(&qualified, &current, &keys)?;
            let added = new_columns(&qualified, t, &current, &cols)?;
            if !added.is_empty() {
                for c in &added {
                    changes.push(format!(
                        "add column {} {} to {qualified}",
                        field_str(c, 1),
                        field_str(c, 2)
                    ));
                }
                let mut sd = current
                    .get(TABLE_SD)
                    .cloned()
                    .unwrap_or(Value::Struct(vec![]));
                let mut all = sd
                    .get(SD_COLS)
                    .map(|c| c.items().to_vec())
                    .unwrap_or_default();
                all.extend(added);
                sd.set(SD_COLS, Value::structs(all));
                current.set(TABLE_SD, sd);
                if !dry_run {
                    client.alter_table(&db, &name, current.clone())?;
                }
            }
            let known = if t.table.partition_keys.is_empty() {
                BTreeSet::new()
            } else {
                client
                    .partition_names(&db, &name)?
                    .iter()
                    .map(|n| values_of_name(n))
                    .collect()
            };
            (current.get(TABLE_SD).cloned(), known)
        }
    };
    let new: Vec<&(String, Vec<String>)> =
        wanted.iter().filter(|(_, v)| !known.contains(v)).collect();
    if !new.is_empty() {
        let shown: Vec<&str> = new.iter().take(5).map(|(f, _)| f.as_str()).collect();
        changes.push(format!(
            "add {} partitions to {qualified} ({}{})",
            new.len(),
            shown.join(", "),
            if new.len() > shown.len() { ", ..." } else { "" }
        ));
        if !dry_run {
            let sd = sd.unwrap_or(Value::Struct(vec![]));
            for chunk in new.chunks(BATCH) {
                let parts = chunk
                    .iter()
                    .map(|(folder, values)| {
                        partition(&db, &name, &sd, &t.spec.location, folder, values)
                    })
                    .collect();
                client.add_partitions(parts)?;
            }
        }
    }
    Ok(changes)
}

/// A column (no comment: Hive leaves it unset, and Trino would show an empty one).
fn field_schema(name: &str, ty: &str) -> Value {
    Value::Struct(vec![
        (1, Value::Str(name.to_lowercase())),
        (2, Value::Str(ty.into())),
    ])
}

fn field_str(v: &Value, id: i16) -> &str {
    v.get(id).and_then(Value::as_str).unwrap_or("")
}

/// The data columns and the partition keys as FieldSchemas.
fn columns(t: &Target) -> (Vec<Value>, Vec<Value>) {
    let is_key = |n: &str| t.table.partition_keys.iter().any(|k| k == n);
    let mut cols = Vec::new();
    let mut keys = Vec::new();
    for f in t.schema.fields() {
        let fs = field_schema(f.name(), &metastore_type(f.data_type()));
        if is_key(f.name()) {
            keys.push(fs);
        } else {
            cols.push(fs);
        }
    }
    (cols, keys)
}

fn database(name: &str) -> Value {
    Value::Struct(vec![
        (1, Value::Str(name.into())),
        (2, Value::Str(String::new())),
        (4, Value::string_map([])),
    ])
}

fn storage(location: &str, cols: Vec<Value>) -> Value {
    let serde = Value::Struct(vec![
        (1, Value::Str(String::new())),
        (2, Value::Str(PARQUET_SERDE.into())),
        (3, Value::string_map([("serialization.format", "1")])),
    ]);
    Value::Struct(vec![
        (SD_COLS, Value::structs(cols)),
        (SD_LOCATION, Value::Str(location.into())),
        (3, Value::Str(PARQUET_INPUT.into())),
        (4, Value::Str(PARQUET_OUTPUT.into())),
        (5, Value::Bool(false)),
        (6, Value::I32(-1)),
        (7, serde),
        (8, Value::strings([])),
        (9, Value::structs(vec![])),
        (10, Value::string_map([])),
    ])
}

fn now() -> i32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    i32::try_from(secs).unwrap_or(i32::MAX)
}

fn owner() -> String {
    std::env::var("HADOOP_USER_NAME")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "hive-ddl".into())
}

/// An external Parquet table, as Hive's `CREATE EXTERNAL TABLE ... STORED AS PARQUET`
/// registers it.
fn table(db: &str, name: &str, location: &str, cols: Vec<Value>, keys: Vec<Value>) -> Value {
    Value::Struct(vec![
        (1, Value::Str(name.into())),
        (2, Value::Str(db.into())),
        (3, Value::Str(owner())),
        (4, Value::I32(now())),
        (5, Value::I32(0)),
        (6, Value::I32(0)),
        (TABLE_SD, storage(location, cols)),
        (TABLE_KEYS, Value::structs(keys)),
        (9, Value::string_map([("EXTERNAL", "TRUE")])),
        (12, Value::Str("EXTERNAL_TABLE".into())),
    ])
}

/// A partition at `location/folder`, with the table's storage (and so its columns).
fn partition(
    db: &str,
    name: &str,
    sd: &Value,
    location: &str,
    folder: &str,
    values: &[String],
) -> Value {
    let mut sd = sd.clone();
    sd.set(
        SD_LOCATION,
        Value::Str(format!("{}/{folder}", location.trim_end_matches('/'))),
    );
    Value::Struct(vec![
        (1, Value::strings(values.iter().cloned())),
        (2, Value::Str(db.into())),
        (3, Value::Str(name.into())),
        (4, Value::I32(now())),
        (5, Value::I32(0)),
        (6, sd),
        (7, Value::string_map([])),
    ])
}

/// The partition folders of the files (`k=v/k2=v2` as found, below the table folder)
/// and their values as the metastore keeps them (null as Hive's default partition).
fn partitions_of(t: &Target) -> Vec<(String, Vec<String>)> {
    if t.table.partition_keys.is_empty() {
        return Vec::new();
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for f in &t.table.files {
        // the k=v folders holding the file: the last ones of its path
        let mut folders: Vec<&str> = f.source.name.split('/').collect();
        folders.pop();
        folders.retain(|c| partition::parse_folder(c).is_some());
        let folders = &folders[folders.len().saturating_sub(t.table.partition_keys.len())..];
        let values: Vec<String> = f
            .source
            .partitions
            .iter()
            .map(|(_, v)| v.clone().unwrap_or_else(|| NULL_VALUE.into()))
            .collect();
        if seen.insert(values.clone()) {
            out.push((folders.join("/"), values));
        }
    }
    out
}

/// The values of a metastore partition name (`k=v/k2=v2`, escaped like folders).
fn values_of_name(name: &str) -> Vec<String> {
    name.split('/')
        .filter_map(partition::parse_folder)
        .map(|(_, v)| v.unwrap_or_else(|| NULL_VALUE.into()))
        .collect()
}

fn check_same_keys(qualified: &str, current: &Value, keys: &[Value]) -> Result<()> {
    let names =
        |v: &[Value]| -> Vec<String> { v.iter().map(|k| field_str(k, 1).to_string()).collect() };
    let have = names(current.get(TABLE_KEYS).map(Value::items).unwrap_or(&[]));
    let want = names(keys);
    if have != want {
        bail!(
            "{qualified}: the metastore's table is partitioned by ({}) but the files by ({}); hive-ddl never changes partition keys",
            have.join(", "),
            want.join(", ")
        );
    }
    Ok(())
}

/// The columns of `cols` that the table lacks; a column it has with another type is an
/// error naming the column, both types and a file with it.
fn new_columns(qualified: &str, t: &Target, current: &Value, cols: &[Value]) -> Result<Vec<Value>> {
    let have: Vec<&Value> = current
        .get(TABLE_SD)
        .and_then(|sd| sd.get(SD_COLS))
        .map(|c| c.items().iter().collect())
        .unwrap_or_default();
    let norm = |s: &str| s.to_lowercase().replace(' ', "");
    let mut added = Vec::new();
    for c in cols {
        let name = field_str(c, 1);
        match have.iter().find(|h| field_str(h, 1).eq_ignore_ascii_case(name)) {
            None => added.push(c.clone()),
            Some(h) if norm(field_str(h, 2)) != norm(field_str(c, 2)) => bail!(
                "{qualified}: column '{name}' is {} in the metastore but {} in {}; hive-ddl never retypes a column",
                field_str(h, 2),
                field_str(c, 2),
                file_with_column(t.table, name)
            ),
            Some(_) => {}
        }
    }
    Ok(added)
}

/// The first file with a top-level column of that name (case-insensitive).
fn file_with_column(table: &Table, name: &str) -> String {
    table
        .files
        .iter()
        .find(|f| {
            f.footer
                .schema()
                .fields()
                .iter()
                .any(|c| c.name().eq_ignore_ascii_case(name))
        })
        .map(|f| f.source.name.clone())
        .unwrap_or_else(|| "the files".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_names_read_back_as_values() {
        assert_eq!(
            values_of_name("dt=2024-01-01/type=a%2Fb"),
            ["2024-01-01", "a/b"]
        );
        assert_eq!(
            values_of_name(&format!("k={NULL_VALUE}")),
            [NULL_VALUE.to_string()]
        );
    }
}
