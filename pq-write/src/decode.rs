//! JSON lines -> Arrow record batches against a fixed schema.
//!
//! Values are deserialized straight into column builders (no intermediate `Value`),
//! with strict checks: a float never lands silently in an integer column, an unknown
//! field is reported, not dropped. A line that fails leaves no trace: every builder is
//! truncated back to the row count before the line.
//!
//! Two paths fill the same builders: [`scan`], a hand-written single pass for the rows
//! it fully understands, and serde_json's, which takes every line `scan` leaves to it
//! and owns every error message.

mod scan;
pub(crate) use scan::covered;

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int16Array, Int32Array, Int64Array, Int8Array, ListArray, MapArray, StringArray, StructArray,
    TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
    TimestampSecondArray,
};
use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, FieldRef, Fields, Schema, SchemaRef, TimeUnit};
use base64::Engine;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use lakepipe::flatten;

/// Why a line was rejected.
#[derive(Debug, Clone, PartialEq)]
pub enum LineError {
    /// Not JSON (or not UTF-8), or not a JSON object.
    Syntax(String),
    /// A value that does not fit its column's type.
    Type(String),
    /// A field that is not in the schema (appeared after inference).
    UnknownField { field: String, msg: String },
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::Syntax(m) | LineError::Type(m) => f.write_str(m),
            LineError::UnknownField { msg, .. } => f.write_str(msg),
        }
    }
}

