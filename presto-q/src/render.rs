//! Values from the wire as trino-cli prints them.
//!
//! trino-cli decodes each value into a Java object and prints its `toString`: doubles and
//! reals in Java's notation (`1.0E10`, `0.1`, `NaN`), varbinary as a hex dump (`00 ff`),
//! arrays as `[a, b]`, maps as `{k=v}`, rows as `{x=1, y=a}` (or `{1, a}` when the fields
//! have no names), NULL inside them as `NULL`. The JSON format writes scalars the way
//! trino-cli's Jackson writer does and nested values as real JSON (trino-cli fails on them).

use base64::Engine;
use lakepipe::text::{self, JsonEscape};
use serde_json::Value;

use crate::types::Type;

/// Render a non-null top-level value or a nested value (nested NULL prints `NULL`).
pub fn text(ty: &Type, v: &Value, out: &mut String) {
    match (ty, v) {
        (_, Value::Null) => out.push_str("NULL"),
        (Type::Real, Value::Number(n)) => java_float(n.as_f64().unwrap_or(f64::NAN) as f32, out),
        (Type::Double, Value::Number(n)) => java_double(n.as_f64().unwrap_or(f64::NAN), out),
        (Type::Varbinary, Value::String(s)) => hex_dump(s, out),
        (Type::Array(item), Value::Array(items)) => {
            list(out, "[]", ", ", items, |x, out| text(item, x, out))
        }
        (Type::Map(kt, vt), Value::Object(map)) => list(out, "{}", ", ", map, |(k, x), out| {
            map_key(kt, k, out);
            out.push('=');
            text(vt, x, out);
        }),
        (Type::Row(fields), Value::Array(items)) => {
            let fields = fields.iter().zip(items);
            list(out, "{}", ", ", fields, |((name, ft), x), out| {
                if let Some(name) = name {
                    out.push_str(name);
                    out.push('=');
                }
                text(ft, x, out);
            })
        }
        // Some servers (PrestoDB without client capabilities) send nested values as JSON text.
        (Type::Array(_) | Type::Map(..) | Type::Row(_), Value::String(s)) => {
            match serde_json::from_str::<Value>(s) {
                Ok(parsed) if !parsed.is_string() => text(ty, &parsed, out),
                _ => out.push_str(s),
            }
        }
        (_, Value::String(s)) => out.push_str(s),
        (_, Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        (_, Value::Number(n)) => out.push_str(&n.to_string()),
        (_, other) => out.push_str(&other.to_string()),
    }
}

/// Map keys arrive as JSON object keys (strings); numeric keys print as their type would.
fn map_key(kt: &Type, k: &str, out: &mut String) {
    match kt {
        Type::Double => match k.parse::<f64>() {
            Ok(d) => java_double(d, out),
            Err(_) => out.push_str(k),
        },
        Type::Real => match k.parse::<f32>() {
            Ok(f) => java_float(f, out),
            Err(_) => out.push_str(k),
        },
        Type::Varbinary => hex_dump(k, out),
        _ => out.push_str(k),
    }
}

/// Write a value as JSON (the `json` output format).
pub fn json(ty: &Type, v: &Value, out: &mut String) {
    match (ty, v) {
        (_, Value::Null) => out.push_str("null"),
        (Type::Real | Type::Double, Value::Number(n)) => {
            let d = n.as_f64().unwrap_or(f64::NAN);
            let mut s = String::new();
            if *ty == Type::Real {
                java_float(d as f32, &mut s)
            } else {
                java_double(d, &mut s)
            }
            out.push_str(&s);
        }
        (Type::Varbinary, Value::String(s)) => {
            let mut hex = String::new();
            hex_dump(s, &mut hex);
            json_string(&hex, out);
        }
        (Type::Array(item), Value::Array(items)) => {
            list(out, "[]", ",", items, |x, out| json(item, x, out))
        }
        (Type::Map(kt, vt), Value::Object(map)) => list(out, "{}", ",", map, |(k, x), out| {
            let mut key = String::new();
            map_key(kt, k, &mut key);
            json_string(&key, out);
            out.push(':');
            json(vt, x, out);
        }),
        // Named rows become objects (as CAST(row AS JSON) does), anonymous ones arrays.
        (Type::Row(fields), Value::Array(items)) if fields.iter().all(|f| f.0.is_some()) => {
            let fields = fields.iter().zip(items);
            list(out, "{}", ",", fields, |((name, ft), x), out| {
                json_string(name.as_deref().unwrap_or(""), out);
                out.push(':');
                json(ft, x, out);
            })
        }
        (Type::Row(fields), Value::Array(items)) => {
            let fields = fields.iter().zip(items);
            list(out, "[]", ",", fields, |((_, ft), x), out| json(ft, x, out))
        }
        (Type::Array(_) | Type::Map(..) | Type::Row(_), Value::String(s)) => {
            match serde_json::from_str::<Value>(s) {
                Ok(parsed) if !parsed.is_string() => json(ty, &parsed, out),
                _ => json_string(s, out),
            }
        }
        (_, Value::String(s)) => json_string(s, out),
        (_, Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        (_, Value::Number(n)) => out.push_str(&n.to_string()),
        (_, other) => out.push_str(&other.to_string()),
    }
}

/// `brackets[0]`, the items written by `each` and separated by `sep`, `brackets[1]`.
fn list<I: IntoIterator>(
    out: &mut String,
    brackets: &str,
    sep: &str,
    items: I,
    mut each: impl FnMut(I::Item, &mut String),
) {
    let (open, close) = brackets.split_at(1);
    out.push_str(open);
    for (i, x) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        each(x, out);
    }
    out.push_str(close);
}

/// A JSON string as Jackson writes it (trino-cli's JSON output).
pub fn json_string(s: &str, out: &mut String) {
    text::push_json_string(out, s, JsonEscape::JACKSON)
}

/// Base64 from the wire to trino-cli's hex dump: lower-case byte pairs separated by spaces.
fn hex_dump(b64: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match base64::engine::general_purpose::STANDARD.decode(b64) {
        Ok(bytes) => {
            for (i, b) in bytes.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
        Err(_) => out.push_str(b64),
    }
}

/// `Double.toString` of Java 19+ (shortest digits that round-trip, Java's layout).
pub fn java_double(d: f64, out: &mut String) {
    if !d.is_finite() {
        return non_finite(d.is_nan(), d > 0.0, out);
    }
    java_finite(d, d != 0.0 && d.abs() < f64::MIN_POSITIVE, out)
}

/// `Float.toString` of Java 19+.
pub fn java_float(f: f32, out: &mut String) {
    if !f.is_finite() {
        return non_finite(f.is_nan(), f > 0.0, out);
    }
    java_finite(f, f != 0.0 && f.abs() < f32::MIN_POSITIVE, out)
}

fn java_finite<F>(v: F, subnormal: bool, out: &mut String)
where
    F: ryu::Float + std::fmt::LowerExp + std::str::FromStr + PartialEq,
{
    let mut buf = ryu::Buffer::new();
    let mut parts = Decimal::parse(buf.format_finite(v));
    // Java picks among the shortest decimals of length 1 *or 2* the closest one, so
    // 4.9E-324 rather than 5e-324. Only subnormals are coarse enough for that to differ.
    if parts.len == 1 && subnormal {
        let two = format!("{v:.1e}");
        if two.parse::<F>().ok() == Some(v) {
            parts = Decimal::parse(&two);
        }
    }
    parts.java_layout(out);
}

fn non_finite(nan: bool, positive: bool, out: &mut String) {
    out.push_str(if nan {
        "NaN"
    } else if positive {
        "Infinity"
    } else {
        "-Infinity"
    });
}

/// A finite decimal as sign, significant digits (no leading or trailing zeros; `0` for
/// zero) and the exponent of the first digit (`1.25E4` -> 4). Kept on the stack: this
/// runs for every double of a result set.
struct Decimal {
    neg: bool,
    digits: [u8; 40],
    len: usize,
    exp: i32,
}

impl Decimal {
    fn parse(s: &str) -> Decimal {
        let (neg, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (mant, e) = match s.find(['e', 'E']) {
            Some(i) => (&s[..i], s[i + 1..].parse::<i32>().unwrap_or(0)),
            None => (s, 0),
        };
        let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
        let mut d = Decimal {
            neg,
            digits: [b'0'; 40],
            len: 0,
            exp: 0,
        };
        let mut lead = 0;
        for b in int.bytes().chain(frac.bytes()) {
            if d.len == 0 && b == b'0' {
                lead += 1;
            } else if d.len < d.digits.len() {
                d.digits[d.len] = b;
                d.len += 1;
            }
        }
        while d.len > 0 && d.digits[d.len - 1] == b'0' {
            d.len -= 1;
        }
        if d.len == 0 {
            d.len = 1;
            return d;
        }
        d.exp = int.len() as i32 - 1 - lead + e;
        d
    }

    /// Java's layout: plain notation for 1e-3 <= |x| < 1e7, else `d.dddE±n`; always at
    /// least one digit after the point.
    fn java_layout(&self, out: &mut String) {
        let digits = std::str::from_utf8(&self.digits[..self.len]).unwrap_or("0");
        let exp = self.exp;
        if self.neg {
            out.push('-');
        }
        if digits == "0" {
            out.push_str("0.0");
            return;
        }
        if (-3..7).contains(&exp) {
            if exp >= 0 {
                let int_len = exp as usize + 1;
                if digits.len() <= int_len {
                    out.push_str(digits);
                    out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                    out.push_str(".0");
                } else {
                    out.push_str(&digits[..int_len]);
                    out.push('.');
                    out.push_str(&digits[int_len..]);
                }
            } else {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
                out.push_str(digits);
            }
        } else {
            out.push_str(&digits[..1]);
            out.push('.');
            out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
            out.push('E');
            out.push_str(&exp.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::parse_type;

    fn d(x: f64) -> String {
        let mut s = String::new();
        java_double(x, &mut s);
        s
    }
    fn f(x: f32) -> String {
        let mut s = String::new();
        java_float(x, &mut s);
        s
    }

    #[test]
    fn doubles_print_like_java() {
        // Expected strings are what trino-cli printed for the same values.
        assert_eq!(d(0.1), "0.1");
        assert_eq!(d(1e10), "1.0E10");
        assert_eq!(d(1e-5), "1.0E-5");
        assert_eq!(d(12345678.9), "1.23456789E7");
        assert_eq!(d(1e7), "1.0E7");
        assert_eq!(d(9999999.0), "9999999.0");
        assert_eq!(d(0.001), "0.001");
        assert_eq!(d(0.0009), "9.0E-4");
        assert_eq!(d(123456789012345678.0), "1.2345678901234568E17");
        assert_eq!(d(100.0), "100.0");
        assert_eq!(d(-0.0), "-0.0");
        assert_eq!(d(4.9e-324), "4.9E-324");
        assert_eq!(d(f64::NAN), "NaN");
        assert_eq!(d(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(f(1.1), "1.1");
        assert_eq!(f(1e20), "1.0E20");
        assert_eq!(f(3.4028235e38), "3.4028235E38");
        assert_eq!(f(1.5), "1.5");
        assert_eq!(f(0.001), "0.001");
    }

    fn render(ty: &str, json_text: &str) -> (String, String) {
        let ty = parse_type(ty);
        let v: Value = serde_json::from_str(json_text).unwrap();
        let (mut t, mut j) = (String::new(), String::new());
        text(&ty, &v, &mut t);
        json(&ty, &v, &mut j);
        (t, j)
    }

    #[test]
    fn nested_values_print_like_trino_cli() {
        assert_eq!(render("array(integer)", "[1,2,null]").0, "[1, 2, NULL]");
        assert_eq!(
            render("array(varbinary)", r#"["AQI=","/w=="]"#).0,
            "[01 02, ff]"
        );
        assert_eq!(
            render("map(varchar, double)", r#"{"k1":1.5,"k2":null}"#).0,
            "{k1=1.5, k2=NULL}"
        );
        assert_eq!(
            render("map(double, integer)", r#"{"1.0E10":2}"#).0,
            "{1.0E10=2}"
        );
        let (t, j) = render(
            "row(x integer, y varchar, z array(integer))",
            r#"[1,"a",[2]]"#,
        );
        assert_eq!(t, "{x=1, y=a, z=[2]}");
        assert_eq!(j, r#"{"x":1,"y":"a","z":[2]}"#);
        let (t, j) = render("row(integer, double)", "[1, 2.5]");
        assert_eq!(t, "{1, 2.5}");
        assert_eq!(j, "[1,2.5]");
        assert_eq!(
            render("array(double)", r#"[1e10,"NaN"]"#),
            ("[1.0E10, NaN]".into(), r#"[1.0E10,"NaN"]"#.into())
        );
        assert_eq!(
            render("varbinary", r#""AP8Q""#),
            ("00 ff 10".into(), r#""00 ff 10""#.into())
        );
        assert_eq!(render("array(integer)", r#""[ 1, 2 ]""#).0, "[1, 2]");
    }

    #[test]
    fn json_strings_escape_like_jackson() {
        let mut o = String::new();
        json_string("a\"b\\c\n\u{1}\u{7f}é/", &mut o);
        assert_eq!(o, "\"a\\\"b\\\\c\\n\\u0001\u{7f}é/\"");
    }
}
