//! Column types as far as output needs them, read from the `columns` of a response.
//!
//! Only the types whose wire encoding differs from their printed form are told apart
//! (numbers that Java prints its own way, base64 varbinary, nested values); every other
//! type (varchar, decimal, date, time, timestamp, interval, json, uuid, ...) arrives as
//! the string trino-cli prints.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    Boolean,
    /// tinyint, smallint, integer, bigint
    Integer,
    Real,
    Double,
    Varbinary,
    Array(Box<Type>),
    Map(Box<Type>, Box<Type>),
    /// Fields with their names; anonymous fields (`row(integer, double)`) have none.
    Row(Vec<(Option<String>, Type)>),
    /// Sent as a string and printed as sent.
    Text,
}

impl Type {
    /// True for types right-aligned in tables.
    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::Integer | Type::Real | Type::Double)
    }

    fn from_raw(raw: &str, args: Vec<Type>, names: Vec<Option<String>>) -> Type {
        match raw.to_ascii_lowercase().as_str() {
            "boolean" => Type::Boolean,
            "tinyint" | "smallint" | "integer" | "bigint" => Type::Integer,
            "real" => Type::Real,
            "double" => Type::Double,
            "varbinary" => Type::Varbinary,
            "array" if args.len() == 1 => {
                Type::Array(Box::new(args.into_iter().next().unwrap_or(Type::Text)))
            }
            "map" if args.len() == 2 => {
                let mut it = args.into_iter();
                let k = it.next().unwrap_or(Type::Text);
                let v = it.next().unwrap_or(Type::Text);
                Type::Map(Box::new(k), Box::new(v))
            }
            "row" => Type::Row(
                names
                    .into_iter()
                    .chain(std::iter::repeat(None))
                    .zip(args)
                    .collect(),
            ),
            _ => Type::Text,
        }
    }
}

/// The type of a column from its `typeSignature` (Trino's and PrestoDB's shapes), falling
/// back to the `type` string.
pub fn column_type(column: &Value) -> Type {
    match column.get("typeSignature") {
        Some(sig) if sig.is_object() => from_signature(sig),
        _ => parse_type(
            column
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("varchar"),
        ),
    }
}

fn from_signature(sig: &Value) -> Type {
    if let Some(s) = sig.as_str() {
        return parse_type(s);
    }
    let raw = sig
        .get("rawType")
        .and_then(Value::as_str)
        .unwrap_or("varchar");
    let mut args = Vec::new();
    let mut names = Vec::new();
    for arg in sig
        .get("arguments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let kind = arg.get("kind").and_then(Value::as_str).unwrap_or("");
        let value = arg.get("value").unwrap_or(&Value::Null);
        match kind {
            // Trino: TYPE / NAMED_TYPE; PrestoDB: TYPE_SIGNATURE / NAMED_TYPE_SIGNATURE.
            "TYPE" | "TYPE_SIGNATURE" => args.push(from_signature(value)),
            "NAMED_TYPE" | "NAMED_TYPE_SIGNATURE" => {
                let name = value
                    .pointer("/fieldName/name")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                names.push(name);
                args.push(from_signature(
                    value.get("typeSignature").unwrap_or(&Value::Null),
                ));
            }
            _ => {}
        }
    }
    Type::from_raw(raw, args, names)
}

/// Parse a type string such as `map(varchar, array(row(x integer, "a b" double)))`.
pub fn parse_type(s: &str) -> Type {
    let s = s.trim();
    let Some(open) = s.find('(') else {
        return Type::from_raw(s, Vec::new(), Vec::new());
    };
    let raw = s[..open].trim();
    let inner = s[open + 1..]
        .rfind(')')
        .map_or(&s[open + 1..], |close| &s[open + 1..open + 1 + close]);
    let parts = split_top_level(inner);
    if raw.eq_ignore_ascii_case("row") {
        let (names, args) = parts.iter().map(|p| row_field(p)).unzip();
        return Type::from_raw(raw, args, names);
    }
    let args = if matches!(raw.to_ascii_lowercase().as_str(), "array" | "map") {
        parts.iter().map(|p| parse_type(p)).collect()
    } else {
        Vec::new()
    };
    Type::from_raw(raw, args, Vec::new())
}

/// `name type`, `"quoted name" type` or an anonymous `type`.
fn row_field(p: &str) -> (Option<String>, Type) {
    let p = p.trim();
    if let Some(rest) = p.strip_prefix('"') {
        let mut name = String::new();
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '"' {
                if chars.peek().map(|x| x.1) == Some('"') {
                    chars.next();
                    name.push('"');
                } else {
                    return (Some(name), parse_type(&rest[i + 1..]));
                }
            } else {
                name.push(c);
            }
        }
        return (Some(name), Type::Text);
    }
    // A bare first word followed by a space names the field, unless the whole text is a
    // multi-word type (`timestamp(3) with time zone`, `interval day to second`).
    match p.split_once(' ') {
        Some((first, rest))
            if !first.contains('(')
                && !matches!(
                    first.to_ascii_lowercase().as_str(),
                    "timestamp" | "time" | "interval" | "double"
                ) =>
        {
            (Some(first.to_string()), parse_type(rest))
        }
        _ => (None, parse_type(p)),
    }
}

fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start, mut quoted) = (0i32, 0, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if !s[start..].trim().is_empty() {
        parts.push(&s[start..]);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_type_strings() {
        assert_eq!(parse_type("bigint"), Type::Integer);
        assert_eq!(parse_type("varchar(5)"), Type::Text);
        assert_eq!(parse_type("timestamp(3) with time zone"), Type::Text);
        assert_eq!(
            parse_type("map(varchar, array(double))"),
            Type::Map(
                Box::new(Type::Text),
                Box::new(Type::Array(Box::new(Type::Double)))
            )
        );
        assert_eq!(
            parse_type("row(x integer,\"a \"\"b\" varbinary, timestamp(3) with time zone)"),
            Type::Row(vec![
                (Some("x".into()), Type::Integer),
                (Some("a \"b".into()), Type::Varbinary),
                (None, Type::Text)
            ])
        );
    }

    #[test]
    fn reads_trino_and_presto_signatures() {
        let trino: Value = serde_json::from_str(
            r#"{"name":"r","type":"row(x integer, double)","typeSignature":{"rawType":"row","arguments":[
            {"kind":"NAMED_TYPE","value":{"fieldName":{"name":"x"},"typeSignature":{"rawType":"integer","arguments":[]}}},
            {"kind":"NAMED_TYPE","value":{"typeSignature":{"rawType":"double","arguments":[]}}}]}}"#,
        )
        .unwrap();
        let want = Type::Row(vec![
            (Some("x".into()), Type::Integer),
            (None, Type::Double),
        ]);
        assert_eq!(column_type(&trino), want);
        let presto: Value = serde_json::from_str(
            r#"{"name":"r","type":"row(x integer,double)","typeSignature":{"rawType":"row","arguments":[
            {"kind":"NAMED_TYPE_SIGNATURE","value":{"fieldName":{"name":"x","delimited":false},"typeSignature":"integer"}},
            {"kind":"NAMED_TYPE_SIGNATURE","value":{"typeSignature":"double"}}]}}"#,
        )
        .unwrap();
        assert_eq!(column_type(&presto), want);
    }
}
