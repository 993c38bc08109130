//! Arrow record batches -> text: JSON lines, CSV, TSV and aligned tables.
//!
//! Each batch gets a tree of column encoders built once from its arrays, so the per-value
//! work is a virtual call and a typed write into a reused byte buffer, never a match on
//! `DataType`. Output goes to the writer in large blocks.
//!
//! Value conventions (shared by every format): timestamps ISO-8601 (`Z` or `+02:00` for
//! zoned, no suffix for naive, fraction only when non-zero with 3/6/9 digits by unit),
//! dates `YYYY-MM-DD`, decimals exact, binary base64, floats shortest round-trip
//! (`NaN`, `Infinity`), maps as objects with string keys. In JSON every key is present
//! and nulls are `null`; in CSV/TSV a null is an empty field and nested values are their
//! JSON text.

use std::io::Write;
use std::str::FromStr;

use arrow_array::cast::*;
use arrow_array::timezone::Tz;
use arrow_array::types::*;
use arrow_array::*;
use arrow_buffer::{i256, ArrowNativeType, NullBuffer, OffsetBuffer};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::*;
use base64::Engine;
use chrono::{Offset, TimeZone};

use lakepipe::text::{self, Align, JsonEscape};

/// Output formats of the text writers (pq-cat's `--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per row
    Jsonl,
    /// RFC 4180 CSV
    Csv,
    /// Tab-separated values, with \t \n \r \\ escaped
    Tsv,
    /// An aligned text table (buffers the rows it prints)
    Table,
}

/// Writes record batches as text. `finish` must be called to flush.
pub trait BatchWriter {
    fn write_batch(&mut self, batch: &RecordBatch) -> anyhow::Result<()>;
    fn finish(&mut self) -> anyhow::Result<()>;
}

/// A writer for `format`. `header` adds a header line to CSV/TSV (tables always have one).
pub fn writer<'w>(
    format: Format,
    schema: &Schema,
    header: bool,
    out: Box<dyn Write + 'w>,
) -> Box<dyn BatchWriter + 'w> {
    match format {
        Format::Jsonl => Box::new(JsonLines::new(out)),
        Format::Csv | Format::Tsv => Box::new(Delimited::new(
            out,
            format == Format::Tsv,
            header.then(|| column_names(schema)),
        )),
        Format::Table => Box::new(Table::new(out, schema)),
    }
}

/// Flush the pending block to the writer once it is this large.
const BLOCK: usize = 1 << 20;

// ---------------------------------------------------------------------------------------
// Column encoders

/// How scalars are written: inside JSON (strings quoted and escaped, NaN as a string) or
/// as a raw text cell (CSV/TSV/table). Nested values are always JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Json,
    Text,
}

/// Writes the non-null value at a row index.
trait Encode {
    fn encode(&self, i: usize, out: &mut Vec<u8>);
}

/// A column: its logical nulls and the encoder of its values.
struct Column<'a> {
    nulls: Option<NullBuffer>,
    enc: Box<dyn Encode + 'a>,
}

impl<'a> Column<'a> {
    fn new(array: &'a dyn Array, mode: Mode) -> Self {
        Column {
            nulls: array.logical_nulls(),
            enc: encoder(array, mode),
        }
    }

    #[inline]
    fn is_null(&self, i: usize) -> bool {
        self.nulls.as_ref().is_some_and(|n| n.is_null(i))
    }

    /// The value as JSON (`null` for a null).
    #[inline]
    fn json(&self, i: usize, out: &mut Vec<u8>) {
        if self.is_null(i) {
            out.extend_from_slice(b"null");
        } else {
            self.enc.encode(i, out);
        }
    }
}

/// The values of a primitive array whose type the caller matched.
fn values<T: ArrowPrimitiveType>(array: &dyn Array) -> &[T::Native] {
    array.as_primitive::<T>().values()
}

fn floats<T: Float>(values: &[T], mode: Mode) -> Box<dyn Encode + '_> {
    Box::new(Floats { values, mode })
}

fn decimals<T: DecimalInt>(values: &[T], scale: i8, mode: Mode) -> Box<dyn Encode + '_> {
    Box::new(Decimals {
        values,
        scale,
        mode,
    })
}

fn dates<T: DateValue>(values: &[T], mode: Mode) -> Box<dyn Encode + '_> {
    Box::new(Dates { values, mode })
}

fn times<T: Copy + Into<i64>>(values: &[T], unit: TimeUnit, mode: Mode) -> Box<dyn Encode + '_> {
    Box::new(Times { values, unit, mode })
}

