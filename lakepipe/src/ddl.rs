//! The Hive/Spark DDL type syntax (`id BIGINT, user STRUCT<id:BIGINT, tags:ARRAY<STRING>>`):
//! parsing into an Arrow schema (pq-write `--schema`) and printing an Arrow schema back
//! (pq-cat `--schema`, hive-ddl) in the Hive, Spark or Trino dialect.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit};

/// Name of the element field of lists, as Spark (parquet-mr) writes it.
pub const LIST_ITEM: &str = "element";

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("schema: {msg} at position {pos} (in '{text}')")]
pub struct DdlError {
    pub msg: String,
    pub pos: usize,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Hive 2/3 and the Hive metastore.
    Hive,
    /// Spark SQL: Hive syntax plus TIMESTAMP_NTZ.
    Spark,
    /// Trino / Presto Hive connector.
    Trino,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    /// Quote every identifier (hive-ddl: no name can change the statement's meaning).
    Always,
    /// Quote only names that need it (pq-cat --schema, readable round trips).
    WhenNeeded,
    /// Never quote: metastore type strings, where a quote would be part of the name.
    Never,
}

/// Parse `name TYPE, name TYPE, ...` into an Arrow schema.
pub fn parse_schema(text: &str) -> Result<Schema, DdlError> {
    let mut p = Parser { s: text, pos: 0 };
    let mut fields = Vec::new();
    p.ws();
    if p.eof() {
        return Err(p.err("empty schema"));
    }
    loop {
        let name = p.ident()?;
        p.ws();
        p.eat(':'); // tolerate `name: TYPE`
        let dt = p.ty()?;
        p.skip_column_options()?;
        fields.push(Field::new(name, dt, true));
        p.ws();
        if p.eof() {
            break;
        }
        p.expect(',')?;
    }
    let mut seen = std::collections::HashSet::new();
    for f in &fields {
        if !seen.insert(f.name().to_lowercase()) {
            return Err(DdlError {
                msg: format!("duplicate column '{}'", f.name()),
                pos: 0,
                text: text.into(),
            });
        }
    }
    Ok(Schema::new(fields))
}

