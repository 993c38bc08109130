//! Tables above the [`Sink`]: `--split-by COL` writes one table folder per value of COL
//! (`OUTPUT/<value>/`, named by [`lakepipe::partition::table_folder`]), and schema
//! evolution widens a table when a line brings a field it has not seen.
//!
//! Each table has its own schema and its own Sink, made with the arguments a single
//! output gets. Decoder workers read the tables' schemas from [`Schemas`] once per
//! chunk; only the writer thread changes them, in input order. A line a worker could
//! not place (a new table, or a new field under evolution) comes back to the writer as
//! pending, and the writer widens the table (closing its open files), then decodes
//! that line again. Rows decoded against an older schema of the table get null
//! columns for the fields added since.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use crate::decode::{LineError, RowDecoder};
use crate::infer::{SchemaInference, Shape};
use anyhow::Result;
use arrow_array::{new_null_array, ArrayRef, RecordBatch};
use arrow_schema::{Field, Schema, SchemaRef};
use lakepipe::envelope::Envelope;
use lakepipe::partition;
use lakepipe::register::{self, Registry};
use parquet::file::properties::WriterProperties;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::commit::Tp;
use crate::exactly_once::ExactlyOnce;
use crate::kafka_meta::{meta_fields, MetaColumns};
use crate::sink::{Registration, Roll, Sink, Target, Totals};
use crate::time_partition::{TimeBuckets, TimeColumns};

/// One table's schema at one moment; replaced, never changed, when the table widens.
#[derive(Debug)]
pub struct TableSchema {
    /// The payload's columns.
    pub row: SchemaRef,
    /// With `--kafka-meta` columns: the schema of the batches.
    pub full: SchemaRef,
}

impl TableSchema {
    /// With the `--kafka-meta` columns, then the `--time-partition` columns of `format`.
    pub fn of(row: Schema, format: &LineFormat) -> Arc<TableSchema> {
        let mut extra = Vec::new();
        if format.kafka_meta {
            extra.extend(meta_fields());
        }
        if let Some(t) = &format.time {
            extra.extend(t.fields());
        }
        Self::with(row, &extra)
    }

    /// With the `--kafka-meta` columns only (no time columns).
    #[cfg(test)]
    pub fn new(row: Schema, kafka_meta: bool) -> Arc<TableSchema> {
        let extra = if kafka_meta {
            meta_fields()
        } else {
            Vec::new()
        };
        Self::with(row, &extra)
    }

    fn with(row: Schema, extra: &[arrow_schema::FieldRef]) -> Arc<TableSchema> {
        let full = match extra.is_empty() {
            true => row.clone(),
            false => crate::decode::with_extra(&row, extra),
        };
        Arc::new(TableSchema {
            row: Arc::new(row),
            full: Arc::new(full),
        })
    }
}

/// A BTreeMap: each line looks its table up here and among the decoders, and with one
/// table (key "") that is one short comparison where SipHash cost 3% of pq-write's CPU.
pub type SchemaMap = BTreeMap<String, Arc<TableSchema>>;

/// The tables' current schemas, shared with the decoder workers.
#[derive(Clone, Default)]
pub struct Schemas(Arc<RwLock<Arc<SchemaMap>>>);

impl Schemas {
    pub fn current(&self) -> Arc<SchemaMap> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set(&self, key: &str, schema: Arc<TableSchema>) {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        let mut next = SchemaMap::clone(&map);
        next.insert(key.to_string(), schema);
        *map = Arc::new(next);
    }
}

/// How lines are read, shared by decoders and the writer.
#[derive(Clone, Debug)]
pub struct LineFormat {
    /// `--envelope kcat`: each line is kcat's JSON envelope around the row.
    pub envelope: bool,
    /// `--kafka-meta`: the envelope's topic, partition, offset and time become columns.
    pub kafka_meta: bool,
    /// --exactly-once: an envelope without topic, partition or offset is a bad line.
    pub need_offsets: bool,
    /// `--flatten SEP`: nested objects become columns joined by SEP.
    pub flatten: Option<String>,
    /// `--split-by FIELD`: one table per value of FIELD.
    pub split_by: Option<String>,
    /// `--time-partition`: the time bucket columns each row gets.
    pub time: Option<Arc<TimeBuckets>>,
}