thread_local! {
    /// Set when a field is unknown, so the error can be classified after serde returns.
    static UNKNOWN_FIELD: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Decodes JSON objects (one per line) into record batches of `schema`.
pub struct RowDecoder {
    schema: SchemaRef,
    root: Col,
    flatten: Option<String>,
    /// Unescaped strings of the fast path, reused from line to line.
    scratch: String,
    /// Off only in the tests that hold the two paths against each other.
    fast_path: bool,
}

impl RowDecoder {
    /// A decoder for `schema`. With `flatten`, nested objects in the input map onto
    /// top-level columns named `outer{sep}inner`.
    pub fn new(schema: SchemaRef, flatten: Option<String>) -> anyhow::Result<Self> {
        let root = Col::new_struct("", schema.fields())?;
        Ok(RowDecoder {
            schema,
            root,
            flatten,
            scratch: String::new(),
            fast_path: true,
        })
    }

    /// Rows decoded since the last [`finish`](Self::finish).
    pub fn len(&self) -> usize {
        self.root.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Decode one line; on error nothing of the line is kept.
    pub fn push(&mut self, line: &[u8]) -> Result<(), LineError> {
        let before = self.root.len();
        // One UTF-8 check of the whole line (SIMD); then neither path checks strings again.
        let text = simdutf8::basic::from_utf8(line).ok();
        if let (Some(text), None, true) = (text, &self.flatten, self.fast_path) {
            if scan::row(&mut self.root, text, &mut self.scratch, false).is_ok() {
                return Ok(());
            }
            self.root.truncate(before);
        }
        let result = self.push_serde(line, text);
        if result.is_err() {
            self.root.truncate(before);
        }
        result
    }

    /// Decodes `line` by the fast path alone, or leaves no trace and returns false (the
    /// caller then takes [`push`](Self::push)). It takes no whole float into an integer
    /// column, so every row it takes is one that schema inference would not change when
    /// this decoder's schema came from shapes that settle it
    /// ([`SchemaInference::settles_decoded_rows`](crate::infer::SchemaInference::settles_decoded_rows)):
    /// the row is then decoded and inferred in one pass.
    pub fn push_covered(&mut self, line: &[u8]) -> bool {
        let before = self.root.len();
        let Ok(text) = simdutf8::basic::from_utf8(line) else {
            return false;
        };
        let ok = self.flatten.is_none()
            && scan::row(&mut self.root, text, &mut self.scratch, true).is_ok();
        if !ok {
            self.root.truncate(before);
        }
        ok
    }

    /// serde_json's path: `text` is the line when it is UTF-8. A line that is not goes
    /// through the byte reader so its error names the column as before.
    fn push_serde(&mut self, line: &[u8], text: Option<&str>) -> Result<(), LineError> {
        UNKNOWN_FIELD.with(|u| u.borrow_mut().take());
        let res = match text {
            Some(text) => self.parse(&mut serde_json::Deserializer::from_str(text)),
            None => self.parse(&mut serde_json::Deserializer::from_slice(line)),
        };
        res.map_err(|e| {
            let msg = clean_serde_msg(&e);
            if let Some(field) = UNKNOWN_FIELD.with(|u| u.borrow_mut().take()) {
                LineError::UnknownField { field, msg }
            } else if e.is_data() {
                LineError::Type(msg)
            } else {
                LineError::Syntax(msg)
            }
        })
    }

    fn parse<'de, R: serde_json::de::Read<'de>>(
        &mut self,
        de: &mut serde_json::Deserializer<R>,
    ) -> Result<(), serde_json::Error> {
        match &self.flatten {
            None => Seed(RootVisitor {
                col: &mut self.root,
            })
            .deserialize(&mut *de),
            Some(sep) => push_flat(&mut self.root, sep, de),
        }?;
        de.end()
    }

    /// The rows decoded so far as a batch; the decoder starts empty again.
    pub fn finish(&mut self) -> anyhow::Result<RecordBatch> {
        let rows = self.root.len();
        let Col {
            kind: Kind::Struct { children, .. },
            ..
        } = &mut self.root
        else {
            unreachable!("root is a struct")
        };
        let columns = self
            .schema
            .fields()
            .iter()
            .zip(children.iter_mut())
            .map(|(f, c)| {
                c.fill_to(rows);
                c.finish(f.data_type())
            })
            .collect::<Vec<_>>();
        self.root.truncate(0);
        Ok(RecordBatch::try_new_with_options(
            self.schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )?)
    }
}

/// serde_json appends "at line 1 column N"; callers know the line, keep the column.
fn clean_serde_msg(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => format!("{} (column {})", &msg[..i], e.column()),
        None => msg,
    }
}

/// One column under construction: values plus validity, truncatable for rollback.
struct Col {
    /// Dotted path for error messages.
    path: String,
    valid: Vec<bool>,
    kind: Kind,
}

enum Kind {
    Bool(Vec<bool>),
    Int {
        vals: Vec<i64>,
        min: i64,
        max: i64,
    },
    Float {
        vals: Vec<f64>,
        single: bool,
    },
    Str {
        offsets: Vec<i32>,
        data: Vec<u8>,
    },
    Binary {
        offsets: Vec<i32>,
        data: Vec<u8>,
    },
    Decimal {
        vals: Vec<i128>,
        precision: u8,
        scale: i8,
    },
    Date(Vec<i32>),
    Timestamp {
        vals: Vec<i64>,
        unit: TimeUnit,
    },
    List {
        offsets: Vec<i32>,
        child: Box<Col>,
    },
    /// `hint`: where the next key is expected; rows usually repeat the same key order.
    Struct {
        names: Vec<String>,
        children: Vec<Col>,
        hint: usize,
    },
    Map {
        offsets: Vec<i32>,
        keys: Box<Col>,
        values: Box<Col>,
    },
}

impl Col {
    fn new(path: String, dt: &DataType) -> anyhow::Result<Col> {
        let int = |min: i64, max: i64| Kind::Int {
            vals: vec![],
            min,
            max,
        };
        let kind = match dt {
            DataType::Boolean => Kind::Bool(vec![]),
            DataType::Int8 => int(i8::MIN.into(), i8::MAX.into()),
            DataType::Int16 => int(i16::MIN.into(), i16::MAX.into()),
            DataType::Int32 => int(i32::MIN.into(), i32::MAX.into()),
            DataType::Int64 => int(i64::MIN, i64::MAX),
            DataType::Float32 => Kind::Float {
                vals: vec![],
                single: true,
            },
            DataType::Float64 => Kind::Float {
                vals: vec![],
                single: false,
            },
            DataType::Utf8 => Kind::Str {
                offsets: vec![0],
                data: vec![],
            },
            DataType::Binary => Kind::Binary {
                offsets: vec![0],
                data: vec![],
            },
            DataType::Decimal128(p, s) => Kind::Decimal {
                vals: vec![],
                precision: *p,
                scale: *s,
            },
            DataType::Date32 => Kind::Date(vec![]),
            DataType::Timestamp(unit, _) => Kind::Timestamp {
                vals: vec![],
                unit: *unit,
            },
            DataType::List(f) => Kind::List {
                offsets: vec![0],
                child: Box::new(Col::new(path.clone(), f.data_type())?),
            },
            DataType::Struct(fields) => return Col::new_struct(&path, fields),
            DataType::Map(entries, _) => {
                let DataType::Struct(kv) = entries.data_type() else {
                    anyhow::bail!("{path}: malformed map type")
                };
                Kind::Map {
                    offsets: vec![0],
                    keys: Box::new(Col::new(format!("{path} key"), kv[0].data_type())?),
                    values: Box::new(Col::new(path.clone(), kv[1].data_type())?),
                }
            }
            other => anyhow::bail!("column {path}: type {other} cannot be written from JSON"),
        };
        Ok(Col {
            path,
            valid: vec![],
            kind,
        })
    }

    fn new_struct(path: &str, fields: &Fields) -> anyhow::Result<Col> {
        let child_path = |n: &str| {
            if path.is_empty() {
                n.to_string()
            } else {
                format!("{path}.{n}")
            }
        };
        let children = fields
            .iter()
            .map(|f| Col::new(child_path(f.name()), f.data_type()))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let names = fields.iter().map(|f| f.name().clone()).collect();
        Ok(Col {
            path: path.to_string(),
            valid: vec![],
            kind: Kind::Struct {
                names,
                children,
                hint: 0,
            },
        })
    }

    fn len(&self) -> usize {
        self.valid.len()
    }

    /// Back to `n` rows. Mid-row a column's parts may be ahead of the column itself: a
    /// struct's children, a list's items, a string's bytes pushed before its offset.
    /// So every part is cut to where row `n` starts, not only when `valid` is longer.
    fn truncate(&mut self, n: usize) {
        self.valid.truncate(n);
        let end = |offsets: &mut Vec<i32>| {
            offsets.truncate(n + 1);
            offsets.last().copied().unwrap_or(0) as usize
        };
        match &mut self.kind {
            Kind::Bool(v) => v.truncate(n),
            Kind::Int { vals, .. } => vals.truncate(n),
            Kind::Float { vals, .. } => vals.truncate(n),
            Kind::Str { offsets, data } | Kind::Binary { offsets, data } => {
                data.truncate(end(offsets))
            }
            Kind::Decimal { vals, .. } => vals.truncate(n),
            Kind::Date(v) => v.truncate(n),
            Kind::Timestamp { vals, .. } => vals.truncate(n),
            Kind::List { offsets, child } => child.truncate(end(offsets)),
            Kind::Struct { children, .. } => children.iter_mut().for_each(|c| c.truncate(n)),
            Kind::Map {
                offsets,
                keys,
                values,
            } => {
                let e = end(offsets);
                keys.truncate(e);
                values.truncate(e);
            }
        }
    }

    fn push_null(&mut self) {
        self.fill_to(self.len() + 1);
    }

    /// Nulls up to `n` rows. A struct's children are filled only when a later row has
    /// a value for them, or at `finish`: most event fields are absent from most rows, and
    /// a null pushed to every such column on every row cost 7% of pq-write's CPU.
    #[inline]
    fn fill_to(&mut self, n: usize) {
        if self.len() < n {
            self.fill_nulls(n);
        }
    }

    fn fill_nulls(&mut self, n: usize) {
        self.valid.resize(n, false);
        let offsets_to = |offsets: &mut Vec<i32>| {
            let last = *offsets.last().unwrap_or(&0);
            offsets.resize(n + 1, last)
        };
        match &mut self.kind {
            Kind::Bool(v) => v.resize(n, false),
            Kind::Int { vals, .. } => vals.resize(n, 0),
            Kind::Float { vals, .. } => vals.resize(n, 0.0),
            Kind::Str { offsets, .. } | Kind::Binary { offsets, .. } => offsets_to(offsets),
            Kind::Decimal { vals, .. } => vals.resize(n, 0),
            Kind::Date(v) => v.resize(n, 0),
            Kind::Timestamp { vals, .. } => vals.resize(n, 0),
            Kind::List { offsets, .. } | Kind::Map { offsets, .. } => offsets_to(offsets),
            Kind::Struct { .. } => {}
        }
    }

    /// Appends one object (this is a struct column): `fields` reads its fields into the
    /// children, both decoders' way.
    fn push_struct<E>(
        &mut self,
        fields: impl FnOnce(&mut Object<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let row = self.len();
        let Kind::Struct {
            names,
            children,
            hint,
        } = &mut self.kind
        else {
            unreachable!("{}: not a struct column", self.path)
        };
        *hint = 0;
        let mut obj = Object {
            names,
            children,
            hint,
            row,
            path: &self.path,
        };
        fields(&mut obj)?;
        self.valid.push(true);
        Ok(())
    }

    /// Appends one map (this is a map column): `entries` pushes its keys and values, both
    /// decoders' way.
    fn push_map<E: de::Error>(
        &mut self,
        entries: impl FnOnce(&mut Col, &mut Col) -> Result<(), E>,
    ) -> Result<(), E> {
        match &mut self.kind {
            Kind::Map {
                offsets,
                keys,
                values,
            } => {
                entries(keys, values)?;
                end_nested(offsets, &mut self.valid, keys.len(), "map too large")
            }
            _ => unreachable!("{}: not a map column", self.path),
        }
    }

    /// A `&str` only: `finish` relies on the text being UTF-8 at every offset.
    fn push_str(&mut self, s: &str) -> Result<(), String> {
        let Kind::Str { offsets, data } = &mut self.kind else {
            unreachable!()
        };
        append_short(data, s.as_bytes());
        let Ok(end) = i32::try_from(data.len()) else {
            return Err(self.too_much_text());
        };
        offsets.push(end);
        self.valid.push(true);
        Ok(())
    }

    #[cold]
    fn too_much_text(&self) -> String {
        format!("{}: more than 2 GiB of text in one batch", self.path)
    }

    fn type_name(&self) -> &'static str {
        match &self.kind {
            Kind::Bool(_) => "a boolean",
            Kind::Int { .. } => "an integer",
            Kind::Float { .. } => "a number",
            Kind::Str { .. } => "a string",
            Kind::Binary { .. } => "base64 binary",
            Kind::Decimal { .. } => "a decimal",
            Kind::Date(_) => "a date (YYYY-MM-DD)",
            Kind::Timestamp { .. } => "a timestamp",
            Kind::List { .. } => "an array",
            Kind::Struct { .. } => "an object",
            Kind::Map { .. } => "an object (map)",
        }
    }

    fn mismatch<E: de::Error>(&self, found: impl fmt::Display) -> E {
        let path = if self.path.is_empty() {
            "row"
        } else {
            &self.path
        };
        E::custom(format_args!(
            "field {path}: expected {}, found {found}",
            self.type_name()
        ))
    }

    fn finish(&mut self, dt: &DataType) -> ArrayRef {
        let rows = self.len();
        let nulls = Some(NullBuffer::new(pack_bools(&take_sized(&mut self.valid))))
            .filter(|n| n.null_count() > 0);
        match (&mut self.kind, dt) {
            (Kind::Bool(v), _) => Arc::new(BooleanArray::new(pack_bools(&take_sized(v)), nulls)),
            (Kind::Int { vals, .. }, dt) => {
                let v = take_sized(vals);
                match dt {
                    DataType::Int8 => {
                        Arc::new(Int8Array::new(v.iter().map(|x| *x as i8).collect(), nulls))
                    }
                    DataType::Int16 => Arc::new(Int16Array::new(
                        v.iter().map(|x| *x as i16).collect(),
                        nulls,
                    )),
                    DataType::Int32 => Arc::new(Int32Array::new(
                        v.iter().map(|x| *x as i32).collect(),
                        nulls,
                    )),
                    _ => Arc::new(Int64Array::new(v.into(), nulls)),
                }
            }
            (Kind::Float { vals, single }, _) => {
                let v = take_sized(vals);
                if *single {
                    Arc::new(Float32Array::new(
                        v.iter().map(|x| *x as f32).collect(),
                        nulls,
                    ))
                } else {
                    Arc::new(Float64Array::new(v.into(), nulls))
                }
            }
            (Kind::Str { offsets, data }, _) => {
                let offs = OffsetBuffer::new(take_offsets(offsets).into());
                // SAFETY: every value came in whole through `push_str` (a `&str`) and
                // `truncate` cuts at offsets, so the text is UTF-8 between any two
                // offsets. Arrow's check would read all of it again (1% of pq-write).
                Arc::new(unsafe {
                    StringArray::new_unchecked(offs, take_sized(data).into(), nulls)
                })
            }
            (Kind::Binary { offsets, data }, _) => {
                let offs = OffsetBuffer::new(take_offsets(offsets).into());
                Arc::new(BinaryArray::new(offs, take_sized(data).into(), nulls))
            }
            (
                Kind::Decimal {
                    vals,
                    precision,
                    scale,
                },
                _,
            ) => Arc::new(
                Decimal128Array::new(take_sized(vals).into(), nulls)
                    .with_precision_and_scale(*precision, *scale)
                    .expect("precision checked when the schema was parsed"),
            ),
            (Kind::Date(v), _) => Arc::new(Date32Array::new(take_sized(v).into(), nulls)),
            (Kind::Timestamp { vals, unit, .. }, DataType::Timestamp(_, tz)) => {
                let v = take_sized(vals);
                match unit {
                    TimeUnit::Second => Arc::new(
                        TimestampSecondArray::new(v.into(), nulls).with_timezone_opt(tz.clone()),
                    ),
                    TimeUnit::Millisecond => Arc::new(
                        TimestampMillisecondArray::new(v.into(), nulls)
                            .with_timezone_opt(tz.clone()),
                    ),
                    TimeUnit::Microsecond => Arc::new(
                        TimestampMicrosecondArray::new(v.into(), nulls)
                            .with_timezone_opt(tz.clone()),
                    ),
                    TimeUnit::Nanosecond => Arc::new(
                        TimestampNanosecondArray::new(v.into(), nulls)
                            .with_timezone_opt(tz.clone()),
                    ),
                }
            }
            (Kind::List { offsets, child }, DataType::List(f)) => {
                let offs = OffsetBuffer::new(take_offsets(offsets).into());
                let values = child.finish(f.data_type());
                Arc::new(ListArray::new(f.clone(), offs, values, nulls))
            }
            (Kind::Struct { children, .. }, DataType::Struct(fields)) => {
                let len = nulls.as_ref().map(|n| n.len());
                let cols: Vec<ArrayRef> = fields
                    .iter()
                    .zip(children.iter_mut())
                    .map(|(f, c)| {
                        c.fill_to(rows);
                        c.finish(f.data_type())
                    })
                    .collect();
                match len {
                    _ if cols.is_empty() => unreachable!("structs have fields"),
                    _ => Arc::new(StructArray::new(fields.clone(), cols, nulls)),
                }
            }
            (
                Kind::Map {
                    offsets,
                    keys,
                    values,
                },
                DataType::Map(entries, sorted),
            ) => {
                let DataType::Struct(kv) = entries.data_type() else {
                    unreachable!()
                };
                let offs = OffsetBuffer::new(take_offsets(offsets).into());
                let k = keys.finish(kv[0].data_type());
                let v = values.finish(kv[1].data_type());
                let entries_arr = StructArray::new(kv.clone(), vec![k, v], None);
                Arc::new(MapArray::new(
                    entries.clone(),
                    offs,
                    entries_arr,
                    nulls,
                    *sorted,
                ))
            }
            _ => unreachable!("column kinds are built from the same types"),
        }
    }
}

/// A built vector for Arrow, leaving one of the same capacity: the next batch is about
/// as large, so its pushes neither reallocate and copy nor fault in fresh pages.
fn take_sized<T>(v: &mut Vec<T>) -> Vec<T> {
    let next = Vec::with_capacity(headroom(v.len()));
    std::mem::replace(v, next)
}

/// Room for a next batch a little larger than the last: one that needs more than its
/// capacity copies all it has (those copies were 1.7% of pq-write's instructions).
fn headroom(len: usize) -> usize {
    len + len / 8
}

/// Bits from bools, eight in one multiply: arrow's `From<&[bool]>` sets them one at a
/// time behind a branch on each value, which mispredicts on sparse columns (1.8% of
/// pq-write's CPU). Bit `i` of the product's top byte is byte `i` of the word.
fn pack_bools(v: &[bool]) -> BooleanBuffer {
    let mut bytes = Vec::with_capacity(v.len().div_ceil(8));
    let mut chunks = v.chunks_exact(8);
    for c in chunks.by_ref() {
        let word = u64::from_le_bytes(std::array::from_fn(|i| c[i] as u8));
        bytes.push((word.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        bytes.push(rest.iter().rev().fold(0, |byte, b| byte << 1 | *b as u8));
    }
    BooleanBuffer::new(Buffer::from_vec(bytes), 0, v.len())
}

/// Like [`take_sized`], for offsets, which start again at 0.
/// `data.extend_from_slice(s)`, with values of 4 to 32 bytes copied in line as two
/// overlapping words of 4, 8 or 16 bytes: the strings of event rows are mostly that
/// short, and memcpy's call and dispatch cost more than the copy.
#[inline(always)]
fn append_short(data: &mut Vec<u8>, s: &[u8]) {
    /// Copies `s` (W <= s.len() <= 2W) into `dst` with two W-byte copies.
    ///
    /// SAFETY: `dst` must be valid for `s.len()` bytes and not overlap `s`.
    #[inline(always)]
    unsafe fn two_words<const W: usize>(s: &[u8], dst: *mut u8) {
        let n = s.len();
        debug_assert!((W..=2 * W).contains(&n));
        // SAFETY: both copies read inside `s` (n >= W) and write inside dst's n bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr(), dst, W);
            std::ptr::copy_nonoverlapping(s.as_ptr().add(n - W), dst.add(n - W), W);
        }
    }
    let n = s.len();
    if !(4..=32).contains(&n) {
        return data.extend_from_slice(s);
    }
    data.reserve(n);
    let len = data.len();
    // SAFETY: `reserve` made room for n more bytes, which the copies fill before
    // `set_len` covers them; `s` is not inside `data`'s spare room.
    unsafe {
        let dst = data.as_mut_ptr().add(len);
        match n {
            4..=7 => two_words::<4>(s, dst),
            8..=16 => two_words::<8>(s, dst),
            _ => two_words::<16>(s, dst),
        }
        data.set_len(len + n);
    }
}

fn take_offsets(v: &mut Vec<i32>) -> Vec<i32> {
    let mut next = Vec::with_capacity(headroom(v.len()));
    next.push(0);
    std::mem::replace(v, next)
}

// ---------------------------------------------------------------------------------
// Value conversions shared by the visitors

fn push_int<E: de::Error>(col: &mut Col, v: i128, text: &dyn fmt::Display) -> Result<(), E> {
    let path_err = |c: &Col, what: &str| E::custom(format_args!("field {}: {text} {what}", c.path));
    match &mut col.kind {
        Kind::Int { vals, min, max } => {
            if v < *min as i128 || v > *max as i128 {
                return Err(path_err(
                    col,
                    "is out of range for the column's integer type",
                ));
            }
            vals.push(v as i64);
        }
        Kind::Float { vals, .. } => vals.push(v as f64),
        Kind::Decimal {
            vals,
            precision,
            scale,
        } => {
            let scaled = v
                .checked_mul(10i128.pow(*scale as u32))
                .filter(|x| fits_precision(*x, *precision));
            match scaled {
                Some(x) => vals.push(x),
                None => return Err(path_err(col, "does not fit the decimal's precision")),
            }
        }
        Kind::Timestamp { vals, unit, .. } => vals.push(from_millis(v as i64, *unit)),
        Kind::Str { .. } => return col.push_str(&text.to_string()).map_err(E::custom),
        _ => return Err(col.mismatch(text)),
    }
    col.valid.push(true);
    Ok(())
}

fn push_bool<E: de::Error>(col: &mut Col, v: bool) -> Result<(), E> {
    match &mut col.kind {
        Kind::Bool(b) => b.push(v),
        Kind::Str { .. } => {
            return col
                .push_str(if v { "true" } else { "false" })
                .map_err(E::custom)
        }
        _ => return Err(col.mismatch(v)),
    }
    col.valid.push(true);
    Ok(())
}

fn push_f64<E: de::Error>(col: &mut Col, v: f64) -> Result<(), E> {
    match &mut col.kind {
        Kind::Float { vals, .. } => vals.push(v),
        // A whole-number float (e.g. 3.0) is an integer without loss; 3.5 is not.
        Kind::Int { .. } if v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 => {
            return push_int(col, v as i128, &v);
        }
        Kind::Decimal { .. } => {
            let text = ryu::Buffer::new().format(v).to_string();
            return push_text(col, &text);
        }
        Kind::Str { .. } => {
            return col
                .push_str(ryu::Buffer::new().format(v))
                .map_err(E::custom);
        }
        _ => return Err(col.mismatch(v)),
    }
    col.valid.push(true);
    Ok(())
}

fn fits_precision(v: i128, precision: u8) -> bool {
    v.unsigned_abs() < 10u128.pow(precision as u32)
}

fn from_millis(ms: i64, unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => ms.div_euclid(1000),
        TimeUnit::Millisecond => ms,
        TimeUnit::Microsecond => ms.saturating_mul(1000),
        TimeUnit::Nanosecond => ms.saturating_mul(1_000_000),
    }
}

/// Exact decimal text -> scaled integer; refuses to round.
fn parse_decimal(s: &str, precision: u8, scale: i8) -> Option<i128> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let frac_trimmed = frac.trim_end_matches('0');
    if frac_trimmed.len() > scale.max(0) as usize {
        return None;
    }
    let mut v: i128 = 0;
    for b in int.bytes().chain(frac_trimmed.bytes()) {
        v = v.checked_mul(10)?.checked_add((b - b'0') as i128)?;
    }
    v = v.checked_mul(10i128.checked_pow((scale as usize - frac_trimmed.len()) as u32)?)?;
    let v = if neg { -v } else { v };
    fits_precision(v, precision).then_some(v)
}

