//! kcat-lite: consume, produce and inspect Kafka topics, flag-compatible with kcat.
//!
//! Install: `cargo install --path kcat-lite`. Example:
//! `kcat-lite -b localhost:9092 -t events -C -e -J | pq-write --envelope kcat out/`

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::Result;
use lakepipe::cli;

pub mod admin;
pub mod batch;
pub mod config;
pub mod consume;
pub mod diagnose;
pub mod downstream;
pub mod format;
pub mod metadata;
pub mod offsets;
pub mod produce;
pub mod resume;

const EXAMPLES: &str = "\
Examples:
  # Read a topic from the beginning and stop at its end
  kcat-lite -b localhost:9092 -t events -C -e

  # Produce lines with keys (key|value) and a header
  printf 'k1|{\"a\":1}\\n' | kcat-lite -b localhost:9092 -t events -P -K '|' -H src=lab

  # Copy a topic through a file with keys, headers and partitions kept
  kcat-lite -t events -C -e -J > events.jsonl
  kcat-lite -t events-copy -P -J < events.jsonl

  # Balanced consumer group; offsets committed only for what was written
  kcat-lite -b localhost:9092 -G mygroup events | pq-write out/

  # Metadata, offsets at a timestamp, topic admin
  kcat-lite -L -t events
  kcat-lite -Q -t events:0:1700000000000
  kcat-lite --create-topic events --partitions 3 --replication-factor 1";

pub use lakepipe::envelope::Binary;

// The sections of `--help`, as kcat groups its options.
const CONSUMER: &str = "Consumer options";
const PRODUCER: &str = "Producer options";
const BOTH: &str = "Consumer and producer options";
const ADMIN: &str = "Topic administration";

/// Consume, produce and inspect Kafka topics (kcat-compatible flags).
#[derive(clap::Parser, Debug)]
#[command(name = "kcat-lite", version, about, after_long_help = EXAMPLES)]
pub struct Args {
    /// Consumer mode
    #[arg(short = 'C', group = "mode")]
    pub consume: bool,
    /// Producer mode: one message per line of stdin (-D to change the delimiter)
    #[arg(short = 'P', group = "mode")]
    pub produce: bool,
    /// Metadata list mode: brokers, topics, partitions, leaders
    #[arg(short = 'L', group = "mode")]
    pub list: bool,
    /// Query mode: offsets for a timestamp, with -t topic:partition:timestamp_ms
    #[arg(short = 'Q', group = "mode")]
    pub query: bool,
    /// Balanced consumer group: -G GROUP TOPIC...
    #[arg(short = 'G', value_name = "GROUP", group = "mode")]
    pub group: Option<String>,
    /// Topics for -G
    #[arg(value_name = "TOPIC", requires = "group")]
    pub topics: Vec<String>,

    /// Bootstrap brokers (host:port,...)
    #[arg(short = 'b', env = "KAFKA_BROKERS", default_value = "localhost:9092")]
    pub brokers: String,
    /// Topic (with -Q: topic:partition:timestamp_ms)
    #[arg(short = 't')]
    pub topic: Option<String>,
    /// Partition (consume: only this one; produce: send to it)
    #[arg(short = 'p', allow_negative_numbers = true)]
    pub partition: Option<i32>,
    /// librdkafka property prop=value (repeatable)
    #[arg(short = 'X', value_name = "PROP=VALUE")]
    pub props: Vec<String>,
    /// Properties file (prop=value lines, # comments); without -F, $KCAT_CONFIG, else
    /// ~/.config/kcat.conf if it exists. -X wins over it
    #[arg(short = 'F', value_name = "FILE")]
    pub config_file: Option<std::path::PathBuf>,
    /// The properties of the config file, then of -X, in order (filled by `run`).
    #[arg(skip)]
    pub user_props: Vec<(String, String)>,

    /// Start offset: beginning, end, stored, N, -N (from end), s@TS; end with e@TS (repeatable)
    #[arg(short = 'o', allow_hyphen_values = true, help_heading = CONSUMER)]
    pub offset: Vec<String>,
    /// Exit once every assigned partition has reached its end
    #[arg(short = 'e', help_heading = CONSUMER)]
    pub exit_at_end: bool,
    /// Output format with kcat tokens: %s %S %R %k %K %t %p %o %T %I %h, \n \t \r \\
    #[arg(short = 'f', value_name = "FMT", conflicts_with = "json", help_heading = CONSUMER)]
    pub format: Option<String>,
    /// Unbuffered output: write every message to stdout at once
    #[arg(short = 'u', help_heading = CONSUMER)]
    pub unbuffered: bool,
    /// -C/-G: start each partition after the last offset committed in LOCATION (a folder of
    /// `topic+partition+first+last.parquet` files, local or hdfs://), overriding the group's
    /// offsets on every assignment; partitions with nothing there start at -o
    #[arg(long, value_name = "LOCATION", help_heading = CONSUMER)]
    pub resume_from: Option<String>,
    /// -G / --resume-from: ride out a broker (or HDFS) outage for up to DURATION (30s, 5m,
    /// 1h), one warning when it starts and one when it ends; 0 fails at once
    /// [default: 5m with -G or --resume-from, else 0]
    #[arg(long, value_name = "DURATION", value_parser = lakepipe::retry::parse_duration, help_heading = CONSUMER)]
    pub retry_for: Option<Duration>,
    /// -J: embed a payload that is valid JSON as JSON instead of a string
    #[arg(long, help_heading = CONSUMER)]
    pub payload_json: bool,

