//! hdfs-ls: list HDFS like `hdfs dfs -ls`, byte for byte, without starting a JVM.
//!
//! Install: `cargo install --path hdfs-ls`. Example:
//! `hdfs-ls -R -h hdfs://127.0.0.1:9000/data/purchases`

pub mod format;

use std::io::Write;

use anyhow::Result;
use clap::{ArgAction, Parser};
use lakepipe::cli;
use lakepipe::location::{self, Location};
use lakepipe::storage::{self, Fs, Status};

use format::{Order, Style, Widths};

const EXAMPLES: &str = "\
Examples:
  hdfs-ls hdfs://127.0.0.1:9000/data            # like: hdfs dfs -ls hdfs://127.0.0.1:9000/data
  hdfs-ls -R -h /data/purchases                 # namenode from $HDFS_NAMENODE or $HADOOP_CONF_DIR
  hdfs-ls -t -r '/data/events/dt=2024-*'        # globs are expanded against the namenode
  hdfs-ls --json -R /data | jq-lite -r 'select(.type == \"file\") | .path'";

/// List HDFS files and folders; output matches `hdfs dfs -ls`.
#[derive(Debug, Parser)]
#[command(name = "hdfs-ls", version, about, after_long_help = EXAMPLES, disable_help_flag = true)]
pub struct Args {
    /// Paths, hdfs:// URLs or globs (`*`, `?`, `[..]`, `{a,b}`) [default: /user/$HADOOP_USER_NAME]
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Recursively list the contents of folders
    #[arg(short = 'R')]
    pub recursive: bool,
    /// Sizes with binary prefixes (1.5 K, 2 M) instead of bytes
    #[arg(short = 'h')]
    pub human: bool,
    /// List folders as plain entries, not their contents
    #[arg(short = 'd')]
    pub directory: bool,
    /// Paths only
    #[arg(short = 'C')]
    pub path_only: bool,
    /// Sort by modification time, newest first
    #[arg(short = 't')]
    pub time: bool,
    /// Sort by size, largest first
    #[arg(short = 'S')]
    pub size: bool,
    /// Reverse the sort order
    #[arg(short = 'r')]
    pub reverse: bool,
    /// Show (and with -t sort by) access time instead of modification time
    #[arg(short = 'u')]
    pub atime: bool,
    /// One JSON object per entry: path, type, length, replication, block_size, owner,
    /// group, permission, modification_time, access_time (ms since the epoch)
    #[arg(long)]
    pub json: bool,
    /// Namenode (host:port or an HA nameservice) for paths without hdfs://
    /// [default: $HDFS_NAMENODE, else fs.defaultFS in $HADOOP_CONF_DIR/core-site.xml]
    #[arg(long, value_name = "HOST:PORT")]
    pub namenode: Option<String>,
    #[command(flatten)]
    pub common: cli::Common,
    /// Print help
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
}

/// The clap definition of the command line, for man pages and shell completions.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

pub fn run(args: Args) -> Result<()> {
    storage::set_timeout(args.common.timeout);
    let user = current_user();
    let paths = if args.paths.is_empty() {
        vec![".".to_string()]
    } else {
        args.paths.clone()
    };
    let mut ls = Lister {
        // -t wins over -S, as in Ls.
        order: Order {
            time: args.time,
            size: args.size && !args.time,
            reverse: args.reverse,
            atime: args.atime,
        },
        style: Style {
            human: args.human,
            atime: args.atime,
        },
        recursive: args.recursive && !args.directory,
        widths: Widths::default(),
        out: cli::stdout(),
        pending: None,
        args: &args,
    };
    for arg in &paths {
        let res = resolve(arg, args.namenode.as_deref(), &user).and_then(|t| ls.argument(arg, &t));
        if let Err(e) = res {
            ls.error(e)?;
        }
    }
    ls.out.flush()?;
    ls.pending.map_or(Ok(()), Err)
}

/// How the user wrote a path, which decides how Hadoop prints what it finds.
enum Form {
    /// `hdfs://host:port/...` (prefix `hdfs://host:port`) or `hdfs:///...` (prefix `hdfs:`).
    Url(String),
    /// `/...`: paths print as they are.
    Absolute,
    /// Relative to the home folder (`/user/NAME`): printed relative to it.
    Relative(String),
}

struct Target {
    fs: Fs,
    pattern: Location,
    form: Form,
}

