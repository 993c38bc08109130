//! kcat's `-J` envelope: written by `kcat-lite -C -J` byte for byte as kcat does for text
//! (always valid UTF-8), and read by `kcat-lite -P -J` and `pq-write --envelope kcat`.
//!
//! `{"topic":"t","partition":0,"offset":0,"tstype":"create","ts":1,"broker":1,
//!   "headers":["h1","v1","hnull",null],"key":null,"payload":"..."}`
//! `tstype`/`ts` only when the message has a timestamp; `headers` only when it has some.
//! A key or payload is a JSON string (its bytes, or base64 with [`Binary::Base64`]), an
//! embedded one-line object or array (`--payload-json`), or `null`.

use std::borrow::Cow;

use base64::Engine;
use serde::Deserialize;
use serde_json::value::RawValue;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// How binary (non-UTF-8) keys and payloads are written in `-J` output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Binary {
    /// Text as is; bytes that are not UTF-8 become U+FFFD (counted in a warning).
    Replace,
    /// Every key and payload is base64 (standard alphabet, padded).
    Base64,
}

/// How a message's timestamp was set (kcat's `tstype`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsType {
    Create,
    LogAppend,
}

/// One Kafka message, borrowed from the client (also built by hand in tests).
pub struct Message<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub ts: Option<(TsType, i64)>,
    pub broker: i32,
    /// Name and value (None for a NULL value), in the order they arrived.
    pub headers: Vec<(&'a str, Option<&'a [u8]>)>,
    pub key: Option<&'a [u8]>,
    pub payload: Option<&'a [u8]>,
}

impl Message<'static> {
    /// A message with every field set, headers with a NULL and a repeated name: the one
    /// the tests of the envelope and of kcat-lite's `-f` format write.
    pub fn example() -> Message<'static> {
        Message {
            topic: "t3",
            partition: 1,
            offset: 7,
            ts: Some((TsType::Create, 1795594102028)),
            broker: 1,
            headers: vec![("h1", Some(b"v1")), ("hnull", None), ("h1", Some(b"dup"))],
            key: Some(b"k1"),
            payload: Some(b"hello"),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct WriteOpts {
    pub binary: Binary,
    /// Embed a payload that is a one-line JSON object or array as JSON.
    pub payload_json: bool,
}

/// What the writer had to change, for the closing warning.
#[derive(Default, Debug)]
pub struct Stats {
    /// Messages whose key, payload or a header had bytes that are not UTF-8.
    pub lossy: u64,
}

/// Append one envelope (without the trailing delimiter) to `out`.
pub fn write(m: &Message, o: &WriteOpts, out: &mut Vec<u8>, stats: &mut Stats) {
    let mut lossy = false;
    let mut n = itoa::Buffer::new();
    out.extend_from_slice(b"{\"topic\":");
    string(m.topic, out);
    out.extend_from_slice(b",\"partition\":");
    out.extend_from_slice(n.format(m.partition).as_bytes());
    out.extend_from_slice(b",\"offset\":");
    out.extend_from_slice(n.format(m.offset).as_bytes());
    if let Some((tstype, ts)) = m.ts {
        out.extend_from_slice(match tstype {
            TsType::Create => b",\"tstype\":\"create\",\"ts\":".as_slice(),
            TsType::LogAppend => b",\"tstype\":\"logappend\",\"ts\":".as_slice(),
        });
        out.extend_from_slice(n.format(ts).as_bytes());
    }
    out.extend_from_slice(b",\"broker\":");
    out.extend_from_slice(n.format(m.broker).as_bytes());
    if !m.headers.is_empty() {
        out.extend_from_slice(b",\"headers\":[");
        for (i, (name, value)) in m.headers.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string(name, out);
            out.push(b',');
            match value {
                Some(v) => lossy |= text(v, out),
                None => out.extend_from_slice(b"null"),
            }
        }
        out.push(b']');
    }
    out.extend_from_slice(b",\"key\":");
    lossy |= bytes(m.key, o.binary, false, out);
    out.extend_from_slice(b",\"payload\":");
    lossy |= bytes(m.payload, o.binary, o.payload_json, out);
    out.push(b'}');
    stats.lossy += lossy as u64;
}