fn parse_date(s: &str) -> Option<i32> {
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    Some((d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?).num_days() as i32)
}

/// ISO-8601 / RFC 3339 text -> value in `unit` (UTC; a naive time is taken as UTC).
pub fn parse_timestamp(s: &str, unit: TimeUnit) -> Option<i64> {
    let s = s.trim();
    let dt = if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        t.naive_utc()
    } else if let Ok(t) = chrono::DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z") {
        t.naive_utc()
    } else if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        t
    } else if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f") {
        t
    } else {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()?
            .and_hms_opt(0, 0, 0)?
    };
    let t = dt.and_utc();
    Some(match unit {
        TimeUnit::Second => t.timestamp(),
        TimeUnit::Millisecond => t.timestamp_millis(),
        TimeUnit::Microsecond => t.timestamp_micros(),
        TimeUnit::Nanosecond => t.timestamp_nanos_opt()?,
    })
}

fn push_text<E: de::Error>(col: &mut Col, s: &str) -> Result<(), E> {
    let bad = |c: &Col| c.mismatch::<E>(format_args!("{:?}", truncate_for_msg(s)));
    match &mut col.kind {
        Kind::Str { .. } => return col.push_str(s).map_err(E::custom),
        Kind::Binary { offsets, data } => {
            match base64::engine::general_purpose::STANDARD.decode(s) {
                Ok(bytes) => {
                    data.extend_from_slice(&bytes);
                    offsets.push(data.len() as i32);
                }
                Err(_) => return Err(bad(col)),
            }
        }
        Kind::Decimal {
            vals,
            precision,
            scale,
        } => match parse_decimal(s, *precision, *scale) {
            Some(v) => vals.push(v),
            None => return Err(bad(col)),
        },
        Kind::Date(v) => match parse_date(s) {
            Some(d) => v.push(d),
            None => return Err(bad(col)),
        },
        Kind::Timestamp { vals, unit, .. } => match parse_timestamp(s, *unit) {
            Some(t) => vals.push(t),
            None => return Err(bad(col)),
        },
        _ => return Err(bad(col)),
    }
    col.valid.push(true);
    Ok(())
}