impl LineFormat {
    /// The envelope (with `--envelope`) and the row's JSON text of a line.
    pub fn open<'a>(
        &self,
        line: &'a [u8],
    ) -> Result<(Option<Envelope<'a>>, Cow<'a, [u8]>), LineError> {
        if !self.envelope {
            return Ok((None, Cow::Borrowed(line)));
        }
        let e = Envelope::parse(line).map_err(LineError::Syntax)?;
        if self.need_offsets && !e.has_offset() {
            return Err(LineError::Syntax(
                "--exactly-once needs topic, partition and offset in every envelope".into(),
            ));
        }
        let row = e.row().map_err(LineError::Syntax)?;
        Ok((Some(e), row))
    }

    /// The table a row belongs to: its `--split-by` value ("" without one).
    pub fn table_of(&self, row: &[u8]) -> Result<String, LineError> {
        match &self.split_by {
            None => Ok(String::new()),
            Some(col) => split_key(row, col),
        }
    }

    /// Add a line to the inference of its table (a bad line adds nothing).
    pub fn infer_line(&self, inf: &mut BTreeMap<String, SchemaInference>, line: &[u8]) {
        let Ok((_, row)) = self.open(line) else {
            return;
        };
        let Ok(key) = self.table_of(&row) else {
            return;
        };
        let table = inf.get_mut(&key);
        // Flattened rows change shape before they are added: always the full path.
        if self.flatten.is_none() && table.is_some_and(|t| t.add_if_covered(&row)) {
            return;
        }
        let shape = Shape::of_json(&row)
            .ok()
            .and_then(|s| s.row(self.flatten.as_deref()));
        if let Some(shape) = shape {
            inf.entry(key).or_default().add(shape);
        }
    }
}

/// The `--split-by` value of a row: a string as is, a number or boolean as its JSON
/// text. Missing, null, an object or an array is a bad line naming the column.
pub fn split_key(row: &[u8], col: &str) -> Result<String, LineError> {
    let why = match top_field(row, col)? {
        Some(serde_json::Value::String(s)) => return Ok(s),
        Some(serde_json::Value::Number(n)) => return Ok(n.to_string()),
        Some(serde_json::Value::Bool(b)) => return Ok(b.to_string()),
        None => "is missing",
        Some(serde_json::Value::Null) => "is null",
        Some(serde_json::Value::Object(_)) => "is an object",
        Some(serde_json::Value::Array(_)) => "is an array",
    };
    Err(LineError::Type(format!(
        "--split-by column '{col}' {why} (it must be a string, number or boolean)"
    )))
}

/// One top-level field of a row (None when missing); not an object is a bad line.
pub fn top_field(row: &[u8], col: &str) -> Result<Option<serde_json::Value>, LineError> {
    let mut de = serde_json::Deserializer::from_slice(row);
    KeySeed(col)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| LineError::Syntax(format!("not a JSON object: {e}")))
}