/// A key or payload; returns true when bytes had to be replaced.
fn bytes(b: Option<&[u8]>, binary: Binary, embed_json: bool, out: &mut Vec<u8>) -> bool {
    let Some(b) = b else {
        out.extend_from_slice(b"null");
        return false;
    };
    if embed_json && is_embeddable_json(b) {
        out.extend_from_slice(b);
        return false;
    }
    match binary {
        Binary::Base64 => {
            out.push(b'"');
            let start = out.len();
            out.resize(start + base64::encoded_len(b.len(), true).unwrap_or(0), 0);
            let n = B64.encode_slice(b, &mut out[start..]).unwrap_or(0);
            out.truncate(start + n);
            out.push(b'"');
            false
        }
        Binary::Replace => text(b, out),
    }
}

/// An object or array on one line: embedding it keeps the envelope one line and the
/// payload distinguishable from a JSON string payload.
fn is_embeddable_json(b: &[u8]) -> bool {
    matches!(b.first(), Some(b'{') | Some(b'['))
        && !b.contains(&b'\n')
        && !b.contains(&b'\r')
        && serde_json::from_slice::<serde::de::IgnoredAny>(b).is_ok()
}

/// Bytes as a JSON string, invalid UTF-8 replaced by U+FFFD; true when replaced.
fn text(b: &[u8], out: &mut Vec<u8>) -> bool {
    let s = String::from_utf8_lossy(b);
    string(&s, out);
    matches!(s, Cow::Owned(_))
}

/// A JSON string escaped as kcat's yajl does.
pub fn string(s: &str, out: &mut Vec<u8>) {
    crate::text::push_json_str(out, s.as_bytes(), crate::text::JsonEscape::YAJL)
}

/// One envelope line as read: fields are borrowed and decoded only when asked for, so
/// a reader that needs only the payload (pq-write) pays for nothing else.
#[derive(Deserialize)]
pub struct Envelope<'a> {
    #[serde(borrow)]
    pub topic: Option<Cow<'a, str>>,
    pub partition: Option<i32>,
    pub offset: Option<i64>,
    pub ts: Option<i64>,
    #[serde(borrow)]
    headers: Option<&'a RawValue>,
    #[serde(borrow)]
    key: Option<&'a RawValue>,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

/// Headers as read: name and value (None for a NULL value), in order.
pub type Headers = Vec<(String, Option<Vec<u8>>)>;

impl<'a> Envelope<'a> {
    /// Parse one line (an error names what is wrong, for a bad-line report).
    pub fn parse(line: &'a [u8]) -> Result<Self, String> {
        serde_json::from_slice(line).map_err(|e| format!("not a kcat -J envelope: {e}"))
    }

    /// True when topic, partition and offset are all there (a Kafka message's identity).
    pub fn has_offset(&self) -> bool {
        self.topic.is_some() && self.partition.is_some() && self.offset.is_some()
    }

    /// The headers, from kcat's flat `[name, value, ...]` array.
    pub fn headers(&self) -> Result<Headers, String> {
        let Some(raw) = self.headers else {
            return Ok(Vec::new());
        };
        let flat: Option<Vec<Option<Cow<str>>>> =
            serde_json::from_str(raw.get()).map_err(|e| format!("headers: {e}"))?;
        let flat = flat.unwrap_or_default();
        if !flat.len().is_multiple_of(2) {
            return Err("headers must be a flat [name, value, ...] array".into());
        }
        flat.chunks(2)
            .map(|pair| {
                let name = pair[0].as_deref().ok_or("a header name is null")?;
                let value = pair[1].as_deref().map(|v| v.as_bytes().to_vec());
                Ok((name.to_string(), value))
            })
            .collect()
    }