fn encoder<'a>(array: &'a dyn Array, mode: Mode) -> Box<dyn Encode + 'a> {
    use DataType::*;
    match array.data_type() {
        Boolean => Box::new(Bools(array.as_boolean())),
        Int8 => Box::new(Ints(values::<Int8Type>(array))),
        Int16 => Box::new(Ints(values::<Int16Type>(array))),
        Int32 => Box::new(Ints(values::<Int32Type>(array))),
        Int64 => Box::new(Ints(values::<Int64Type>(array))),
        UInt8 => Box::new(Ints(values::<UInt8Type>(array))),
        UInt16 => Box::new(Ints(values::<UInt16Type>(array))),
        UInt32 => Box::new(Ints(values::<UInt32Type>(array))),
        UInt64 => Box::new(Ints(values::<UInt64Type>(array))),
        Float16 => floats(values::<Float16Type>(array), mode),
        Float32 => floats(values::<Float32Type>(array), mode),
        Float64 => floats(values::<Float64Type>(array), mode),
        Utf8 => Box::new(Strings(array.as_string::<i32>(), mode)),
        LargeUtf8 => Box::new(Strings(array.as_string::<i64>(), mode)),
        Utf8View => Box::new(StringViews(array.as_string_view(), mode)),
        Binary => Box::new(Binaries(array.as_binary::<i32>(), mode)),
        LargeBinary => Box::new(Binaries(array.as_binary::<i64>(), mode)),
        BinaryView => Box::new(BinaryViews(array.as_binary_view(), mode)),
        FixedSizeBinary(_) => Box::new(FixedBinaries(array.as_fixed_size_binary(), mode)),
        Decimal32(_, s) => decimals(values::<Decimal32Type>(array), *s, mode),
        Decimal64(_, s) => decimals(values::<Decimal64Type>(array), *s, mode),
        Decimal128(_, s) => decimals(values::<Decimal128Type>(array), *s, mode),
        Decimal256(_, s) => decimals(values::<Decimal256Type>(array), *s, mode),
        Date32 => dates(values::<Date32Type>(array), mode),
        Date64 => dates(values::<Date64Type>(array), mode),
        Timestamp(unit, tz) => {
            let values = match unit {
                TimeUnit::Second => values::<TimestampSecondType>(array),
                TimeUnit::Millisecond => values::<TimestampMillisecondType>(array),
                TimeUnit::Microsecond => values::<TimestampMicrosecondType>(array),
                TimeUnit::Nanosecond => values::<TimestampNanosecondType>(array),
            };
            Box::new(Timestamps {
                values,
                unit: *unit,
                zone: Zone::new(tz.as_deref()),
                mode,
            })
        }
        Time32(u @ TimeUnit::Second) => times(values::<Time32SecondType>(array), *u, mode),
        Time32(u) => times(values::<Time32MillisecondType>(array), *u, mode),
        Time64(u @ TimeUnit::Microsecond) => {
            times(values::<Time64MicrosecondType>(array), *u, mode)
        }
        Time64(u) => times(values::<Time64NanosecondType>(array), *u, mode),
        Struct(fields) => {
            let s = array.as_struct();
            Box::new(Object::new(
                fields
                    .iter()
                    .map(|f| f.name().as_str())
                    .zip(s.columns().iter().map(|c| c.as_ref())),
            ))
        }
        List(_) => {
            let l = array.as_list::<i32>();
            Box::new(Lists {
                offsets: l.offsets(),
                values: Column::new(l.values().as_ref(), Mode::Json),
            })
        }
        LargeList(_) => {
            let l = array.as_list::<i64>();
            Box::new(Lists {
                offsets: l.offsets(),
                values: Column::new(l.values().as_ref(), Mode::Json),
            })
        }
        FixedSizeList(_, size) => {
            let l = array.as_fixed_size_list();
            Box::new(FixedLists {
                size: *size as usize,
                offset: l.offset(),
                values: Column::new(l.values().as_ref(), Mode::Json),
            })
        }
        Map(_, _) => Box::new(Maps::new(array.as_map())),
        Dictionary(key, _) => match key.as_ref() {
            Int8 => dict::<Int8Type>(array, mode),
            Int16 => dict::<Int16Type>(array, mode),
            Int32 => dict::<Int32Type>(array, mode),
            Int64 => dict::<Int64Type>(array, mode),
            UInt8 => dict::<UInt8Type>(array, mode),
            UInt16 => dict::<UInt16Type>(array, mode),
            UInt32 => dict::<UInt32Type>(array, mode),
            _ => dict::<UInt64Type>(array, mode),
        },
        // Nulls are handled by `Column`; a Null array never reaches its encoder.
        Null => Box::new(Displayed(None, mode)),
        // Durations, intervals, unions, ...: arrow's own display text, as a string.
        _ => Box::new(Displayed(
            ArrayFormatter::try_new(array, &FormatOptions::default()).ok(),
            mode,
        )),
    }
}

fn dict<'a, K: ArrowDictionaryKeyType>(array: &'a dyn Array, mode: Mode) -> Box<dyn Encode + 'a>
where
    K::Native: num_index::AsIndex,
{
    let d = array.as_dictionary::<K>();
    Box::new(Dict {
        keys: d.keys().values(),
        values: encoder(d.values().as_ref(), mode),
    })
}

/// Dictionary keys as `usize` (keys of valid rows are never negative).
mod num_index {
    pub trait AsIndex: Copy {
        fn as_index(self) -> usize;
    }
    macro_rules! as_index {
        ($($t:ty),*) => { $(impl AsIndex for $t { #[inline] fn as_index(self) -> usize { self as usize } })* };
    }
    as_index!(i8, i16, i32, i64, u8, u16, u32, u64);
}

struct Bools<'a>(&'a BooleanArray);
impl Encode for Bools<'_> {
    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(if self.0.value(i) { b"true" } else { b"false" });
    }
}

struct Ints<'a, T>(&'a [T]);
impl<T: itoa::Integer + Copy> Encode for Ints<'_, T> {
    #[inline]
    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(itoa::Buffer::new().format(self.0[i]).as_bytes());
    }
}

/// Floats: shortest round-trip text (ryu); non-finite values as strings in JSON.
trait Float: Copy {
    fn write(self, out: &mut Vec<u8>, mode: Mode);
}

fn write_non_finite(text: &str, out: &mut Vec<u8>, mode: Mode) {
    if mode == Mode::Json {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

macro_rules! float_impl {
    ($t:ty) => {
        impl Float for $t {
            #[inline]
            fn write(self, out: &mut Vec<u8>, mode: Mode) {
                if self.is_finite() {
                    out.extend_from_slice(ryu::Buffer::new().format_finite(self).as_bytes());
                } else if self.is_nan() {
                    write_non_finite("NaN", out, mode);
                } else {
                    write_non_finite(if self > 0.0 { "Infinity" } else { "-Infinity" }, out, mode);
                }
            }
        }
    };
}
float_impl!(f32);
float_impl!(f64);
impl Float for half::f16 {
    fn write(self, out: &mut Vec<u8>, mode: Mode) {
        self.to_f32().write(out, mode)
    }
}

struct Floats<'a, T> {
    values: &'a [T],
    mode: Mode,
}
impl<T: Float> Encode for Floats<'_, T> {
    #[inline]
    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        self.values[i].write(out, self.mode)
    }
}

/// Write `s` as a text cell (raw) or a JSON string.
#[inline]
fn write_str(s: &[u8], out: &mut Vec<u8>, mode: Mode) {
    match mode {
        Mode::Json => write_json_str(s, out),
        Mode::Text => out.extend_from_slice(s),
    }
}

/// Write a JSON string literal with serde_json's escaping.
#[inline]
fn write_json_str(s: &[u8], out: &mut Vec<u8>) {
    text::push_json_str(out, s, JsonEscape::SERDE)
}

struct Strings<'a, O: OffsetSizeTrait>(&'a GenericStringArray<O>, Mode);
impl<O: OffsetSizeTrait> Encode for Strings<'_, O> {
    #[inline]
    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        let offsets = self.0.value_offsets();
        let (start, end) = (offsets[i].as_usize(), offsets[i + 1].as_usize());
        write_str(&self.0.values()[start..end], out, self.1)
    }
}

