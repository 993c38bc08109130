//! `-P`: one message per line of stdin (or one `-J` envelope per line); every message is
//! acknowledged by the broker before the tool exits 0.

use std::io::{BufRead, BufReader};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result};
use lakepipe::cli;
use lakepipe::envelope;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::util::Timeout;
use rdkafka::{ClientConfig, ClientContext};

use crate::config::{self, set_default};
use crate::diagnose;
use crate::format::unescape;
use crate::Args;

/// Counts delivery reports.
#[derive(Default)]
pub struct Deliveries {
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Deliveries {
    fn fail(&self, e: impl std::fmt::Display) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut f) = self.first_error.lock() {
            f.get_or_insert_with(|| e.to_string());
        }
    }
}

impl ClientContext for Deliveries {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, msg: &str) {
        diagnose::note(level, fac, msg);
    }
}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();
    fn delivery(&self, r: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = r {
            self.fail(e);
        }
    }
}

/// One message to send, borrowed from the input line or owned from an envelope.
struct Out<'a> {
    topic: &'a str,
    partition: Option<i32>,
    key: Option<&'a [u8]>,
    payload: Option<&'a [u8]>,
    headers: Option<OwnedHeaders>,
}

/// The producer's settings: the user's, over our defaults.
pub fn producer_config(args: &Args) -> Result<ClientConfig> {
    let timeout = args.timeout();
    let mut cfg = config::client_config(args)?;
    set_default(
        &mut cfg,
        args,
        "message.timeout.ms",
        &timeout.as_millis().max(1).to_string(),
    );
    // Batches fill up to batch.size (1 MB) rather than 10,000 messages. The local queue
    // stays at librdkafka's 100,000 messages: a deeper one (1M) buffered the whole input
    // (200-460 MB RSS instead of 70) and was slower, page faults costing more than it saved
    // (bench: 1M x 300 B lines).
    set_default(&mut cfg, args, "batch.num.messages", "100000");
    // lz4 unless told otherwise (kcat sends uncompressed; `-z none` does too): the broker
    // then stores and checks a quarter of the bytes of JSON lines and spends less than
    // half the CPU on them, which on a shared machine is the limit (see README).
    match &args.compression {
        Some(codec) => {
            cfg.set("compression.codec", codec);
        }
        None if !config::user_set(args, "compression.type") => {
            set_default(&mut cfg, args, "compression.codec", "lz4")
        }
        None => {}
    }
    Ok(cfg)
}