    /// Header name=value for produced messages (repeatable)
    #[arg(short = 'H', value_name = "NAME=VALUE", help_heading = PRODUCER)]
    pub headers: Vec<String>,
    /// Compression codec for produce: none, gzip, snappy, lz4, zstd (default lz4, unless
    /// -X sets compression.codec or compression.type)
    #[arg(short = 'z', value_name = "CODEC", help_heading = PRODUCER)]
    pub compression: Option<String>,

    /// Exit after N messages (consume) or produce at most N
    #[arg(short = 'c', value_name = "N", help_heading = BOTH)]
    pub count: Option<u64>,
    /// Key delimiter: consume writes KEY DELIM PAYLOAD, produce splits each message at the
    /// first DELIM
    #[arg(short = 'K', value_name = "DELIM", help_heading = BOTH)]
    pub key_delim: Option<String>,
    /// JSON envelope, one object per message with topic, partition, offset, timestamp,
    /// key, payload and headers (consume: write it; produce: read it)
    #[arg(short = 'J', help_heading = BOTH)]
    pub json: bool,
    /// Message delimiter (default newline)
    #[arg(short = 'D', value_name = "DELIM", help_heading = BOTH)]
    pub delim: Option<String>,
    /// -J: how keys and payloads that may be binary are encoded
    #[arg(long, value_enum, default_value = "replace", help_heading = BOTH)]
    pub binary: Binary,
    /// Print NULL keys/payloads as NULL; produce: empty key/payload is sent as NULL
    #[arg(short = 'Z', help_heading = BOTH)]
    pub null: bool,

    /// Create a topic and exit
    #[arg(long, value_name = "NAME", conflicts_with = "mode", help_heading = ADMIN)]
    pub create_topic: Option<String>,
    /// Delete a topic and exit
    #[arg(long, value_name = "NAME", conflicts_with_all = ["mode", "create_topic"])]
    #[arg(help_heading = ADMIN)]
    pub delete_topic: Option<String>,
    /// Partitions for --create-topic
    #[arg(long, default_value_t = 1, requires = "create_topic", help_heading = ADMIN)]
    pub partitions: i32,
    /// Replication factor for --create-topic
    #[arg(long, default_value_t = 1, requires = "create_topic", help_heading = ADMIN)]
    pub replication_factor: i32,

    #[command(flatten)]
    pub common: cli::Common,
}

impl Args {
    /// `--timeout`: the bound on every broker request.
    pub fn timeout(&self) -> Duration {
        self.common.timeout
    }

    /// `--retry-for`, defaulting to [`lakepipe::retry::STREAM_DEFAULT`] for streams
    /// (-G, --resume-from) and to 0 (fail fast) otherwise.
    pub fn retry_for(&self) -> Duration {
        let stream = self.group.is_some() || self.resume_from.is_some();
        self.retry_for.unwrap_or(if stream {
            lakepipe::retry::STREAM_DEFAULT
        } else {
            Duration::ZERO
        })
    }

    /// `-q`: no informational messages on stderr.
    pub fn quiet(&self) -> bool {
        self.common.quiet()
    }
}

/// The clap definition of the command line, for man pages and shell completions.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

pub fn run(mut args: Args) -> Result<()> {
    config::load(&mut args)?;
    let secrets = config::secrets(&args);
    run_mode(&args).map_err(|e| config::redact(e, &secrets))
}

fn run_mode(args: &Args) -> Result<()> {
    if let Some(name) = &args.create_topic {
        return admin::create_topic(args, name);
    }
    if let Some(name) = &args.delete_topic {
        return admin::delete_topic(args, name);
    }
    if args.list {
        return metadata::list(args);
    }
    if args.query {
        return metadata::query(args);
    }
    if args.group.is_some() {
        if args.topics.is_empty() {
            return Err(cli::usage("-G needs at least one topic: -G GROUP TOPIC..."));
        }
        return consume::run(args);
    }
    if args.produce {
        if args.resume_from.is_some() {
            return Err(cli::usage("--resume-from applies to -C and -G"));
        }
        return produce::run(args);
    }
    if args.consume {
        return consume::run(args);
    }
    // As kcat: without a mode, a terminal stdin means consume and a piped one produce.
    if args.topic.is_none() {
        return Err(cli::usage(
            "no mode given: use -C, -P, -L, -Q or -G (and -t TOPIC)",
        ));
    }
    if std::io::stdin().is_terminal() {
        consume::run(args)
    } else {
        produce::run(args)
    }
}

/// The topic given with -t, or a usage error.
pub fn need_topic(args: &Args) -> Result<&str> {
    args.topic
        .as_deref()
        .ok_or_else(|| cli::usage("-t TOPIC is required"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn kcat_style_flags_parse() {
        let a = Args::try_parse_from([
            "kcat-lite",
            "-b",
            "h:1",
            "-t",
            "x",
            "-C",
            "-o",
            "-5",
            "-e",
            "-c",
            "3",
            "-X",
            "a=b",
        ])
        .unwrap();
        assert!(a.consume && a.exit_at_end);
        assert_eq!(a.offset, ["-5"]);
        assert_eq!(a.count, Some(3));
        let g = Args::try_parse_from(["kcat-lite", "-G", "g1", "t1", "t2"]).unwrap();
        assert_eq!(g.group.as_deref(), Some("g1"));
        assert_eq!(g.topics, ["t1", "t2"]);
        assert!(Args::try_parse_from(["kcat-lite", "-C", "-P"]).is_err());
        assert!(Args::try_parse_from(["kcat-lite", "-f", "%s", "-J"]).is_err());
    }
}
