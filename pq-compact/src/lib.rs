//! pq-compact: merge a stream's small Parquet files into large ones, exactly once,
//! beside a live `pq-write --exactly-once` writer and its readers.
//!
//! [`plan`] chooses the merges from one listing, [`merge`] writes a merged file under a
//! hidden name, [`swap`] puts it in its inputs' place under the writers' claim.

pub mod merge;
pub mod plan;
pub mod relocate;
pub mod swap;

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use clap::Parser;
use lakepipe::cli;
use lakepipe::location::Location;
use lakepipe::progress::Progress;
use lakepipe::register::TableArgs;
use lakepipe::storage::{self, Fs, Status};

use plan::{Group, Plan};
use swap::{Swapped, Swapper};

const EXAMPLES: &str = "\
Examples:
  pq-compact --dry-run hdfs://127.0.0.1:9000/data/events   # the plan, nothing changed
  pq-compact hdfs://127.0.0.1:9000/data/events             # merge files older than 10 min
  pq-compact --target-size 256M --min-age 3600 /lake/events
  pq-cat --offsets /lake/events                            # still no gaps nor overlaps";

/// Merge a stream's small Parquet files into large ones, exactly once, beside a live
/// `pq-write --exactly-once` writer: in every table and partition folder under DIR, runs
/// of one topic-partition's committed files with contiguous offsets become files of about
/// --target-size named by the offsets they cover.
#[derive(Debug, Parser)]
#[command(name = "pq-compact", version, about, after_long_help = EXAMPLES)]
pub struct Args {
    /// Folder of tables or of one table: local, file:// or hdfs://
    #[arg(value_name = "DIR")]
    pub dir: String,
    /// Merged files of about this size (suffixes K, M, G: powers of 1024)
    #[arg(long, value_name = "BYTES", default_value = "128M", value_parser = parse_size)]
    pub target_size: u64,
    /// Leave files younger than this alone (seconds; a reader that just listed them may
    /// still open them)
    #[arg(long, value_name = "SECS", default_value = "600", value_parser = parse_secs)]
    pub min_age: Duration,
    /// Print the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Rows per row group of merged files (pq-write's --row-group-rows)
    #[arg(long, value_name = "N", default_value_t = lakepipe::parquet_write::ROW_GROUP_ROWS)]
    pub row_group_rows: usize,
    /// Seconds a topic-partition's claim may stand unchanged before it counts as left by a
    /// dead process [default: --timeout, at least 10]
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub stale: Option<Duration>,
    /// Compact the closed partitions of the table(s) registered in this Hive metastore
    /// (thrift://host:port) by moving each partition to a merged copy and back, so Trino
    /// and Spark SQL never see a folder mid-swap; partitions still written are left
    /// alone; without URI, $HIVE_METASTORE
    #[arg(long, value_name = "URI", num_args = 0..=1, default_missing_value = "")]
    pub metastore: Option<String>,
    #[command(flatten)]
    pub registered: TableArgs,
    /// With --metastore: a partition whose newest file is older than this is closed (no
    /// writer commits there any more) and may be compacted (seconds)
    #[arg(long, value_name = "SECS", default_value = "3600", value_parser = parse_secs, requires = "metastore")]
    pub lateness: Duration,
    /// With --metastore: how long a query may run; files a query may have listed are
    /// kept this long after the partition moved away from them (seconds; later runs
    /// finish the steps)
    #[arg(long, value_name = "SECS", default_value = "600", value_parser = parse_secs, requires = "metastore")]
    pub grace: Duration,
    #[command(flatten)]
    pub common: cli::Common,
}

/// The clap definition of the command line, for man pages and shell completions.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m = match c.to_ascii_uppercase() {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(format!("unknown suffix in '{s}' (K, M or G)")),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    match num.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n.saturating_mul(mult)),
        _ => Err(format!("must be a positive number of bytes, not '{s}'")),
    }
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x >= 0.0 && x.is_finite() && x < 1e9 => Ok(Duration::from_secs_f64(x)),
        _ => Err(format!("must be a number of seconds, not '{s}'")),
    }
}

/// Test hook: with `LAKEPIPE_FAILPOINT=<name>`, die here as `kill -9` would.
pub fn failpoint(name: &str) {
    if lakepipe::workers::failpoint(name) {
        // SAFETY: signalling our own process
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    }
}

