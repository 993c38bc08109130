//! The shape of a JSON value as inference sees it, merged over many lines; the byte
//! scanner ([`crate::decode`]) checks lines against it and [`crate::infer`] builds it.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields};

use lakepipe::ddl::LIST_ITEM;

/// The inferred shape of a JSON value, merged over many lines.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Null,
    Bool,
    Int,
    Float,
    Str,
    List(Box<Shape>),
    Object(Vec<(String, Shape)>),
    /// Objects/lists mixed with scalars: kept as JSON text.
    Json,
}

impl Shape {
    /// Merge another observation of the same field into this one.
    pub fn merge(&mut self, other: Shape) {
        use Shape::*;
        let merged = match (std::mem::replace(self, Null), other) {
            (Null, x) | (x, Null) => x,
            (Json, _) | (_, Json) => Json,
            (Int, Float) | (Float, Int) => Float,
            (List(mut a), List(b)) => {
                a.merge(*b);
                List(a)
            }
            (Object(mut a), Object(b)) => {
                for (k, v) in b {
                    match a.iter_mut().find(|(n, _)| *n == k) {
                        Some((_, s)) => s.merge(v),
                        None => a.push((k, v)),
                    }
                }
                Object(a)
            }
            (a, b) if a == b => a,
            (List(_) | Object(_), _) | (_, List(_) | Object(_)) => Json,
            _ => Str,
        };
        *self = merged;
    }

    /// The Arrow type for this shape.
    pub fn data_type(&self) -> DataType {
        match self {
            Shape::Null | Shape::Str | Shape::Json => DataType::Utf8,
            Shape::Bool => DataType::Boolean,
            Shape::Int => DataType::Int64,
            Shape::Float => DataType::Float64,
            Shape::List(item) => {
                DataType::List(Arc::new(Field::new(LIST_ITEM, item.data_type(), true)))
            }
            // Parquet has no empty groups: an object that never had a key stays JSON text.
            Shape::Object(fields) if fields.is_empty() => DataType::Utf8,
            Shape::Object(fields) => DataType::Struct(Fields::from(
                fields
                    .iter()
                    .map(|(k, v)| Field::new(k, v.data_type(), true))
                    .collect::<Vec<_>>(),
            )),
        }
    }
}

/// [`lakepipe::flatten::Tree`] for an enum whose `Object(Vec<(String, Self)>)` variant
/// holds the objects (decode's rows and inference's shapes).
macro_rules! object_enum_tree {
    ($ty:ident) => {
        impl lakepipe::flatten::Tree for $ty {
            type Entries = Vec<(String, $ty)>;

            fn into_object(self) -> Result<Self::Entries, Self> {
                match self {
                    $ty::Object(entries) if !entries.is_empty() => Ok(entries),
                    other => Err(other),
                }
            }

            fn from_entries(entries: Vec<(String, Self)>) -> Self {
                $ty::Object(entries)
            }
        }
    };
}
pub(crate) use object_enum_tree;

object_enum_tree!(Shape);
