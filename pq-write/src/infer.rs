//! JSON lines -> Arrow schema inference, with pq-write's rules (README, "pq-write"):
//! int + float widen to double, a field that is sometimes an object (or list) and
//! sometimes a scalar becomes a JSON string, other scalar conflicts become strings,
//! all-null becomes string; nested objects become structs, arrays lists.

use std::fmt;

use arrow_schema::{Field, Schema};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use lakepipe::flatten;

pub use crate::shape::Shape;

impl Shape {
    /// Infer the shape of one JSON text.
    pub fn of_json(line: &[u8]) -> Result<Shape, serde_json::Error> {
        fn parse<'de, R: serde_json::de::Read<'de>>(
            mut de: serde_json::Deserializer<R>,
        ) -> Result<Shape, serde_json::Error> {
            let shape = ShapeSeed.deserialize(&mut de)?;
            de.end()?;
            Ok(shape)
        }
        // As in decode: one SIMD UTF-8 check, then the reader that trusts it.
        match simdutf8::basic::from_utf8(line) {
            Ok(text) => parse(serde_json::Deserializer::from_str(text)),
            Err(_) => parse(serde_json::Deserializer::from_slice(line)),
        }
    }

    /// A row's shape as inference should see it: the object, flattened with `--flatten`
    /// by the shared rule. None for a row the decoder rejects whatever the schema (not an
    /// object, or a flatten collision), so that it adds no column.
    pub fn row(self, flatten: Option<&str>) -> Option<Shape> {
        let shape = match flatten {
            Some(sep) => flatten::flatten(self, sep).ok()?,
            None => self,
        };
        matches!(shape, Shape::Object(_)).then_some(shape)
    }

    /// False for a null shape or an empty object anywhere in this one. Both are string
    /// columns that take text their shapes do not cover, and their merges with later
    /// objects or numbers change type (see [`SchemaInference::settles_decoded_rows`]).
    fn settles_text(&self) -> bool {
        match self {
            Shape::Null => false,
            Shape::Object(fields) => {
                !fields.is_empty() && fields.iter().all(|(_, s)| s.settles_text())
            }
            Shape::List(item) => item.settles_text(),
            _ => true,
        }
    }
}

/// Accumulates shapes of rows (top-level objects) into a schema.
#[derive(Debug, Default)]
pub struct SchemaInference {
    root: Vec<(String, Shape)>,
    rows: usize,
}

impl SchemaInference {
    /// Add one row's shape; non-objects are the caller's error to report.
    pub fn add(&mut self, shape: Shape) {
        self.rows += 1;
        if let Shape::Object(fields) = shape {
            let mut root = Shape::Object(std::mem::take(&mut self.root));
            root.merge(Shape::Object(fields));
            if let Shape::Object(f) = root {
                self.root = f;
            }
        }
    }

    /// Add everything another inference saw, as if its rows came after these.
    pub fn merge(&mut self, other: SchemaInference) {
        self.rows += other.rows;
        let mut root = Shape::Object(std::mem::take(&mut self.root));
        root.merge(Shape::Object(other.root));
        if let Shape::Object(f) = root {
            self.root = f;
        }
    }

    #[cfg(test)]
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Whether inference may skip the rows a decoder for this schema takes by its fast
    /// path ([`RowDecoder::push_covered`](crate::decode::RowDecoder::push_covered)):
    /// adding them would change no column's type or order, even with other rows merged
    /// before or after them. That path takes, per column: strings, numbers and booleans
    /// as text (a string shape covers them; a JSON shape too), integers only in integer
    /// columns, numbers in double ones, booleans in boolean ones, known keys only, and
    /// null anywhere. The exceptions are a null shape and an empty object, which are
    /// string columns too but become other types when merged with numbers or objects.
    pub fn settles_decoded_rows(&self) -> bool {
        !self.root.is_empty() && self.root.iter().all(|(_, s)| s.settles_text())
    }

