//! Hive-style partition folders (`key=value/`): written by pq-write, read by pq-cat and
//! hive-ddl. Names are escaped as Hive's `FileUtils.escapePathName` does, so a value can
//! never add a folder level (`a/b`), look like another key (`x=y`) or be confused with
//! an escape (`%`); other text (unicode, `..`) stays as is inside the `key=` component.
//! A null or empty value is Hive's [`NULL_VALUE`], which reads back as null.

/// The folder value Hive and Spark write for a null (or empty) partition value.
pub const NULL_VALUE: &str = "__HIVE_DEFAULT_PARTITION__";

/// Characters Hive escapes in partition names and values (besides controls and DEL).
const ESCAPED: &str = "\"#%'*/:=?\\{[]^";

/// Escape a partition key or value; an empty one becomes [`NULL_VALUE`].
pub fn escape(v: &str) -> String {
    if v.is_empty() {
        return NULL_VALUE.to_string();
    }
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if (c as u32) < 0x20 || c == '\x7f' || ESCAPED.contains(c) {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Undo [`escape`]: `%XX` escapes decoded (the same decoding as URLs).
pub fn unescape(s: &str) -> String {
    crate::location::percent_decode(s)
}

/// One `key=value` folder name; `None` is a null value.
pub fn folder(key: &str, value: Option<&str>) -> String {
    format!(
        "{}={}",
        escape(key),
        value.map_or(NULL_VALUE.into(), escape)
    )
}

/// The table folder of the empty value: [`NULL_VALUE`] with both leading `_` escaped.
/// A hidden name would hide the table from every reader and from the offset scans of
/// `--exactly-once` and `--resume-from`; escaping never writes the second `%5F` (only a
/// first character is escaped so), so no other value gives this name.
pub const EMPTY_TABLE_FOLDER: &str = "%5F%5FHIVE_DEFAULT_PARTITION__";

/// The folder name of one `pq-write --split-by` table: the value escaped as [`escape`]
/// does, and a leading `.` or `_` escaped too, so the folder is never `.`, `..` or hidden
/// from readers. The empty value is [`EMPTY_TABLE_FOLDER`].
pub fn table_folder(value: &str) -> String {
    if value.is_empty() {
        return EMPTY_TABLE_FOLDER.to_string();
    }
    let escaped = escape(value);
    match escaped.chars().next() {
        Some(c @ ('.' | '_')) => format!("%{:02X}{}", c as u32, &escaped[1..]),
        _ => escaped,
    }
}

/// Undo [`table_folder`]: the value a table folder holds.
pub fn parse_table_folder(name: &str) -> String {
    if name == EMPTY_TABLE_FOLDER {
        return String::new();
    }
    unescape(name)
}

/// The key and value of a `key=value` folder name (`None` value: null), or None when the
/// name is not a partition folder.
pub fn parse_folder(name: &str) -> Option<(String, Option<String>)> {
    let (k, v) = name.split_once('=')?;
    if k.is_empty() {
        return None;
    }
    let v = unescape(v);
    Some((unescape(k), (v != NULL_VALUE).then_some(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_hive() {
        assert_eq!(escape("a/b=c"), "a%2Fb%3Dc");
        assert_eq!(escape("purchase_sword"), "purchase_sword");
        assert_eq!(escape("100%"), "100%25");
        assert_eq!(escape("ключ 東京"), "ключ 東京");
        assert_eq!(escape("tab\there"), "tab%09here");
        assert_eq!(escape(""), NULL_VALUE);
        assert_eq!(folder("event type", Some("a/b")), "event type=a%2Fb");
        assert_eq!(folder("k", None), format!("k={NULL_VALUE}"));
    }

    #[test]
    fn hostile_values_round_trip_in_one_folder_level() {
        for v in [
            "a/b",
            "..",
            ".",
            "x=y",
            "%",
            "%41",
            "100%",
            "ключ",
            "東京都",
            "😀",
            "a\\b",
            "\n",
            "_x",
            ".hidden",
            "?*[]{}^#'\":",
        ] {
            let name = folder("k", Some(v));
            assert!(!name.contains('/'), "{v:?} -> {name}: one folder level");
            assert!(name != "." && name != "..");
            assert_eq!(
                parse_folder(&name),
                Some(("k".into(), Some(v.to_string()))),
                "{v:?} -> {name}"
            );
        }
        // Empty and null both read back as null (Hive has no way to tell them apart).
        assert_eq!(
            parse_folder(&folder("k", Some(""))),
            Some(("k".into(), None))
        );
        assert_eq!(parse_folder(&folder("k", None)), Some(("k".into(), None)));
        assert_eq!(
            parse_folder("a%3Db=c%2Fd"),
            Some(("a=b".into(), Some("c/d".into())))
        );
        assert_eq!(parse_folder("=v"), None);
        assert_eq!(parse_folder("plain"), None);
    }

    #[test]
    fn table_folders_round_trip_and_stay_one_visible_level() {
        let values = [
            "purchase_sword",
            "a/b",
            "..",
            ".",
            "x=y",
            "",
            NULL_VALUE,
            "%2E",
            "_x",
            "__",
            ".hidden",
            "ключ 東京 😀",
            "a\\b",
            "\n",
            "100%",
        ];
        let mut seen = std::collections::HashSet::new();
        for v in values {
            let name = table_folder(v);
            assert!(!name.is_empty() && !name.contains('/'), "{v:?} -> {name}");
            assert!(
                !name.contains('='),
                "{v:?} -> {name} looks like a partition"
            );
            assert!(name != "." && name != "..", "{v:?} -> {name}");
            assert!(!crate::listing::is_hidden(&name), "{v:?} -> {name} hidden");
            assert_eq!(parse_table_folder(&name), v, "{v:?} -> {name}");
            assert!(seen.insert(name.clone()), "{v:?} -> {name} twice");
        }
        assert_eq!(table_folder("purchase_sword"), "purchase_sword");
        assert_eq!(table_folder(".."), "%2E.");
    }
}
