//! `-C` and `-G`: read messages and write them to stdout.
//!
//! Offsets are stored (for the group's commits) only after the messages were written
//! and stdout was flushed, so a commit never covers a message the reader did not get.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use lakepipe::cli;
use lakepipe::envelope::{self, Stats, TsType, WriteOpts};
use lakepipe::retry::{self, Service};
use rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR__PARTITION_EOF;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, RebalanceProtocol,
};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::types::{RDKafkaErrorCode, RDKafkaRespErr};
use rdkafka::{ClientContext, Message, Offset, Timestamp, TopicPartitionList};

use crate::batch::{Batch, Router};
use crate::config::{self, set_default};
use crate::diagnose;
use crate::downstream;
use crate::format::Formatter;
use crate::offsets::{self, Start};
use crate::resume::Resume;
use crate::Args;

/// Commits on revocation, so the next owner of a partition starts after what we wrote.
#[derive(Default)]
pub struct GroupContext {
    /// Set once the group gave this member an assignment (possibly empty).
    assigned: AtomicBool,
    /// `-G GROUP` without `-q`: print kcat's rebalance notices on stderr.
    notify: Option<String>,
    /// `--resume-from`: assignments start where the lake's files end.
    resume: Option<Resume>,
    /// An error inside a rebalance callback, for the poll loop to raise.
    failed: Mutex<Option<anyhow::Error>>,
    /// Sends assigned partitions' messages to the batch queue.
    router: Router,
}

impl ClientContext for GroupContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, msg: &str) {
        diagnose::note(level, fac, msg);
    }
}

impl ConsumerContext for GroupContext {
    /// rdkafka's own rebalance, with `--resume-from`'s offsets set on each assignment
    /// before it is applied (the only point where they win over the group's offsets).
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let assign = err == RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
        if let (true, Some(resume)) = (assign, &self.resume) {
            if let Err(e) = resume.apply(tpl) {
                self.failed.lock().unwrap().get_or_insert(e);
            }
        }
        if assign {
            self.router.route(consumer, tpl);
        }
        let rebalance = match err {
            _ if assign => Rebalance::Assign(tpl),
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => Rebalance::Revoke(tpl),
            e => Rebalance::Error(KafkaError::Rebalance(e.into())),
        };
        self.pre_rebalance(consumer, &rebalance);
        let cooperative = matches!(
            consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        let applied = match (assign, cooperative) {
            (true, true) => consumer.incremental_assign(tpl),
            (true, false) => consumer.assign(tpl),
            (false, true) => consumer.incremental_unassign(tpl),
            (false, false) => consumer.unassign(),
        };
        if let Err(e) = applied {
            cli::warn(format!("applying the group's assignment failed: {e}"));
        }
        self.post_rebalance(consumer, &rebalance);
    }

    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        self.notice(consumer, rebalance);
        if let Rebalance::Revoke(_) = rebalance {
            // Offsets are stored right after each flush, before the next poll, so this
            // commits exactly what was written. "No offset" just means nothing new.
            if let Err(e) = consumer.commit_consumer_state(CommitMode::Sync) {
                if !is_no_offset(&e) {
                    cli::warn(format!("commit on rebalance failed: {e}"));
                }
            }
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(_) = rebalance {
            self.assigned.store(true, Ordering::Relaxed);
        }
    }
}

impl GroupContext {
    /// kcat's line, so scripts that wait for an assignment work with both tools:
    /// `% Group G rebalanced (memberid M): assigned: t [0], t [1]`.
    fn notice(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Some(group) = &self.notify else { return };
        let (what, list) = match rebalance {
            Rebalance::Assign(l) => ("assigned", l.elements()),
            Rebalance::Revoke(l) => ("revoked", l.elements()),
            Rebalance::Error(e) => {
                lakepipe::cli::notice(format_args!("% Group {group} rebalance failed: {e}"));
                return;
            }
        };
        let parts: Vec<String> = list
            .iter()
            .map(|e| format!("{} [{}]", e.topic(), e.partition()))
            .collect();
        let member = member_id(consumer);
        lakepipe::cli::notice(format_args!(
            "% Group {group} rebalanced (memberid {member}): {what}: {}",
            parts.join(", ")
        ));
    }
}

