//! hive-ddl: a table definition from Parquet footers (no data is read), for Hive,
//! Spark SQL or Trino's Hive connector.
//!
//! ```sh
//! hive-ddl --dialect trino --table purchases hdfs://localhost:9000/data/purchases | presto-q
//! ```

mod metastore;
mod statement;
mod tables;
mod warnings;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use lakepipe::ddl::Dialect as TypeDialect;
use lakepipe::metastore::Client;
use lakepipe::{cli, ddl, read};
use std::io::Write;

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
    /// A Parquet file or a folder of them (k=v sub-folders become partitions), or a root of
    /// table folders (one table each): a local path, file:// or hdfs://
    pub input: Option<String>,

    /// SQL dialect of the statements
    #[arg(long, value_enum, default_value_t = Dialect::Hive)]
    pub dialect: Dialect,

    /// Table name [default: the input folder's name]; over a root of table folders, a
    /// prefix of each table's name (the folder's name)
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

    /// Register the table(s) in this Hive metastore (thrift://host:port) instead of
    /// printing SQL: creates the database and table, adds new partitions and columns;
    /// without URI (or when the next word is the input), $HIVE_METASTORE
    #[arg(long, value_name = "URI", num_args = 0..=1, default_missing_value = "")]
    pub metastore: Option<String>,

    /// With --metastore: print the changes it would make, change nothing
    #[arg(long, requires = "metastore")]
    pub dry_run: bool,

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

pub fn run(mut args: Args) -> Result<()> {
    lakepipe::storage::set_timeout(args.common.timeout);
    let metastore = resolve_metastore(&mut args)?;
    let mut client = metastore
        .as_deref()
        .map(|uri| Client::connect(uri, args.common.timeout))
        .transpose()?;
    let mut sql = String::new();
    for spec in tables::specs(&args)? {
        let sources = match spec.input_name.as_str() {
            "-" => read::sources(std::slice::from_ref(&spec.input_name))?,
            name => read::sources_of(name, &spec.input)?,
        };
        let table = read::Table::open(sources)?;
        match &mut client {
            Some(c) => register(&args, &spec, &table, c)?,
            None => sql += &statement_for(&args, &spec, &table)?,
        }
    }
    let mut out = cli::stdout();
    out.write_all(sql.as_bytes())
        .context("writing the statements")?;
    out.flush().context("writing the statements")?;
    Ok(())
}

/// The metastore URI of `--metastore [URI]`, from $HIVE_METASTORE when none is given.
/// `--metastore INPUT` (a word that is not a URI, and no input after it) is the input.
fn resolve_metastore(args: &mut Args) -> Result<Option<String>> {
    let Some(given) = args.metastore.take() else {
        return Ok(None);
    };
    let given = match given {
        g if !g.is_empty() && !g.contains("://") && args.input.is_none() => {
            args.input = Some(g);
            String::new()
        }
        g => g,
    };
    lakepipe::register::uri(&given).map(Some)
}

/// Make the metastore match one table's files; say what changed on stderr (what would
/// change on stdout with --dry-run).
fn register(
    args: &Args,
    spec: &tables::Spec,
    table: &read::Table,
    client: &mut Client,
) -> Result<()> {
    statement::check_case_collisions(&table.schema, table)?;
    let (declared, left_out) = ddl::without_undeclarable_nested(&table.schema);
    if !args.common.quiet() {
        for w in warnings::for_table(table, Dialect::Hive) {
            cli::warn(w);
        }
        for w in warnings::nested_names(&spec.name, &left_out, false) {
            cli::warn(w);
        }
    }
    let target = metastore::Target {
        database: args.database.as_deref().unwrap_or("default"),
        spec,
        schema: &declared,
        table,
    };
    let changes = metastore::sync(client, &target, args.dry_run)?;
    if args.dry_run {
        let mut out = cli::stdout();
        for c in &changes {
            writeln!(out, "{c}").context("writing the changes")?;
        }
        out.flush().context("writing the changes")?;
    } else if changes.is_empty() {
        cli::info(
            args.common.quiet(),
            format!(
                "{}.{}: up to date",
                target.database.to_lowercase(),
                spec.name.to_lowercase()
            ),
        );
    } else {
        for c in &changes {
            cli::info(args.common.quiet(), c);
        }
    }
    Ok(())
}

/// The statements of one table, after the checks and warnings that apply to it.
fn statement_for(args: &Args, spec: &tables::Spec, table: &read::Table) -> Result<String> {
    statement::check_case_collisions(&table.schema, table)?;
    let (declared, left_out) = ddl::without_undeclarable_nested(&table.schema);
    // Spark keeps every name in a data-source table; Hive's type syntax cannot.
    let data_source = args.dialect == Dialect::Spark && !left_out.is_empty();
    if !args.common.quiet() {
        for w in warnings::for_table(table, args.dialect) {
            cli::warn(w);
        }
        for w in warnings::nested_names(&spec.name, &left_out, data_source) {
            cli::warn(w);
        }
    }
    let schema = if data_source {
        table.schema.as_ref().clone()
    } else {
        declared
    };
    let stmt = Statement {
        dialect: args.dialect,
        types: args.dialect.types(),
        catalog: args.catalog.clone(),
        database: args.database.clone(),
        table: spec.name.clone(),
        location: spec.location.clone(),
        if_not_exists: args.if_not_exists,
        data_source,
    };
    Ok(stmt.render(&schema, &table.partition_keys))
}