    /// Count `row` (a JSON text) as [`add`](Self::add) would, without building its
    /// shape, when adding it would change nothing: it is an object whose every value
    /// the shapes seen so far already cover. False (nothing counted) when it is not, or
    /// is not valid JSON; the caller then takes the full path ([`Shape::of_json`], then
    /// `add`), which also decides whether the row counts at all. Past the first lines
    /// nearly every row is covered, so inference neither allocates nor merges per row.
    /// The decoder's hand-written scanner answers first; it leaves every row it is not
    /// sure of to serde_json (see `decode::covered`).
    pub fn add_if_covered(&mut self, row: &[u8]) -> bool {
        let ok = match simdutf8::basic::from_utf8(row) {
            Ok(text) => {
                crate::decode::covered(&self.root, text) || covered_by_serde(&self.root, text)
            }
            Err(_) => false,
        };
        self.rows += usize::from(ok);
        ok
    }

    /// The schema: one column per field, in first-seen order.
    pub fn schema(&self) -> Schema {
        Schema::new(
            self.root
                .iter()
                .map(|(k, v)| Field::new(k, v.data_type(), true))
                .collect::<Vec<_>>(),
        )
    }
}

struct ShapeSeed;

impl<'de> DeserializeSeed<'de> for ShapeSeed {
    type Value = Shape;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Shape, D::Error> {
        d.deserialize_any(ShapeVisitor)
    }
}

struct ShapeVisitor;

impl<'de> Visitor<'de> for ShapeVisitor {
    type Value = Shape;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Shape, E> {
        Ok(Shape::Null)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape::Bool)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
        Ok(Shape::Int)
    }
    fn visit_u64<E>(self, v: u64) -> Result<Shape, E> {
        // Beyond i64 an integer only fits a double.
        Ok(if v > i64::MAX as u64 {
            Shape::Float
        } else {
            Shape::Int
        })
    }
    fn visit_f64<E>(self, _: f64) -> Result<Shape, E> {
        Ok(Shape::Float)
    }
    fn visit_str<E>(self, _: &str) -> Result<Shape, E> {
        Ok(Shape::Str)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        let mut item = Shape::Null;
        while let Some(s) = seq.next_element_seed(ShapeSeed)? {
            item.merge(s);
        }
        Ok(Shape::List(Box::new(item)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut fields: Vec<(String, Shape)> = Vec::new();
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let v = map.next_value_seed(ShapeSeed)?;
            match fields.iter_mut().find(|(n, _)| n.as_str() == k.as_ref()) {
                Some((_, s)) => s.merge(v),
                None => fields.push((k.into_owned(), v)),
            }
        }
        Ok(Shape::Object(fields))
    }
}

fn covered_by_serde(fields: &[(String, Shape)], text: &str) -> bool {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut hint = 0;
    de.deserialize_map(Covers::Object(fields, &mut hint))
        .is_ok()
        && de.end().is_ok()
}

/// Checks that a JSON value adds nothing to a shape (`shape.merge(of(value)) == shape`),
/// failing at the first value that would; duplicate keys are checked one by one, which
/// is the same since merging is associative.
enum Covers<'a> {
    Value(&'a Shape),
    /// An object's fields, and where the next key is expected (rows repeat key order).
    Object(&'a [(String, Shape)], &'a mut usize),
}

fn not_covered<E: de::Error>() -> E {
    E::custom("not covered")
}

impl<'de> DeserializeSeed<'de> for Covers<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self {
            // JSON text takes anything: skip the value unseen.
            Covers::Value(Shape::Json) => d.deserialize_ignored_any(IgnoredAny).map(drop),
            Covers::Value(Shape::Object(fields)) => {
                let mut hint = 0;
                d.deserialize_any(Covers::Object(fields, &mut hint))
            }
            _ => d.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Covers<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value the shape covers")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar(&[Shape::Bool, Shape::Str])
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar(&[Shape::Int, Shape::Float, Shape::Str])
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        match v > i64::MAX as u64 {
            true => self.scalar(&[Shape::Float, Shape::Str]),
            false => self.scalar(&[Shape::Int, Shape::Float, Shape::Str]),
        }
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar(&[Shape::Float, Shape::Str])
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.scalar(&[Shape::Str])
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Covers::Value(Shape::List(item)) = self else {
            return Err(not_covered());
        };
        while seq.next_element_seed(Covers::Value(item))?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Covers::Object(fields, hint) = self else {
            return Err(not_covered());
        };
        while let Some(i) = map.next_key_seed(FieldIndex(fields, &mut *hint))? {
            map.next_value_seed(Covers::Value(&fields[i].1))?;
        }
        Ok(())
    }
}