struct StringViews<'a>(&'a StringViewArray, Mode);
impl Encode for StringViews<'_> {
    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        write_str(self.0.value(i).as_bytes(), out, self.1)
    }
}

fn write_base64(bytes: &[u8], out: &mut Vec<u8>, mode: Mode) {
    quoted(mode, out, |out| {
        let start = out.len();
        let len = base64::encoded_len(bytes.len(), true).unwrap_or(0);
        out.resize(start + len, 0);
        let written = base64::engine::general_purpose::STANDARD
            .encode_slice(bytes, &mut out[start..])
            .unwrap_or(0);
        out.truncate(start + written);
    })
}

struct Binaries<'a, O: OffsetSizeTrait>(&'a GenericBinaryArray<O>, Mode);
impl<O: OffsetSizeTrait> Encode for Binaries<'_, O> {
    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        write_base64(self.0.value(i), out, self.1)
    }
}

struct BinaryViews<'a>(&'a BinaryViewArray, Mode);
impl Encode for BinaryViews<'_> {
    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        write_base64(self.0.value(i), out, self.1)
    }
}

struct FixedBinaries<'a>(&'a FixedSizeBinaryArray, Mode);
impl Encode for FixedBinaries<'_> {
    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        write_base64(self.0.value(i), out, self.1)
    }
}

/// Decimal storage integers, written as their digits with the point inserted.
trait DecimalInt: Copy {
    fn write(self, scale: i8, out: &mut Vec<u8>);
}
macro_rules! decimal_int {
    ($($t:ty),*) => {$(
        impl DecimalInt for $t {
            #[inline]
            fn write(self, scale: i8, out: &mut Vec<u8>) {
                write_decimal(itoa::Buffer::new().format(self), scale, out)
            }
        }
    )*};
}
decimal_int!(i32, i64, i128);
impl DecimalInt for i256 {
    fn write(self, scale: i8, out: &mut Vec<u8>) {
        write_decimal(&self.to_string(), scale, out)
    }
}

/// Write an unscaled integer's digits with `scale` digits after the point ("12.340").
fn write_decimal(digits: &str, scale: i8, out: &mut Vec<u8>) {
    let (neg, digits) = match digits.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, digits),
    };
    if neg {
        out.push(b'-');
    }
    if scale <= 0 {
        out.extend_from_slice(digits.as_bytes());
        if digits != "0" {
            out.resize(out.len() + (-(scale as i32)) as usize, b'0');
        }
        return;
    }
    let scale = scale as usize;
    if digits.len() > scale {
        let (int, frac) = digits.split_at(digits.len() - scale);
        out.extend_from_slice(int.as_bytes());
        out.push(b'.');
        out.extend_from_slice(frac.as_bytes());
    } else {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + scale - digits.len(), b'0');
        out.extend_from_slice(digits.as_bytes());
    }
}

struct Decimals<'a, T> {
    values: &'a [T],
    scale: i8,
    mode: Mode,
}
impl<T: DecimalInt> Encode for Decimals<'_, T> {
    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        quoted(self.mode, out, |out| self.values[i].write(self.scale, out));
    }
}

/// Write a value with `write`, in quotes for JSON (a date, a decimal: text, not a number).
#[inline]
fn quoted(mode: Mode, out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) {
    let quote = mode == Mode::Json;
    if quote {
        out.push(b'"');
    }
    write(out);
    if quote {
        out.push(b'"');
    }
}

#[inline]
fn push2(out: &mut Vec<u8>, v: u32) {
    out.push(b'0' + (v / 10 % 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

/// Proleptic Gregorian (year, month, day) from days since 1970-01-01 (H. Hinnant's
/// `civil_from_days`), exact for every i64 day count arrow can hold in practice.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn write_date(days: i64, out: &mut Vec<u8>) {
    let (y, m, d) = civil_from_days(days);
    if (0..10_000).contains(&y) {
        push2(out, (y / 100) as u32);
        push2(out, (y % 100) as u32);
    } else {
        // ISO 8601 expanded years, as chrono prints them.
        let _ = write!(
            out,
            "{}{:04}",
            if y < 0 { '-' } else { '+' },
            y.unsigned_abs()
        );
    }
    out.push(b'-');
    push2(out, m);
    out.push(b'-');
    push2(out, d);
}

/// Write `.fff`, `.ffffff` or `.fffffffff` (by `digits`) when `nanos` is non-zero.
fn write_fraction(nanos: u32, digits: u32, out: &mut Vec<u8>) {
    if nanos == 0 || digits == 0 {
        return;
    }
    out.push(b'.');
    let mut v = nanos / 10u32.pow(9 - digits);
    let start = out.len();
    out.resize(start + digits as usize, b'0');
    for k in (0..digits as usize).rev() {
        out[start + k] = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

fn write_time_of_day(secs: u32, nanos: u32, digits: u32, out: &mut Vec<u8>) {
    push2(out, secs / 3600);
    out.push(b':');
    push2(out, secs / 60 % 60);
    out.push(b':');
    push2(out, secs % 60);
    write_fraction(nanos, digits, out);
}

/// Units per second and fraction digits of a time unit.
fn unit_scale(unit: TimeUnit) -> (i64, u32) {
    match unit {
        TimeUnit::Second => (1, 0),
        TimeUnit::Millisecond => (1_000, 3),
        TimeUnit::Microsecond => (1_000_000, 6),
        TimeUnit::Nanosecond => (1_000_000_000, 9),
    }
}

/// The time zone of a timestamp column, resolved once per batch.
enum Zone {
    Naive,
    Utc,
    /// A fixed offset in seconds with its `+HH:MM` text.
    Fixed(i64, String),
    Named(Tz),
}

impl Zone {
    fn new(tz: Option<&str>) -> Zone {
        let Some(tz) = tz else { return Zone::Naive };
        match tz {
            "UTC" | "utc" | "Z" | "z" | "Etc/UTC" | "GMT" | "Etc/GMT" | "+00:00" | "+0000"
            | "-00:00" | "+00" => Zone::Utc,
            _ => match fixed_offset(tz) {
                Some(secs) => Zone::Fixed(secs, offset_text(secs)),
                // An unknown zone name: the instant is still UTC-adjusted, print it as such.
                None => Tz::from_str(tz).map(Zone::Named).unwrap_or(Zone::Utc),
            },
        }
    }
}

/// Seconds east of UTC for `+HH:MM`, `+HHMM` or `+HH`.
fn fixed_offset(tz: &str) -> Option<i64> {
    let (sign, rest) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let h: i64 = digits[..2].parse().ok()?;
    let m: i64 = if digits.len() == 4 {
        digits[2..].parse().ok()?
    } else {
        0
    };
    Some(sign * (h * 3600 + m * 60))
}

fn offset_text(secs: i64) -> String {
    let (sign, abs) = if secs < 0 { ('-', -secs) } else { ('+', secs) };
    format!("{sign}{:02}:{:02}", abs / 3600, abs / 60 % 60)
}

struct Timestamps<'a> {
    values: &'a [i64],
    unit: TimeUnit,
    zone: Zone,
    mode: Mode,
}

impl Encode for Timestamps<'_> {
    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        let (per_sec, digits) = unit_scale(self.unit);
        let v = self.values[i];
        let mut secs = v.div_euclid(per_sec);
        let nanos = (v.rem_euclid(per_sec) * (1_000_000_000 / per_sec)) as u32;
        let quote = self.mode == Mode::Json;
        if quote {
            out.push(b'"');
        }
        let named;
        let suffix: &str = match &self.zone {
            Zone::Naive => "",
            Zone::Utc => "Z",
            Zone::Fixed(off, text) => {
                secs += off;
                text
            }
            Zone::Named(tz) => {
                let off = chrono::DateTime::from_timestamp(secs, 0)
                    .map(|t| {
                        i64::from(
                            tz.offset_from_utc_datetime(&t.naive_utc())
                                .fix()
                                .local_minus_utc(),
                        )
                    })
                    .unwrap_or(0);
                secs += off;
                named = offset_text(off);
                &named
            }
        };
        write_date(secs.div_euclid(86_400), out);
        out.push(b'T');
        write_time_of_day(secs.rem_euclid(86_400) as u32, nanos, digits, out);
        out.extend_from_slice(suffix.as_bytes());
        if quote {
            out.push(b'"');
        }
    }
}

/// Date32 (days) and Date64 (milliseconds) values.
trait DateValue: Copy {
    fn days(self) -> i64;
}
impl DateValue for i32 {
    fn days(self) -> i64 {
        i64::from(self)
    }
}
impl DateValue for i64 {
    fn days(self) -> i64 {
        self.div_euclid(86_400_000)
    }
}

struct Dates<'a, T> {
    values: &'a [T],
    mode: Mode,
}
impl<T: DateValue> Encode for Dates<'_, T> {
    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        quoted(self.mode, out, |out| write_date(self.values[i].days(), out));
    }
}