/// The member id the group coordinator gave this consumer (rdkafka has no safe wrapper).
fn member_id(consumer: &BaseConsumer<GroupContext>) -> String {
    use rdkafka::bindings::{rd_kafka_mem_free, rd_kafka_memberid};
    // SAFETY: the handle is live for the call; librdkafka returns a NUL-terminated copy
    // (or NULL) that we free with its own allocator.
    unsafe {
        let rk = consumer.client().native_ptr();
        let p = rd_kafka_memberid(rk);
        if p.is_null() {
            return String::new();
        }
        let id = std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned();
        rd_kafka_mem_free(rk, p.cast());
        id
    }
}

/// `--resume-from`, checked: -C or -G only, and where partitions with nothing committed start.
fn resume(args: &Args, range: &offsets::Range, timeout: Duration) -> Result<Option<Resume>> {
    let Some(location) = &args.resume_from else {
        return Ok(None);
    };
    let fallback = match range.start.unwrap_or(Start::Beginning) {
        Start::Beginning => Offset::Beginning,
        Start::End => Offset::End,
        _ => {
            return Err(cli::usage(
                "--resume-from takes -o beginning or end for partitions with nothing committed",
            ))
        }
    };
    Ok(Some(Resume::new(location, fallback, timeout)?))
}

fn is_no_offset(e: &KafkaError) -> bool {
    matches!(
        e,
        KafkaError::ConsumerCommit(rdkafka::types::RDKafkaErrorCode::NoOffset)
    )
}

/// Per-partition bookkeeping: end reached, last offset written but not yet stored.
struct Part {
    topic: String,
    partition: i32,
    done: bool,
    unstored: Option<i64>,
}

struct Parts(Vec<Part>);

impl Parts {
    fn get(&mut self, topic: &str, partition: i32) -> &mut Part {
        let i = match self
            .0
            .iter()
            .position(|p| p.partition == partition && p.topic == topic)
        {
            Some(i) => i,
            None => {
                self.0.push(Part {
                    topic: topic.to_string(),
                    partition,
                    done: false,
                    unstored: None,
                });
                self.0.len() - 1
            }
        };
        &mut self.0[i]
    }
}

/// The most messages taken from librdkafka, written, and flushed at once.
const BATCH: u64 = 10_000;

/// What the loop writes to and keeps per partition.
struct Sink {
    fmt: Formatter,
    out: Box<dyn Write>,
    stats: Stats,
    parts: Parts,
    written: u64,
    bytes: u64,
    /// `-o e@TS`: a partition ends at its first message at or after TS.
    end_ts: Option<i64>,
    /// A partition ended since the loop last looked.
    check_end: bool,
}

impl Sink {
    /// Writes a message unless its partition is done; its offset waits to be stored.
    fn offer(&mut self, m: &envelope::Message) -> Result<()> {
        let part = self.parts.get(m.topic, m.partition);
        if part.done {
            return Ok(());
        }
        if let (Some(end), Some((_, ts))) = (self.end_ts, m.ts) {
            if ts >= end {
                part.done = true;
                self.check_end = true;
                return Ok(());
            }
        }
        part.unstored = Some(m.offset);
        self.fmt
            .write(m, &mut self.out, &mut self.stats)
            .context("writing to stdout")?;
        self.written += 1;
        self.bytes += m.payload.map_or(0, <[u8]>::len) as u64;
        Ok(())
    }

    fn end(&mut self, topic: &str, partition: i32) {
        self.parts.get(topic, partition).done = true;
        self.check_end = true;
    }
}

