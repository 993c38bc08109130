//! kcat's `-J` envelope: written byte for byte as kcat does for text, always valid UTF-8,
//! and read back by `-P -J` (and by `pq-write --envelope kcat`).
//!
//! `{"topic":"t","partition":0,"offset":0,"tstype":"create","ts":1,"broker":1,
//!   "headers":["h1","v1","hnull",null],"key":null,"payload":"..."}`
//! `tstype`/`ts` only when the message has a timestamp; `headers` only when it has some.

use std::borrow::Cow;

use base64::Engine;
use lakepipe::text::{self, JsonEscape};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::format::{Msg, TsType};
use crate::Binary;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Clone, Copy, Debug)]
pub struct JsonOpts {
    pub binary: Binary,
    pub payload_json: bool,
}

/// What the encoder had to change, for the closing warning.
#[derive(Default, Debug)]
pub struct Stats {
    /// Messages whose key, payload or a header had bytes that are not UTF-8.
    pub lossy: u64,
}

/// Append one envelope (without the trailing delimiter) to `out`.
pub fn write_json(m: &Msg, o: &JsonOpts, out: &mut Vec<u8>, stats: &mut Stats) {
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
    text::push_json_str(out, s.as_bytes(), JsonEscape::YAJL)
}

/// One envelope read by `-P -J`.
pub struct Record {
    pub topic: Option<String>,
    pub partition: Option<i32>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    pub key: Option<Vec<u8>>,
    pub payload: Option<Vec<u8>>,
}

#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(borrow)]
    topic: Option<Cow<'a, str>>,
    partition: Option<i32>,
    #[serde(borrow)]
    headers: Option<Vec<Option<Cow<'a, str>>>>,
    #[serde(borrow)]
    key: Option<&'a RawValue>,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

/// Parse an envelope line. Strings are the bytes (base64-decoded with `--binary base64`);
/// an embedded object or array (`--payload-json`) is its JSON text.
pub fn parse(line: &[u8], binary: Binary) -> Result<Record, String> {
    let w: Wire =
        serde_json::from_slice(line).map_err(|e| format!("not a kcat -J envelope: {e}"))?;
    let mut headers = Vec::new();
    if let Some(h) = w.headers {
        if h.len() % 2 != 0 {
            return Err("headers must be a flat [name, value, ...] array".into());
        }
        let mut it = h.into_iter();
        while let (Some(name), Some(value)) = (it.next(), it.next()) {
            let name = name.ok_or("a header name is null")?;
            headers.push((
                name.into_owned(),
                value.map(|v| v.into_owned().into_bytes()),
            ));
        }
    }
    Ok(Record {
        topic: w.topic.map(Cow::into_owned),
        partition: w.partition,
        headers,
        key: value(w.key, binary).map_err(|e| format!("key: {e}"))?,
        payload: value(w.payload, binary).map_err(|e| format!("payload: {e}"))?,
    })
}

fn value(v: Option<&RawValue>, binary: Binary) -> Result<Option<Vec<u8>>, String> {
    let Some(raw) = v.map(RawValue::get) else {
        return Ok(None);
    };
    if raw == "null" {
        return Ok(None);
    }
    if !raw.starts_with('"') {
        return Ok(Some(raw.as_bytes().to_vec()));
    }
    let s: String = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    match binary {
        Binary::Base64 => B64
            .decode(s.as_bytes())
            .map(Some)
            .map_err(|e| format!("not base64: {e}")),
        Binary::Replace => Ok(Some(s.into_bytes())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::tests::sample;

    fn enc(m: &Msg, binary: Binary, payload_json: bool) -> (String, u64) {
        let mut out = Vec::new();
        let mut st = Stats::default();
        write_json(
            m,
            &JsonOpts {
                binary,
                payload_json,
            },
            &mut out,
            &mut st,
        );
        (String::from_utf8(out).expect("valid UTF-8"), st.lossy)
    }

    #[test]
    fn envelope_matches_kcat_byte_for_byte() {
        let mut m = sample();
        m.offset = 0;
        m.key = None;
        m.payload = Some(br#"{"a":1}"#);
        m.headers = vec![("h1", Some(b"v1")), ("hnull", None), ("h1", Some(b"dup"))];
        // The line kcat 1.7.1 printed for the same message (shared/FACTS.md).
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
        let mut m = sample();
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
        let r = parse(line.as_bytes(), Binary::Base64).unwrap();
        assert_eq!(r.payload.as_deref(), Some(&b"a\xffb"[..]));
        assert_eq!(r.key.as_deref(), Some(&b"k1"[..]));
    }

    #[test]
    fn payload_json_embeds_objects_only() {
        let mut m = sample();
        m.payload = Some(br#"{"a":[1,2]}"#);
        assert!(enc(&m, Binary::Replace, true)
            .0
            .ends_with(r#""payload":{"a":[1,2]}}"#));
        for p in [&b"\"str\""[..], b"12", b"{bad", b"{\n}"] {
            m.payload = Some(p);
            let line = enc(&m, Binary::Replace, true).0;
            let back = parse(line.as_bytes(), Binary::Replace).unwrap();
            assert_eq!(back.payload.as_deref(), Some(p), "{line}");
        }
    }

    #[test]
    fn parse_reads_what_write_wrote() {
        let m = sample();
        let line = enc(&m, Binary::Replace, true).0;
        let r = parse(line.as_bytes(), Binary::Replace).unwrap();
        assert_eq!(r.topic.as_deref(), Some("t3"));
        assert_eq!(r.partition, Some(1));
        assert_eq!(
            r.headers,
            vec![
                ("h1".into(), Some(b"v1".to_vec())),
                ("hnull".into(), None),
                ("h1".into(), Some(b"dup".to_vec()))
            ]
        );
        assert_eq!(r.key.as_deref(), Some(&b"k1"[..]));
        assert_eq!(r.payload.as_deref(), Some(&b"hello"[..]));
        assert!(parse(b"{\"headers\":[\"a\"]}", Binary::Replace).is_err());
        assert!(parse(b"nope", Binary::Replace).is_err());
    }
}
