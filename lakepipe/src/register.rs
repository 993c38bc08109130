//! Registration in the Hive metastore: make a table there match files of Parquet, through
//! its thrift API ([`crate::metastore::Client`]). Creates the database and the external
//! table (the same columns, types, location and partition keys as `hive-ddl`'s DDL),
//! then adds what appeared since: partitions, and columns at the end. Never drops or
//! retypes anything: a column whose type changed, or other partition keys, is an error.
//!
//! Two users: `hive-ddl --metastore` (one [`sync`] of a folder's files) and `pq-write
//! --metastore` (a [`Registry`] asked before each commit makes files visible, which
//! calls the metastore only when a table, column or partition is new to it). The
//! `--metastore [URI]` rule ([`uri`]) and `--database`/`--table` ([`TableArgs`]) are
//! also pq-compact's.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Result};
use arrow_schema::Schema;

use crate::ddl::{metastore_type, without_undeclarable_nested};
use crate::location::Location;
use crate::metastore::{Client, Value};
use crate::partition::{self, NULL_VALUE};

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

/// `--database` and `--table` of a tool with `--metastore` (pq-write, pq-compact).
#[derive(clap::Args, Debug, Clone)]
pub struct TableArgs {
    /// With --metastore: the database of the table(s)
    #[arg(
        long,
        value_name = "NAME",
        default_value = "default",
        requires = "metastore"
    )]
    pub database: String,

    /// With --metastore: the table's name [default: the folder's name]; for a root of
    /// `pq-write --split-by` tables, the prefix of each table's name (each then named
    /// after its folder, as hive-ddl names them)
    #[arg(long, value_name = "NAME", requires = "metastore")]
    pub table: Option<String>,
}

/// The metastore of `--metastore [URI]`: the URI given, or `$HIVE_METASTORE` when none is.
pub fn uri(given: &str) -> Result<String> {
    match given {
        "" => match std::env::var("HIVE_METASTORE") {
            Ok(uri) if !uri.is_empty() => Ok(uri),
            _ => Err(crate::cli::usage(
                "--metastore needs a URI (thrift://host:port) or $HIVE_METASTORE",
            )),
        },
        g if !g.contains("://") => Err(crate::cli::usage(format!(
            "--metastore {g}: not a thrift://host:port URI (put --metastore after the folder, or use --metastore=URI)"
        ))),
        g => Ok(g.to_string()),
    }
}

/// One table to make match.
pub struct TableDef<'a> {
    pub database: &'a str,
    pub name: &'a str,
    /// The table's data location as an absolute URL (hdfs://..., file:///...).
    pub location: &'a str,
    /// The columns, partition keys included (they go to the keys, in `partition_keys` order).
    pub schema: &'a Schema,
    pub partition_keys: &'a [String],
    /// Where a column comes from, for the message of a type conflict (a file's name).
    pub origin: &'a dyn Fn(&str) -> String,
}

/// A partition: its folder below the table (`k=v/k2=v2`, escaped as written) and its
/// values as the metastore keeps them (null as [`NULL_VALUE`]).
pub type Part = (String, Vec<String>);

/// What a sync did (or, dry, would do), one line each; and the partitions the table
/// has now (values), for a cache.
pub struct Synced {
    pub changes: Vec<String>,
    pub partitions: BTreeSet<Vec<String>>,
}

