//! Batch consume: messages of every assigned partition go to one queue of ours, taken
//! thousands at a time with `rd_kafka_consume_batch_queue`.
//!
//! rdkafka's `BaseConsumer::poll` returns one message per call, and each call reads the
//! clock, takes the queue lock, wraps an event and allocates; per message that was half
//! of kcat-lite's client CPU (issue 17). Events (rebalances, commit results, errors) stay
//! on the consumer's own queue, still served by `poll`, so the group logic is unchanged.

use std::ffi::CStr;
use std::marker::PhantomData;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::time::Duration;

use lakepipe::envelope::{self, TsType};
use rdkafka::bindings as rd;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::TopicPartitionList;

/// Where assigned partitions send their messages: set while a [`Batch`] lives, read by the
/// rebalance callback, which routes each assignment before applying it.
#[derive(Default)]
pub struct Router(AtomicPtr<rd::rd_kafka_queue_t>);

impl Router {
    /// Forwards the fetch queue of every partition in `tpl` to the batch queue. Routing
    /// survives unassign and reassign (librdkafka keeps an application's forward).
    pub fn route<C: ConsumerContext>(&self, consumer: &BaseConsumer<C>, tpl: &TopicPartitionList) {
        let queue = self.0.load(Ordering::Acquire);
        if queue.is_null() {
            return;
        }
        let rk = consumer.client().native_ptr();
        for e in tpl.elements() {
            let Ok(topic) = std::ffi::CString::new(e.topic()) else {
                continue;
            };
            // SAFETY: rk and queue are live (the queue is unset before it is destroyed);
            // the partition queue handle is ours to destroy, its forward stays in place.
            unsafe {
                let pq = rd::rd_kafka_queue_get_partition(rk, topic.as_ptr(), e.partition());
                if !pq.is_null() {
                    rd::rd_kafka_queue_forward(pq, queue);
                    rd::rd_kafka_queue_destroy(pq);
                }
            }
        }
    }
}

/// The batch queue and the messages last taken from it (destroyed at the next fill).
pub struct Batch<'c> {
    queue: *mut rd::rd_kafka_queue_t,
    msgs: Vec<*mut rd::rd_kafka_message_t>,
    router: &'c Router,
    /// The consumer outlives the batch: its queue and messages point into it.
    _consumer: PhantomData<&'c ()>,
}

impl<'c> Batch<'c> {
    pub fn new<C: ConsumerContext>(consumer: &'c BaseConsumer<C>, router: &'c Router) -> Self {
        // SAFETY: the client handle is live for as long as `consumer`, which outlives us.
        let queue = unsafe { rd::rd_kafka_queue_new(consumer.client().native_ptr()) };
        assert!(!queue.is_null(), "librdkafka could not allocate a queue");
        router.0.store(queue, Ordering::Release);
        Batch {
            queue,
            msgs: Vec::new(),
            router,
            _consumer: PhantomData,
        }
    }

    /// Takes up to `max` messages: what is ready now, else waits up to `wait` for the
    /// first one and then takes what is ready (never waits to fill the batch).
    pub fn fill(&mut self, max: usize, wait: Duration) -> &[Msg] {
        self.release();
        let max = max.max(1);
        self.msgs.reserve(max);
        self.take(max, Duration::ZERO);
        if self.msgs.is_empty() && !wait.is_zero() {
            self.take(1, wait);
            if !self.msgs.is_empty() && max > 1 {
                self.take(max - 1, Duration::ZERO);
            }
        }
        // SAFETY: Msg is a transparent wrapper of the message pointer.
        unsafe { std::slice::from_raw_parts(self.msgs.as_ptr().cast::<Msg>(), self.msgs.len()) }
    }

    fn take(&mut self, n: usize, wait: Duration) {
        let have = self.msgs.len();
        let ms = wait.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: the spare capacity holds at least `n` pointers (reserved in fill); librdkafka
        // writes that many at most and returns how many, or -1 on error (nothing written).
        let got = unsafe {
            let dst = self.msgs.as_mut_ptr().add(have);
            rd::rd_kafka_consume_batch_queue(self.queue, ms, dst, n)
        };
        if got > 0 {
            // SAFETY: librdkafka initialized `got` pointers after `have`.
            unsafe { self.msgs.set_len(have + got as usize) };
        }
    }

    fn release(&mut self) {
        for m in self.msgs.drain(..) {
            // SAFETY: each pointer came from consume_batch_queue and is destroyed once.
            unsafe { rd::rd_kafka_message_destroy(m) };
        }
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        self.release();
        self.router.0.store(ptr::null_mut(), Ordering::Release);
        // SAFETY: ours, destroyed once, while the client is still live.
        unsafe { rd::rd_kafka_queue_destroy(self.queue) };
    }
}

/// One message (or per-partition event, such as the end of a partition) of a batch.
#[repr(transparent)]
pub struct Msg(*mut rd::rd_kafka_message_t);

impl Msg {
    fn raw(&self) -> &rd::rd_kafka_message_t {
        // SAFETY: live until the batch's next fill, which needs `&mut` of the batch.
        unsafe { &*self.0 }
    }

    pub fn topic(&self) -> &str {
        // SAFETY: a message from a consumer always has its topic handle.
        let name = unsafe { CStr::from_ptr(rd::rd_kafka_topic_name(self.raw().rkt)) };
        name.to_str().unwrap_or("\u{FFFD}")
    }

    pub fn partition(&self) -> i32 {
        self.raw().partition
    }

