//! A small Hive metastore client: the thrift binary protocol over a plain socket, as
//! Hive's own `HiveMetaStoreClient` speaks to a metastore without SASL. Only the calls
//! hive-ddl needs; values are generic thrift values, so a table read from the server and
//! sent back (`alter_table`) keeps every field, including ones this client does not know.

use std::io::{BufReader, BufWriter, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::retry::{self, Service};

#[derive(Debug, thiserror::Error)]
pub enum MetastoreError {
    #[error("{0}: not a metastore URI (want thrift://host:port)")]
    Uri(String),
    // the io error is part of the message, not a `source` (it would print twice)
    #[error("{uri}: cannot connect to the Hive metastore: {error}")]
    Connect { uri: String, error: std::io::Error },
    #[error("{uri}: {call}: {error} (is it a Hive metastore? --timeout bounds each call)")]
    Io {
        uri: String,
        call: String,
        error: std::io::Error,
    },
    #[error("{uri}: {call}: {message}")]
    Remote {
        uri: String,
        call: String,
        /// The result field of the exception (the call's `throws` order), 0 for a
        /// protocol-level error.
        field: i16,
        message: String,
    },
    #[error("{uri}: {call}: bad reply: {0}", uri = .1, call = .2)]
    Protocol(String, String, String),
}

type Result<T> = std::result::Result<T, MetastoreError>;

impl MetastoreError {
    /// A metastore restarting or unreachable (refused, reset, timed out): a stream
    /// waits it out. Its own answers (exceptions, bad replies) are never transient.
    pub fn is_transient(&self) -> bool {
        match self {
            MetastoreError::Connect { .. } => true,
            MetastoreError::Io { error, .. } => crate::retry::is_transient_io(error),
            _ => false,
        }
    }
}

/// Thrift type ids (the compact table of the binary protocol's `TType`).
mod ty {
    macro_rules! ids {
        ($($name:ident = $id:literal),*) => { $(pub const $name: u8 = $id;)* };
    }
    ids!(
        STOP = 0,
        BOOL = 2,
        BYTE = 3,
        DOUBLE = 4,
        I16 = 6,
        I32 = 8,
        I64 = 10,
        STRING = 11,
        STRUCT = 12,
        MAP = 13,
        SET = 14,
        LIST = 15
    );
}

/// A thrift value. Lists, sets and maps carry their element types so that an empty one
/// is written back as it was read.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Byte(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    Double(f64),
    Str(String),
    Struct(Vec<(i16, Value)>),
    List(u8, Vec<Value>),
    Set(u8, Vec<Value>),
    Map(u8, u8, Vec<(Value, Value)>),
}

impl Value {
    fn type_id(&self) -> u8 {
        match self {
            Value::Bool(_) => ty::BOOL,
            Value::Byte(_) => ty::BYTE,
            Value::I16(_) => ty::I16,
            Value::I32(_) => ty::I32,
            Value::I64(_) => ty::I64,
            Value::Double(_) => ty::DOUBLE,
            Value::Str(_) => ty::STRING,
            Value::Struct(_) => ty::STRUCT,
            Value::List(..) => ty::LIST,
            Value::Set(..) => ty::SET,
            Value::Map(..) => ty::MAP,
        }
    }