/// Serves what is waiting on the consumer's own queue: rebalances, commit results,
/// errors. Messages come here only from a partition not routed to the batch queue.
fn serve_events(
    consumer: &BaseConsumer<GroupContext>,
    sink: &mut Sink,
    topics: &[String],
    broker: &mut Broker,
) -> Result<()> {
    for _ in 0..BATCH {
        let Some(ev) = consumer.poll(Duration::ZERO) else {
            break;
        };
        match ev {
            Ok(m) => sink.offer(&view(&m, timestamp(&m)))?,
            Err(KafkaError::PartitionEOF(p)) => {
                mark_end(consumer, &mut sink.parts, topics, p);
                sink.check_end = true;
            }
            Err(e @ KafkaError::MessageConsumptionFatal(_)) => return Err(e).context("consuming"),
            Err(e) => broker.error(kafka_code(&e), &e)?,
        }
    }
    match consumer.context().failed.lock().unwrap().take() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The rules of a consume run, checked before any broker is asked.
struct Plan {
    range: offsets::Range,
    group: Option<String>,
    topics: Vec<String>,
    stop_at_end: bool,
}

impl Plan {
    fn check(args: &Args) -> Result<Plan> {
        let range = offsets::parse(&args.offset).map_err(cli::usage)?;
        let group = args.group.clone();
        let topics: Vec<String> = match group {
            Some(_) => args.topics.clone(),
            None => vec![crate::need_topic(args)?.to_string()],
        };
        if group.is_some()
            && matches!(
                range.start,
                Some(Start::At(_) | Start::Tail(_) | Start::Time(_))
            )
        {
            return Err(cli::usage(
                "-G takes -o beginning, end or stored (committed offsets win)",
            ));
        }
        if group.is_some() && args.partition.is_some() {
            return Err(cli::usage("-p cannot be used with -G"));
        }
        let stop_at_end = args.exit_at_end || range.end_ts.is_some();
        Ok(Plan {
            range,
            group,
            topics,
            stop_at_end,
        })
    }
}

/// The consumer's librdkafka settings.
fn consumer_config(args: &Args, plan: &Plan) -> Result<rdkafka::ClientConfig> {
    let mut cfg = config::client_config(args)?;
    cfg.set(
        "enable.partition.eof",
        if plan.stop_at_end { "true" } else { "false" },
    );
    // Offsets are stored by hand after stdout was flushed.
    cfg.set("enable.auto.offset.store", "false");
    // Fetch responses of 1 MB per partition (librdkafka's default), not 10 MB: each
    // response is one allocation, and at 10 MB every one was mapped and faulted in anew
    // (2.3x the page faults, 20% more client CPU for 1M messages; issue 17).
    set_default(&mut cfg, args, "fetch.max.bytes", "52428800");
    set_default(&mut cfg, args, "max.partition.fetch.bytes", "1048576");
    // 100,000 messages ahead (librdkafka's default), not 1M: with -J the writer is the
    // slower side, so the queue stays full, and a deeper one only held more memory
    // (-J: 2.52 -> 2.44 CPU-s, 221 -> 131 MB peak; plain consume 0.85 -> 0.79 CPU-s).
    // The same bound holds memory while stdout is blocked (pq-write waiting out an
    // outage): librdkafka stops fetching and Kafka keeps the rest.
    set_default(&mut cfg, args, "queued.min.messages", "100000");
    set_default(&mut cfg, args, "queued.max.messages.kbytes", "65536");
    // librdkafka 2.12 waits fetch.queue.backoff.ms (1 s) whenever the local queue is
    // full: measured on the bench (1M x 300 B), this alone cost whole seconds, so back
    // off briefly instead.
    set_default(&mut cfg, args, "fetch.queue.backoff.ms", "50");
    set_default(&mut cfg, args, "fetch.wait.max.ms", "100");
    if let Some(g) = &plan.group {
        cfg.set("group.id", g);
        set_default(&mut cfg, args, "enable.auto.commit", "true");
        let reset = if plan.range.start == Some(Start::End) {
            "latest"
        } else {
            "earliest"
        };
        set_default(&mut cfg, args, "auto.offset.reset", reset);
    } else {
        // Plain -C never commits, as kcat.
        cfg.set("enable.auto.commit", "false");
        if plan.range.start == Some(Start::Stored) && cfg.get("group.id").is_none() {
            return Err(cli::usage(
                "-o stored needs a group: -X group.id=NAME (or use -G)",
            ));
        }
        // librdkafka's assign() needs a group id even though nothing joins or commits.
        set_default(&mut cfg, args, "group.id", "kcat-lite");
    }
    Ok(cfg)
}

/// -C's partitions at their start offsets (empty for -G, whose group assigns them);
/// fails fast, naming the brokers, instead of waiting forever for an unreachable cluster.
fn assignment(
    args: &Args,
    plan: &Plan,
    consumer: &BaseConsumer<GroupContext>,
) -> Result<TopicPartitionList> {
    let timeout = args.timeout();
    let mut assignment = TopicPartitionList::new();
    for topic in &plan.topics {
        let md = consumer.fetch_metadata(Some(topic), timeout).map_err(|e| {
            diagnose::drain(consumer);
            config::unreachable(args, timeout, e)
        })?;
        let t = md.topics().iter().find(|t| t.name() == *topic);
        let parts: Vec<i32> = match t {
            Some(t) if t.error().is_none() && !t.partitions().is_empty() => {
                t.partitions().iter().map(|p| p.id()).collect()
            }
            _ => anyhow::bail!("topic {topic:?} does not exist on {}", args.brokers),
        };
        if plan.group.is_some() {
            continue;
        }
        let wanted: Vec<i32> = match args.partition {
            Some(p) if parts.contains(&p) => vec![p],
            Some(p) => anyhow::bail!("topic {topic:?} has no partition {p}"),
            None => parts,
        };
        for p in wanted {
            let off = match plan.range.start.unwrap_or(Start::Beginning) {
                Start::Beginning => Offset::Beginning,
                Start::End => Offset::End,
                Start::Stored => Offset::Stored,
                Start::At(n) => Offset::Offset(n),
                Start::Tail(n) => Offset::OffsetTail(n),
                Start::Time(ts) => Offset::Offset(ts),
            };
            assignment.add_partition_offset(topic, p, off)?;
        }
    }
    if let Some(resume) = &consumer.context().resume {
        // -C: the assignment is ours, so it starts where the lake's files end
        resume.apply(&mut assignment)?;
    }
    if let Some(Start::Time(_)) = plan.range.start {
        // offsets_for_times: Offset(ts) in, first offset with timestamp >= ts out (End if none).
        assignment = consumer
            .offsets_for_times(assignment, timeout)
            .map_err(|e| config::unreachable(args, timeout, e))?;
    }
    Ok(assignment)
}

/// Why the read loop ended.
#[derive(Default)]
struct Ended {
    by_signal: bool,
    reader_gone: Option<std::io::Error>,
}

/// Read, write and store offsets until the count, the partitions' ends, a signal or a
/// reader that went away.
fn read_loop(
    args: &Args,
    plan: &Plan,
    consumer: &BaseConsumer<GroupContext>,
    batch: &mut Batch,
    sink: &mut Sink,
    expected: usize,
) -> Result<Ended> {
    let group = plan.group.is_some();
    let limit = args.count.unwrap_or(u64::MAX);
    let mut ended = Ended::default();
    let mut broker = Broker::new(args);
    let progress = lakepipe::progress::Progress::new(args.quiet(), true);
    while sink.written < limit {
        if cli::interrupted() {
            ended.by_signal = true;
            break;
        }
        let (before, bytes_before) = (sink.written, sink.bytes);
        serve_events(consumer, sink, &plan.topics, &mut broker)?;
        // -u: one message at a time, each flushed (and its offset stored) on its own.
        let max = if args.unbuffered {
            1
        } else {
            (limit - sink.written).min(BATCH) as usize
        };
        for m in batch.fill(max, Duration::from_millis(200)) {
            match m.error() {
                None => sink.offer(&m.view())?,
                Some(RD_KAFKA_RESP_ERR__PARTITION_EOF) => sink.end(m.topic(), m.partition()),
                Some(code) => broker.error(
                    Some(code.into()),
                    &format_args!("{} [{}]: {}", m.topic(), m.partition(), m.error_text()),
                )?,
            }
            if sink.written >= limit {
                break;
            }
        }
        progress.add(sink.written - before, sink.bytes - bytes_before);
        if sink.written > before {
            broker.up();
            sink.out.flush().context("writing to stdout")?;
            store(consumer, &mut sink.parts, group);
        } else if let Err(e) = downstream::check_stdout() {
            // Idle and nobody reads: commit what was written and end as `| head` does.
            ended.reader_gone = Some(e);
            break;
        } else {
            broker.probe(consumer)?;
        }
        let check_end = std::mem::take(&mut sink.check_end);
        if check_end && plan.stop_at_end && all_done(consumer, &sink.parts, group, expected) {
            break;
        }
        if group && plan.stop_at_end && consumer.context().assigned.load(Ordering::Relaxed) {
            // A member that was given no partitions has nothing to read (kcat #313 hangs).
            if consumer.assignment().is_ok_and(|a| a.count() == 0) {
                break;
            }
        }
    }
    progress.finish();
    Ok(ended)
}

/// A broker outage as a stream sees it (`--retry-for`): librdkafka reconnects by itself,
/// so riding one out means not giving up, saying so once, and giving up after the budget.
struct Broker {
    service: Service,
    /// When the brokers were last asked whether they are back.
    probed: Instant,
}

impl Broker {
    fn new(args: &Args) -> Broker {
        Broker {
            service: Service::new("Kafka", args.brokers.clone()),
            probed: Instant::now(),
        }
    }

    /// An error event: a transient one starts (or continues) an outage when retrying is
    /// on; the rest are warnings, as before.
    fn error(&mut self, code: Option<RDKafkaErrorCode>, e: &dyn std::fmt::Display) -> Result<()> {
        if !code.is_some_and(is_transient) || retry::retry_for().is_zero() {
            cli::warn(e);
            return Ok(());
        }
        if retry::failed(&self.service, e) {
            return Ok(());
        }
        anyhow::bail!(
            "{} unreachable for longer than --retry-for {}: {e}",
            self.service,
            retry::show(retry::retry_for())
        )
    }

    /// Messages arrived: the brokers serve.
    fn up(&self) {
        retry::succeeded(&self.service);
    }

    /// Idle during an outage: ask the brokers (once a second) whether they are back,
    /// and give up once the outage outlasts --retry-for.
    fn probe(&mut self, consumer: &BaseConsumer<GroupContext>) -> Result<()> {
        if !retry::is_down(&self.service) || self.probed.elapsed() < Duration::from_secs(1) {
            return Ok(());
        }
        self.probed = Instant::now();
        match consumer.fetch_metadata(None, Duration::from_secs(1)) {
            Ok(_) => {
                self.up();
                Ok(())
            }
            Err(e) => self.error(Some(RDKafkaErrorCode::BrokerTransportFailure), &e),
        }
    }
}

/// The error code of a consumer error, when it has one.
fn kafka_code(e: &KafkaError) -> Option<RDKafkaErrorCode> {
    match e {
        KafkaError::Global(c)
        | KafkaError::MessageConsumption(c)
        | KafkaError::ConsumerCommit(c)
        | KafkaError::MetadataFetch(c)
        | KafkaError::OffsetFetch(c) => Some(*c),
        _ => None,
    }
}

/// Errors of a broker restarting or unreachable, which librdkafka recovers from by
/// reconnecting: a stream waits them out. The one place kcat-lite classifies them.
fn is_transient(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode::*;
    matches!(
        code,
        BrokerTransportFailure
            | AllBrokersDown
            | Resolve
            | MessageTimedOut
            | OperationTimedOut
            | RequestTimedOut
            | NetworkException
            | LeaderNotAvailable
            | NotLeaderForPartition
            | CoordinatorLoadInProgress
            | CoordinatorNotAvailable
            | NotCoordinator
    )
}

pub fn run(args: &Args) -> Result<()> {
    let plan = Plan::check(args)?;
    // Bad -f tokens are usage errors, before any broker is asked.
    let fmt = make_formatter(args)?;
    retry::set_retry_for(args.retry_for());
    let cfg = consumer_config(args, &plan)?;
    let context = GroupContext {
        notify: args.group.clone().filter(|_| !args.quiet()),
        resume: resume(args, &plan.range, args.timeout())?,
        ..GroupContext::default()
    };
    let consumer: BaseConsumer<GroupContext> = config::create(&cfg, context, "consumer")?;
    let assignment = assignment(args, &plan, &consumer)?;
    let mut batch = Batch::new(&consumer, &consumer.context().router);
    if plan.group.is_some() {
        consumer
            .subscribe(&plan.topics.iter().map(String::as_str).collect::<Vec<_>>())
            .context("subscribing")?;
    } else {
        consumer.context().router.route(&consumer, &assignment);
        consumer
            .assign(&assignment)
            .context("assigning partitions")?;
    }
    let mut sink = Sink {
        fmt,
        out: cli::stdout(),
        stats: Stats::default(),
        parts: Parts(Vec::new()),
        written: 0,
        bytes: 0,
        end_ts: plan.range.end_ts,
        check_end: false,
    };
    cli::install_interrupt_handler();
    let ended = read_loop(
        args,
        &plan,
        &consumer,
        &mut batch,
        &mut sink,
        assignment.count(),
    )?;
    sink.out.flush().context("writing to stdout")?;
    store(&consumer, &mut sink.parts, plan.group.is_some());
    if plan.group.is_some() {
        if let Err(e) = consumer.commit_consumer_state(CommitMode::Sync) {
            if !is_no_offset(&e) {
                return Err(e).context("committing offsets");
            }
        }
    }
    drop(batch); // its queue and messages live in the consumer
    drop(consumer); // leaves the group cleanly
    report(args, plan.group.is_some(), &sink, ended)
}

/// The run's last words: the reader's error, the lossy-UTF-8 warning, the summary.
fn report(args: &Args, group: bool, sink: &Sink, ended: Ended) -> Result<()> {
    if let Some(e) = ended.reader_gone {
        return Err(e).context("writing to stdout");
    }
    let written = sink.written;
    if sink.stats.lossy > 0 {
        cli::warn(format!(
            "{} messages had bytes that are not UTF-8, written as U+FFFD; use --binary base64 to keep them",
            sink.stats.lossy
        ));
    }
    if ended.by_signal {
        let what = if group {
            "; offsets committed for all of them"
        } else {
            ""
        };
        return Err(
            cli::Interrupted(format!("stopped after writing {written} messages{what}")).into(),
        );
    }
    cli::info(args.quiet(), format!("consumed {written} messages"));
    Ok(())
}

fn make_formatter(args: &Args) -> Result<Formatter> {
    let delim = args.delim.as_deref().unwrap_or("\n");
    Ok(if args.json {
        Formatter::json(
            WriteOpts {
                binary: args.binary,
                payload_json: args.payload_json,
            },
            delim,
        )
    } else if let Some(f) = &args.format {
        Formatter::from_format(f, args.null).map_err(cli::usage)?
    } else {
        Formatter::default_layout(args.key_delim.as_deref(), delim, args.null)
    })
}

fn timestamp(m: &BorrowedMessage) -> Option<(TsType, i64)> {
    match m.timestamp() {
        Timestamp::CreateTime(t) => Some((TsType::Create, t)),
        Timestamp::LogAppendTime(t) => Some((TsType::LogAppend, t)),
        Timestamp::NotAvailable => None,
    }
}

fn view<'a>(m: &'a BorrowedMessage, ts: Option<(TsType, i64)>) -> envelope::Message<'a> {
    let headers = m
        .headers()
        .map(|h| h.iter().map(|h| (h.key, h.value)).collect())
        .unwrap_or_default();
    envelope::Message {
        topic: m.topic(),
        partition: m.partition(),
        offset: m.offset(),
        ts,
        // SAFETY: the pointer is the live message we borrow.
        broker: unsafe { rdkafka::bindings::rd_kafka_message_broker_id(m.ptr()) },
        headers,
        key: m.key(),
        payload: m.payload(),
    }
}