fn current_user() -> String {
    ["HADOOP_USER_NAME", "USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "root".into())
}

fn resolve(arg: &str, namenode: Option<&str>, user: &str) -> Result<Target> {
    let lower = arg.to_ascii_lowercase();
    if lower.starts_with("hdfs:") {
        let loc = Location::parse(arg)?;
        let Location::Hdfs { namenode, .. } = &loc else {
            unreachable!("hdfs: parses as Hdfs")
        };
        let with_authority = arg[5..]
            .strip_prefix("//")
            .is_some_and(|r| !r.starts_with('/') && !r.is_empty());
        let prefix = if with_authority {
            format!("hdfs://{namenode}")
        } else {
            "hdfs:".to_string()
        };
        return Ok(Target {
            fs: storage::connect(&loc)?,
            pattern: loc,
            form: Form::Url(prefix),
        });
    }
    if lower.contains("://") {
        return Err(cli::usage(format!(
            "{arg}: hdfs-ls lists HDFS only (hdfs://host:port/path or /path)"
        )));
    }
    let namenode = match namenode {
        Some(n) => n
            .trim_start_matches("hdfs://")
            .trim_end_matches('/')
            .to_string(),
        None => location::default_namenode(&|k| std::env::var(k).ok())
            .ok_or_else(|| location::LocationError::NoNamenode(arg.to_string()))?,
    };
    let home = format!("/user/{user}");
    let (path, form) = if arg.starts_with('/') {
        (normalize(arg), Form::Absolute)
    } else {
        (normalize(&format!("{home}/{arg}")), Form::Relative(home))
    };
    let loc = Location::Hdfs { namenode, path };
    Ok(Target {
        fs: storage::connect(&loc)?,
        pattern: loc,
        form,
    })
}

/// Collapse `//`, `.` and `..` in an absolute path.
fn normalize(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Hadoop's PathData.relativize: `path` relative to the folder `cwd` (a port, so the
/// `..` forms match too).
fn relativize(cwd: &str, path: &str, is_dir: bool) -> String {
    if cwd == path {
        return ".".into();
    }
    // findLongestDirPrefix: the last '/' of the longest common folder prefix, or -1.
    let c = if cwd.ends_with('/') {
        cwd.to_string()
    } else {
        format!("{cwd}/")
    };
    let p = if is_dir && !path.ends_with('/') {
        format!("{path}/")
    } else {
        path.to_string()
    };
    let mut last: i64 = -1;
    for (i, (x, y)) in c.bytes().zip(p.bytes()).enumerate() {
        if x != y {
            break;
        }
        if x == b'/' {
            last = i as i64;
        }
    }
    let mut rel = String::new();
    if last < path.len() as i64 {
        rel.push_str(&path[(last + 1) as usize..]);
    }
    if last < cwd.len() as i64 {
        while last != -1 {
            rel = if rel.is_empty() {
                "..".into()
            } else {
                format!("../{rel}")
            };
            let from = (last + 1) as usize;
            last = cwd[from..].find('/').map_or(-1, |i| (from + i) as i64);
        }
    }
    rel
}

/// Entries per column-width group in an unsorted `-R` walk (Ls.getListingGroupSize).
const LISTING_GROUP: usize = 100;

struct Lister<'a> {
    args: &'a Args,
    order: Order,
    style: Style,
    recursive: bool,
    widths: Widths,
    out: Box<dyn Write>,
    /// The latest error, printed when the next one comes and returned at the end, so
    /// every failed path is reported once and the exit code is 1.
    pending: Option<anyhow::Error>,
}

impl Lister<'_> {
    fn error(&mut self, e: anyhow::Error) -> Result<()> {
        // A usage error or closed stdout ends the run at once.
        if cli::is_broken_pipe(&e) || e.downcast_ref::<cli::UsageError>().is_some() {
            return Err(e);
        }
        self.out.flush()?;
        if let Some(prev) = self.pending.replace(e) {
            cli::error(format_args!("{prev:#}"));
        }
        Ok(())
    }

    /// One command-line argument: expand the glob, then list each match.
    fn argument(&mut self, arg: &str, t: &Target) -> Result<()> {
        let mut matches = t.fs.glob(&t.pattern)?;
        if matches.is_empty() {
            anyhow::bail!("`{arg}': No such file or directory");
        }
        matches
            .sort_by(|a, b| format::compare_paths(hdfs_path(&a.location), hdfs_path(&b.location)));
        for m in matches {
            let shown = match &t.form {
                Form::Url(prefix) => format!("{prefix}{}", hdfs_path(&m.location)),
                Form::Absolute => hdfs_path(&m.location).to_string(),
                Form::Relative(home) => relativize(home, hdfs_path(&m.location), m.is_dir),
            };
            if m.is_dir && !self.args.directory {
                self.folder(&t.fs, &m, &shown, true)?;
            } else {
                self.entries(&[(m, shown)])?;
            }
        }
        Ok(())
    }

    /// List a folder's contents (and below, with -R). Errors below the top folder are
    /// reported and the listing goes on, as `hdfs dfs -ls -R` does.
    fn folder(&mut self, fs: &Fs, dir: &Status, shown: &str, top: bool) -> Result<()> {
        let mut children = match fs.list(&dir.location, false) {
            Ok(c) => c,
            Err(e) if !top => return self.error(e.into()),
            Err(e) => return Err(e.into()),
        };
        // Hadoop 3.5 Ls: with -R alone it walks the namenode's listing (signed-byte
        // name order) and sizes columns per group of 100 entries; otherwise it sorts
        // by name first, then (without -R only) by the -t/-S/-r comparator, stably.
        let sorted = !self.recursive || self.order.time || self.order.size || self.order.reverse;
        if sorted {
            format::sort(&mut children, Order::default());
        }
        if !self.recursive {
            if !children.is_empty() && !self.args.path_only && !self.args.json {
                writeln!(self.out, "Found {} items", children.len())?;
            }
            format::sort(&mut children, self.order);
        }
        let named: Vec<(Status, String)> = children
            .into_iter()
            .map(|c| {
                let s = child_path(shown, &c.name());
                (c, s)
            })
            .collect();
        let group = if sorted {
            named.len().max(1)
        } else {
            LISTING_GROUP
        };
        for chunk in named.chunks(group) {
            if !self.args.path_only {
                self.widths.grow(chunk.iter().map(|(s, _)| s));
            }
            for (child, path) in chunk {
                self.entry(child, path)?;
                if self.recursive && child.is_dir {
                    self.folder(fs, child, path, false)?;
                }
            }
        }
        Ok(())
    }

    /// A group of entries printed together (widths widened for them first).
    fn entries(&mut self, items: &[(Status, String)]) -> Result<()> {
        if !self.args.path_only {
            self.widths.grow(items.iter().map(|(s, _)| s));
        }
        for (s, p) in items {
            self.entry(s, p)?;
        }
        Ok(())
    }

    fn entry(&mut self, s: &Status, path: &str) -> Result<()> {
        if self.args.json {
            let v = serde_json::json!({
                "path": path,
                "type": if s.is_dir { "directory" } else { "file" },
                "length": s.length,
                "replication": s.replication,
                "block_size": s.block_size,
                "owner": s.owner,
                "group": s.group,
                "permission": format::permission_octal(s.permission),
                "modification_time": s.modification_time,
                "access_time": s.access_time,
            });
            writeln!(self.out, "{v}")?;
        } else if self.args.path_only {
            writeln!(self.out, "{path}")?;
        } else {
            writeln!(
                self.out,
                "{}",
                format::long_line(s, path, &self.widths, self.style)
            )?;
        }
        Ok(())
    }
}