struct Times<'a, T> {
    values: &'a [T],
    unit: TimeUnit,
    mode: Mode,
}
impl<T: Copy + Into<i64>> Encode for Times<'_, T> {
    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        let (per_sec, digits) = unit_scale(self.unit);
        let v: i64 = self.values[i].into();
        let secs = v.div_euclid(per_sec) as u32;
        let nanos = (v.rem_euclid(per_sec) * (1_000_000_000 / per_sec)) as u32;
        quoted(self.mode, out, |out| {
            write_time_of_day(secs, nanos, digits, out)
        });
    }
}

/// A JSON object: structs, and the rows of a JSON-lines output.
struct Object<'a> {
    /// `"name":` (and `,` before every key but the first), escaped once.
    keys: Vec<Vec<u8>>,
    columns: Vec<Column<'a>>,
}

impl<'a> Object<'a> {
    fn new(fields: impl Iterator<Item = (&'a str, &'a dyn Array)>) -> Self {
        let (mut keys, mut columns) = (Vec::new(), Vec::new());
        for (n, (name, array)) in fields.enumerate() {
            let mut key = Vec::new();
            if n > 0 {
                key.push(b',');
            }
            write_json_str(name.as_bytes(), &mut key);
            key.push(b':');
            keys.push(key);
            columns.push(Column::new(array, Mode::Json));
        }
        Object { keys, columns }
    }
}

impl Encode for Object<'_> {
    #[inline]
    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        out.push(b'{');
        for (key, col) in self.keys.iter().zip(&self.columns) {
            out.extend_from_slice(key);
            col.json(i, out);
        }
        out.push(b'}');
    }
}

/// `brackets[0]`, the items written by `each` and separated by commas, `brackets[1]`.
#[inline]
fn json_items(
    out: &mut Vec<u8>,
    brackets: [u8; 2],
    items: std::ops::Range<usize>,
    mut each: impl FnMut(usize, &mut Vec<u8>),
) {
    out.push(brackets[0]);
    let first = items.start;
    for j in items {
        if j > first {
            out.push(b',');
        }
        each(j, out);
    }
    out.push(brackets[1]);
}

struct Lists<'a, O: ArrowNativeType> {
    offsets: &'a OffsetBuffer<O>,
    values: Column<'a>,
}
impl<O: ArrowNativeType> Encode for Lists<'_, O> {
    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        let items = self.offsets[i].as_usize()..self.offsets[i + 1].as_usize();
        json_items(out, *b"[]", items, |j, out| self.values.json(j, out));
    }
}

struct FixedLists<'a> {
    size: usize,
    offset: usize,
    values: Column<'a>,
}
impl Encode for FixedLists<'_> {
    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        let start = (self.offset + i) * self.size;
        let items = start..start + self.size;
        json_items(out, *b"[]", items, |j, out| self.values.json(j, out));
    }
}

/// Maps as JSON objects; keys that are not strings are stringified.
struct Maps<'a> {
    offsets: &'a OffsetBuffer<i32>,
    keys: Column<'a>,
    /// Keys whose text may need escaping (anything but strings, numbers, dates, binary).
    escape_keys: bool,
    string_keys: bool,
    values: Column<'a>,
}

impl<'a> Maps<'a> {
    fn new(map: &'a MapArray) -> Self {
        use DataType::*;
        let key_type = map.keys().data_type();
        let string_keys = matches!(key_type, Utf8 | LargeUtf8 | Utf8View)
            || matches!(key_type, Dictionary(_, v) if matches!(v.as_ref(), Utf8 | LargeUtf8 | Utf8View));
        let plain = key_type.is_primitive()
            || key_type.is_numeric()
            || matches!(
                key_type,
                Boolean | Binary | LargeBinary | FixedSizeBinary(_)
            );
        Maps {
            offsets: map.offsets(),
            keys: Column::new(
                map.keys().as_ref(),
                if string_keys { Mode::Json } else { Mode::Text },
            ),
            escape_keys: !string_keys && !plain,
            string_keys,
            values: Column::new(map.values().as_ref(), Mode::Json),
        }
    }
}