    /// `None` for a message, else the error (end of partition among them).
    pub fn error(&self) -> Option<rd::rd_kafka_resp_err_t> {
        let err = self.raw().err;
        (err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR).then_some(err)
    }

    pub fn error_text(&self) -> String {
        // SAFETY: returns a NUL-terminated string owned by the message.
        let s = unsafe { CStr::from_ptr(rd::rd_kafka_message_errstr(self.0)) };
        s.to_string_lossy().into_owned()
    }

    /// The message as the output formats see it.
    pub fn view(&self) -> envelope::Message<'_> {
        let m = self.raw();
        envelope::Message {
            topic: self.topic(),
            partition: m.partition,
            offset: m.offset,
            ts: self.timestamp(),
            // SAFETY: a live message.
            broker: unsafe { rd::rd_kafka_message_broker_id(self.0) },
            headers: self.headers(),
            key: bytes(m.key, m.key_len),
            payload: bytes(m.payload, m.len),
        }
    }

    fn timestamp(&self) -> Option<(TsType, i64)> {
        let mut kind = rd::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
        // SAFETY: a live message and a valid out pointer.
        let ts = unsafe { rd::rd_kafka_message_timestamp(self.0, &mut kind) };
        match kind {
            rd::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_CREATE_TIME => {
                Some((TsType::Create, ts))
            }
            rd::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME => {
                Some((TsType::LogAppend, ts))
            }
            _ => None,
        }
    }

    fn headers(&self) -> Vec<(&str, Option<&[u8]>)> {
        let mut hdrs = ptr::null_mut();
        // SAFETY: a live message; the headers stay owned by it.
        let err = unsafe { rd::rd_kafka_message_headers(self.0, &mut hdrs) };
        if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR || hdrs.is_null() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for i in 0.. {
            let (mut name, mut value, mut size) = (ptr::null(), ptr::null(), 0usize);
            // SAFETY: valid out pointers; name and value are owned by the message.
            let err =
                unsafe { rd::rd_kafka_header_get_all(hdrs, i, &mut name, &mut value, &mut size) };
            if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                break;
            }
            // SAFETY: a NUL-terminated name owned by the message.
            let name = unsafe { CStr::from_ptr(name) }
                .to_str()
                .unwrap_or("\u{FFFD}");
            out.push((name, bytes(value.cast_mut(), size)));
        }
        out
    }
}

/// A (pointer, length) pair of a message as a slice; NULL is `None`.
fn bytes<'a>(p: *mut std::ffi::c_void, len: usize) -> Option<&'a [u8]> {
    // SAFETY: librdkafka's pointer and length of a buffer owned by a live message.
    (!p.is_null()).then(|| unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) })
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR__PARTITION_EOF;
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::mocking::MockCluster;
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    use rdkafka::{ClientConfig, Message, Offset};

    use super::*;

    type Row = (
        i64,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Vec<(String, Option<Vec<u8>>)>,
    );

    /// Three messages (one with a NULL key, headers with a NULL value) on librdkafka's mock
    /// cluster, read through the batch queue until the end of the partition.
    #[test]
    fn batches_carry_keys_payloads_headers_then_the_partition_end() {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("t", 1, 1).unwrap();
        let servers = mock.bootstrap_servers();
        let producer: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", &servers)
            .create()
            .unwrap();
        for i in 0..3 {
            let payload = format!("m{i}");
            let headers = OwnedHeaders::new()
                .insert(Header {
                    key: "h",
                    value: Some("v"),
                })
                .insert::<str>(Header {
                    key: "n",
                    value: None,
                });
            let mut rec = BaseRecord::<str, str>::to("t")
                .payload(&payload)
                .headers(headers);
            if i > 0 {
                rec = rec.key("k");
            }
            producer.send(rec).map_err(|(e, _)| e).unwrap();
        }
        producer.flush(Duration::from_secs(30)).unwrap();

        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &servers)
            .set("group.id", "g")
            .set("enable.partition.eof", "true")
            .create()
            .unwrap();
        let router = Router::default();
        let mut batch = Batch::new(&consumer, &router);
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset("t", 0, Offset::Beginning).unwrap();
        router.route(&consumer, &tpl);
        consumer.assign(&tpl).unwrap();

        let mut got: Vec<Row> = Vec::new();
        let start = Instant::now();
        'read: loop {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no end after {got:?}"
            );
            if let Some(Ok(m)) = consumer.poll(Duration::ZERO) {
                panic!("offset {} bypassed the batch queue", m.offset());
            }
            for m in batch.fill(100, Duration::from_millis(200)) {
                match m.error() {
                    None => {
                        let v = m.view();
                        assert_eq!((v.topic, v.partition), ("t", 0));
                        assert!(v.ts.is_some());
                        let h = v
                            .headers
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.map(<[u8]>::to_vec)));
                        got.push((
                            v.offset,
                            v.key.map(<[u8]>::to_vec),
                            v.payload.map(<[u8]>::to_vec),
                            h.collect(),
                        ));
                    }
                    Some(RD_KAFKA_RESP_ERR__PARTITION_EOF) => break 'read,
                    Some(e) => panic!("{e:?}: {}", m.error_text()),
                }
            }
        }
        let headers = vec![
            ("h".to_string(), Some(b"v".to_vec())),
            ("n".to_string(), None),
        ];
        let want: Vec<Row> = (0..3)
            .map(|i| {
                let key = (i > 0).then(|| b"k".to_vec());
                (i, key, Some(format!("m{i}").into_bytes()), headers.clone())
            })
            .collect();
        assert_eq!(got, want);
    }
}