pub fn run(args: Args) -> Result<()> {
    storage::set_timeout(args.common.timeout);
    let quiet = args.common.quiet();
    let started = Instant::now();
    let root = Location::parse(&args.dir).with_context(|| args.dir.clone())?;
    let fs = storage::connect(&root)?;
    if !fs.is_dir(&root)? {
        return Err(cli::usage(format!("{}: not a folder", args.dir)));
    }
    let listing = visible_files(&fs, &root)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64;
    let plan = plan::plan(
        &listing,
        now,
        args.min_age.as_millis() as u64,
        args.target_size,
    );
    if args.dry_run {
        return print_plan(&plan);
    }
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let swapper = Swapper {
        fs: fs.clone(),
        root: root.clone(),
        writer: format!("{}{}", swap::WRITER_PREFIX, &run_id[..12]),
        stale: args
            .stale
            .unwrap_or_else(|| storage::timeout().max(Duration::from_secs(10))),
        window: Default::default(),
    };
    clean_hidden(&fs, &root, now, swapper.stale)?;
    swapper.finish_stale_claims(now)?;
    let progress = Progress::new(quiet, false);
    let mut relocator = match &args.metastore {
        Some(uri) => Some(relocator(&args, uri, &fs, &root, &run_id, now)?),
        None => None,
    };
    let mut done = Totals::default();
    let mut first_err = None;
    for (folder, files) in by_folder(&listing) {
        let groups: Vec<&Group> = plan.groups.iter().filter(|g| g.folder == folder).collect();
        let covered: Vec<Location> = plan
            .covered
            .iter()
            .filter(|c| c.parent().as_ref() == Some(&folder))
            .cloned()
            .collect();
        let step = match relocator.as_mut() {
            Some(r) => {
                let f = relocate::Folder {
                    path: &folder,
                    files: &files,
                    groups: &groups,
                    covered: &covered,
                };
                r.step(f, &progress)
            }
            None => Ok(relocate::Step::InPlace),
        };
        let step = match step {
            Ok(s) => s,
            Err(e) => {
                progress.suspend(|| cli::warn(format!("{e:#}")));
                first_err.get_or_insert(e);
                continue;
            }
        };
        relocate::say(&progress, &step);
        if matches!(step, relocate::Step::Done(_)) {
            continue;
        }
        let r = in_place(
            &swapper, &groups, &covered, &args, &run_id, &progress, &mut done,
        )
        .and_then(|()| match (&step, relocator.as_mut()) {
            (relocate::Step::InPlaceThenBack, Some(r)) => r.back(&folder),
            _ => Ok(()),
        });
        if let Err(e) = r {
            progress.suspend(|| cli::warn(format!("{e:#}")));
            first_err.get_or_insert(e);
        }
    }
    progress.finish();
    let after = plan.files - done.inputs + done.merged;
    cli::info(
        quiet,
        format!(
            "{} folders, {} files -> {} ({} merged into {}), {} -> {} bytes merged, {:.1} s",
            plan.folders,
            plan.files,
            after,
            done.inputs,
            done.merged,
            done.bytes_in,
            done.bytes_out,
            started.elapsed().as_secs_f64()
        ),
    );
    if let Some(r) = &relocator {
        cli::info(
            quiet,
            format!(
                "partitions moved to merged copies: {}, moved back compacted: {}",
                r.moved, r.returned
            ),
        );
    }
    if let Some(w) = swapper.longest_window() {
        cli::info(
            quiet,
            format!(
                "longest in-place swap (merged file and inputs both in a folder): {} ms",
                w.as_millis()
            ),
        );
    }
    first_err.map_or(Ok(()), Err)
}

#[derive(Default)]
struct Totals {
    merged: usize,
    inputs: usize,
    bytes_in: u64,
    bytes_out: u64,
}

