//! `--metastore`: make the Hive metastore match the files, through the registration that
//! `pq-write --metastore` uses too ([`lakepipe::register`]).

use std::collections::BTreeSet;

use anyhow::Result;
use arrow_schema::Schema;
use lakepipe::metastore::Client;
use lakepipe::partition::{self, NULL_VALUE};
use lakepipe::read::Table;
use lakepipe::register::{self, Part, TableDef};

use crate::tables::Spec;

/// One table to make match: its name, the declared schema (partition keys last) and files.
pub struct Target<'a> {
    pub database: &'a str,
    pub spec: &'a Spec,
    pub schema: &'a Schema,
    pub table: &'a Table,
}

/// What a sync did (or, dry, would do), one line each, for stderr or stdout.
pub fn sync(client: &mut Client, t: &Target, dry_run: bool) -> Result<Vec<String>> {
    let origin = |name: &str| file_with_column(t.table, name);
    let def = TableDef {
        database: t.database,
        name: &t.spec.name,
        location: &t.spec.location,
        schema: t.schema,
        partition_keys: &t.table.partition_keys,
        origin: &origin,
    };
    Ok(register::sync(client, &def, &partitions_of(t), dry_run)?.changes)
}

/// The partition folders of the files (`k=v/k2=v2` as found, below the table folder)
/// and their values as the metastore keeps them (null as Hive's default partition).
fn partitions_of(t: &Target) -> Vec<Part> {
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