/// Parse one type, e.g. `ARRAY<STRUCT<a:INT>>`.
pub fn parse_type(text: &str) -> Result<DataType, DdlError> {
    let mut p = Parser { s: text, pos: 0 };
    let t = p.ty()?;
    p.ws();
    if !p.eof() {
        return Err(p.err("unexpected text after the type"));
    }
    Ok(t)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, msg: &str) -> DdlError {
        DdlError {
            msg: msg.into(),
            pos: self.pos + 1,
            text: self.s.into(),
        }
    }
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }
    fn eof(&self) -> bool {
        self.pos >= self.s.len()
    }
    fn ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.s.len() - trimmed.len();
    }
    fn eat(&mut self, c: char) -> bool {
        self.ws();
        if self.rest().starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: char) -> Result<(), DdlError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.err(&format!("expected '{c}'")))
        }
    }
    fn word(&mut self) -> Option<&str> {
        self.ws();
        let r = self.rest();
        let n = r
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(r.len());
        if n == 0 {
            return None;
        }
        let start = self.pos;
        self.pos += n;
        Some(&self.s[start..start + n])
    }
    fn ident(&mut self) -> Result<String, DdlError> {
        self.ws();
        for q in ['`', '"'] {
            if self.rest().starts_with(q) {
                let mut out = String::new();
                let mut chars = self.rest()[1..].char_indices().peekable();
                while let Some((i, c)) = chars.next() {
                    if c == q {
                        if chars.peek().map(|(_, n)| *n) == Some(q) {
                            chars.next();
                            out.push(q);
                            continue;
                        }
                        self.pos += 1 + i + 1;
                        return Ok(out);
                    }
                    out.push(c);
                }
                return Err(self.err("unterminated quoted name"));
            }
        }
        self.word()
            .map(str::to_string)
            .ok_or_else(|| self.err("expected a column name"))
    }
    fn number(&mut self) -> Result<u32, DdlError> {
        self.ws();
        let r = self.rest();
        let n = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
        let v = r[..n].parse().map_err(|_| self.err("expected a number"))?;
        self.pos += n;
        Ok(v)
    }
    /// `(n)` or `(p, s)`, optional.
    fn params(&mut self) -> Result<Vec<u32>, DdlError> {
        let mut v = Vec::new();
        if self.eat('(') {
            loop {
                v.push(self.number()?);
                if !self.eat(',') {
                    break;
                }
            }
            self.expect(')')?;
        }
        Ok(v)
    }
    fn ty(&mut self) -> Result<DataType, DdlError> {
        let at = self.pos;
        let Some(word) = self.word().map(str::to_ascii_uppercase) else {
            return Err(self.err("expected a type"));
        };
        let open = |p: &mut Self| p.expect('<');
        let dt = match word.as_str() {
            "BOOLEAN" | "BOOL" => DataType::Boolean,
            "TINYINT" | "BYTE" => DataType::Int8,
            "SMALLINT" | "SHORT" => DataType::Int16,
            "INT" | "INTEGER" => DataType::Int32,
            "BIGINT" | "LONG" => DataType::Int64,
            "FLOAT" | "REAL" => DataType::Float32,
            "DOUBLE" => {
                // `DOUBLE PRECISION`
                let save = self.pos;
                if self.word().map(|w| w.eq_ignore_ascii_case("precision")) != Some(true) {
                    self.pos = save;
                }
                DataType::Float64
            }
            "DECIMAL" | "DEC" | "NUMERIC" => {
                let p = self.params()?;
                let (precision, scale) = match p.as_slice() {
                    [] => (10, 0),
                    [p] => (*p, 0),
                    [p, s] => (*p, *s),
                    _ => return Err(self.err("DECIMAL takes (precision, scale)")),
                };
                if precision == 0 || precision > 38 || scale > precision {
                    self.pos = at;
                    return Err(
                        self.err("DECIMAL precision must be 1..38 and scale at most the precision")
                    );
                }
                DataType::Decimal128(precision as u8, scale as i8)
            }
            "STRING" | "TEXT" => DataType::Utf8,
            "VARCHAR" | "CHAR" => {
                self.params()?;
                DataType::Utf8
            }
            "BINARY" | "VARBINARY" => DataType::Binary,
            "DATE" => DataType::Date32,
            "TIMESTAMP" | "TIMESTAMP_LTZ" => {
                self.params()?;
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
            }
            "TIMESTAMP_NTZ" => DataType::Timestamp(TimeUnit::Microsecond, None),
            "ARRAY" => {
                open(self)?;
                let t = self.ty()?;
                self.expect('>')?;
                DataType::List(Arc::new(Field::new(LIST_ITEM, t, true)))
            }
            "MAP" => {
                open(self)?;
                let k = self.ty()?;
                self.expect(',')?;
                let v = self.ty()?;
                self.expect('>')?;
                map_type(k, v)
            }
            "STRUCT" => {
                open(self)?;
                let mut fields = Vec::new();
                if !self.eat('>') {
                    loop {
                        let name = self.ident()?;
                        self.ws();
                        self.eat(':');
                        let t = self.ty()?;
                        self.skip_column_options()?;
                        fields.push(Field::new(name, t, true));
                        if self.eat('>') {
                            break;
                        }
                        self.expect(',')?;
                    }
                }
                if fields.is_empty() {
                    return Err(self.err("STRUCT needs at least one field"));
                }
                DataType::Struct(Fields::from(fields))
            }
            _ => {
                self.pos = at;
                self.ws();
                return Err(self.err(&format!("unknown type '{word}'")));
            }
        };
        Ok(dt)
    }
    /// `NOT NULL` and `COMMENT '...'` are accepted and ignored.
    fn skip_column_options(&mut self) -> Result<(), DdlError> {
        loop {
            let save = self.pos;
            match self.word().map(str::to_ascii_uppercase).as_deref() {
                Some("NOT") => {
                    if self.word().map(|w| w.eq_ignore_ascii_case("null")) != Some(true) {
                        return Err(self.err("expected NULL after NOT"));
                    }
                }
                Some("COMMENT") => {
                    self.ws();
                    if !self.rest().starts_with('\'') {
                        return Err(self.err("expected a quoted comment"));
                    }
                    let body = &self.rest()[1..];
                    let end = body
                        .find('\'')
                        .ok_or_else(|| self.err("unterminated comment"))?;
                    self.pos += end + 2;
                }
                _ => {
                    self.pos = save;
                    return Ok(());
                }
            }
        }
    }
}

