//! presto-q: run SQL on Trino or PrestoDB from the shell.
//!
//! Speaks the client REST protocol directly (no JVM), streams results as CSV, TSV, JSON
//! lines or tables, and reports errors as trino-cli does.
//!
//! ```sh
//! presto-q --catalog tpch --schema tiny 'SELECT name FROM nation' | head
//! ```

pub mod auth;
pub mod client;
pub mod complete;
pub mod format;
pub mod input;
pub mod pager;
pub mod progress;
pub mod render;
pub mod run;
pub mod session;
pub mod shell;
pub mod split;
pub mod types;

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use anyhow::Context;
use lakepipe::cli;

use auth::Credentials;
use client::{Client, Connection};
use format::Format;
use session::Protocol;
use session::Session;

const EXAMPLES: &str = "\
Examples:
  presto-q --catalog tpch --schema tiny 'SELECT name, regionkey FROM nation'
  presto-q --output-format json 'SELECT * FROM tpch.tiny.orders' | pq-write orders.parquet
  hive-ddl --dialect trino --table t hdfs://localhost:9000/data/t | presto-q --catalog hive --schema default
  presto-q -f report.sql --session query_max_run_time=10m --output-format csv-header > report.csv
  presto-q --server https://trino:8443 --ca-file ca.pem --user alice --password 'SELECT 1'
  PRESTO_ACCESS_TOKEN=$(cat token.jwt) presto-q --server https://trino:8443 'SELECT 1'";

/// Run SQL on Presto or Trino: results stream to stdout as CSV, TSV, JSON lines or tables.
#[derive(Debug, clap::Parser)]
#[command(name = "presto-q", version, after_long_help = EXAMPLES, after_help = EXAMPLES)]
pub struct Args {
    /// SQL to run; several statements separated by `;` run in order. Without it, SQL is
    /// read from --file or stdin; on a terminal, an interactive shell starts.
    pub sql: Option<String>,

    /// Read SQL from FILE (`-` for stdin)
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        conflicts_with = "sql"
    )]
    pub file: Option<PathBuf>,

    /// Coordinator URL
    #[arg(long, env = "PRESTO_SERVER", default_value = "http://localhost:8080")]
    pub server: String,

    /// Header family: trino (X-Trino-*) or presto (X-Presto-*, PrestoDB)
    #[arg(long, value_enum, default_value_t = Protocol::Trino)]
    pub protocol: Protocol,

    /// User name (default: $USER; with an access token, the token's subject)
    #[arg(long)]
    pub user: Option<String>,

    /// Authenticate with a password (HTTPS only): $PRESTO_PASSWORD, else $TRINO_PASSWORD,
    /// else asked on the terminal without echo. $PRESTO_PASSWORD is sent even without it.
    #[arg(long, conflicts_with = "access_token")]
    pub password: bool,

    /// Authenticate with this JWT access token (HTTPS only). Prefer $PRESTO_ACCESS_TOKEN or
    /// $TRINO_ACCESS_TOKEN: a command line is visible to every user of the machine (ps)
    #[arg(long, value_name = "TOKEN")]
    pub access_token: Option<auth::Secret>,

    /// Default catalog
    #[arg(long)]
    pub catalog: Option<String>,

    /// Default schema
    #[arg(long)]
    pub schema: Option<String>,

    /// Session property NAME=VALUE (repeatable)
    #[arg(long = "session", value_name = "NAME=VALUE")]
    pub session: Vec<String>,

    /// Source name reported to the server
    #[arg(long, default_value = "presto-q")]
    pub source: String,

    /// Client tags, comma-separated (for resource groups)
    #[arg(long, value_name = "TAGS")]
    pub client_tags: Option<String>,

    /// Time zone for the session (default: the server's)
    #[arg(long, value_name = "ZONE")]
    pub time_zone: Option<String>,

    /// Output format (default: table on a terminal, csv otherwise)
    #[arg(short = 'o', long, value_enum, ignore_case = true)]
    pub output_format: Option<Format>,

    /// Go on with the next statement after a failed one (the exit code is still 1)
    #[arg(long)]
    pub ignore_errors: bool,

    /// PEM file with the certificate(s) that sign the server's certificate
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Skip verification of the server's TLS certificate (self-signed test servers only)
    #[arg(long)]
    pub insecure: bool,

    #[command(flatten)]
    pub common: cli::Common,
}