    /// The key's bytes (None for null or absent).
    pub fn key(&self, binary: Binary) -> Result<Option<Cow<'a, [u8]>>, String> {
        value(self.key, binary).map_err(|e| format!("key: {e}"))
    }

    /// The payload's bytes (None for null or absent); an embedded object is its JSON text.
    pub fn payload(&self, binary: Binary) -> Result<Option<Cow<'a, [u8]>>, String> {
        value(self.payload, binary).map_err(|e| format!("payload: {e}"))
    }

    /// The payload as a row's JSON text: a tombstone or a missing payload has no row.
    pub fn row(&self) -> Result<Cow<'a, [u8]>, String> {
        // serde reads `null` as absent, so both get one message.
        self.payload(Binary::Replace)?
            .ok_or_else(|| "payload is null or missing (a tombstone has no row)".into())
    }
}

/// What `kcat-lite -P -J` sends: an envelope with its key, payload and headers decoded.
pub struct Record<'a> {
    pub topic: Option<Cow<'a, str>>,
    pub partition: Option<i32>,
    pub headers: Headers,
    pub key: Option<Cow<'a, [u8]>>,
    pub payload: Option<Cow<'a, [u8]>>,
}

/// Read one envelope line for producing.
pub fn read_record(line: &[u8], binary: Binary) -> Result<Record<'_>, String> {
    let e = Envelope::parse(line)?;
    Ok(Record {
        headers: e.headers()?,
        key: e.key(binary)?,
        payload: e.payload(binary)?,
        topic: e.topic,
        partition: e.partition,
    })
}