impl Encode for Maps<'_> {
    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        let items = self.offsets[i].as_usize()..self.offsets[i + 1].as_usize();
        json_items(out, *b"{}", items, |j, out| {
            if self.keys.is_null(j) {
                out.extend_from_slice(b"\"null\"");
            } else if self.string_keys {
                self.keys.enc.encode(j, out);
            } else if self.escape_keys {
                let mut text = Vec::new();
                self.keys.enc.encode(j, &mut text);
                write_json_str(&text, out);
            } else {
                out.push(b'"');
                self.keys.enc.encode(j, out);
                out.push(b'"');
            }
            out.push(b':');
            self.values.json(j, out);
        });
    }
}

struct Dict<'a, K> {
    keys: &'a [K],
    values: Box<dyn Encode + 'a>,
}
impl<K: num_index::AsIndex> Encode for Dict<'_, K> {
    #[inline]
    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        self.values.encode(self.keys[i].as_index(), out)
    }
}

/// Arrow's display text (durations, intervals, ...), as a JSON string or a raw cell.
struct Displayed<'a>(Option<ArrayFormatter<'a>>, Mode);
impl Encode for Displayed<'_> {
    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        let text = match &self.0 {
            Some(f) => f.value(i).try_to_string().unwrap_or_default(),
            None => String::new(),
        };
        write_str(text.as_bytes(), out, self.1)
    }
}

// ---------------------------------------------------------------------------------------
// Writers

/// Rows gathered into blocks of about [`BLOCK`] bytes before they are written.
struct Rows<'w> {
    out: Box<dyn Write + 'w>,
    buf: Vec<u8>,
}

impl<'w> Rows<'w> {
    fn new(out: Box<dyn Write + 'w>) -> Self {
        Rows {
            out,
            buf: Vec::with_capacity(BLOCK + BLOCK / 4),
        }
    }

    /// Writes the block once it is full (called at the end of each row).
    #[inline]
    fn spill(out: &mut dyn Write, buf: &mut Vec<u8>) -> std::io::Result<()> {
        if buf.len() >= BLOCK {
            out.write_all(buf)?;
            buf.clear();
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()
    }
}

/// A batch's rows appended to `buf` as text, for callers that encode batches side by
/// side and write them in order (pq-cat): JSON lines, or CSV/TSV rows without the
/// header ([`header_line`]). A table needs every row before its first line: use
/// [`writer`] for it.
pub fn rows_into(format: Format, batch: &RecordBatch, buf: &mut Vec<u8>) {
    let no_spill = |_: &mut Vec<u8>| Ok(());
    let done = match format {
        Format::Jsonl => json_rows(batch, buf, no_spill),
        Format::Csv | Format::Tsv => delimited_rows(batch, format == Format::Tsv, buf, no_spill),
        Format::Table => panic!("rows_into: a table is written whole, by encode::writer"),
    };
    done.expect("a Vec<u8> takes every write");
}

/// The CSV or TSV header line of the schema's column names.
pub fn header_line(format: Format, schema: &Schema) -> Vec<u8> {
    names_line(format == Format::Tsv, &column_names(schema))
}

fn column_names(schema: &Schema) -> Vec<String> {
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

/// A CSV (or TSV) line of these names.
fn names_line(tsv: bool, names: &[String]) -> Vec<u8> {
    let mut buf = Vec::new();
    for (n, name) in names.iter().enumerate() {
        if n > 0 {
            buf.push(if tsv { b'\t' } else { b',' });
        }
        let start = buf.len();
        buf.extend_from_slice(name.as_bytes());
        fix_cell(&mut buf, start, tsv);
    }
    buf.push(b'\n');
    buf
}

/// Each row as a JSON object and a newline; `row_end` runs after each row.
#[inline]
fn json_rows(
    batch: &RecordBatch,
    buf: &mut Vec<u8>,
    mut row_end: impl FnMut(&mut Vec<u8>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let row = Object::new(batch_fields(batch));
    for i in 0..batch.num_rows() {
        row.encode(i, buf);
        buf.push(b'\n');
        row_end(buf)?;
    }
    Ok(())
}

/// Each row as CSV or TSV cells and a newline; `row_end` runs after each row.
#[inline]
fn delimited_rows(
    batch: &RecordBatch,
    tsv: bool,
    buf: &mut Vec<u8>,
    mut row_end: impl FnMut(&mut Vec<u8>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let columns: Vec<Column> = batch
        .columns()
        .iter()
        .map(|c| Column::new(c.as_ref(), Mode::Text))
        .collect();
    let sep = if tsv { b'\t' } else { b',' };
    for i in 0..batch.num_rows() {
        for (n, col) in columns.iter().enumerate() {
            if n > 0 {
                buf.push(sep);
            }
            if !col.is_null(i) {
                let start = buf.len();
                col.enc.encode(i, buf);
                fix_cell(buf, start, tsv);
            }
        }
        buf.push(b'\n');
        row_end(buf)?;
    }
    Ok(())
}

/// Quote (CSV) or escape (TSV) the cell written at `buf[start..]` if it needs it.
#[inline]
fn fix_cell(buf: &mut Vec<u8>, start: usize, tsv: bool) {
    if tsv {
        text::escape_tsv_cell(buf, start)
    } else {
        text::quote_csv_cell(buf, start, false)
    }
}

/// JSON lines: one compact object per row, keys in schema order, explicit nulls.
pub struct JsonLines<'w>(Rows<'w>);

impl<'w> JsonLines<'w> {
    pub fn new(out: Box<dyn Write + 'w>) -> Self {
        JsonLines(Rows::new(out))
    }
}

fn batch_fields(batch: &RecordBatch) -> impl Iterator<Item = (&str, &dyn Array)> {
    batch
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .zip(batch.columns().iter().map(|c| c.as_ref()))
}

impl BatchWriter for JsonLines<'_> {
    fn write_batch(&mut self, batch: &RecordBatch) -> anyhow::Result<()> {
        let Rows { out, buf } = &mut self.0;
        Ok(json_rows(batch, buf, |buf| Rows::spill(out, buf))?)
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        Ok(self.0.finish()?)
    }
}

/// CSV (RFC 4180, quoted only when needed; `""` is an empty string, an empty field a
/// null) or TSV (trino-cli style: `\t`, `\n`, `\r`, `\\` escaped, null empty).
pub struct Delimited<'w> {
    rows: Rows<'w>,
    tsv: bool,
    header: Option<Vec<String>>,
}

impl<'w> Delimited<'w> {
    pub fn new(out: Box<dyn Write + 'w>, tsv: bool, header: Option<Vec<String>>) -> Self {
        Delimited {
            rows: Rows::new(out),
            tsv,
            header,
        }
    }