/// Make the metastore's table `t` hold its columns and the partitions `wanted`.
pub fn sync(client: &mut Client, t: &TableDef, wanted: &[Part], dry_run: bool) -> Result<Synced> {
    let db = t.database.to_lowercase();
    let name = t.name.to_lowercase();
    let qualified = format!("{db}.{name}");
    let mut changes = Vec::new();
    if client.get_database(&db)?.is_none() {
        changes.push(format!("create database {db}"));
        if !dry_run {
            client.create_database(database(&db))?;
        }
    }
    let (cols, keys) = columns(t);
    // a dry run of a new table in a new database cannot ask about the table
    let existing = match dry_run && !changes.is_empty() {
        true => None,
        false => client.get_table(&db, &name)?,
    };
    let (sd, known) = match existing {
        None => {
            let table = table(&db, &name, t.location, cols.clone(), keys.clone());
            changes.push(format!(
                "create table {qualified} ({} columns, {} partition keys) at {}",
                cols.len(),
                keys.len(),
                t.location
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
            let known = if keys.is_empty() {
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
    let mut partitions = known;
    let new: Vec<&Part> = wanted
        .iter()
        .filter(|(_, v)| !keys.is_empty() && !partitions.contains(v))
        .collect();
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
                    .map(|(folder, values)| partition(&db, &name, &sd, t.location, folder, values))
                    .collect();
                client.add_partitions(parts)?;
            }
        }
        partitions.extend(new.into_iter().map(|(_, v)| v.clone()));
    }
    Ok(Synced {
        changes,
        partitions,
    })
}

/// The values of a partition folder path below a table (`k=v/k2=v2/`), as the metastore
/// keeps them.
pub fn part_of_folder(folder: &str) -> Part {
    let folder = folder.trim_matches('/').to_string();
    let values = values_of_name(&folder);
    (folder, values)
}

/// A table folder's name as a table name every engine and the metastore accept: Hive's
/// `%XX` escapes undone, lower case (Hive and Trino fold it), and any character but
/// ASCII letters, digits and `_` as `_` (the metastore's rule for table names).
/// `hive-ddl` over a root of `pq-write --split-by` folders and `pq-write --metastore`
/// name tables so.
pub fn table_name_of_folder(folder: &str) -> String {
    partition::unescape(folder)
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A table's default name: the last folder name of its location that is not a `k=v`
/// partition folder (a file's folder for a `.parquet` file).
pub fn default_table_name(input: &Location) -> String {
    let text = input.to_string();
    let path = Path::new(&text);
    let mut comps: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if path.extension().is_some_and(|e| e == "parquet") {
        comps.pop();
    }
    while comps
        .last()
        .is_some_and(|c| partition::parse_folder(c).is_some())
    {
        comps.pop();
    }
    comps
        .pop()
        .filter(|c| c != "/" && c != ".")
        .unwrap_or_default()
}

/// What a [`Registry`] knows is in the metastore for one table.
#[derive(Default)]
struct Known {
    /// Column name (lower case) and metastore type.
    columns: HashMap<String, String>,
    partitions: BTreeSet<Vec<String>>,
}

/// Registration before commits (`pq-write --metastore`): [`Registry::ensure`] makes a
/// table, its columns and a partition exist, calling the metastore only for what it
/// has not seen registered yet in this run.
pub struct Registry {
    uri: String,
    timeout: Duration,
    client: Option<Client>,
    database: String,
    known: HashMap<String, Known>,
    /// Metastore calls that changed something or looked (syncs), for tests and summaries.
    pub syncs: u64,
}

impl Registry {
    /// Connects at the first call that needs the metastore.
    pub fn new(uri: &str, database: &str, timeout: Duration) -> Registry {
        Registry {
            uri: uri.to_string(),
            timeout,
            client: None,
            database: database.to_string(),
            known: HashMap::new(),
            syncs: 0,
        }
    }

    /// True when the cache says `t` (columns, and `part` if any) is registered.
    pub fn is_known(&self, t: &TableDef, part: Option<&Part>) -> bool {
        let Some(k) = self.known.get(&t.name.to_lowercase()) else {
            return false;
        };
        let (declared, _) = without_undeclarable_nested(t.schema);
        let cols_known = declared.fields().iter().all(|f| {
            k.columns.get(&f.name().to_lowercase()) == Some(&metastore_type(f.data_type()))
        });
        cols_known && part.is_none_or(|p| k.partitions.contains(&p.1))
    }

    /// Make sure table `t` (its `database` is ignored: the registry's) exists with its
    /// columns, and `part` is registered. The changes made, one line each.
    pub fn ensure(&mut self, t: &TableDef, part: Option<Part>) -> Result<Vec<String>> {
        let t = TableDef {
            database: &self.database.clone(),
            ..*t
        };
        if self.is_known(&t, part.as_ref()) {
            return Ok(Vec::new());
        }
        let client = match &mut self.client {
            Some(c) => c,
            None => self
                .client
                .insert(Client::connect(&self.uri, self.timeout)?),
        };
        let (declared, _) = without_undeclarable_nested(t.schema);
        let def = TableDef {
            schema: &declared,
            ..t
        };
        let wanted: Vec<Part> = part.into_iter().collect();
        let synced = sync(client, &def, &wanted, false)?;
        self.syncs += 1;
        let k = self.known.entry(t.name.to_lowercase()).or_default();
        k.columns.extend(
            declared
                .fields()
                .iter()
                .map(|f| (f.name().to_lowercase(), metastore_type(f.data_type()))),
        );
        k.partitions = synced.partitions;
        Ok(synced.changes)
    }
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
fn columns(t: &TableDef) -> (Vec<Value>, Vec<Value>) {
    let is_key = |n: &str| t.partition_keys.iter().any(|k| k == n);
    let cols = t
        .schema
        .fields()
        .iter()
        .filter(|f| !is_key(f.name()))
        .map(|f| field_schema(f.name(), &metastore_type(f.data_type())))
        .collect();
    // keys in partition_keys order (the folders' order); a key the schema lacks is a string
    let keys = t
        .partition_keys
        .iter()
        .map(|k| {
            let ty = t
                .schema
                .field_with_name(k)
                .map_or("string".into(), |f| metastore_type(f.data_type()));
            field_schema(k, &ty)
        })
        .collect();
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
        .unwrap_or_else(|_| "lakepipe".into())
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
            "{qualified}: the metastore's table is partitioned by ({}) but the files by ({}); lakepipe never changes partition keys",
            have.join(", "),
            want.join(", ")
        );
    }
    Ok(())
}

/// The columns of `cols` that the table lacks; a column it has with another type is an
/// error naming the column, both types and where the column comes from.
fn new_columns(
    qualified: &str,
    t: &TableDef,
    current: &Value,
    cols: &[Value],
) -> Result<Vec<Value>> {
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
                "{qualified}: column '{name}' is {} in the metastore but {} in {}; lakepipe never retypes a column",
                field_str(h, 2),
                field_str(c, 2),
                (t.origin)(name)
            ),
            Some(_) => {}
        }
    }
    Ok(added)
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
        assert_eq!(
            part_of_folder("dt=2026-12-07/hour=05/"),
            (
                "dt=2026-12-07/hour=05".to_string(),
                vec!["2026-12-07".to_string(), "05".to_string()]
            )
        );
    }

    #[test]
    fn table_names_from_folders() {
        let l = |s: &str| Location::parse(s).unwrap();
        assert_eq!(default_table_name(&l("lake/events/")), "events");
        assert_eq!(default_table_name(&l("lake/events/dt=1")), "events");
        assert_eq!(default_table_name(&l("lake/x.parquet")), "lake");
        assert_eq!(
            default_table_name(&l("hdfs://nn:1/data/purchases")),
            "purchases"
        );
    }

    #[test]
    fn table_folder_names_become_safe_table_names() {
        assert_eq!(table_name_of_folder("purchase_sword"), "purchase_sword");
        assert_eq!(table_name_of_folder("Join-Guild"), "join_guild");
        assert_eq!(table_name_of_folder("a%2Fb%3Dc"), "a_b_c");
        assert_eq!(
            table_name_of_folder("x); DROP TABLE y; --"),
            "x___drop_table_y____"
        );
        assert_eq!(table_name_of_folder("ключ"), "____");
    }
}