impl Covers<'_> {
    /// A scalar is covered by the shapes it merges into unchanged.
    fn scalar<E: de::Error>(&self, by: &[Shape]) -> Result<(), E> {
        match self {
            Covers::Value(s) if by.contains(s) => Ok(()),
            _ => Err(not_covered()),
        }
    }
}

/// A key's index among an object's fields; an unknown key is not covered.
struct FieldIndex<'a, 'h>(&'a [(String, Shape)], &'h mut usize);

impl<'de> DeserializeSeed<'de> for FieldIndex<'_, '_> {
    type Value = usize;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for FieldIndex<'_, '_> {
    type Value = usize;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<usize, E> {
        let FieldIndex(fields, hint) = self;
        let h = (*hint).min(fields.len());
        let i = match fields[h..].iter().position(|(n, _)| n == v) {
            Some(i) => h + i,
            None => fields[..h]
                .iter()
                .position(|(n, _)| n == v)
                .ok_or_else(not_covered)?,
        };
        *hint = i + 1;
        Ok(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::DataType;

    fn infer(lines: &[&str], flatten: Option<&str>) -> Schema {
        let mut inf = SchemaInference::default();
        for l in lines {
            if let Some(row) = Shape::of_json(l.as_bytes()).unwrap().row(flatten) {
                inf.add(row);
            }
        }
        inf.schema()
    }

    fn ty(s: &Schema, name: &str) -> DataType {
        s.field_with_name(name).unwrap().data_type().clone()
    }

    /// pq-write infers chunks in parallel and merges them: every split of the lines must
    /// give the schema (types and column order) of one pass over them.
    #[test]
    fn merged_parts_equal_one_pass() {
        let lines = [
            r#"{"a":1,"o":{"x":1}}"#,
            r#"{"b":"s","a":2.5}"#,
            r#"{"o":3,"c":null,"l":[1]}"#,
            r#"{"c":true,"l":[{"k":1}],"a":"t"}"#,
            r#"{"d":{"e":[1,2.0]},"b":7,"l":"x"}"#,
            r#"{"o":{"y":"z"},"d":{"f":false}}"#,
        ];
        let whole = infer(&lines, None);
        for cut1 in 0..=lines.len() {
            for cut2 in cut1..=lines.len() {
                let mut all = SchemaInference::default();
                for part in [&lines[..cut1], &lines[cut1..cut2], &lines[cut2..]] {
                    let mut inf = SchemaInference::default();
                    for l in part {
                        inf.add(Shape::of_json(l.as_bytes()).unwrap());
                    }
                    all.merge(inf);
                }
                assert_eq!(all.schema(), whole, "split at {cut1}, {cut2}");
                assert_eq!(all.rows(), lines.len());
            }
        }
    }

    /// The covered-row shortcut must give the schema and row count of the full path,
    /// whatever the lines: every kind of value after every shape, bad lines too.
    #[test]
    fn covered_rows_add_what_the_full_path_adds() {
        let lines: [&[u8]; 28] = [
            br#"{"a":1,"o":{"x":1,"y":[1]},"l":[1,2],"s":"t","b":true,"n":null}"#,
            br#"{"a":2,"o":{"x":2},"l":[],"s":"u","b":false,"n":null}"#,
            br#"{"a":3,"o":{"y":[2,3]},"l":[3],"s":"v"}"#,
            br#"{"s":"w","a":4,"o":null,"l":null}"#,
            br#"{"a":5.5}"#,
            br#"{"a":6,"a":7}"#,
            br#"{"a":18446744073709551615}"#,
            br#"{"o":{"x":1.5}}"#,
            br#"{"o":{"x":"now a string"}}"#,
            br#"{"o":{"x":true,"z":{}}}"#,
            br#"{"l":[{"k":1}]}"#,
            br#"{"l":5}"#,
            br#"{"l":[1,"x",{"k":2}]}"#,
            br#"{"s":{"nested":1}}"#,
            br#"{"s":[1]}"#,
            br#"{"b":"yes"}"#,
            br#"{"n":[]}"#,
            br#"{"e":{}}"#,
            br#"{"e":{}}"#,
            br#"{"e":{"k":1}}"#,
            br#"{"a":1,"bad":"#,
            br#"{"a":1} trailing"#,
            br#"[1,2]"#,
            br#""text""#,
            b"{\"a\":\"\xff\"}",
            br#"{"\u0061":8,"o":{"x":"a"}}"#,
            br#"{}"#,
            br#"{"a":1,"o":{"x":1,"y":[1]},"l":[1,2],"s":"t","b":true,"n":null}"#,
        ];
        let mut slow = SchemaInference::default();
        let mut fast = SchemaInference::default();
        let mut covered = 0;
        for l in lines {
            if let Some(row) = Shape::of_json(l).ok().and_then(|s| s.row(None)) {
                slow.add(row);
            }
            if fast.add_if_covered(l) {
                covered += 1;
            } else if let Some(row) = Shape::of_json(l).ok().and_then(|s| s.row(None)) {
                fast.add(row);
            }
            assert_eq!(fast.root, slow.root, "after {}", String::from_utf8_lossy(l));
            assert_eq!(
                fast.rows(),
                slow.rows(),
                "after {}",
                String::from_utf8_lossy(l)
            );
        }
        assert!(covered >= 8, "the shortcut is taken ({covered} rows)");
    }

    /// The scanner's check (`decode::covered`) never calls a row covered that serde's
    /// check does not: over rows of every shape, each with every prefix and every byte
    /// dropped or replaced. And it takes the common rows itself.
    #[test]
    fn the_fast_check_covers_only_what_serde_covers() {
        let seen = [
            r#"{"id":1,"name":"a","p":1.5,"ok":true,"tags":["x"],"u":{"id":7,"c":"DE"},"j":{"a":[1,{"b":null}]},"s":"t"}"#,
            r#"{"id":2,"p":3,"j":"text","n":null,"l":[[1,2],[3]],"b":false,"s":true}"#,
        ];
        let mut inf = SchemaInference::default();
        for r in seen {
            inf.add(Shape::of_json(r.as_bytes()).unwrap());
        }
        let common = [
            seen[0],
            seen[1],
            r#"{"id":3,"p":2,"u":{"c":"FR"},"tags":[],"j":[true,false,null,-1.5e3,"\u00e9"],"ok":false}"#,
            r#" { "s" : "with \"escapes\" \/ \u00e9\ud83d\ude00" , "n" : null , "l" : [ [ ] ] } "#,
            r#"{"u":{"c":"DE","id":-7},"id":1,"id":2,"b":null,"j":{"deep":[[[{"x":{}}]]]}}"#,
            r#"{}"#,
        ];
        let odd = [
            r#"{"id":1.5}"#,
            r#"{"ok":"yes"}"#,
            r#"{"new":1}"#,
            r#"{"u":{"x":1}}"#,
            r#"{"na\u006de":"a"}"#,
            r#"{"id":12345678901234567890}"#,
            r#"{"p":-0,"id":-0}"#,
            r#"{"p":1e999}"#,
            r#"{"tags":"x"}"#,
            r#"{"l":[1]}"#,
            "{\"s\":\"tab\tin\"}",
            r#"[1]"#,
        ];
        for row in common {
            assert!(crate::decode::covered(&inf.root, row), "not taken: {row}");
        }
        let mut checked = 0;
        for row in common.iter().chain(&odd).map(|r| r.as_bytes()) {
            let mut variants: Vec<Vec<u8>> = vec![row.to_vec()];
            for i in 0..row.len() {
                variants.push(row[..i].to_vec());
                let mut dropped = row.to_vec();
                dropped.remove(i);
                variants.push(dropped);
                for b in b"{}[]\":,0-.e tn\\" {
                    let mut edited = row.to_vec();
                    edited[i] = *b;
                    variants.push(edited);
                }
            }
            for v in variants.iter().filter_map(|v| std::str::from_utf8(v).ok()) {
                let fast = crate::decode::covered(&inf.root, v);
                assert!(!fast || covered_by_serde(&inf.root, v), "only fast: {v}");
                checked += 1;
            }
        }
        assert!(checked > 5_000, "{checked}");
    }

    #[test]
    fn widening_rules() {
        let s = infer(
            &[
                r#"{"i":1,"f":1,"mix":{"a":1},"n":null,"s":"x","b":true}"#,
                r#"{"i":2,"f":1.5,"mix":3,"n":null,"s":5,"late":[1,2.5]}"#,
            ],
            None,
        );
        assert_eq!(ty(&s, "i"), DataType::Int64);
        assert_eq!(ty(&s, "f"), DataType::Float64);
        assert_eq!(ty(&s, "mix"), DataType::Utf8);
        assert_eq!(ty(&s, "n"), DataType::Utf8);
        assert_eq!(ty(&s, "s"), DataType::Utf8);
        assert_eq!(ty(&s, "b"), DataType::Boolean);
        assert!(matches!(ty(&s, "late"), DataType::List(f) if f.data_type() == &DataType::Float64));
        let names: Vec<_> = s.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(
            names,
            ["i", "f", "mix", "n", "s", "b", "late"],
            "first-seen order"
        );
    }

    #[test]
    fn nested_objects_become_structs_and_merge() {
        let s = infer(
            &[
                r#"{"u":{"id":1}}"#,
                r#"{"u":{"country":"DE"}}"#,
                r#"{"u":null}"#,
            ],
            None,
        );
        let DataType::Struct(f) = ty(&s, "u") else {
            panic!()
        };
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].data_type(), &DataType::Int64);
    }

    #[test]
    fn flatten_joins_keys() {
        let s = infer(
            &[r#"{"user":{"id":1,"geo":{"cc":"DE"}},"tags":[{"a":1}]}"#],
            Some("_"),
        );
        let names: Vec<_> = s.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["user_id", "user_geo_cc", "tags"]);
        assert!(
            matches!(ty(&s, "tags"), DataType::List(_)),
            "arrays stay arrays"
        );
    }

    /// Each row is flattened on its own: a colliding row adds nothing, and an object in
    /// one row and a scalar in another are two columns, not one JSON string.
    #[test]
    fn flatten_is_per_row_and_collisions_add_no_column() {
        let s = infer(
            &[
                r#"{"id":1,"a_b":1,"a":{"b":2}}"#,
                r#"{"id":2,"u":{"x":1}}"#,
                r#"{"u":5}"#,
            ],
            Some("_"),
        );
        let names: Vec<_> = s.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["id", "u_x", "u"]);
        assert_eq!(ty(&s, "u"), DataType::Int64);
        let s = infer(&[r#"{"a_b":1,"a":{"b":2}}"#, r#"{"a_b":"x"}"#], Some("_"));
        assert_eq!(ty(&s, "a_b"), DataType::Utf8, "only the good line counts");
        assert_eq!(s.fields().len(), 1);
        let s = infer(&[r#"{"a_b":1,"a":{"b":2}}"#], Some("."));
        assert_eq!(s.fields().len(), 2, "another separator keeps both");
    }

    #[test]
    fn empty_objects_and_lists() {
        let s = infer(&[r#"{"o":{},"l":[]}"#], None);
        assert_eq!(ty(&s, "o"), DataType::Utf8);
        assert!(matches!(ty(&s, "l"), DataType::List(f) if f.data_type() == &DataType::Utf8));
    }
}