/// A string's bytes (base64-decoded with `Binary::Base64`), or embedded JSON as its text.
fn value<'a>(v: Option<&'a RawValue>, binary: Binary) -> Result<Option<Cow<'a, [u8]>>, String> {
    let raw = match v.map(RawValue::get) {
        None | Some("null") => return Ok(None),
        Some(raw) => raw,
    };
    if !raw.starts_with('"') {
        return Ok(Some(Cow::Borrowed(raw.as_bytes())));
    }
    let s: String = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    match binary {
        Binary::Base64 => B64
            .decode(s.as_bytes())
            .map(|b| Some(Cow::Owned(b)))
            .map_err(|e| format!("not base64: {e}")),
        Binary::Replace => Ok(Some(Cow::Owned(s.into_bytes()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(m: &Message, binary: Binary, payload_json: bool) -> (String, u64) {
        let mut out = Vec::new();
        let mut st = Stats::default();
        let opts = WriteOpts {
            binary,
            payload_json,
        };
        write(m, &opts, &mut out, &mut st);
        (String::from_utf8(out).expect("valid UTF-8"), st.lossy)
    }

    fn bytes_of(v: Result<Option<Cow<[u8]>>, String>) -> Option<Vec<u8>> {
        v.unwrap().map(Cow::into_owned)
    }

    #[test]
    fn envelope_matches_kcat_byte_for_byte() {
        let mut m = Message::example();
        m.offset = 0;
        m.key = None;
        m.payload = Some(br#"{"a":1}"#);
        m.headers = vec![("h1", Some(b"v1")), ("hnull", None), ("h1", Some(b"dup"))];
        // The line kcat 1.7.1 printed for the same message (run against a 3-partition topic).
        let kcat = r#"{"topic":"t3","partition":1,"offset":0,"tstype":"create","ts":1795594102028,"broker":1,"headers":["h1","v1","hnull",null,"h1","dup"],"key":null,"payload":"{\"a\":1}"}"#;
        assert_eq!(enc(&m, Binary::Replace, false).0, kcat);
        m.ts = None;
        m.headers.clear();
        assert_eq!(
            enc(&m, Binary::Replace, false).0,
            r#"{"topic":"t3","partition":1,"offset":0,"broker":1,"key":null,"payload":"{\"a\":1}"}"#
        );
    }

    #[test]
    fn escapes_like_yajl() {
        let mut out = Vec::new();
        string(
            "k1\u{1}/é\"\\\t\u{7f}\u{1f}\u{8}\u{c}\r\n\u{2028}",
            &mut out,
        );
        assert_eq!(
            out,
            "\"k1\\u0001/é\\\"\\\\\\t\u{7f}\\u001F\\b\\f\\r\\n\u{2028}\"".as_bytes()
        );
    }

    #[test]
    fn binary_is_replaced_or_base64_never_raw() {
        let mut m = Message::example();
        m.payload = Some(b"a\xffb");
        let (line, lossy) = enc(&m, Binary::Replace, false);
        assert!(line.ends_with("\"payload\":\"a\u{fffd}b\"}"));
        assert_eq!(lossy, 1);
        let (line, lossy) = enc(&m, Binary::Base64, false);
        assert!(
            line.ends_with(r#""key":"azE=","payload":"Yf9i"}"#),
            "{line}"
        );
        assert_eq!(lossy, 0);
        let e = Envelope::parse(line.as_bytes()).unwrap();
        assert_eq!(
            bytes_of(e.payload(Binary::Base64)),
            Some(b"a\xffb".to_vec())
        );
        assert_eq!(bytes_of(e.key(Binary::Base64)), Some(b"k1".to_vec()));
    }

    #[test]
    fn payload_json_embeds_objects_only() {
        let mut m = Message::example();
        m.payload = Some(br#"{"a":[1,2]}"#);
        assert!(enc(&m, Binary::Replace, true)
            .0
            .ends_with(r#""payload":{"a":[1,2]}}"#));
        for p in [&b"\"str\""[..], b"12", b"{bad", b"{\n}"] {
            m.payload = Some(p);
            let line = enc(&m, Binary::Replace, true).0;
            let back = Envelope::parse(line.as_bytes()).unwrap();
            assert_eq!(
                bytes_of(back.payload(Binary::Replace)),
                Some(p.to_vec()),
                "{line}"
            );
        }
    }

    #[test]
    fn read_gives_back_what_write_wrote() {
        let m = Message::example();
        let line = enc(&m, Binary::Replace, true).0;
        let e = Envelope::parse(line.as_bytes()).unwrap();
        assert_eq!(e.topic.as_deref(), Some("t3"));
        assert_eq!(
            (e.partition, e.offset, e.ts),
            (Some(1), Some(7), Some(1795594102028))
        );
        assert_eq!(
            e.headers().unwrap(),
            vec![
                ("h1".into(), Some(b"v1".to_vec())),
                ("hnull".into(), None),
                ("h1".into(), Some(b"dup".to_vec()))
            ]
        );
        assert_eq!(bytes_of(e.key(Binary::Replace)), Some(b"k1".to_vec()));
        assert_eq!(
            bytes_of(e.payload(Binary::Replace)),
            Some(b"hello".to_vec())
        );
        assert!(read_record(b"{\"headers\":[\"a\"]}", Binary::Replace).is_err());
        assert!(read_record(b"{\"headers\":[null,\"v\"]}", Binary::Replace).is_err());
        assert!(read_record(b"nope", Binary::Replace).is_err());
        let r = read_record(line.as_bytes(), Binary::Replace).unwrap();
        assert_eq!((r.topic.as_deref(), r.partition), (Some("t3"), Some(1)));
        assert_eq!(r.headers.len(), 3);
    }

    #[test]
    fn row_is_the_payload_string_or_the_embedded_object() {
        let line = br#"{"topic":"t","partition":1,"offset":5,"tstype":"create","ts":1700000000000,"broker":1,"key":null,"payload":"{\"a\":1}"}"#;
        let e = Envelope::parse(line).unwrap();
        assert_eq!(&*e.row().unwrap(), br#"{"a":1}"#);
        assert!(e.headers().unwrap().is_empty());
        let embedded = br#"{"topic":"t","partition":0,"offset":0,"payload":{"a":2}}"#;
        let e = Envelope::parse(embedded).unwrap();
        assert!(matches!(e.row().unwrap(), Cow::Borrowed(b) if b == br#"{"a":2}"#));
        let tombstone = Envelope::parse(br#"{"topic":"t","payload":null}"#).unwrap();
        assert!(tombstone.row().unwrap_err().contains("tombstone"));
        assert_eq!(tombstone.payload(Binary::Replace).unwrap(), None);
        let none = Envelope::parse(br#"{"topic":"t"}"#).unwrap();
        assert!(none.row().unwrap_err().contains("missing"));
    }
}