/// One group: written hidden, then swapped in. Some(bytes) when it was.
fn compact(
    swapper: &Swapper,
    g: &Group,
    args: &Args,
    run_id: &str,
    progress: &Progress,
) -> Result<Option<u64>> {
    let target = g.target(run_id);
    let tmp = g
        .folder
        .join(&format!(".{}.{run_id}.compacting", target.file_name()));
    let inputs: Vec<Location> = g.inputs.iter().map(|f| f.location.clone()).collect();
    let merged = match merge::merge(&swapper.fs, &inputs, &tmp, args.row_group_rows, progress) {
        Ok(m) => m,
        Err(e) => {
            let _ = swapper.fs.delete(&tmp, false);
            return Err(e.context(format!("merging into {target}")));
        }
    };
    failpoint("compact-written");
    let r = match g.parts {
        // batch part files: no writer claims them
        Some(_) => swapper.swap_claimed(&tmp, &target, &inputs),
        None => swapper.swap(&g.range(), &tmp, &target, &inputs),
    };
    match r {
        Ok(Swapped::Done) => Ok(Some(merged.bytes)),
        Ok(Swapped::Skipped(why)) => {
            let _ = swapper.fs.delete(&tmp, false);
            progress.suspend(|| cli::warn(format!("{target}: not merged: {why}")));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Every file below `root` with no hidden component below it.
fn visible_files(fs: &Fs, root: &Location) -> Result<Vec<Status>> {
    let base = root.to_string();
    let base = base.trim_end_matches('/');
    Ok(fs
        .list(root, true)
        .with_context(|| format!("listing {root}"))?
        .into_iter()
        .filter(|st| !st.is_dir)
        .filter(|st| {
            let path = st.location.to_string();
            let rel = path.strip_prefix(base).unwrap_or(&path);
            !rel.split('/').any(lakepipe::listing::is_hidden)
        })
        .collect())
}

/// Hidden merged files of dead runs (older than `stale`).
fn clean_hidden(fs: &Fs, root: &Location, now: u64, stale: Duration) -> Result<()> {
    for st in fs.list(root, true)? {
        let name = st.name();
        let old = now.saturating_sub(st.modification_time) > stale.as_millis() as u64;
        if !st.is_dir && name.starts_with('.') && name.ends_with(".compacting") && old {
            let _ = fs.delete(&st.location, false);
        }
    }
    Ok(())
}

/// A folder compacted in place: inputs a crash left beside their merged file (readers
/// skip them already) deleted, then each group merged and swapped in.
fn in_place(
    swapper: &Swapper,
    groups: &[&Group],
    covered: &[Location],
    args: &Args,
    run_id: &str,
    progress: &Progress,
    done: &mut Totals,
) -> Result<()> {
    for loc in covered {
        swapper
            .fs
            .delete(loc, false)
            .with_context(|| format!("deleting {loc}"))?;
    }
    let mut first_err = None;
    for g in groups {
        match compact(swapper, g, args, run_id, progress) {
            Ok(Some(bytes)) => {
                done.merged += 1;
                done.inputs += g.inputs.len();
                done.bytes_in += g.bytes();
                done.bytes_out += bytes;
            }
            Ok(None) => {}
            Err(e) => {
                progress.suspend(|| cli::warn(format!("{e:#}")));
                first_err.get_or_insert(e);
            }
        }
    }
    first_err.map_or(Ok(()), Err)
}

/// The visible files of each folder.
fn by_folder(listing: &[Status]) -> Vec<(Location, Vec<&Status>)> {
    let mut out: BTreeMap<String, (Location, Vec<&Status>)> = BTreeMap::new();
    for st in listing {
        if let Some(folder) = st.location.parent() {
            out.entry(folder.to_string())
                .or_insert_with(|| (folder, Vec::new()))
                .1
                .push(st);
        }
    }
    out.into_values().collect()
}

fn relocator(
    args: &Args,
    uri: &str,
    fs: &Fs,
    root: &Location,
    run_id: &str,
    now: u64,
) -> Result<relocate::Relocator> {
    let uri = lakepipe::register::uri(uri)?;
    let client = lakepipe::metastore::Client::connect(&uri, storage::timeout())?;
    Ok(relocate::Relocator {
        fs: fs.clone(),
        root: root.clone(),
        client,
        database: args.registered.database.clone(),
        table: args.registered.table.clone(),
        lateness: args.lateness,
        grace: args.grace,
        run_id: run_id.to_string(),
        now_ms: now,
        row_group_rows: args.row_group_rows,
        moved: 0,
        returned: 0,
    })
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn print_plan(plan: &Plan) -> Result<()> {
    let mut out = cli::stdout();
    for loc in &plan.covered {
        writeln!(out, "delete {loc} (covered by a merged file)")?;
    }
    for g in &plan.groups {
        writeln!(
            out,
            "merge {} files ({} bytes) -> {}",
            g.inputs.len(),
            g.bytes(),
            g.target("RUN")
        )?;
    }
    let inputs: usize = plan.groups.iter().map(|g| g.inputs.len()).sum();
    writeln!(
        out,
        "{} folders, {} files -> {}, {} bytes",
        plan.folders,
        plan.files,
        plan.files - inputs + plan.groups.len(),
        plan.bytes
    )?;
    out.flush()?;
    Ok(())
}
