//! Consumed messages as bytes: kcat's `-f` tokens, the default `-K`/`-D` layout, `-J`.

use std::io::{self, Write};

use lakepipe::envelope::{self, Message, WriteOpts};

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Lit(Vec<u8>),
    Payload,
    PayloadSize,
    PayloadLenBe,
    Key,
    KeySize,
    Topic,
    Partition,
    Offset,
    Ts,
    TsIso,
    Headers,
}

/// A parsed output layout, built once and applied to every message.
pub struct Formatter {
    toks: Vec<Tok>,
    json: Option<WriteOpts>,
    null_as_null: bool,
    /// Reused for each -J line, so formatting allocates nothing per message.
    scratch: Vec<u8>,
}

impl Formatter {
    /// A `-f` format string with kcat's tokens.
    pub fn from_format(fmt: &str, null_as_null: bool) -> Result<Self, String> {
        Ok(Formatter {
            toks: parse(fmt)?,
            json: None,
            null_as_null,
            scratch: Vec::new(),
        })
    }

    /// kcat's default: `%s` then the message delimiter, or `%k<K>%s<D>` with `-K`.
    pub fn default_layout(key_delim: Option<&str>, delim: &str, null_as_null: bool) -> Self {
        let mut toks = Vec::new();
        if let Some(k) = key_delim {
            toks.push(Tok::Key);
            toks.push(Tok::Lit(unescape(k)));
        }
        toks.push(Tok::Payload);
        toks.push(Tok::Lit(unescape(delim)));
        Formatter {
            toks,
            json: None,
            null_as_null,
            scratch: Vec::new(),
        }
    }

    /// The `-J` envelope, one per line (or per `-D` delimiter).
    pub fn json(opts: WriteOpts, delim: &str) -> Self {
        Formatter {
            toks: vec![Tok::Lit(unescape(delim))],
            json: Some(opts),
            null_as_null: false,
            scratch: Vec::with_capacity(4096),
        }
    }

    /// Append one formatted message to `out`.
    pub fn write(
        &mut self,
        m: &Message,
        out: &mut impl Write,
        stats: &mut envelope::Stats,
    ) -> io::Result<()> {
        if let Some(opts) = &self.json {
            self.scratch.clear();
            envelope::write(m, opts, &mut self.scratch, stats);
            out.write_all(&self.scratch)?;
        }
        let mut n = itoa::Buffer::new();
        for t in &self.toks {
            match t {
                Tok::Lit(b) => out.write_all(b)?,
                Tok::Payload => self.bytes(m.payload, out)?,
                Tok::Key => self.bytes(m.key, out)?,
                Tok::PayloadSize => out.write_all(
                    n.format(m.payload.map_or(-1, |p| p.len() as i64))
                        .as_bytes(),
                )?,
                Tok::KeySize => {
                    out.write_all(n.format(m.key.map_or(-1, |k| k.len() as i64)).as_bytes())?
                }
                Tok::PayloadLenBe => {
                    out.write_all(&(m.payload.map_or(-1, |p| p.len() as i32)).to_be_bytes())?
                }
                Tok::Topic => out.write_all(m.topic.as_bytes())?,
                Tok::Partition => out.write_all(n.format(m.partition).as_bytes())?,
                Tok::Offset => out.write_all(n.format(m.offset).as_bytes())?,
                Tok::Ts => out.write_all(n.format(m.ts.map_or(-1, |t| t.1)).as_bytes())?,
                Tok::TsIso => {
                    if let Some((_, ms)) = m.ts {
                        out.write_all(iso8601(ms).as_bytes())?;
                    }
                }
                Tok::Headers => {
                    for (i, (name, value)) in m.headers.iter().enumerate() {
                        if i > 0 {
                            out.write_all(b",")?;
                        }
                        out.write_all(name.as_bytes())?;
                        out.write_all(b"=")?;
                        out.write_all(value.unwrap_or(b"NULL"))?;
                    }
                }
            }
        }
        Ok(())
    }

