//! hive-ddl: a table definition from Parquet footers (no data is read), for Hive,
//! Spark SQL or Trino's Hive connector.
//!
//! ```sh
//! hive-ddl --dialect trino --table purchases hdfs://localhost:9000/data/purchases | presto-q
//! ```

mod statement;
mod warnings;

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use lakepipe::cli;
use lakepipe::ddl::Dialect as TypeDialect;
use lakepipe::location::Location;
use lakepipe::read;

pub use statement::Statement;

const EXAMPLES: &str = "\
Examples:
  # a Spark SQL / Hive table over a partitioned folder, partitions registered
  hive-ddl --table events --database lab lake/events | spark-sql

  # the same folder as a Trino table, run with presto-q
  hive-ddl --dialect trino --schema lab --table events hdfs://localhost:9000/lake/events | presto-q

  # local footers, data copied to HDFS: say where the table's data lives
  hive-ddl --location hdfs://localhost:9000/lake/events lake/events";

/// Print CREATE TABLE (and partition registration) for Parquet files, reading only footers.
///
/// Identifiers are always quoted and escaped, so no column name can change the
/// statement. Files with different columns are merged; a type conflict is an error
/// naming both files.
#[derive(Parser, Debug)]
#[command(version, after_long_help = EXAMPLES)]
pub struct Args {
    /// A Parquet file or a folder of them (k=v sub-folders become partitions): a local path, file:// or hdfs://
    pub input: String,

    /// SQL dialect of the statements
    #[arg(long, value_enum, default_value_t = Dialect::Hive)]
    pub dialect: Dialect,

    /// Table name [default: the input folder's name]
    #[arg(long)]
    pub table: Option<String>,

    /// Database (Hive/Spark) or schema (Trino) [Trino default: default]
    #[arg(long, alias = "schema", value_name = "NAME")]
    pub database: Option<String>,

    /// Trino catalog
    #[arg(long, default_value = "hive")]
    pub catalog: String,

    /// The table's data location [default: the input folder as an absolute URL]
    #[arg(long, value_name = "URL")]
    pub location: Option<String>,

    /// CREATE ... IF NOT EXISTS
    #[arg(long)]
    pub if_not_exists: bool,

    #[command(flatten)]
    pub common: cli::Common,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Dialect {
    Hive,
    Spark,
    Trino,
}

impl Dialect {
    fn types(self) -> TypeDialect {
        match self {
            // A Hive-metastore table: Spark writes TIMESTAMP for both timestamp kinds.
            Dialect::Hive | Dialect::Spark => TypeDialect::Hive,
            Dialect::Trino => TypeDialect::Trino,
        }
    }
}

/// The clap definition of the command line, for man pages and shell completions.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

pub fn run(args: Args) -> Result<()> {
    lakepipe::storage::set_timeout(args.common.timeout);
    let input = Location::parse(&args.input)?;
    let sources = read::sources(std::slice::from_ref(&args.input))?;
    let table = read::Table::open(sources)?;
    let location = match &args.location {
        Some(l) => l.clone(),
        None => default_location(&input)?,
    };
    let name = match &args.table {
        Some(t) => t.clone(),
        None => default_table_name(&input),
    };
    if name.is_empty() {
        return Err(cli::usage(
            "cannot tell a table name from the input: give --table",
        ));
    }
    statement::check_case_collisions(&table.schema, &table)?;
    if !args.common.quiet() {
        for w in warnings::for_table(&table, args.dialect) {
            cli::warn(w);
        }
    }
    let stmt = Statement {
        dialect: args.dialect,
        types: args.dialect.types(),
        catalog: args.catalog.clone(),
        database: args.database.clone(),
        table: name,
        location,
        if_not_exists: args.if_not_exists,
    };
    let sql = stmt.render(&table.schema, &table.partition_keys);
    let mut out = cli::stdout();
    out.write_all(sql.as_bytes())
        .context("writing the statements")?;
    out.flush().context("writing the statements")?;
    Ok(())
}

/// The input folder as an absolute URL (a file's folder for a single file).
fn default_location(input: &Location) -> Result<String> {
    match input {
        Location::Local(p) => {
            let abs = std::fs::canonicalize(p).with_context(|| format!("{}", p.display()))?;
            let dir = if abs.is_dir() {
                abs
            } else {
                abs.parent().map(Path::to_path_buf).unwrap_or(abs)
            };
            Ok(format!("file://{}", dir.display()))
        }
        Location::Hdfs { .. } => Ok(input.to_string()),
    }
}

/// The last folder name that is not a `k=v` partition folder.
fn default_table_name(input: &Location) -> String {
    let text = input.to_string();
    let path = Path::new(&text);
    let mut comps: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if path.extension().is_some_and(|e| e == "parquet") {
        comps.pop();
    }
    while comps.last().is_some_and(|c| c.contains('=')) {
        comps.pop();
    }
    comps
        .pop()
        .filter(|c| c != "/" && c != ".")
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
