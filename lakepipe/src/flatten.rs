//! `--flatten[=SEP]`: nested objects become top-level keys joined by SEP.
//!
//! The rules, shared by every tool that flattens (jq-lite, pq-write):
//! - `{"user":{"id":1,"geo":{"cc":"DE"}}}` -> `{"user_id":1,"user_geo_cc":"DE"}`, keys in
//!   the order they appear;
//! - arrays stay arrays, and objects inside arrays are left as they are;
//! - an empty nested object is kept as `{}` under its key (nothing is dropped);
//! - a value that is not an object passes unchanged;
//! - two keys that flatten to the same name (`{"a_b":1,"a":{"b":2}}`) are a
//!   [`Collision`]: the value is rejected as bad input, never silently overwritten.
//!
//! The algorithm is generic over [`Tree`] so each tool flattens its own value type
//! without converting; this module implements it for [`serde_json::Value`].

/// The separator used by `--flatten` without a value.
pub const DEFAULT_SEP: &str = "_";

/// `--flatten[=SEP]`, defined once for every tool that flattens.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Arg {
    /// Turn nested objects into top-level keys joined by SEP (default "_"):
    /// {"user":{"id":1}} -> {"user_id":1}; two keys that flatten to one name are a bad line
    #[arg(id = "flatten", long = "flatten", value_name = "SEP", num_args = 0..=1,
          require_equals = true, default_missing_value = DEFAULT_SEP, value_parser = separator)]
    pub sep: Option<String>,
}

/// An empty separator would join `a` and `b` into `ab`, which reads as another key.
fn separator(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Err("the separator must not be empty".into());
    }
    Ok(s.to_string())
}

/// A JSON-like value that can be flattened.
pub trait Tree: Sized {
    /// The entries of an object, in order.
    type Entries: IntoIterator<Item = (String, Self)>;
    /// The entries if `self` is a non-empty object, else `self` back.
    fn into_object(self) -> Result<Self::Entries, Self>;
    /// Build an object from entries (keys are unique).
    fn from_entries(entries: Vec<(String, Self)>) -> Self;
}

/// Two keys flatten to the same name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--flatten: key \"{key}\" occurs twice after flattening (choose another separator)")]
pub struct Collision {
    /// The flattened key that occurs twice.
    pub key: String,
}

/// Flatten `value` with separator `sep` (see the module docs for the rules).
pub fn flatten<T: Tree>(value: T, sep: &str) -> Result<T, Collision> {
    let entries = match value.into_object() {
        Ok(entries) => entries,
        Err(scalar) => return Ok(scalar),
    };
    let mut out = Vec::new();
    for (key, v) in entries {
        push_flat(&mut out, key, v, sep);
    }
    if let Some(key) = twice(&out) {
        return Err(Collision { key });
    }
    Ok(T::from_entries(out))
}

/// A key that occurs twice, if any. Rows have a few dozen keys: sorting them is cheaper
/// than hashing each (pq-write checks every row).
fn twice<T>(entries: &[(String, T)]) -> Option<String> {
    let mut keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    keys.windows(2)
        .find(|w| w[0] == w[1])
        .map(|w| w[0].to_string())
}

fn push_flat<T: Tree>(out: &mut Vec<(String, T)>, key: String, value: T, sep: &str) {
    match value.into_object() {
        Ok(entries) => {
            for (k, v) in entries {
                push_flat(out, format!("{key}{sep}{k}"), v, sep);
            }
        }
        Err(leaf) => out.push((key, leaf)),
    }
}

impl Tree for serde_json::Value {
    type Entries = serde_json::Map<String, serde_json::Value>;

    fn into_object(self) -> Result<Self::Entries, Self> {
        match self {
            serde_json::Value::Object(map) if !map.is_empty() => Ok(map),
            other => Err(other),
        }
    }

    fn from_entries(entries: Vec<(String, Self)>) -> Self {
        serde_json::Value::Object(entries.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_objects_become_joined_keys_in_order() {
        let v = json!({"id":1,"user":{"id":7,"geo":{"cc":"DE"}},"tags":[{"a":1}],"z":null});
        let flat = flatten(v, "_").unwrap();
        assert_eq!(
            flat.to_string(),
            r#"{"id":1,"user_id":7,"user_geo_cc":"DE","tags":[{"a":1}],"z":null}"#
        );
    }

    #[test]
    fn separator_and_empty_objects() {
        let flat = flatten(json!({"a":{"b":{},"c":2}}), ".").unwrap();
        assert_eq!(flat.to_string(), r#"{"a.b":{},"a.c":2}"#);
    }

    #[test]
    fn scalars_and_arrays_pass_unchanged() {
        assert_eq!(
            flatten(json!([{"a":{"b":1}}]), "_").unwrap(),
            json!([{"a":{"b":1}}])
        );
        assert_eq!(flatten(json!("x"), "_").unwrap(), json!("x"));
        assert_eq!(flatten(json!({}), "_").unwrap(), json!({}));
    }

    #[test]
    fn collisions_are_errors() {
        let err = flatten(json!({"a_b":1,"a":{"b":2}}), "_").unwrap_err();
        assert_eq!(err.key, "a_b");
        // another separator resolves it
        let ok = flatten(json!({"a_b":1,"a":{"b":2}}), ".").unwrap();
        assert_eq!(ok.to_string(), r#"{"a_b":1,"a.b":2}"#);
    }
}