    fn bytes(&self, b: Option<&[u8]>, out: &mut impl Write) -> io::Result<()> {
        match b {
            Some(b) => out.write_all(b),
            None if self.null_as_null => out.write_all(b"NULL"),
            None => Ok(()),
        }
    }
}

/// Milliseconds since the epoch as ISO-8601 UTC with milliseconds (`%I`).
pub fn iso8601(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => ms.to_string(),
    }
}

/// Backslash escapes as kcat reads them in -f, -K and -D: \n \t \r \\ (others kept).
pub fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut it = s.bytes();
    while let Some(b) = it.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match it.next() {
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(b'r') => out.push(b'\r'),
            Some(b'0') => out.push(0),
            Some(b'\\') => out.push(b'\\'),
            Some(c) => out.extend_from_slice(&[b'\\', c]),
            None => out.push(b'\\'),
        }
    }
    out
}

fn parse(fmt: &str) -> Result<Vec<Tok>, String> {
    let raw = unescape(fmt);
    let mut toks = Vec::new();
    let mut lit = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'%' {
            lit.push(raw[i]);
            i += 1;
            continue;
        }
        let c = *raw.get(i + 1).ok_or("-f: format ends with a lone %")?;
        i += 2;
        let tok = match c {
            b'%' => {
                lit.push(b'%');
                continue;
            }
            b's' => Tok::Payload,
            b'S' => Tok::PayloadSize,
            b'R' => Tok::PayloadLenBe,
            b'k' => Tok::Key,
            b'K' => Tok::KeySize,
            b't' => Tok::Topic,
            b'p' => Tok::Partition,
            b'o' => Tok::Offset,
            b'T' => Tok::Ts,
            b'I' => Tok::TsIso,
            b'h' => Tok::Headers,
            other => return Err(format!("-f: unknown token %{}", other as char)),
        };
        if !lit.is_empty() {
            toks.push(Tok::Lit(std::mem::take(&mut lit)));
        }
        toks.push(tok);
    }
    if !lit.is_empty() {
        toks.push(Tok::Lit(lit));
    }
    Ok(toks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(f: &mut Formatter, m: &Message) -> Vec<u8> {
        let mut out = Vec::new();
        f.write(m, &mut out, &mut Default::default()).unwrap();
        out
    }

    #[test]
    fn every_token_formats_as_kcat() {
        let mut f =
            Formatter::from_format("%s|%S|%k|%K|%t|%p|%o|%T|%h|%I|100%%\\t\\n", false).unwrap();
        assert_eq!(
            render(&mut f, &Message::example()),
            b"hello|5|k1|2|t3|1|7|1795594102028|h1=v1,hnull=NULL,h1=dup|2026-11-25T08:08:22.028Z|100%\t\n"
        );
    }

    #[test]
    fn nulls_and_missing_values_as_kcat() {
        let mut m = Message::example();
        m.key = None;
        m.payload = None;
        m.ts = None;
        m.headers.clear();
        let mut f = Formatter::from_format("%s|%S|%k|%K|%T|%h|%I|%R\n", false).unwrap();
        assert_eq!(render(&mut f, &m), b"|-1||-1|-1|||\xff\xff\xff\xff\n");
        let mut z = Formatter::from_format("%k %s\n", true).unwrap();
        assert_eq!(render(&mut z, &m), b"NULL NULL\n");
    }

    #[test]
    fn default_layout_uses_key_and_message_delimiters() {
        let mut f = Formatter::default_layout(Some("|"), "\\n", false);
        assert_eq!(render(&mut f, &Message::example()), b"k1|hello\n");
        let mut f = Formatter::default_layout(None, ";", false);
        assert_eq!(render(&mut f, &Message::example()), b"hello;");
    }

    #[test]
    fn bad_tokens_are_errors() {
        assert!(Formatter::from_format("%x", false).is_err());
        assert!(Formatter::from_format("abc%", false).is_err());
    }
}