pub fn run(args: &Args) -> Result<()> {
    // A producer is not a stream: each message waits up to --timeout for its ack
    // (message.timeout.ms). Accepting --retry-for and ignoring it would let a user
    // believe a broker restart is ridden out when messages time out instead.
    if args.retry_for.is_some() {
        return Err(cli::usage(
            "--retry-for applies to -C and -G; a producer waits up to --timeout for each message (raise --timeout to ride out a broker restart)",
        ));
    }
    let cfg = producer_config(args)?;
    let auto_create = cfg.get("allow.auto.create.topics") != Some("false");
    let producer: BaseProducer<Deliveries> =
        config::create(&cfg, Deliveries::default(), "producer")?;

    let topic = args.topic.as_deref();
    if topic.is_none() && !args.json {
        return Err(cli::usage("-t TOPIC is required"));
    }
    if let Some(t) = topic {
        check_topic(args, &producer, t, auto_create)?;
    }

    let delim = unescape(args.delim.as_deref().unwrap_or("\n"));
    let [delim] = delim[..] else {
        return Err(cli::usage("-D: the produce delimiter must be one byte"));
    };
    let key_delim = args.key_delim.as_deref().map(unescape);
    let headers = fixed_headers(&args.headers);
    let limit = args.count.unwrap_or(u64::MAX);
    let mut checked: Vec<String> = topic.map(|t| vec![t.to_string()]).unwrap_or_default();

    cli::install_interrupt_handler();
    let mut input = BufReader::with_capacity(1 << 20, std::io::stdin().lock());
    let mut line = Vec::with_capacity(4096);
    let mut sent: u64 = 0;
    let mut stopped = false;
    // Counted per 1024 messages, where the producer is polled anyway.
    let progress = lakepipe::progress::Progress::new(args.quiet(), false);
    let mut read_bytes = 0u64;
    while sent < limit {
        if cli::interrupted() {
            stopped = true;
            break;
        }
        line.clear();
        let n = input
            .read_until(delim, &mut line)
            .context("reading stdin")?;
        if n == 0 {
            break;
        }
        read_bytes += n as u64;
        if line.last() == Some(&delim) {
            line.pop();
        }
        let rec;
        let msg = if args.json {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            rec = envelope::read_record(&line, args.binary)
                .map_err(|e| anyhow::anyhow!("input message {}: {e}", sent + 1))?;
            let t = topic.or(rec.topic.as_deref()).ok_or_else(|| {
                anyhow::anyhow!(
                    "input message {}: no topic in the envelope and no -t",
                    sent + 1
                )
            })?;
            if !checked.iter().any(|c| c == t) {
                check_topic(args, &producer, t, auto_create)?;
                checked.push(t.to_string());
            }
            let mut h = OwnedHeaders::new_with_capacity(rec.headers.len());
            for (name, value) in &rec.headers {
                h = h.insert(Header {
                    key: name,
                    value: value.as_deref(),
                });
            }
            Out {
                topic: t,
                partition: args.partition.or(rec.partition),
                key: rec.key.as_deref(),
                payload: rec.payload.as_deref(),
                headers: (!rec.headers.is_empty()).then_some(h),
            }
        } else {
            let (key, payload) = split_key(&line, key_delim.as_deref());
            Out {
                topic: topic.unwrap_or_default(),
                partition: args.partition,
                key: null_if_empty(key, args.null),
                payload: null_if_empty(Some(payload), args.null),
                headers: headers.clone(),
            }
        };
        send(&producer, msg)?;
        sent += 1;
        if sent.is_multiple_of(1024) {
            producer.poll(Duration::ZERO);
            progress.set_rows(sent);
            progress.add(0, std::mem::take(&mut read_bytes));
        }
    }
    progress.finish();
    // Wait for every acknowledgement; undelivered messages time out after message.timeout.ms.
    while producer.in_flight_count() > 0 {
        match producer.flush(Duration::from_millis(500)) {
            Ok(()) => break,
            Err(KafkaError::Flush(RDKafkaErrorCode::OperationTimedOut)) => continue,
            Err(e) => return Err(e).context("flushing the producer"),
        }
    }
    let ctx = producer.context();
    let failed = ctx.failed.load(Ordering::Relaxed);
    if failed > 0 {
        let first = ctx
            .first_error
            .lock()
            .ok()
            .and_then(|f| f.clone())
            .unwrap_or_default();
        anyhow::bail!("{failed} of {sent} messages were not delivered (first error: {first})");
    }
    if stopped {
        return Err(cli::Interrupted(format!(
            "stopped after producing {sent} messages, all delivered"
        ))
        .into());
    }
    cli::info(args.quiet(), format!("produced {sent} messages"));
    Ok(())
}

/// Enqueue one message, waiting while librdkafka's local queue is full.
fn send(producer: &BaseProducer<Deliveries>, m: Out) -> Result<()> {
    let mut rec: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(m.topic);
    if let Some(p) = m.partition {
        rec = rec.partition(p);
    }
    if let Some(k) = m.key {
        rec = rec.key(k);
    }
    if let Some(p) = m.payload {
        rec = rec.payload(p);
    }
    if let Some(h) = m.headers {
        rec = rec.headers(h);
    }
    loop {
        match producer.send(rec) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                rec = r;
                producer.poll(Duration::from_millis(10));
            }
            // Refused before sending (unknown partition, too large): not delivered.
            Err((e, _)) => {
                producer.context().fail(e);
                return Ok(());
            }
        }
    }
}

