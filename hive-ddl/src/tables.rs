//! Which tables an input describes: one (a file, a glob, a folder with files or `k=v`
//! partitions), or one per table folder of a root of tables (`pq-write --split-by`'s
//! output), each named after its folder.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use lakepipe::location::Location;
use lakepipe::register::{default_table_name, table_name_of_folder};
use lakepipe::{cli, listing};

use crate::Args;

/// One table to describe: its name, where its files are, and the LOCATION to declare.
pub struct Spec {
    pub name: String,
    /// The input's text, for file names in messages.
    pub input_name: String,
    pub input: Location,
    pub location: String,
}

/// The tables of `args.input`.
pub fn specs(args: &Args) -> Result<Vec<Spec>> {
    let input_name = args.input.clone().unwrap_or_else(|| "-".into());
    if input_name == "-" {
        // stdin: one file, no folder, no location of its own
        return Ok(vec![Spec {
            name: args
                .table
                .clone()
                .ok_or_else(|| cli::usage("reading stdin: give --table"))?,
            location: args
                .location
                .clone()
                .ok_or_else(|| cli::usage("reading stdin: give --location"))?,
            input: Location::Local("-".into()),
            input_name,
        }]);
    }
    let input = Location::parse(&input_name)?;
    let Some(folders) = listing::table_folders(&input)? else {
        let name = args
            .table
            .clone()
            .unwrap_or_else(|| default_table_name(&input));
        if name.is_empty() {
            return Err(cli::usage(
                "cannot tell a table name from the input: give --table",
            ));
        }
        return Ok(vec![Spec {
            name,
            input_name,
            location: match &args.location {
                Some(l) => l.clone(),
                None => default_location(&input)?,
            },
            input,
        }]);
    };
    let prefix = args.table.as_deref().unwrap_or("");
    let mut by_name: BTreeMap<String, String> = BTreeMap::new();
    let mut out = Vec::new();
    for st in folders {
        let folder = st.name();
        let name = format!("{prefix}{}", table_name_of_folder(&folder));
        if let Some(other) = by_name.insert(name.clone(), folder.clone()) {
            bail!("{input_name}: folders '{other}' and '{folder}' would both be table '{name}' (names are folded to lower case, other characters become '_')");
        }
        let location = match &args.location {
            Some(l) => format!("{}/{folder}", l.trim_end_matches('/')),
            None => default_location(&st.location)?,
        };
        out.push(Spec {
            name,
            input_name: st.location.to_string(),
            input: st.location,
            location,
        });
    }
    Ok(out)
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