fn truncate_for_msg(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}...", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

// ---------------------------------------------------------------------------------
// serde visitors

/// Feeds one JSON value to the visitor made for its column.
struct Seed<V>(V);

impl<'de, V: Visitor<'de, Value = ()>> DeserializeSeed<'de> for Seed<V> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self.0)
    }
}

struct RootVisitor<'a> {
    col: &'a mut Col,
}

impl<'de> Visitor<'de> for RootVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        ColVisitor { col: self.col }.visit_map(map)
    }
}

struct ColVisitor<'a> {
    col: &'a mut Col,
}

impl<'de> Visitor<'de> for ColVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.col.type_name())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.col.push_null();
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        push_bool(self.col, v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        push_int(self.col, v as i128, &v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        push_int(self.col, v as i128, &v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        push_f64(self.col, v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        push_text(self.col, v)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let col = self.col;
        match &mut col.kind {
            Kind::Str { .. } => push_json_text(col, de::value::SeqAccessDeserializer::new(seq)),
            Kind::List { offsets, child } => {
                while seq
                    .next_element_seed(Seed(ColVisitor { col: child }))?
                    .is_some()
                {}
                end_nested(offsets, &mut col.valid, child.len(), "list too long")
            }
            _ => Err(col.mismatch("an array")),
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let col = self.col;
        match &mut col.kind {
            Kind::Struct { .. } => col.push_struct(|obj| {
                let path = obj.path;
                while let Some(idx) = map.next_key_seed(KeySeed {
                    names: obj.names,
                    hint: obj.hint,
                })? {
                    match idx {
                        Ok(i) => {
                            let Some(child) = obj.child(i) else {
                                return Err(de::Error::custom(format_args!(
                                    "duplicate key {}",
                                    obj.children[i].path
                                )));
                            };
                            map.next_value_seed(Seed(ColVisitor { col: child }))?;
                        }
                        Err(name) => {
                            // A late field that is null loses nothing; any other value would.
                            let v: serde_json::Value = map.next_value()?;
                            if !v.is_null() {
                                let path = match path.is_empty() {
                                    true => name.clone(),
                                    false => format!("{path}.{name}"),
                                };
                                let msg = format!("field {path} is not in the schema");
                                UNKNOWN_FIELD.with(|u| *u.borrow_mut() = Some(path));
                                return Err(de::Error::custom(msg));
                            }
                        }
                    }
                }
                Ok(())
            }),
            Kind::Map { .. } => col.push_map(|keys, values| {
                while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    push_text::<A::Error>(keys, &k)?;
                    map.next_value_seed(Seed(ColVisitor { col: values }))?;
                }
                Ok(())
            }),
            Kind::Str { .. } => push_json_text(col, de::value::MapAccessDeserializer::new(map)),
            _ => Err(col.mismatch("an object")),
        }
    }
}

/// Key equality inline: keys are short, and a call to libc's memcmp for each of the
/// ~20M key comparisons per 1M lines cost more than the comparing.
#[inline]
fn same_key(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

/// A struct column's field name, or an inferred field's: what keys are looked up among.
trait Named {
    fn name(&self) -> &str;
}

impl Named for String {
    fn name(&self) -> &str {
        self
    }
}

impl Named for (String, crate::shape::Shape) {
    fn name(&self) -> &str {
        &self.0
    }
}

/// Looks a key up among a struct's field names without allocating. Keys mostly come in
/// schema order with some fields absent: look ahead of the hint first, then behind it.
fn find_key(names: &[impl Named], hint: &mut usize, key: &str) -> Option<usize> {
    let h = (*hint).min(names.len());
    let found = match names[h..].iter().position(|n| same_key(n.name(), key)) {
        Some(i) => Some(h + i),
        None => names[..h].iter().position(|n| same_key(n.name(), key)),
    };
    if let Some(i) = found {
        *hint = i + 1;
    }
    found
}

/// End a list or map value at `len` items (Arrow's offsets are i32).
fn end_nested<E: de::Error>(
    offsets: &mut Vec<i32>,
    valid: &mut Vec<bool>,
    len: usize,
    too_big: &'static str,
) -> Result<(), E> {
    offsets.push(i32::try_from(len).map_err(|_| E::custom(too_big))?);
    valid.push(true);
    Ok(())
}

/// The object being read into a struct column's row `row`.
struct Object<'a> {
    names: &'a [String],
    children: &'a mut [Col],
    /// Where the next key is expected.
    hint: &'a mut usize,
    row: usize,
    path: &'a str,
}

impl Object<'_> {
    /// The child for field `i`, its earlier rows filled; None when the object already
    /// gave that field (a duplicate key).
    fn child(&mut self, i: usize) -> Option<&mut Col> {
        let child = &mut self.children[i];
        if child.len() > self.row {
            return None;
        }
        child.fill_to(self.row);
        Some(child)
    }
}

/// An array or object in a string column: its JSON text.
fn push_json_text<'de, D: Deserializer<'de>>(col: &mut Col, d: D) -> Result<(), D::Error> {
    let v: serde_json::Value = de::Deserialize::deserialize(d)?;
    col.push_str(&v.to_string()).map_err(de::Error::custom)
}

struct KeySeed<'a> {
    names: &'a [String],
    hint: &'a mut usize,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Result<usize, String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Result<usize, String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(find_key(self.names, self.hint, v).ok_or_else(|| v.to_string()))
    }
}