/// Reachable brokers and an existing topic. With auto-create on (the producer's default),
/// the first metadata request creates the topic, which can take a moment to appear.
fn check_topic(
    args: &Args,
    producer: &BaseProducer<Deliveries>,
    topic: &str,
    auto_create: bool,
) -> Result<()> {
    let timeout = args.timeout();
    let start = std::time::Instant::now();
    loop {
        let md = producer
            .client()
            .fetch_metadata(Some(topic), Timeout::After(timeout))
            .map_err(|e| {
                producer.poll(Duration::ZERO); // its queued logs tell why
                config::unreachable(args, timeout, e)
            })?;
        let err = md
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .and_then(|t| t.error());
        match err.map(RDKafkaErrorCode::from) {
            Some(RDKafkaErrorCode::UnknownTopicOrPartition) if auto_create && start.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(200));
            }
            Some(RDKafkaErrorCode::UnknownTopicOrPartition) => anyhow::bail!(
                "topic {topic:?} does not exist on {} and is not auto-created (create it with --create-topic)",
                args.brokers
            ),
            _ => return Ok(()),
        }
    }
}

/// With -Z an empty key or payload is sent as NULL (as kcat).
fn null_if_empty(b: Option<&[u8]>, z: bool) -> Option<&[u8]> {
    b.filter(|b| !(z && b.is_empty()))
}

/// `-H name=value` headers; a name without `=` has a NULL value (as kcat).
fn fixed_headers(hs: &[String]) -> Option<OwnedHeaders> {
    if hs.is_empty() {
        return None;
    }
    let mut h = OwnedHeaders::new_with_capacity(hs.len());
    for s in hs {
        let (k, v) = match s.split_once('=') {
            Some((k, v)) => (k, Some(v.as_bytes())),
            None => (s.as_str(), None),
        };
        h = h.insert(Header { key: k, value: v });
    }
    Some(h)
}

/// Split `key DELIM value` at the first delimiter; without one the line is all value.
fn split_key<'a>(line: &'a [u8], delim: Option<&[u8]>) -> (Option<&'a [u8]>, &'a [u8]) {
    let Some(d) = delim.filter(|d| !d.is_empty()) else {
        return (None, line);
    };
    match line.windows(d.len()).position(|w| w == d) {
        Some(i) => (Some(&line[..i]), &line[i + d.len()..]),
        None => (None, line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn codec(argv: &[&str]) -> Option<String> {
        let mut args =
            Args::try_parse_from([&["kcat-lite", "-P", "-t", "x"], argv].concat()).unwrap();
        config::load(&mut args).unwrap();
        producer_config(&args)
            .unwrap()
            .get("compression.codec")
            .map(str::to_string)
    }

    /// lz4 by default; `-z` and the user's own -X settings win (`compression.type` is
    /// librdkafka's alias, so it must not be overridden by our default either).
    #[test]
    fn compression_defaults_to_lz4_unless_given() {
        assert_eq!(codec(&[]).as_deref(), Some("lz4"));
        assert_eq!(codec(&["-z", "none"]).as_deref(), Some("none"));
        assert_eq!(codec(&["-z", "zstd"]).as_deref(), Some("zstd"));
        assert_eq!(
            codec(&["-X", "compression.codec=gzip"]).as_deref(),
            Some("gzip")
        );
        assert_eq!(codec(&["-X", "compression.type=snappy"]), None);
    }

    #[test]
    fn key_split_at_first_delimiter() {
        assert_eq!(
            split_key(b"k|v|w", Some(b"|")),
            (Some(&b"k"[..]), &b"v|w"[..])
        );
        assert_eq!(
            split_key(b"k::v", Some(b"::")),
            (Some(&b"k"[..]), &b"v"[..])
        );
        assert_eq!(split_key(b"novalue", Some(b"|")), (None, &b"novalue"[..]));
        assert_eq!(split_key(b"a|b", None), (None, &b"a|b"[..]));
    }
}