    fn write_header(&mut self) {
        if let Some(names) = self.header.take() {
            let line = names_line(self.tsv, &names);
            self.rows.buf.extend_from_slice(&line);
        }
    }
}

impl BatchWriter for Delimited<'_> {
    fn write_batch(&mut self, batch: &RecordBatch) -> anyhow::Result<()> {
        self.write_header();
        let Rows { out, buf } = &mut self.rows;
        Ok(delimited_rows(batch, self.tsv, buf, |buf| {
            Rows::spill(out, buf)
        })?)
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.write_header();
        Ok(self.rows.finish()?)
    }
}

/// An aligned text table (trino-cli style). It holds every row until `finish`, so
/// callers limit the rows (`--head`) on large inputs.
pub struct Table<'w> {
    out: Box<dyn Write + 'w>,
    names: Vec<String>,
    aligns: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl<'w> Table<'w> {
    pub fn new(out: Box<dyn Write + 'w>, schema: &Schema) -> Self {
        let aligns = schema
            .fields()
            .iter()
            .map(|f| {
                if is_number(f.data_type()) {
                    Align::Right
                } else {
                    Align::Left
                }
            })
            .collect();
        Table {
            out,
            names: schema
                .fields()
                .iter()
                .map(|f| table_cell(f.name()))
                .collect(),
            aligns,
            rows: Vec::new(),
        }
    }
}

fn is_number(dt: &DataType) -> bool {
    use DataType::*;
    match dt {
        Dictionary(_, v) => is_number(v),
        _ => dt.is_numeric(),
    }
}