// ---------------------------------------------------------------------------------
// --flatten: the row is flattened by the shared rule (crate::flatten), then decoded
// like any other row, so naming, collisions and unknown fields follow one rule each.

/// A parsed row that keeps every key of an object, duplicates too, so that the shared
/// flatten rule rejects them; values that are not objects stay JSON.
enum RowTree {
    Leaf(serde_json::Value),
    Object(Vec<(String, RowTree)>),
}

crate::shape::object_enum_tree!(RowTree);

impl RowTree {
    /// The JSON value (after flattening only empty objects are left as objects).
    fn into_value(self) -> serde_json::Value {
        match self {
            RowTree::Leaf(v) => v,
            RowTree::Object(entries) => serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, v.into_value()))
                    .collect(),
            ),
        }
    }
}

impl<'de> de::Deserialize<'de> for RowTree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RowTreeVisitor)
    }
}

struct RowTreeVisitor;

/// `fn visit_T<E>(self, v: T) -> Result<RowTree, E>` for scalar types that convert into a
/// JSON value.
macro_rules! leaf_visits {
    ($($name:ident $t:ty),*) => {
        $(fn $name<E>(self, v: $t) -> Result<RowTree, E> {
            Ok(RowTree::Leaf(v.into()))
        })*
    };
}