fn hdfs_path(loc: &Location) -> &str {
    match loc {
        Location::Hdfs { path, .. } => path,
        Location::Local(p) => p.to_str().unwrap_or(""),
    }
}

/// How Ls names a child: `NAME` under ".", else the parent as shown + "/" + NAME.
fn child_path(parent: &str, name: &str) -> String {
    if parent == "." {
        name.to_string()
    } else if parent.ends_with('/') {
        format!("{parent}{name}")
    } else {
        format!("{parent}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_like_hdfs_dfs() {
        let a = Args::try_parse_from(["hdfs-ls", "-R", "-h", "-t", "-r", "/x"]).unwrap();
        assert!(a.recursive && a.human && a.time && a.reverse);
        let a = Args::try_parse_from(["hdfs-ls", "-Rh", "/x"]).unwrap();
        assert!(a.recursive && a.human);
        assert!(Args::try_parse_from(["hdfs-ls", "-Z"]).is_err());
    }

    #[test]
    fn paths_normalize_and_relativize_like_hadoop() {
        assert_eq!(normalize("/a//b/./c/../d/"), "/a/b/d");
        assert_eq!(normalize("/"), "/");
        assert_eq!(relativize("/user/u", "/user/u", true), ".");
        assert_eq!(relativize("/user/u", "/user/u/x", false), "x");
        assert_eq!(relativize("/user/u", "/user/u/x/y", true), "x/y");
        assert_eq!(relativize("/user/u", "/user/v", true), "../v");
        assert_eq!(relativize("/user/u", "/tmp", true), "../../tmp");
        assert_eq!(child_path(".", "a"), "a");
        assert_eq!(child_path("/", "a"), "/a");
        assert_eq!(child_path("hdfs://nn:1/", "a"), "hdfs://nn:1/a");
        assert_eq!(child_path("/x", "a b"), "/x/a b");
    }
}
