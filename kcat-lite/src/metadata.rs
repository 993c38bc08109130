//! `-L` (brokers, topics, partitions, leaders) and `-Q` (offsets for a timestamp),
//! printed as kcat prints them.

use std::io::Write;

use anyhow::{Context, Result};
use lakepipe::cli;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::metadata::Metadata;
use rdkafka::{Offset, TopicPartitionList};

use crate::diagnose::{self, Ctx};
use crate::{config, Args};

fn consumer(args: &Args) -> Result<BaseConsumer<Ctx>> {
    config::create(&config::client_config(args)?, Ctx, "client")
}

/// Metadata from the brokers, or the reason they did not give it.
pub fn probe(args: &Args, topic: Option<&str>) -> Result<Metadata> {
    let c = consumer(args)?;
    let timeout = args.timeout();
    c.fetch_metadata(topic, timeout).map_err(|e| {
        diagnose::drain(&c);
        config::unreachable(args, timeout, e)
    })
}

fn join(ids: &[i32]) -> String {
    ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

pub fn list(args: &Args) -> Result<()> {
    let md = probe(args, args.topic.as_deref())?;
    let mut out = cli::stdout();
    let what = args.topic.as_deref().unwrap_or("all topics");
    writeln!(
        out,
        "Metadata for {what} (from broker {}: {}):",
        md.orig_broker_id(),
        md.orig_broker_name()
    )?;
    writeln!(out, " {} brokers:", md.brokers().len())?;
    for b in md.brokers() {
        writeln!(out, "  broker {} at {}:{}", b.id(), b.host(), b.port())?;
    }
    writeln!(out, " {} topics:", md.topics().len())?;
    for t in md.topics() {
        write!(
            out,
            "  topic \"{}\" with {} partitions:",
            t.name(),
            t.partitions().len()
        )?;
        match t.error() {
            Some(e) => writeln!(out, " Error: {}", rdkafka::types::RDKafkaErrorCode::from(e))?,
            None => writeln!(out)?,
        }
        for p in t.partitions() {
            writeln!(
                out,
                "    partition {}, leader {}, replicas: {}, isrs: {}",
                p.id(),
                p.leader(),
                join(p.replicas()),
                join(p.isr())
            )?;
        }
    }
    out.flush().context("writing to stdout")?;
    if let (Some(t), Some(e)) = (
        args.topic.as_deref(),
        md.topics().first().and_then(|t| t.error()),
    ) {
        anyhow::bail!("topic {t:?}: {}", rdkafka::types::RDKafkaErrorCode::from(e));
    }
    Ok(())
}

/// `-Q -t topic:partition:ts`: the first offset whose timestamp is >= ts (-1: none yet).
pub fn query(args: &Args) -> Result<()> {
    let spec = crate::need_topic(args)?;
    let bad = || {
        cli::usage(format!(
            "-Q -t {spec:?}: expected topic:partition:timestamp_ms"
        ))
    };
    let (rest, ts) = spec.rsplit_once(':').ok_or_else(bad)?;
    let (topic, partition) = rest.rsplit_once(':').ok_or_else(bad)?;
    let partition: i32 = partition.parse().map_err(|_| bad())?;
    let ts: i64 = ts.parse().map_err(|_| bad())?;
    let c = consumer(args)?;
    let timeout = args.timeout();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, partition, Offset::Offset(ts))?;
    let found = c.offsets_for_times(tpl, timeout).map_err(|e| {
        diagnose::drain(&c);
        config::unreachable(args, timeout, e)
    })?;
    let mut out = cli::stdout();
    for e in found.elements() {
        if let Err(err) = e.error() {
            anyhow::bail!("{} [{}]: {err}", e.topic(), e.partition());
        }
        let off = match e.offset() {
            Offset::Offset(o) => o,
            _ => -1,
        };
        writeln!(out, "{} [{}] offset {off}", e.topic(), e.partition())?;
    }
    out.flush().context("writing to stdout")?;
    Ok(())
}