/// The clap definition of the command line, for man pages and shell completions.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut session = Session {
        catalog: args.catalog.clone(),
        schema: args.schema.clone(),
        source: args.source.clone(),
        time_zone: args.time_zone.clone(),
        client_tags: args.client_tags.clone(),
        ..Session::default()
    };
    for kv in &args.session {
        let (k, v) = kv
            .split_once('=')
            .filter(|(k, _)| !k.trim().is_empty())
            .ok_or_else(|| cli::usage(format!("--session wants NAME=VALUE, not '{kv}'")))?;
        session
            .properties
            .push((k.trim().to_string(), v.to_string()));
    }
    if !args.server.starts_with("http://") && !args.server.starts_with("https://") {
        return Err(cli::usage(format!(
            "--server must start with http:// or https://, not '{}'",
            args.server
        )));
    }
    let shell = interactive(&args);
    let statements = if shell {
        Vec::new()
    } else {
        let statements = split::split(&read_sql(&args)?);
        if statements.is_empty() {
            return Err(cli::usage("no SQL statement given"));
        }
        statements
    };
    let client = Client::new(connection(&args)?)?;
    if shell {
        let opts = shell::Options {
            format: args.output_format,
            quiet: args.common.quiet(),
        };
        return shell::run(&client, session, opts);
    }
    let format = args
        .output_format
        .unwrap_or(if std::io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Csv
        });
    cli::install_interrupt_handler();
    let opts = run::Options {
        format,
        ignore_errors: args.ignore_errors,
        quiet: args.common.quiet(),
        table_batch: None,
        cancel: None,
    };
    run::run_statements(&client, &mut session, &statements, &opts)
}

/// The server, the user and the credentials (asked for now, if they must be).
fn connection(args: &Args) -> anyhow::Result<Connection> {
    if args.password && !args.server.starts_with("https://") {
        // Refuse before asking: the password would travel in the clear.
        return Err(cli::usage(format!(
            "--password needs an https server, not {}",
            args.server
        )));
    }
    let credentials = auth::resolve(
        args.password,
        args.access_token.as_ref().map(|t| t.0.as_str()),
        |var| std::env::var(var).ok(),
        auth::prompt_password,
    )?;
    let user = match args.user.clone().filter(|u| !u.is_empty()) {
        Some(u) => Some(u),
        // A token names its user (its subject); Trino takes it when no user is sent, and
        // would refuse another name unless impersonation is allowed. PrestoDB wants one.
        None if matches!(credentials, Credentials::Token(_))
            && args.protocol == Protocol::Trino =>
        {
            None
        }
        None => Some(login_name().ok_or_else(|| cli::usage("no user: pass --user or set $USER"))?),
    };
    Ok(Connection {
        server: args.server.trim_end_matches('/').to_string(),
        protocol: args.protocol,
        user,
        credentials,
        timeout: args.common.timeout,
        ca_file: args.ca_file.clone(),
        insecure: args.insecure,
    })
}

/// No SQL given and a person at the terminal: the shell.
fn interactive(args: &Args) -> bool {
    args.sql.is_none()
        && args.file.is_none()
        && std::io::stdin().is_terminal()
        && std::io::stdout().is_terminal()
}

/// `$USER`, `$LOGNAME`, or the passwd entry of this process's uid (as Java's user.name).
fn login_name() -> Option<String> {
    for var in ["USER", "LOGNAME"] {
        if let Some(u) = std::env::var(var).ok().filter(|u| !u.is_empty()) {
            return Some(u);
        }
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 2 && f[2] == uid).then(|| f[0].to_string())
    })
}

fn read_sql(args: &Args) -> anyhow::Result<String> {
    if let Some(sql) = &args.sql {
        return Ok(sql.clone());
    }
    let mut sql = String::new();
    match &args.file {
        Some(path) if path.as_os_str() != "-" => {
            sql = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
        }
        Some(_) => {
            std::io::stdin()
                .read_to_string(&mut sql)
                .context("reading SQL from stdin")?;
        }
        None => {
            if std::io::stdin().is_terminal() {
                return Err(cli::usage(
                    "no SQL: give it as an argument, with -f FILE, or on stdin",
                ));
            }
            std::io::stdin()
                .read_to_string(&mut sql)
                .context("reading SQL from stdin")?;
        }
    }
    Ok(sql)
}