/// Reads one top-level field of an object, skipping the others.
struct KeySeed<'c>(&'c str);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<serde_json::Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<serde_json::Value>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(k) = map.next_key::<Cow<'de, str>>()? {
            if k == self.0 && found.is_none() {
                found = Some(map.next_value::<serde_json::Value>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Decodes one table's rows, remembering each row's input line.
pub struct TableDecoder {
    pub schema: Arc<TableSchema>,
    dec: RowDecoder,
    meta: MetaColumns,
    kafka_meta: bool,
    time: Option<Arc<TimeBuckets>>,
    times: TimeColumns,
    lines: Vec<u64>,
}

/// Rows of one table from one chunk, with their input line numbers.
pub struct TableRows {
    pub key: String,
    pub batch: RecordBatch,
    pub lines: Vec<u64>,
}

impl TableDecoder {
    pub fn new(schema: Arc<TableSchema>, format: &LineFormat) -> Result<Self> {
        Ok(TableDecoder {
            dec: RowDecoder::new(schema.row.clone(), format.flatten.clone())?,
            schema,
            meta: MetaColumns::default(),
            kafka_meta: format.kafka_meta,
            time: format.time.clone(),
            times: TimeColumns::default(),
            lines: Vec::new(),
        })
    }

    /// The row's time buckets (`--time-partition`), taken before the row is decoded so
    /// that a row without a usable time leaves no trace.
    fn bucket(&self, row: &[u8], env: Option<&Envelope>) -> Result<Option<Vec<String>>, LineError> {
        self.time.as_ref().map(|t| t.values(row, env)).transpose()
    }

    pub fn push(&mut self, row: &[u8], env: Option<&Envelope>, line: u64) -> Result<(), LineError> {
        let bucket = self.bucket(row, env)?;
        self.dec.push(row)?;
        self.took(env, line, bucket);
        Ok(())
    }

    /// [`push`](Self::push) by the decoder's fast path alone
    /// ([`RowDecoder::push_covered`]): false leaves no trace.
    pub fn push_covered(&mut self, row: &[u8], env: Option<&Envelope>, line: u64) -> bool {
        let Ok(bucket) = self.bucket(row, env) else {
            return false;
        };
        let ok = self.dec.push_covered(row);
        if ok {
            self.took(env, line, bucket);
        }
        ok
    }

    fn took(&mut self, env: Option<&Envelope>, line: u64, bucket: Option<Vec<String>>) {
        if let (true, Some(e)) = (self.kafka_meta, env) {
            self.meta.push(e);
        }
        if let Some(b) = bucket {
            self.times.push(b);
        }
        self.lines.push(line);
    }

    /// The rows pushed since the last call (None if none); the decoder starts empty.
    pub fn finish(&mut self, key: &str) -> Result<Option<TableRows>> {
        if self.dec.is_empty() {
            return Ok(None);
        }
        let b = self.dec.finish()?;
        let batch = if self.kafka_meta || self.time.is_some() {
            let mut cols = b.columns().to_vec();
            if self.kafka_meta {
                cols.extend(self.meta.finish());
            }
            cols.extend(self.times.finish());
            RecordBatch::try_new(self.schema.full.clone(), cols)?
        } else {
            b
        };
        Ok(Some(TableRows {
            key: key.to_string(),
            batch,
            lines: std::mem::take(&mut self.lines),
        }))
    }
}

/// What every table's Sink is made with (today's single-output arguments).
pub struct SinkArgs {
    pub target: Target,
    pub partition_by: Vec<String>,
    pub props: WriterProperties,
    pub roll: Roll,
    pub overwrite: bool,
    pub run_id: String,
    /// --exactly-once: keep the metadata columns in the files (`--kafka-meta`), and how
    /// long a foreign claim may stand (see commit.rs).
    pub exactly_once: Option<(bool, std::time::Duration)>,
    /// `--metastore`: the run's registry, and the table's name (with `--split-by`, the
    /// prefix of each table's name, as `hive-ddl --table` over a root of tables).
    pub register: Option<(Arc<Mutex<Registry>>, String)>,
    /// `-q`: the registration's lines are not printed.
    pub quiet: bool,
}

/// A column that schema evolution added, for the summary.
pub struct Added {
    pub table: String,
    pub column: String,
    pub line: u64,
}

struct Table {
    schema: Arc<TableSchema>,
    sink: Option<Sink>,
    /// The writer's own decoder for pending lines, for the current schema.
    dec: Option<TableDecoder>,
    /// --exactly-once: the highest offset this table took per topic-partition.
    high: HashMap<Tp, i64>,
}

/// The tables of one run.
pub struct Tables {
    format: LineFormat,
    /// Widen tables when a line brings a new field (folder output without `--schema`).
    evolve: bool,
    /// `--schema`: every table's schema.
    fixed: Option<Schema>,
    args: SinkArgs,
    tables: BTreeMap<String, Table>,
    /// --exactly-once: offsets and commits, shared by the tables.
    eo: Option<ExactlyOnce>,
    pub schemas: Schemas,
    pub added: Vec<Added>,
}

impl Tables {
    /// With --exactly-once, reads what OUTPUT holds (finishing dead writers' commits).
    pub fn new(
        format: LineFormat,
        evolve: bool,
        fixed: Option<Schema>,
        args: SinkArgs,
    ) -> Result<Self> {
        let eo = match args.exactly_once {
            Some((_, stale)) => Some(ExactlyOnce::open(
                args.target.location(),
                args.run_id.clone(),
                stale,
            )?),
            None => None,
        };
        Ok(Tables {
            format,
            evolve,
            fixed,
            args,
            tables: BTreeMap::new(),
            eo,
            schemas: Schemas::default(),
            added: Vec::new(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// Add a table known before writing (inferred, or `--schema`); its Sink is made now,
    /// so a bad `--partition-by` is reported before any input is read.
    pub fn add(&mut self, key: &str, row: Schema) -> Result<()> {
        let schema = TableSchema::of(row, &self.format);
        let sink = self.make_sink(key, &schema)?;
        self.schemas.set(key, schema.clone());
        self.tables.insert(
            key.to_string(),
            Table {
                schema,
                sink: Some(sink),
                dec: None,
                high: HashMap::new(),
            },
        );
        Ok(())
    }

    fn make_sink(&self, key: &str, schema: &TableSchema) -> Result<Sink> {
        let a = &self.args;
        let target = match (&self.format.split_by, &a.target) {
            (Some(_), t) => Target::Folder(t.location().join(&partition::table_folder(key))),
            (None, t) => t.clone(),
        };
        let sink = Sink::new(
            target,
            &schema.full,
            &a.partition_by,
            a.props.clone(),
            a.roll.clone(),
            a.overwrite,
            a.run_id.clone(),
        )
        .and_then(|sink| match a.exactly_once {
            Some((keep_meta, _)) => sink.with_exactly_once(keep_meta, &schema.full),
            None => Ok(sink),
        })
        .map(|sink| match &a.register {
            Some((registry, name)) => sink.with_registration(Registration {
                registry: registry.clone(),
                quiet: a.quiet,
                table: match &self.format.split_by {
                    Some(_) => format!(
                        "{name}{}",
                        register::table_name_of_folder(&partition::table_folder(key))
                    ),
                    None => name.clone(),
                },
            }),
            None => sink,
        });
        match &self.format.split_by {
            Some(col) => sink.map_err(|e| e.context(format!("table {col}={key}"))),
            None => sink,
        }
    }

    /// Write rows a worker decoded, widened to the table's current schema.
    pub fn write(&mut self, rows: &TableRows, from: usize, to: usize) -> Result<()> {
        if from >= to {
            return Ok(());
        }
        let t = self
            .tables
            .get_mut(&rows.key)
            .expect("rows of a known table");
        let mut batch = widened(&rows.batch.slice(from, to - from), &t.schema.full)?;
        if let Some(eo) = self.eo.as_mut() {
            batch = eo.keep_new(&batch, &mut t.high)?;
        }
        t.sink
            .as_mut()
            .expect("known tables have a sink")
            .write(&batch)
    }

    /// --exactly-once: commit the partitions whose files a table closed. Called only
    /// where every line read so far is settled (between chunks: a chunk's rows reach
    /// the tables one table after the other, not in offset order).
    pub fn commit_due(&mut self) -> Result<()> {
        let Some(eo) = self.eo.as_mut() else {
            return Ok(());
        };
        let mut sinks: Vec<&mut Sink> = self
            .tables
            .values_mut()
            .filter_map(|t| t.sink.as_mut())
            .collect();
        eo.commit_due(&mut sinks, &self.args.props)
    }

    /// A line a worker could not place: make or widen its table so that the line fits,
    /// and write it. The inner error is the line's own (a bad line): then nothing changes.
    pub fn place(&mut self, key: &str, raw: &[u8], line: u64) -> Result<Result<(), LineError>> {
        let (env, row) = match self.format.open(raw) {
            Ok(x) => x,
            Err(e) => return Ok(Err(e)),
        };
        let current = self.tables.get(key).map(|t| t.schema.clone());
        let wider = self.wider(current.as_deref(), &row);
        let schema = match (&wider, &current) {
            (Some(w), _) => TableSchema::of(w.clone(), &self.format),
            (None, Some(c)) => c.clone(),
            (None, None) => return Ok(Err(LineError::Syntax("not a JSON object".into()))),
        };
        let mut dec = match self.tables.get_mut(key).and_then(|t| t.dec.take()) {
            Some(d) if Arc::ptr_eq(&d.schema, &schema) => d,
            _ => TableDecoder::new(schema.clone(), &self.format)?,
        };
        if let Err(e) = dec.push(&row, env.as_ref(), line) {
            return Ok(Err(e));
        }
        let rows = dec.finish(key)?.expect("one row pushed");
        if wider.is_some() {
            self.commit(key, current.as_deref(), schema, line)?;
        }
        let t = self.tables.get_mut(key).expect("committed");
        t.dec = Some(dec);
        self.write(&rows, 0, 1)?;
        Ok(Ok(()))
    }

    /// The schema a row needs: the table's with the row's new top-level fields added
    /// (None when it has none), or a new table's from this row (or `--schema`).
    fn wider(&self, current: Option<&TableSchema>, row: &[u8]) -> Option<Schema> {
        if let Some(fixed) = &self.fixed {
            return current.is_none().then(|| fixed.clone());
        }
        let shape = Shape::of_json(row)
            .ok()?
            .row(self.format.flatten.as_deref())?;
        let Shape::Object(fields) = shape else {
            return None;
        };
        let mut cols: Vec<Field> = match current {
            Some(_) if !self.evolve => return None,
            Some(c) => c.row.fields().iter().map(|f| f.as_ref().clone()).collect(),
            None => Vec::new(),
        };
        let before = cols.len();
        for (name, s) in fields {
            // A null late field is no column: the decoder ignores it (it carries nothing).
            if s != Shape::Null && !cols.iter().any(|f| f.name() == &name) {
                cols.push(Field::new(name, s.data_type(), true));
            }
        }
        (cols.len() > before).then(|| Schema::new(cols))
    }

    /// Adopt a table's wider schema: close its open files, tell the decoders.
    fn commit(
        &mut self,
        key: &str,
        old: Option<&TableSchema>,
        schema: Arc<TableSchema>,
        line: u64,
    ) -> Result<()> {
        if let Some(old) = old {
            for f in schema.row.fields() {
                if old.row.field_with_name(f.name()).is_err() {
                    self.added.push(Added {
                        table: key.to_string(),
                        column: f.name().clone(),
                        line,
                    });
                }
            }
        }
        match self.tables.get_mut(key) {
            Some(t) => {
                if let Some(sink) = t.sink.as_mut() {
                    sink.widen(&schema.full, &self.args.partition_by)?;
                }
                t.schema = schema.clone();
            }
            None => {
                let sink = self.make_sink(key, &schema)?;
                self.tables.insert(
                    key.to_string(),
                    Table {
                        schema: schema.clone(),
                        sink: Some(sink),
                        dec: None,
                        high: HashMap::new(),
                    },
                );
            }
        }
        self.schemas.set(key, schema);
        Ok(())
    }

    fn sinks(&mut self) -> impl Iterator<Item = &mut Sink> {
        self.tables.values_mut().filter_map(|t| t.sink.as_mut())
    }

    /// `f` on every table's sink, side by side when there are several (each closes its
    /// files, and on HDFS a close waits on the namenode: see `sink::stage_all`). All run;
    /// the first error is returned.
    fn each_sink(&mut self, f: impl Fn(&mut Sink) -> Result<()> + Sync) -> Result<()> {
        let sinks: Vec<&mut Sink> = self.sinks().collect();
        let done = lakepipe::workers::side_by_side(sinks, crate::commit::AT_ONCE, f);
        // every sink ran; the first error wins
        done.into_iter().collect()
    }

    pub fn roll_old(&mut self) -> Result<()> {
        if self.next_roll_in() != Some(std::time::Duration::ZERO) {
            return Ok(()); // nothing old yet: no threads on every batch
        }
        self.each_sink(|s| s.roll_old())?;
        self.commit_due()
    }

    pub fn next_roll_in(&self) -> Option<std::time::Duration> {
        self.tables
            .values()
            .filter_map(|t| t.sink.as_ref()?.next_roll_in())
            .min()
    }

    pub fn finish(&mut self, write_empty_file: bool) -> Result<()> {
        self.each_sink(|s| s.finish(write_empty_file))?;
        self.commit_due()
    }

    /// Close what is open in every table, keeping rows written so far.
    pub fn abort(&mut self) -> Result<()> {
        let mut first_err = self.each_sink(|s| s.abort()).err();
        if let Err(e) = self.commit_due() {
            first_err.get_or_insert(e);
        }
        first_err.map_or(Ok(()), Err)
    }

    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for s in self.tables.values().filter_map(|t| t.sink.as_ref()) {
            t.rows += s.totals.rows;
            t.bytes += s.totals.bytes;
            t.files += s.totals.files;
        }
        if let Some(eo) = &self.eo {
            t.files += eo.totals.files;
            t.bytes += eo.totals.bytes;
            t.dropped = eo.totals.dropped;
            t.trimmed = eo.totals.trimmed;
            t.rows -= eo.totals.trimmed;
        }
        t
    }
}

/// A batch with null columns for the fields its schema lacks.
fn widened(batch: &RecordBatch, to: &SchemaRef) -> Result<RecordBatch> {
    if batch.schema().fields() == to.fields() {
        return Ok(batch.clone());
    }
    let cols = to
        .fields()
        .iter()
        .map(|f| match batch.column_by_name(f.name()) {
            Some(c) => c.clone(),
            None => new_null_array(f.data_type(), batch.num_rows()),
        })
        .collect::<Vec<ArrayRef>>();
    Ok(RecordBatch::try_new(to.clone(), cols)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_key_reads_scalars_and_names_the_column_otherwise() {
        let k = |l: &str| split_key(l.as_bytes(), "t");
        assert_eq!(k(r#"{"a":{"t":1},"t":"x/y"}"#).unwrap(), "x/y");
        assert_eq!(k(r#"{"t":12}"#).unwrap(), "12");
        assert_eq!(k(r#"{"t":1.5}"#).unwrap(), "1.5");
        assert_eq!(k(r#"{"t":true}"#).unwrap(), "true");
        assert_eq!(k(r#"{"t":""}"#).unwrap(), "");
        for (line, why) in [
            (r#"{"a":1}"#, "is missing"),
            (r#"{"t":null}"#, "is null"),
            (r#"{"t":{"x":1}}"#, "is an object"),
            (r#"{"t":[1]}"#, "is an array"),
        ] {
            let e = k(line).unwrap_err().to_string();
            assert!(e.contains("'t'") && e.contains(why), "{line}: {e}");
        }
        assert!(matches!(k("[1]"), Err(LineError::Syntax(_))));
        assert!(matches!(k(r#"{"t":"x""#), Err(LineError::Syntax(_))));
    }
}