    /// A field of a struct.
    pub fn get(&self, id: i16) -> Option<&Value> {
        match self {
            Value::Struct(fields) => fields.iter().find(|(i, _)| *i == id).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Set (or add) a field of a struct.
    pub fn set(&mut self, id: i16, v: Value) {
        if let Value::Struct(fields) = self {
            match fields.iter_mut().find(|(i, _)| *i == id) {
                Some(slot) => slot.1 = v,
                None => fields.push((id, v)),
            }
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A list of strings (`list<string>` fields).
    pub fn strings(items: impl IntoIterator<Item = String>) -> Value {
        Value::List(ty::STRING, items.into_iter().map(Value::Str).collect())
    }

    /// A list of structs.
    pub fn structs(items: Vec<Value>) -> Value {
        Value::List(ty::STRUCT, items)
    }

    /// A `map<string,string>`.
    pub fn string_map<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
        Value::Map(
            ty::STRING,
            ty::STRING,
            items
                .into_iter()
                .map(|(k, v)| (Value::Str(k.into()), Value::Str(v.into())))
                .collect(),
        )
    }

    /// The items of a list or set.
    pub fn items(&self) -> &[Value] {
        match self {
            Value::List(_, v) | Value::Set(_, v) => v,
            _ => &[],
        }
    }

    /// The entries of a map.
    pub fn entries(&self) -> &[(Value, Value)] {
        match self {
            Value::Map(_, _, v) => v,
            _ => &[],
        }
    }
}

fn write_value(w: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Bool(b) => w.push(u8::from(*b)),
        Value::Byte(b) => w.push(*b as u8),
        Value::I16(n) => w.extend(n.to_be_bytes()),
        Value::I32(n) => w.extend(n.to_be_bytes()),
        Value::I64(n) => w.extend(n.to_be_bytes()),
        Value::Double(d) => w.extend(d.to_bits().to_be_bytes()),
        Value::Str(s) => {
            w.extend((s.len() as i32).to_be_bytes());
            w.extend(s.as_bytes());
        }
        Value::Struct(fields) => {
            for (id, f) in fields {
                w.push(f.type_id());
                w.extend(id.to_be_bytes());
                write_value(w, f);
            }
            w.push(ty::STOP);
        }
        Value::List(t, items) | Value::Set(t, items) => {
            w.push(*t);
            w.extend((items.len() as i32).to_be_bytes());
            items.iter().for_each(|i| write_value(w, i));
        }
        Value::Map(kt, vt, entries) => {
            w.extend([*kt, *vt]);
            w.extend((entries.len() as i32).to_be_bytes());
            for (k, v) in entries {
                write_value(w, k);
                write_value(w, v);
            }
        }
    }
}

/// Reads thrift values; errors are plain strings, given context by the caller.
struct Decoder<R: Read> {
    r: R,
}

type DecodeResult<T> = std::result::Result<T, DecodeError>;

enum DecodeError {
    Io(std::io::Error),
    Bad(String),
}

impl From<std::io::Error> for DecodeError {
    fn from(e: std::io::Error) -> Self {
        DecodeError::Io(e)
    }
}

impl<R: Read> Decoder<R> {
    fn bytes<const N: usize>(&mut self) -> DecodeResult<[u8; N]> {
        let mut b = [0; N];
        self.r.read_exact(&mut b)?;
        Ok(b)
    }
    fn len(&mut self) -> DecodeResult<usize> {
        let n = i32::from_be_bytes(self.bytes()?);
        // a metastore reply is far below this; anything bigger is not thrift
        usize::try_from(n)
            .ok()
            .filter(|n| *n < 256 << 20)
            .ok_or_else(|| DecodeError::Bad(format!("length {n}")))
    }
    fn string(&mut self) -> DecodeResult<String> {
        let n = self.len()?;
        let mut b = vec![0; n];
        self.r.read_exact(&mut b)?;
        String::from_utf8(b).map_err(|_| DecodeError::Bad("a string that is not UTF-8".into()))
    }
    fn value(&mut self, t: u8) -> DecodeResult<Value> {
        Ok(match t {
            ty::BOOL => Value::Bool(self.bytes::<1>()?[0] != 0),
            ty::BYTE => Value::Byte(self.bytes::<1>()?[0] as i8),
            ty::I16 => Value::I16(i16::from_be_bytes(self.bytes()?)),
            ty::I32 => Value::I32(i32::from_be_bytes(self.bytes()?)),
            ty::I64 => Value::I64(i64::from_be_bytes(self.bytes()?)),
            ty::DOUBLE => Value::Double(f64::from_bits(u64::from_be_bytes(self.bytes()?))),
            ty::STRING => Value::Str(self.string()?),
            ty::STRUCT => {
                let mut fields = Vec::new();
                loop {
                    let [ft] = self.bytes()?;
                    if ft == ty::STOP {
                        break;
                    }
                    let id = i16::from_be_bytes(self.bytes()?);
                    fields.push((id, self.value(ft)?));
                }
                Value::Struct(fields)
            }
            ty::LIST | ty::SET => {
                let [et] = self.bytes()?;
                let n = self.len()?;
                let items = (0..n)
                    .map(|_| self.value(et))
                    .collect::<DecodeResult<_>>()?;
                if t == ty::LIST {
                    Value::List(et, items)
                } else {
                    Value::Set(et, items)
                }
            }
            ty::MAP => {
                let [kt, vt] = self.bytes()?;
                let n = self.len()?;
                let entries = (0..n)
                    .map(|_| Ok((self.value(kt)?, self.value(vt)?)))
                    .collect::<DecodeResult<_>>()?;
                Value::Map(kt, vt, entries)
            }
            other => return Err(DecodeError::Bad(format!("unknown thrift type {other}"))),
        })
    }
}

const VERSION_1: u32 = 0x8001_0000;
const CALL: u32 = 1;
const REPLY: u32 = 2;
const EXCEPTION: u32 = 3;

/// A connection to one metastore. Every call is bounded by the timeout given to
/// [`Client::connect`].
pub struct Client {
    uri: String,
    service: Service,
    timeout: Duration,
    /// A call failed on the connection: the next one reconnects first.
    broken: bool,
    /// The connection has answered a call: if it fails now, the metastore most likely
    /// closed it (a restart while we were idle), which a new connection may cure.
    served: bool,
    reader: BufReader<TcpStream>,
    writer: BufWriter<TcpStream>,
    seq: i32,
}

impl Client {
    /// Connect to `thrift://host:port`; with `--retry-for` ([`crate::retry`]), a
    /// metastore that refuses or drops connections is waited for.
    pub fn connect(uri: &str, timeout: Duration) -> Result<Client> {
        let addr = uri
            .strip_prefix("thrift://")
            .map(|a| a.trim_end_matches('/'))
            .filter(|a| a.contains(':') && !a.contains('/'))
            .ok_or_else(|| MetastoreError::Uri(uri.into()))?;
        let service = Service::new("metastore", addr);
        retry::call(&service, MetastoreError::is_transient, || {
            Client::open(uri, addr, timeout)
        })
    }

    /// One connection attempt.
    fn open(uri: &str, addr: &str, timeout: Duration) -> Result<Client> {
        let connect_err = |error| MetastoreError::Connect {
            uri: uri.into(),
            error,
        };
        let addrs: Vec<_> = addr.to_socket_addrs().map_err(connect_err)?.collect();
        let mut last = std::io::Error::other("no address");
        for a in addrs {
            match TcpStream::connect_timeout(&a, timeout) {
                Ok(s) => {
                    s.set_read_timeout(Some(timeout)).map_err(connect_err)?;
                    s.set_write_timeout(Some(timeout)).map_err(connect_err)?;
                    s.set_nodelay(true).ok();
                    let w = s.try_clone().map_err(connect_err)?;
                    return Ok(Client {
                        uri: uri.into(),
                        service: Service::new("metastore", addr),
                        timeout,
                        broken: false,
                        served: false,
                        reader: BufReader::new(s),
                        writer: BufWriter::new(w),
                        seq: 0,
                    });
                }
                Err(e) => last = e,
            }
        }
        Err(connect_err(last))
    }

    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Call `name` with `args` (field id, value); the result's success value (None for a
    /// void call), or the exception it threw. With `--retry-for`, a connection that
    /// fails (a metastore restarting) is opened again and the call made again; a call
    /// that creates something may then meet what its first try created (the caller
    /// treats "already exists" as done).
    pub fn call(&mut self, name: &str, args: Vec<(i16, Value)>) -> Result<Option<Value>> {
        let args = Value::Struct(args);
        if self.served && !retry::retry_for().is_zero() {
            // One quiet try on a new connection before an outage is declared: a
            // metastore that restarted while we were idle is up, and warrants no warning.
            match self.call_tracked(name, &args) {
                Err(MetastoreError::Io { .. }) => {}
                r => return r,
            }
        }
        let service = self.service.clone();
        retry::call(&service, MetastoreError::is_transient, || {
            self.call_tracked(name, &args)
        })
    }

    /// One call, on a new connection if the last one failed.
    fn call_tracked(&mut self, name: &str, args: &Value) -> Result<Option<Value>> {
        if self.broken {
            let addr = self.service.address.clone();
            *self = Client::open(&self.uri.clone(), &addr, self.timeout)?;
        }
        let r = self.call_once(name, args);
        match r {
            Err(MetastoreError::Io { .. }) => self.broken = true,
            _ => self.served = true,
        }
        r
    }

    fn call_once(&mut self, name: &str, args: &Value) -> Result<Option<Value>> {
        self.seq += 1;
        let mut buf = Vec::new();
        buf.extend((VERSION_1 | CALL).to_be_bytes());
        write_value(&mut buf, &Value::Str(name.into()));
        buf.extend(self.seq.to_be_bytes());
        write_value(&mut buf, args);
        let io = |error| MetastoreError::Io {
            uri: self.uri.clone(),
            call: name.into(),
            error,
        };
        self.writer.write_all(&buf).map_err(io)?;
        self.writer.flush().map_err(io)?;
        let (kind, result) = self.read_reply().map_err(|e| match e {
            DecodeError::Io(error) => MetastoreError::Io {
                uri: self.uri.clone(),
                call: name.into(),
                error,
            },
            DecodeError::Bad(m) => MetastoreError::Protocol(m, self.uri.clone(), name.into()),
        })?;
        let remote = |field: i16, v: &Value| MetastoreError::Remote {
            uri: self.uri.clone(),
            call: name.into(),
            field,
            message: v
                .get(1)
                .and_then(Value::as_str)
                .unwrap_or("(no message)")
                .to_string(),
        };
        if kind == EXCEPTION {
            return Err(remote(0, &result));
        }
        let Value::Struct(fields) = result else {
            unreachable!("read_reply reads a struct")
        };
        match fields.into_iter().next() {
            None => Ok(None),
            Some((0, v)) => Ok(Some(v)),
            Some((id, v)) => Err(remote(id, &v)),
        }
    }

    fn read_reply(&mut self) -> DecodeResult<(u32, Value)> {
        let mut d = Decoder {
            r: &mut self.reader,
        };
        let head = u32::from_be_bytes(d.bytes()?);
        if head & 0xffff_0000 != VERSION_1 {
            return Err(DecodeError::Bad(format!("message header {head:#x}")));
        }
        let kind = head & 0xff;
        d.string()?;
        let seq = i32::from_be_bytes(d.bytes()?);
        if seq != self.seq || (kind != REPLY && kind != EXCEPTION) {
            return Err(DecodeError::Bad(format!("message {kind}, sequence {seq}")));
        }
        Ok((kind, d.value(ty::STRUCT)?))
    }

    /// `call`, with the exception in result field `not_found` (the call's
    /// NoSuchObjectException) as None.
    fn call_found(
        &mut self,
        name: &str,
        args: Vec<(i16, Value)>,
        not_found: i16,
    ) -> Result<Option<Value>> {
        match self.call(name, args) {
            Err(MetastoreError::Remote { field, .. }) if field == not_found => Ok(None),
            other => other,
        }
    }

    /// A database, or None when there is none of that name.
    pub fn get_database(&mut self, name: &str) -> Result<Option<Value>> {
        self.call_found("get_database", vec![(1, Value::Str(name.into()))], 1)
    }

    pub fn create_database(&mut self, db: Value) -> Result<()> {
        self.call("create_database", vec![(1, db)]).map(drop)
    }

    /// A table, or None when there is none of that name. `get_table`, as Spark's Hive
    /// 2.3 client calls it: metastores up to Hive 3.x serve it (Hive 4 removed it).
    pub fn get_table(&mut self, db: &str, table: &str) -> Result<Option<Value>> {
        self.call_found("get_table", table_args(db, table, None), 2)
    }

    pub fn create_table(&mut self, table: Value) -> Result<()> {
        self.call("create_table", vec![(1, table)]).map(drop)
    }

    pub fn alter_table(&mut self, db: &str, name: &str, table: Value) -> Result<()> {
        self.call("alter_table", table_args(db, name, Some(table)))
            .map(drop)
    }

    /// Every partition name of a table (`k=v/k2=v2`, values escaped as in folder names).
    pub fn partition_names(&mut self, db: &str, table: &str) -> Result<Vec<String>> {
        let all = Some(Value::I16(-1));
        let names = self.call("get_partition_names", table_args(db, table, all))?;
        Ok(names
            .iter()
            .flat_map(Value::items)
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect())
    }

    pub fn add_partitions(&mut self, partitions: Vec<Value>) -> Result<()> {
        self.call("add_partitions", vec![(1, Value::structs(partitions))])
            .map(drop)
    }

    /// A partition by its values (in partition-key order), or None when there is none.
    pub fn get_partition(
        &mut self,
        db: &str,
        table: &str,
        values: &[String],
    ) -> Result<Option<Value>> {
        let values = Some(Value::strings(values.iter().cloned()));
        self.call_found("get_partition", table_args(db, table, values), 2)
    }

    /// Replace a partition's definition (found by its values) with `partition`.
    pub fn alter_partition(&mut self, db: &str, table: &str, partition: Value) -> Result<()> {
        self.call("alter_partition", table_args(db, table, Some(partition)))
            .map(drop)
    }
}

/// The arguments of a call about one table: its database and name (fields 1 and 2), then
/// `third` (field 3) when there is one.
fn table_args(db: &str, table: &str, third: Option<Value>) -> Vec<(i16, Value)> {
    let mut args = vec![(1, Value::Str(db.into())), (2, Value::Str(table.into()))];
    args.extend(third.map(|v| (3, v)));
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_the_binary_protocol() {
        let v = Value::Struct(vec![
            (1, Value::Str("ключ".into())),
            (2, Value::I32(-7)),
            (3, Value::strings(["a".to_string(), String::new()])),
            (4, Value::string_map([("EXTERNAL", "TRUE")])),
            (
                5,
                Value::Struct(vec![(1, Value::Bool(true)), (9, Value::I64(1 << 40))]),
            ),
            (6, Value::List(ty::STRUCT, vec![])),
            (7, Value::Double(0.5)),
            (8, Value::I16(-1)),
            (10, Value::Set(ty::BYTE, vec![Value::Byte(-3)])),
        ]);
        let mut buf = Vec::new();
        write_value(&mut buf, &v);
        let mut d = Decoder { r: &buf[..] };
        let back = d.value(ty::STRUCT).ok().unwrap();
        assert_eq!(back, v);
        assert_eq!(back.get(2), Some(&Value::I32(-7)));
        // a truncated message is an error, never a partial value
        let mut d = Decoder {
            r: &buf[..buf.len() - 1],
        };
        assert!(d.value(ty::STRUCT).is_err());
    }

    #[test]
    fn bad_uris_and_unreachable_metastores_name_the_uri() {
        let e = Client::connect("http://x:1", Duration::from_secs(1))
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "http://x:1: not a metastore URI (want thrift://host:port)"
        );
        // a port nothing listens on
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = free.local_addr().unwrap();
        drop(free);
        let uri = format!("thrift://{addr}");
        let e = Client::connect(&uri, Duration::from_secs(2)).err().unwrap();
        assert!(
            e.to_string().starts_with(&format!("{uri}: cannot connect")),
            "{e}"
        );
    }

    #[test]
    fn a_silent_server_is_a_timeout_naming_the_call() {
        // accepted by the kernel, never answered
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let uri = format!("thrift://{}", silent.local_addr().unwrap());
        let mut c = Client::connect(&uri, Duration::from_millis(300)).unwrap();
        let e = c.get_database("default").err().unwrap();
        assert!(
            e.to_string().starts_with(&format!("{uri}: get_database: ")),
            "{e}"
        );
    }
}