/// An Arrow map type with the names Parquet writers use.
pub fn map_type(key: DataType, value: DataType) -> DataType {
    let entries = Field::new(
        "key_value",
        DataType::Struct(Fields::from(vec![
            Field::new("key", key, false),
            Field::new("value", value, true),
        ])),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

/// Hive, Spark and Trino reserved words that must be quoted even when `Quote::WhenNeeded`.
const RESERVED: &[&str] = &[
    "all",
    "alter",
    "and",
    "array",
    "as",
    "between",
    "by",
    "case",
    "cast",
    "column",
    "create",
    "cross",
    "current",
    "date",
    "delete",
    "describe",
    "distinct",
    "drop",
    "else",
    "end",
    "exists",
    "false",
    "from",
    "full",
    "group",
    "having",
    "in",
    "inner",
    "insert",
    "interval",
    "into",
    "is",
    "join",
    "left",
    "like",
    "limit",
    "location",
    "map",
    "not",
    "null",
    "on",
    "or",
    "order",
    "outer",
    "partition",
    "right",
    "select",
    "set",
    "struct",
    "table",
    "then",
    "timestamp",
    "to",
    "true",
    "union",
    "update",
    "user",
    "using",
    "values",
    "when",
    "where",
    "with",
];

/// Quote an identifier for the dialect: backticks for Hive/Spark, double quotes for Trino,
/// with the quote character doubled inside.
pub fn quote_ident(name: &str, dialect: Dialect, quote: Quote) -> String {
    if quote == Quote::Never {
        return name.to_string();
    }
    let plain = !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED.contains(&name.to_ascii_lowercase().as_str());
    if quote == Quote::WhenNeeded && plain {
        return name.to_string();
    }
    let q = if dialect == Dialect::Trino { '"' } else { '`' };
    let mut out = String::with_capacity(name.len() + 2);
    out.push(q);
    for c in name.chars() {
        if c == q {
            out.push(q);
        }
        out.push(c);
    }
    out.push(q);
    out
}

/// Print a schema as `name TYPE, name TYPE` (pq-cat --schema; parseable by [`parse_schema`]).
pub fn format_schema(schema: &Schema, dialect: Dialect, quote: Quote) -> String {
    schema
        .fields()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                quote_ident(f.name(), dialect, quote),
                format_type(f.data_type(), dialect, quote)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A column's type as the Hive metastore stores it (`struct<a:bigint,b:array<string>>`):
/// Hive's names in lower case, nested names unquoted (see [`without_undeclarable_nested`]).
pub fn metastore_type(dt: &DataType) -> String {
    format_type(dt, Dialect::Hive, Quote::Never).to_lowercase()
}

/// Print one Arrow type in the dialect's syntax.
pub fn format_type(dt: &DataType, dialect: Dialect, quote: Quote) -> String {
    use DataType::*;
    let trino = dialect == Dialect::Trino;
    let pick = |hive: &str, t: &str| {
        if trino {
            t.to_string()
        } else {
            hive.to_string()
        }
    };
    match dt {
        Boolean => "BOOLEAN".into(),
        Int8 => "TINYINT".into(),
        Int16 | UInt8 => "SMALLINT".into(),
        Int32 | UInt16 => pick("INT", "INTEGER"),
        Int64 | UInt32 => "BIGINT".into(),
        UInt64 => "DECIMAL(20,0)".into(),
        Float16 | Float32 => pick("FLOAT", "REAL"),
        Float64 => "DOUBLE".into(),
        Decimal32(p, s) | Decimal64(p, s) | Decimal128(p, s) => format!("DECIMAL({p},{s})"),
        Decimal256(p, s) => format!("DECIMAL({p},{s})"),
        Utf8 | LargeUtf8 | Utf8View => pick("STRING", "VARCHAR"),
        Binary | LargeBinary | BinaryView | FixedSizeBinary(_) => pick("BINARY", "VARBINARY"),
        Date32 | Date64 => "DATE".into(),
        Timestamp(_, None) if dialect == Dialect::Spark => "TIMESTAMP_NTZ".into(),
        Timestamp(_, _) => "TIMESTAMP".into(),
        List(f) | LargeList(f) | FixedSizeList(f, _) | ListView(f) | LargeListView(f) => {
            let inner = format_type(f.data_type(), dialect, quote);
            if trino {
                format!("ARRAY({inner})")
            } else {
                format!("ARRAY<{inner}>")
            }
        }
        Map(entries, _) => {
            let (k, v) = match entries.data_type() {
                Struct(kv) if kv.len() == 2 => {
                    (kv[0].data_type().clone(), kv[1].data_type().clone())
                }
                _ => (Utf8, Utf8),
            };
            let (k, v) = (
                format_type(&k, dialect, quote),
                format_type(&v, dialect, quote),
            );
            if trino {
                format!("MAP({k}, {v})")
            } else {
                format!("MAP<{k},{v}>")
            }
        }
        Struct(fields) => {
            let parts: Vec<String> = fields
                .iter()
                .map(|f| {
                    let (n, t) = (
                        quote_ident(f.name(), dialect, quote),
                        format_type(f.data_type(), dialect, quote),
                    );
                    if trino {
                        format!("{n} {t}")
                    } else {
                        format!("{n}:{t}")
                    }
                })
                .collect();
            if trino {
                format!("ROW({})", parts.join(", "))
            } else {
                format!("STRUCT<{}>", parts.join(","))
            }
        }
        Dictionary(_, v) => format_type(v, dialect, quote),
        RunEndEncoded(_, v) => format_type(v.data_type(), dialect, quote),
        // Types Hive has no name for (TIME, intervals, durations, NULL) are shown as text.
        _ => pick("STRING", "VARCHAR"),
    }
}

/// Whether Hive's type-string parser can read `name` as a struct field name. Top-level
/// columns are quoted identifiers, but nested names live inside the type string
/// (`STRUCT<a:...>`) that the metastore stores and parses, quoting or not: there a name is
/// letters, digits and `_` (Spark's Hive path refuses `X-Forwarded-For`; Trino accepts
/// the table and then cannot read its schema).
pub fn is_nested_name_declarable(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c == '_' || c.is_ascii_alphanumeric() || (!c.is_ascii() && c.is_alphabetic()))
}

/// The schema without the nested struct fields whose names Hive's type syntax cannot
/// carry, and the path of each one left out (`request.headers.X-Forwarded-For`; `[]` for
/// list items, `{}` for map values). A struct left with no field goes too; a top-level
/// column is never renamed or dropped for its own name.
pub fn without_undeclarable_nested(schema: &Schema) -> (Schema, Vec<String>) {
    let mut dropped = Vec::new();
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .filter_map(|f| {
            prune_type(f.data_type(), f.name(), &mut dropped)
                .map(|dt| f.as_ref().clone().with_data_type(dt))
        })
        .collect();
    (
        Schema::new_with_metadata(fields, schema.metadata().clone()),
        dropped,
    )
}

/// `dt` without undeclarable nested names; None when nothing readable is left.
fn prune_type(dt: &DataType, path: &str, dropped: &mut Vec<String>) -> Option<DataType> {
    use DataType::*;
    let item = |f: &Arc<Field>, p: String, dropped: &mut Vec<String>| {
        prune_type(f.data_type(), &p, dropped)
            .map(|t| Arc::new(f.as_ref().clone().with_data_type(t)))
    };
    Some(match dt {
        Struct(fields) => {
            let mut kept = Vec::new();
            for f in fields {
                let p = format!("{path}.{}", f.name());
                if !is_nested_name_declarable(f.name()) {
                    dropped.push(p);
                } else if let Some(t) = prune_type(f.data_type(), &p, dropped) {
                    kept.push(f.as_ref().clone().with_data_type(t));
                }
            }
            if kept.is_empty() {
                dropped.push(format!("{path} (no field left)"));
                return None;
            }
            Struct(Fields::from(kept))
        }
        List(f) => List(item(f, format!("{path}[]"), dropped)?),
        LargeList(f) => LargeList(item(f, format!("{path}[]"), dropped)?),
        FixedSizeList(f, n) => FixedSizeList(item(f, format!("{path}[]"), dropped)?, *n),
        Map(entries, sorted) => {
            let Struct(kv) = entries.data_type() else {
                return Some(dt.clone());
            };
            let [k, v] = kv.iter().collect::<Vec<_>>()[..] else {
                return Some(dt.clone());
            };
            let v = item(v, format!("{path}{{}}"), dropped)?;
            let kv = Struct(Fields::from(vec![k.as_ref().clone(), v.as_ref().clone()]));
            Map(
                Arc::new(entries.as_ref().clone().with_data_type(kv)),
                *sorted,
            )
        }
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_spec_example() {
        let s = parse_schema(
            "id BIGINT, name STRING, tags ARRAY<STRING>, user STRUCT<id:BIGINT, country:STRING>, ts TIMESTAMP",
        )
        .unwrap();
        assert_eq!(s.fields().len(), 5);
        assert_eq!(s.field(0).data_type(), &DataType::Int64);
        assert!(
            matches!(s.field(2).data_type(), DataType::List(f) if f.data_type() == &DataType::Utf8)
        );
        assert!(
            matches!(s.field(3).data_type(), DataType::Struct(f) if f.len() == 2 && f[1].name() == "country")
        );
        assert_eq!(
            s.field(4).data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
    }

    #[test]
    fn round_trips_every_type() {
        let text = "b BOOLEAN, t TINYINT, s SMALLINT, i INT, l BIGINT, f FLOAT, d DOUBLE, \
                    dec DECIMAL(12,3), str STRING, bin BINARY, dt DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, \
                    a ARRAY<ARRAY<INT>>, m MAP<STRING,STRUCT<x:DOUBLE,y:ARRAY<STRING>>>, \
                    `a b` STRUCT<`order`:INT,`we``ird`:STRING>";
        let s = parse_schema(text).unwrap();
        let printed = format_schema(&s, Dialect::Spark, Quote::WhenNeeded);
        assert_eq!(parse_schema(&printed).unwrap(), s, "{printed}");
        assert!(
            printed.contains("`a b` STRUCT<`order`:INT,`we``ird`:STRING>"),
            "{printed}"
        );
    }

    #[test]
    fn trino_names() {
        let s = parse_schema("i INT, m MAP<STRING,ARRAY<FLOAT>>, r STRUCT<`x y`:STRING>").unwrap();
        let printed = format_schema(&s, Dialect::Trino, Quote::Always);
        assert_eq!(
            printed,
            "\"i\" INTEGER, \"m\" MAP(VARCHAR, ARRAY(REAL)), \"r\" ROW(\"x y\" VARCHAR)"
        );
    }

    #[test]
    fn errors_name_the_position() {
        let e = parse_schema("id BIGINT, name STRNG").unwrap_err();
        assert_eq!(e.pos, 17, "{e}");
        assert!(e.to_string().contains("unknown type 'STRNG'"));
        assert!(parse_schema("a ARRAY<INT").is_err());
        assert!(parse_schema("a INT, A STRING")
            .unwrap_err()
            .msg
            .contains("duplicate"));
        assert!(parse_schema("").is_err());
        assert!(parse_schema("d DECIMAL(40,2)").is_err());
    }

    #[test]
    fn nested_names_hive_cannot_parse_are_left_out() {
        let s = parse_schema(
            "`a-b` INT, request STRUCT<method:STRING, headers:STRUCT<`X-Forwarded-For`:STRING, host:STRING>>, \
             only STRUCT<`x y`:INT>, l ARRAY<STRUCT<`k.v`:INT, ok:INT>>, m MAP<STRING,STRUCT<`$`:INT, ключ:INT>>",
        )
        .unwrap();
        let (kept, dropped) = without_undeclarable_nested(&s);
        assert_eq!(
            dropped,
            [
                "request.headers.X-Forwarded-For",
                "only.x y",
                "only (no field left)",
                "l[].k.v",
                "m{}.$"
            ]
        );
        assert_eq!(
            format_schema(&kept, Dialect::Hive, Quote::WhenNeeded),
            "`a-b` INT, request STRUCT<method:STRING,headers:STRUCT<host:STRING>>, \
             l ARRAY<STRUCT<ok:INT>>, m MAP<STRING,STRUCT<`ключ`:INT>>"
        );
        assert_eq!(
            metastore_type(kept.field(1).data_type()),
            "struct<method:string,headers:struct<host:string>>"
        );
        let clean = parse_schema("a STRUCT<b:INT, c_2:ARRAY<STRING>>").unwrap();
        assert_eq!(without_undeclarable_nested(&clean), (clean.clone(), vec![]));
    }

    #[test]
    fn quoting_escapes_the_quote_character() {
        let cases = [
            ("weird`tick", Dialect::Hive, Quote::Always, "`weird``tick`"),
            (
                r#""quoted""#,
                Dialect::Trino,
                Quote::Always,
                r#""""quoted""""#,
            ),
            ("select", Dialect::Hive, Quote::WhenNeeded, "`select`"),
            ("plain_1", Dialect::Hive, Quote::WhenNeeded, "plain_1"),
        ];
        for (name, dialect, quote, want) in cases {
            assert_eq!(quote_ident(name, dialect, quote), want, "{name}");
        }
    }
}