impl<'de> Visitor<'de> for RowTreeVisitor {
    type Value = RowTree;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    // Every scalar is a JSON leaf as it is.
    leaf_visits!(visit_bool bool, visit_i64 i64, visit_u64 u64, visit_f64 f64,
                 visit_str &str, visit_string String);
    fn visit_unit<E>(self) -> Result<RowTree, E> {
        Ok(RowTree::Leaf(serde_json::Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RowTree, A::Error> {
        let v = de::Deserialize::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(RowTree::Leaf(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RowTree, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, RowTree>()? {
            entries.push((k, v));
        }
        Ok(RowTree::Object(entries))
    }
}

/// Decode one row with `--flatten`: parse, flatten (a collision is a bad value), then
/// feed the flat keys to the columns as a plain row.
fn push_flat<'de, R: serde_json::de::Read<'de>>(
    root: &mut Col,
    sep: &str,
    de: &mut serde_json::Deserializer<R>,
) -> Result<(), serde_json::Error> {
    let row: RowTree = de::Deserialize::deserialize(&mut *de)?;
    let flat = flatten::flatten(row, sep).map_err(de::Error::custom)?;
    match flat {
        RowTree::Object(entries) => {
            let entries = entries.into_iter().map(|(k, v)| (k, v.into_value()));
            Seed(RootVisitor { col: root }).deserialize(de::value::MapDeserializer::new(entries))
        }
        RowTree::Leaf(v) => Seed(RootVisitor { col: root }).deserialize(v),
    }
}

/// A schema with `extra` columns appended (e.g. Kafka metadata).
pub fn with_extra(schema: &Schema, extra: &[FieldRef]) -> Schema {
    let mut fields: Vec<FieldRef> = schema.fields().iter().cloned().collect();
    fields.extend(extra.iter().cloned());
    Schema::new(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lakepipe::ddl::parse_schema;

    fn decoder(ddl: &str) -> RowDecoder {
        RowDecoder::new(Arc::new(parse_schema(ddl).unwrap()), None).unwrap()
    }

    #[test]
    fn appends_short_values_whole() {
        let mut data = Vec::new();
        let mut want = Vec::new();
        for n in 0..70 {
            let v: Vec<u8> = (0..n).map(|i| (i * 7 + n) as u8).collect();
            append_short(&mut data, &v);
            want.extend_from_slice(&v);
            assert_eq!(data, want, "{n}");
        }
    }

    #[test]
    fn packs_bools_as_arrow_does() {
        let mut state = 7u64;
        for n in 0..70 {
            let v: Vec<bool> = (0..n)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    state >> 62 != 0
                })
                .collect();
            assert_eq!(pack_bools(&v), BooleanBuffer::from(v.as_slice()), "{v:?}");
        }
    }

    fn json_rows(batch: &RecordBatch) -> String {
        let mut w = arrow_json::LineDelimitedWriter::new(Vec::new());
        w.write(batch).unwrap();
        w.finish().unwrap();
        String::from_utf8(w.into_inner()).unwrap()
    }

    /// The covering path takes only what inference would not widen: a whole float in an
    /// integer column (inference makes it a double) is left to `push`, with no trace.
    #[test]
    fn the_covering_path_leaves_whole_floats_in_integer_columns() {
        let mut d = decoder("n BIGINT, x DOUBLE, s STRING");
        assert!(d.push_covered(br#"{"n":3,"x":3.0,"s":"a"}"#));
        assert!(!d.push_covered(br#"{"s":"b","n":3.0}"#));
        assert!(!d.push_covered(br#"{"n":1,"q":1}"#), "an unknown field");
        assert!(d.push_covered(br#"{"n":null,"x":2,"s":7}"#));
        assert_eq!(d.len(), 2);
        d.push(br#"{"n":3.0}"#).unwrap(); // the full path takes it as an integer
        let rows = json_rows(&d.finish().unwrap());
        assert_eq!(
            rows,
            "{\"n\":3,\"x\":3.0,\"s\":\"a\"}\n{\"x\":2.0,\"s\":\"7\"}\n{\"n\":3}\n"
        );
    }

    /// Absent fields are filled with nulls late (see `Col::fill_to`): sparse columns,
    /// null and absent structs, structs in lists, and rejected lines that filled a
    /// lagging column before failing must give what arrow-json's own decoder gives for
    /// the good lines, batch after batch.
    #[test]
    fn sparse_rows_match_arrow_json() {
        let ddl = "id BIGINT, a STRING, t ARRAY<STRING>, s STRUCT<x:BIGINT, y:STRING, \
            z:STRUCT<p:BOOLEAN, q:ARRAY<BIGINT>>>, l ARRAY<STRUCT<k:STRING, v:DOUBLE>>, \
            m MAP<STRING,BIGINT>, b BOOLEAN";
        let lines = [
            r#"{"id":1}"#,
            r#"{"id":2,"s":{"y":"only y"},"b":true}"#,
            r#"{"a":"bad","s":{"x":5,"z":{"q":[1,"no"]}}}"#,
            r#"{"id":3,"s":null,"l":[{"k":"a"},{"v":1.5},{}],"m":{"k":1}}"#,
            r#"{"id":4,"s":{"z":{"p":false}},"t":["u"],"l":null}"#,
            r#"{"t":["x","y"],"l":[{"k":"b","v":2}],"s":{"x":1,"x":2}}"#,
            r#"{}"#,
            r#"{"s":{"z":null,"x":9},"a":"late a","m":null,"l":[]}"#,
            r#"{"id":5,"l":[{"k":"c"}],"s":{"z":{"q":[7,8]}},"b":null}"#,
        ];
        let schema = Arc::new(parse_schema(ddl).unwrap());
        for fast in [true, false] {
            let mut d = decoder(ddl);
            d.fast_path = fast;
            let (mut got, mut good) = (String::new(), Vec::new());
            for (i, line) in lines.iter().enumerate() {
                if d.push(line.as_bytes()).is_ok() {
                    good.push(*line);
                }
                if i % 4 == 3 {
                    got += &json_rows(&d.finish().unwrap());
                }
            }
            got += &json_rows(&d.finish().unwrap());
            assert_eq!(good.len(), lines.len() - 2, "the two bad lines");
            let mut want = String::new();
            let mut r = arrow_json::ReaderBuilder::new(schema.clone())
                .build(std::io::Cursor::new(good.join("\n")))
                .unwrap();
            for b in r.by_ref() {
                want += &json_rows(&b.unwrap());
            }
            assert_eq!(got, want, "fast path: {fast}");
        }
    }

    #[test]
    fn decodes_nested_rows() {
        let mut d = decoder("id BIGINT, name STRING, tags ARRAY<STRING>, user STRUCT<id:BIGINT, country:STRING>, p DOUBLE");
        d.push(br#"{"id":1,"name":"a","tags":["x","y"],"user":{"id":7,"country":"DE"},"p":1}"#)
            .unwrap();
        d.push(br#"{"id":2,"user":null}"#).unwrap();
        d.push(br#"{"id":3,"user":{"id":8},"p":2.5}"#).unwrap();
        let b = d.finish().unwrap();
        assert_eq!(b.num_rows(), 3);
        assert_eq!(
            json_rows(&b),
            "{\"id\":1,\"name\":\"a\",\"tags\":[\"x\",\"y\"],\"user\":{\"id\":7,\"country\":\"DE\"},\"p\":1.0}\n\
             {\"id\":2}\n{\"id\":3,\"user\":{\"id\":8},\"p\":2.5}\n"
        );
        assert!(d.is_empty(), "finish resets");
    }

    #[test]
    fn rejects_without_leaving_partial_rows() {
        let mut d = decoder("id BIGINT, user STRUCT<id:BIGINT, tags:ARRAY<INT>>");
        d.push(br#"{"id":1,"user":{"id":1,"tags":[1,2]}}"#).unwrap();
        // fails deep inside, after appending to several builders
        let e = d
            .push(br#"{"id":2,"user":{"id":2,"tags":[3,"x"]}}"#)
            .unwrap_err();
        assert!(
            matches!(e, LineError::Type(ref m) if m.contains("user.tags")),
            "{e:?}"
        );
        assert!(
            matches!(d.push(br#"{"id":1.5}"#).unwrap_err(), LineError::Type(_)),
            "no silent truncation"
        );
        let e = d.push(br#"{"id":3,"new":1}"#).unwrap_err();
        assert!(
            matches!(e, LineError::UnknownField { ref field, .. } if field == "new"),
            "{e:?}"
        );
        assert!(matches!(
            d.push(b"{\"id\":").unwrap_err(),
            LineError::Syntax(_)
        ));
        assert!(matches!(
            d.push(b"[1]").unwrap_err(),
            LineError::Type(_) | LineError::Syntax(_)
        ));
        assert!(
            matches!(d.push(b"{\"id\":1}{").unwrap_err(), LineError::Syntax(_)),
            "trailing data"
        );
        assert!(d.push(b"{\"id\":\"\xff\"}").is_err(), "invalid UTF-8");
        d.push(br#"{"id":4,"user":{"id":4,"tags":[]},"late":null}"#)
            .unwrap();
        let b = d.finish().unwrap();
        assert_eq!(json_rows(&b), "{\"id\":1,\"user\":{\"id\":1,\"tags\":[1,2]}}\n{\"id\":4,\"user\":{\"id\":4,\"tags\":[]}}\n");
    }

    #[test]
    fn typed_scalars() {
        let mut d = decoder("d DECIMAL(6,2), dt DATE, ts TIMESTAMP, b BINARY, s STRING, t TINYINT, m MAP<STRING,INT>");
        d.push(br#"{"d":"1234.5","dt":"2024-02-29","ts":"2024-01-01T00:00:01.5Z","b":"aGk=","s":{"x":[1]},"t":127,"m":{"a":1}}"#)
            .unwrap();
        d.push(br#"{"d":12.25,"ts":1700000000000,"s":3.5}"#)
            .unwrap();
        assert!(
            d.push(br#"{"d":"1.234"}"#).is_err(),
            "decimals are never rounded"
        );
        assert!(d.push(br#"{"t":128}"#).is_err(), "range checked");
        assert!(d.push(br#"{"dt":"2024-02-30"}"#).is_err());
        let b = d.finish().unwrap();
        let out = json_rows(&b);
        assert!(out.contains("\"s\":\"{\\\"x\\\":[1]}\""), "{out}");
        assert!(out.contains("\"s\":\"3.5\""), "{out}");
        use arrow_array::cast::AsArray;
        use arrow_array::types::{Decimal128Type, TimestampMicrosecondType};
        let dec = b.column(0).as_primitive::<Decimal128Type>();
        assert_eq!(dec.value(0), 123450);
        assert_eq!(dec.value(1), 1225);
        let ts = b.column(2).as_primitive::<TimestampMicrosecondType>();
        assert_eq!(ts.value(0), 1_704_067_201_500_000);
        assert_eq!(ts.value(1), 1_700_000_000_000_000);
    }

    #[test]
    fn flatten_maps_nested_keys() {
        let schema = Arc::new(
            parse_schema("a_b BIGINT, user_id BIGINT, user_geo_cc STRING, tags ARRAY<BIGINT>")
                .unwrap(),
        );
        let mut d = RowDecoder::new(schema, Some("_".into())).unwrap();
        d.push(br#"{"user":{"id":1,"geo":{"cc":"DE"}},"tags":[1]}"#)
            .unwrap();
        d.push(br#"{"user":null}"#).unwrap();
        let e = d.push(br#"{"a_b":1,"a":{"b":2}}"#).unwrap_err();
        assert_eq!(
            e,
            LineError::Type(flatten::Collision { key: "a_b".into() }.to_string())
        );
        // a key that occurs twice in the input is the same kind of collision
        let e = d.push(br#"{"a_b":1,"a_b":2}"#).unwrap_err();
        assert!(e.to_string().contains("\"a_b\" occurs twice"), "{e}");
        // names no column has: a null is dropped, a value is an unknown field
        d.push(br#"{"x":{"y":null}}"#).unwrap();
        let e = d.push(br#"{"x":{"y":1}}"#).unwrap_err();
        assert!(
            matches!(e, LineError::UnknownField { ref field, .. } if field == "x_y"),
            "{e:?}"
        );
        assert!(d.push(b"[1]").is_err(), "not an object");
        let b = d.finish().unwrap();
        assert_eq!(
            json_rows(&b),
            "{\"user_id\":1,\"user_geo_cc\":\"DE\",\"tags\":[1]}\n{}\n{}\n"
        );
    }
}