/// A cell with control characters made visible, so every row stays on one line.
fn table_cell(s: &str) -> String {
    if !s.bytes().any(|b| b < 0x20) {
        return s.to_string();
    }
    s.chars()
        .map(|c| match c {
            '\n' => "\\n".to_string(),
            '\r' => "\\r".to_string(),
            '\t' => "\\t".to_string(),
            c if (c as u32) < 0x20 => format!("\\x{:02x}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

impl BatchWriter for Table<'_> {
    fn write_batch(&mut self, batch: &RecordBatch) -> anyhow::Result<()> {
        let columns: Vec<Column> = batch
            .columns()
            .iter()
            .map(|c| Column::new(c.as_ref(), Mode::Text))
            .collect();
        let mut buf = Vec::new();
        for i in 0..batch.num_rows() {
            let row = columns
                .iter()
                .map(|col| {
                    if col.is_null(i) {
                        return "NULL".to_string();
                    }
                    buf.clear();
                    col.enc.encode(i, &mut buf);
                    table_cell(&String::from_utf8_lossy(&buf))
                })
                .collect();
            self.rows.push(row);
        }
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        let rows = std::mem::take(&mut self.rows);
        text::write_table(&mut self.out, &self.names, &self.aligns, &rows)?;
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use arrow_array::builder::*;

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(columns).unwrap()
    }

    fn render(format: Format, header: bool, b: &RecordBatch) -> String {
        let mut out = Vec::new();
        {
            let mut w = writer(format, &b.schema(), header, Box::new(&mut out));
            w.write_batch(b).unwrap();
            w.finish().unwrap();
        }
        String::from_utf8(out).unwrap()
    }

    /// JSON lines of a one-column batch, as the values only.
    fn json_values(array: ArrayRef) -> Vec<String> {
        let text = render(Format::Jsonl, false, &batch(vec![("v", array)]));
        text.lines()
            .map(|l| {
                l.strip_prefix("{\"v\":")
                    .unwrap()
                    .strip_suffix('}')
                    .unwrap()
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn integers_and_booleans() {
        assert_eq!(
            json_values(Arc::new(Int8Array::from(vec![Some(-128), None, Some(7)]))),
            ["-128", "null", "7"]
        );
        assert_eq!(
            json_values(Arc::new(UInt64Array::from(vec![u64::MAX]))),
            ["18446744073709551615"]
        );
        assert_eq!(
            json_values(Arc::new(Int64Array::from(vec![i64::MIN]))),
            ["-9223372036854775808"]
        );
        assert_eq!(
            json_values(Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(false),
                None
            ]))),
            ["true", "false", "null"]
        );
    }

    #[test]
    fn floats_are_shortest_round_trip() {
        let v = Float64Array::from(vec![
            52.0,
            338.67,
            0.1,
            1e21,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ]);
        assert_eq!(
            json_values(Arc::new(v)),
            [
                "52.0",
                "338.67",
                "0.1",
                "1e21",
                "-0.0",
                "\"NaN\"",
                "\"Infinity\"",
                "\"-Infinity\""
            ]
        );
        assert_eq!(
            json_values(Arc::new(Float32Array::from(vec![0.1f32, 3.0]))),
            ["0.1", "3.0"]
        );
        assert_eq!(
            json_values(Arc::new(Float16Array::from(vec![half::f16::from_f32(1.5)]))),
            ["1.5"]
        );
    }

    #[test]
    fn strings_are_escaped_like_serde_json() {
        let s = "a\"b\\c\nd\te\u{1}f\u{8}\u{c}\ré/€";
        let got = json_values(Arc::new(StringArray::from(vec![Some(s), None, Some("")])));
        assert_eq!(
            got,
            [
                serde_json::to_string(s).unwrap(),
                "null".into(),
                "\"\"".into()
            ]
        );
        assert_eq!(
            json_values(Arc::new(LargeStringArray::from(vec!["x"]))),
            ["\"x\""]
        );
        assert_eq!(
            json_values(Arc::new(StringViewArray::from(vec![
                "a long string view value"
            ]))),
            ["\"a long string view value\""]
        );
    }

    #[test]
    fn binary_is_base64() {
        let b = BinaryArray::from(vec![Some(&b"\x00\xffhi"[..]), None, Some(&b""[..])]);
        assert_eq!(json_values(Arc::new(b)), ["\"AP9oaQ==\"", "null", "\"\""]);
        let f = FixedSizeBinaryArray::try_from_iter(vec![b"abc".to_vec()].into_iter()).unwrap();
        assert_eq!(json_values(Arc::new(f)), ["\"YWJj\""]);
    }

    #[test]
    fn decimals_are_exact_strings() {
        let d = Decimal128Array::from(vec![Some(12340), Some(-5), Some(0), None])
            .with_precision_and_scale(10, 3)
            .unwrap();
        assert_eq!(
            json_values(Arc::new(d)),
            ["\"12.340\"", "\"-0.005\"", "\"0.000\"", "null"]
        );
        let big = Decimal128Array::from(vec![i128::MAX / 10])
            .with_precision_and_scale(38, 2)
            .unwrap();
        assert_eq!(
            json_values(Arc::new(big)),
            [format!(
                "\"{}.{}\"",
                i128::MAX / 1000,
                (i128::MAX / 10) % 100
            )]
        );
        let d0 = Decimal128Array::from(vec![42])
            .with_precision_and_scale(5, 0)
            .unwrap();
        assert_eq!(json_values(Arc::new(d0)), ["\"42\""]);
        let d256 = Decimal256Array::from(vec![i256::from_i128(-123456)])
            .with_precision_and_scale(50, 4)
            .unwrap();
        assert_eq!(json_values(Arc::new(d256)), ["\"-12.3456\""]);
        let neg = Decimal128Array::from(vec![12, -3, 0])
            .with_precision_and_scale(5, -2)
            .unwrap();
        assert_eq!(
            json_values(Arc::new(neg)),
            ["\"1200\"", "\"-300\"", "\"0\""]
        );
        let d64 = Decimal64Array::from(vec![1005])
            .with_precision_and_scale(12, 2)
            .unwrap();
        assert_eq!(json_values(Arc::new(d64)), ["\"10.05\""]);
    }

    #[test]
    fn dates_and_times() {
        let d = Date32Array::from(vec![Some(19753), Some(-1), Some(0), None]);
        assert_eq!(
            json_values(Arc::new(d)),
            ["\"2024-01-31\"", "\"1969-12-31\"", "\"1970-01-01\"", "null"]
        );
        assert_eq!(
            json_values(Arc::new(Date64Array::from(vec![86_400_000 * 366]))),
            ["\"1971-01-02\""]
        );
        let t = Time32MillisecondArray::from(vec![3_723_004, 3_723_000]);
        assert_eq!(
            json_values(Arc::new(t)),
            ["\"01:02:03.004\"", "\"01:02:03\""]
        );
        assert_eq!(
            json_values(Arc::new(Time32SecondArray::from(vec![86_399]))),
            ["\"23:59:59\""]
        );
        let t = Time64NanosecondArray::from(vec![1_000_000_001]);
        assert_eq!(json_values(Arc::new(t)), ["\"00:00:01.000000001\""]);
        assert_eq!(
            json_values(Arc::new(Time64MicrosecondArray::from(vec![500]))),
            ["\"00:00:00.000500\""]
        );
    }

    #[test]
    fn timestamps_are_iso_8601() {
        let ms = TimestampMillisecondArray::from(vec![1_700_000_000_037, 1_700_000_000_000])
            .with_timezone("UTC");
        assert_eq!(
            json_values(Arc::new(ms)),
            ["\"2023-11-14T22:13:20.037Z\"", "\"2023-11-14T22:13:20Z\""]
        );
        let naive = TimestampMicrosecondArray::from(vec![1_700_000_000_000_001, -1]);
        assert_eq!(
            json_values(Arc::new(naive)),
            [
                "\"2023-11-14T22:13:20.000001\"",
                "\"1969-12-31T23:59:59.999999\""
            ]
        );
        let ns = TimestampNanosecondArray::from(vec![1_500_000_000]).with_timezone("+02:00");
        assert_eq!(
            json_values(Arc::new(ns)),
            ["\"1970-01-01T02:00:01.500000000+02:00\""]
        );
        let s = TimestampSecondArray::from(vec![0]).with_timezone("Etc/UTC");
        assert_eq!(json_values(Arc::new(s)), ["\"1970-01-01T00:00:00Z\""]);
        // Named zones follow daylight saving time.
        let berlin = TimestampSecondArray::from(vec![1_700_000_000, 1_690_000_000])
            .with_timezone("Europe/Berlin");
        assert_eq!(
            json_values(Arc::new(berlin)),
            [
                "\"2023-11-14T23:13:20+01:00\"",
                "\"2023-07-22T06:26:40+02:00\""
            ]
        );
        let far = TimestampSecondArray::from(vec![253_402_300_800]);
        assert_eq!(json_values(Arc::new(far)), ["\"+10000-01-01T00:00:00\""]);
    }

    #[test]
    fn nested_values() {
        let ids = Arc::new(Int64Array::from(vec![Some(1), None, Some(3)])) as ArrayRef;
        let names = Arc::new(StringArray::from(vec![Some("a"), Some("b"), None])) as ArrayRef;
        let s = StructArray::try_new(
            vec![
                Field::new("id", DataType::Int64, true),
                Field::new("name", DataType::Utf8, true),
            ]
            .into(),
            vec![ids, names],
            Some(NullBuffer::from(vec![true, true, false])),
        )
        .unwrap();
        assert_eq!(
            json_values(Arc::new(s)),
            [
                "{\"id\":1,\"name\":\"a\"}",
                "{\"id\":null,\"name\":\"b\"}",
                "null"
            ]
        );

        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None]),
            None,
            Some(vec![]),
        ]);
        assert_eq!(json_values(Arc::new(list)), ["[1,null]", "null", "[]"]);
        let large =
            LargeListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(2)])]);
        assert_eq!(json_values(Arc::new(large)), ["[2]"]);
        let fixed = FixedSizeListArray::from_iter_primitive::<Int32Type, _, _>(
            vec![Some(vec![Some(1), Some(2)]), Some(vec![Some(3), None])],
            2,
        );
        assert_eq!(json_values(Arc::new(fixed.slice(1, 1))), ["[3,null]"]);
    }

    #[test]
    fn maps_are_objects_with_string_keys() {
        let mut b = MapBuilder::new(None, StringBuilder::new(), Int32Builder::new());
        b.keys().append_value("a\"x");
        b.values().append_value(1);
        b.keys().append_value("b");
        b.values().append_null();
        b.append(true).unwrap();
        b.append(false).unwrap();
        assert_eq!(
            json_values(Arc::new(b.finish())),
            ["{\"a\\\"x\":1,\"b\":null}", "null"]
        );
        let mut b = MapBuilder::new(None, Int32Builder::new(), StringBuilder::new());
        b.keys().append_value(7);
        b.values().append_value("seven");
        b.append(true).unwrap();
        assert_eq!(json_values(Arc::new(b.finish())), ["{\"7\":\"seven\"}"]);
        let mut b = MapBuilder::new(None, Date32Builder::new(), BooleanBuilder::new());
        b.keys().append_value(0);
        b.values().append_value(true);
        b.append(true).unwrap();
        assert_eq!(json_values(Arc::new(b.finish())), ["{\"1970-01-01\":true}"]);
    }

    #[test]
    fn dictionaries_nulls_and_fallbacks() {
        let d: DictionaryArray<Int32Type> = vec![Some("x"), None, Some("y"), Some("x")]
            .into_iter()
            .collect();
        assert_eq!(
            json_values(Arc::new(d)),
            ["\"x\"", "null", "\"y\"", "\"x\""]
        );
        assert_eq!(json_values(Arc::new(NullArray::new(2))), ["null", "null"]);
        let dur = DurationSecondArray::from(vec![90]);
        assert_eq!(
            json_values(Arc::new(dur)),
            [format!(
                "\"{}\"",
                ArrayFormatter::try_new(
                    &DurationSecondArray::from(vec![90]),
                    &FormatOptions::default()
                )
                .unwrap()
                .value(0)
            )]
        );
    }

    #[test]
    fn sliced_arrays_use_their_offset() {
        let s = StringArray::from(vec!["a", "b", "c"]);
        assert_eq!(json_values(Arc::new(s.slice(1, 2))), ["\"b\"", "\"c\""]);
        let list = ListArray::new(
            Arc::new(Field::new("item", DataType::Int64, true)),
            OffsetBuffer::from_lengths([1, 2]),
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            None,
        );
        assert_eq!(json_values(Arc::new(list.slice(1, 1))), ["[2,3]"]);
    }

    #[test]
    fn json_lines_keep_schema_order_and_nulls() {
        let b = batch(vec![
            (
                "z",
                Arc::new(Int32Array::from(vec![Some(1), None])) as ArrayRef,
            ),
            (
                "a b",
                Arc::new(StringArray::from(vec![None, Some("q")])) as ArrayRef,
            ),
        ]);
        assert_eq!(
            render(Format::Jsonl, false, &b),
            "{\"z\":1,\"a b\":null}\n{\"z\":null,\"a b\":\"q\"}\n"
        );
    }

    fn mixed() -> RecordBatch {
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), Some(2)]),
            None,
            Some(vec![]),
        ]);
        batch(vec![
            (
                "id",
                Arc::new(Int64Array::from(vec![1, 22, 333])) as ArrayRef,
            ),
            (
                "text",
                Arc::new(StringArray::from(vec![
                    Some("plain"),
                    Some("a,\"b\"\nc\td\\"),
                    Some(""),
                ])) as ArrayRef,
            ),
            ("list", Arc::new(list) as ArrayRef),
            (
                "price",
                Arc::new(Float64Array::from(vec![Some(2.5), None, Some(f64::NAN)])) as ArrayRef,
            ),
        ])
    }

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(
            render(Format::Csv, true, &mixed()),
            "id,text,list,price\n1,plain,\"[1,2]\",2.5\n22,\"a,\"\"b\"\"\nc\td\\\",,\n333,\"\",[],NaN\n"
        );
    }

    #[test]
    fn tsv_escapes_like_trino_cli() {
        assert_eq!(
            render(Format::Tsv, true, &mixed()),
            "id\ttext\tlist\tprice\n1\tplain\t[1,2]\t2.5\n22\ta,\"b\"\\nc\\td\\\\\t\t\n333\t\t[]\tNaN\n"
        );
    }

    /// What pq-cat writes when it encodes batches side by side: the header line, then
    /// each batch's rows, byte for byte what one writer gives.
    #[test]
    fn rows_into_matches_the_writer() {
        let b = mixed();
        for format in [Format::Jsonl, Format::Csv, Format::Tsv] {
            let header = format != Format::Jsonl;
            let mut whole = Vec::new();
            {
                let mut w = writer(format, &b.schema(), header, Box::new(&mut whole));
                w.write_batch(&b.slice(0, 2)).unwrap();
                w.write_batch(&b.slice(2, 1)).unwrap();
                w.finish().unwrap();
            }
            let mut parts = if header {
                header_line(format, &b.schema())
            } else {
                Vec::new()
            };
            rows_into(format, &b.slice(0, 2), &mut parts);
            rows_into(format, &b.slice(2, 1), &mut parts);
            assert_eq!(
                String::from_utf8(parts).unwrap(),
                String::from_utf8(whole).unwrap()
            );
        }
    }

    #[test]
    fn header_without_rows() {
        let schema = Schema::new(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("b,c", DataType::Utf8, true),
        ]);
        let mut out = Vec::new();
        {
            let mut w = writer(Format::Csv, &schema, true, Box::new(&mut out));
            w.finish().unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), "a,\"b,c\"\n");
    }

    #[test]
    fn table_measures_display_width() {
        let b = batch(vec![
            (
                "city",
                Arc::new(StringArray::from(vec!["東京都", "Paris"])) as ArrayRef,
            ),
            ("n", Arc::new(Int32Array::from(vec![1, 22])) as ArrayRef),
        ]);
        let expected = [
            "  city  | n",
            "--------+----",
            " 東京都 |  1",
            " Paris  | 22",
            "(2 rows)",
        ];
        assert_eq!(render(Format::Table, false, &b), expected.join("\n") + "\n");
    }

    #[test]
    fn table_aligns_numbers_right() {
        let text = render(Format::Table, false, &mixed());
        let expected = [
            " id  |     text     | list  | price",
            "-----+--------------+-------+-------",
            "   1 | plain        | [1,2] |   2.5",
            "  22 | a,\"b\"\\nc\\td\\ | NULL  |  NULL",
            " 333 |              | []    |   NaN",
            "(3 rows)",
        ];
        assert_eq!(text, expected.join("\n") + "\n");
    }
}