/// An end-of-partition event names only the partition: resolve the topic from the
/// assignment when several topics are read.
fn mark_end(consumer: &BaseConsumer<GroupContext>, parts: &mut Parts, topics: &[String], p: i32) {
    if topics.len() == 1 {
        parts.get(&topics[0], p).done = true;
        return;
    }
    let Ok(pos) = consumer.position() else { return };
    for e in pos.elements().iter().filter(|e| e.partition() == p) {
        let at_end = match (
            e.offset(),
            consumer.fetch_watermarks(e.topic(), p, Duration::from_secs(5)),
        ) {
            (Offset::Offset(o), Ok((_, high))) => o >= high,
            (_, Ok((low, high))) => low == high,
            _ => false,
        };
        if at_end {
            parts.get(e.topic(), p).done = true;
        }
    }
}

fn all_done(
    consumer: &BaseConsumer<GroupContext>,
    parts: &Parts,
    group: bool,
    expected: usize,
) -> bool {
    let is_done = |t: &str, p: i32| {
        parts
            .0
            .iter()
            .any(|x| x.done && x.partition == p && x.topic == t)
    };
    if !group {
        return parts.0.iter().filter(|x| x.done).count() >= expected;
    }
    match consumer.assignment() {
        Ok(a) if a.count() > 0 => a
            .elements()
            .iter()
            .all(|e| is_done(e.topic(), e.partition())),
        _ => false,
    }
}

/// Store the next offset of every partition written since the last store.
fn store(consumer: &BaseConsumer<GroupContext>, parts: &mut Parts, group: bool) {
    let mut tpl = TopicPartitionList::new();
    for p in parts.0.iter_mut() {
        if let Some(o) = p.unstored.take() {
            if group {
                let _ = tpl.add_partition_offset(&p.topic, p.partition, Offset::Offset(o + 1));
            }
        }
    }
    if tpl.count() > 0 {
        // A partition revoked meanwhile cannot be stored; its next owner reads from the
        // last commit, so nothing is lost.
        let _ = consumer.store_offsets(&tpl);
    }
}
