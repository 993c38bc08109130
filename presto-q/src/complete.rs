//! Tab completion in the shell: SQL keywords, and the catalogs, schemas, tables and
//! columns the server lists, fetched by a background thread so the prompt never waits.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex};

use anyhow::Result;
use serde_json::Value;

use crate::client::Client;
use crate::run::{describe_error, QueryFailed};
use crate::session::Session;

#[rustfmt::skip]
const KEYWORDS: &[&str] = &[
    "ALL", "ALTER", "ANALYZE", "AND", "ANY", "ARRAY", "AS", "ASC", "BETWEEN", "BIGINT",
    "BOOLEAN", "BY", "CALL", "CASE", "CAST", "CATALOGS", "COLUMNS", "COMMENT", "COMMIT",
    "COUNT", "CREATE", "CROSS", "CURRENT_DATE", "CURRENT_TIMESTAMP", "DATE", "DEALLOCATE",
    "DECIMAL", "DELETE", "DESC", "DESCRIBE", "DISTINCT", "DOUBLE", "DROP", "ELSE", "END",
    "EXCEPT", "EXECUTE", "EXISTS", "EXPLAIN", "EXTRACT", "FALSE", "FETCH", "FIRST", "FROM",
    "FULL", "FUNCTIONS", "GRANT", "GROUP", "HAVING", "IF", "IN", "INNER", "INSERT", "INTEGER",
    "INTERSECT", "INTERVAL", "INTO", "IS", "JOIN", "LEFT", "LIKE", "LIMIT", "MAP", "MERGE",
    "NOT", "NULL", "NULLS", "OFFSET", "ON", "OR", "ORDER", "OUTER", "OVER", "PARTITION",
    "PREPARE", "RESET", "REVOKE", "RIGHT", "ROLLBACK", "ROW", "ROWS", "SCHEMA", "SCHEMAS",
    "SELECT", "SESSION", "SET", "SHOW", "START", "STATS", "TABLE", "TABLES", "THEN",
    "TIMESTAMP", "TRANSACTION", "TRUE", "TRUNCATE", "UNION", "UPDATE", "USE", "USING", "VALUES",
    "VARCHAR", "VIEW", "WHEN", "WHERE", "WITH",
];

/// What the server listed so far.
#[derive(Debug, Default, Clone)]
pub struct Names {
    pub catalog: Option<String>,
    pub schema: Option<String>,
    pub catalogs: BTreeSet<String>,
    /// Schemas per catalog, and tables per (catalog, schema).
    pub schemas: BTreeMap<String, BTreeSet<String>>,
    pub tables: BTreeMap<(String, String), BTreeSet<String>>,
    /// Columns of the tables of the current schema.
    pub columns: BTreeSet<String>,
}

impl Names {
    /// Add `information_schema.tables` rows (schema, table) of `catalog`.
    pub fn add_tables(&mut self, catalog: &str, rows: &[Vec<Value>]) {
        let schemas = self.schemas.entry(catalog.to_string()).or_default();
        for row in rows {
            if let [Value::String(schema), Value::String(table)] = row.as_slice() {
                schemas.insert(schema.clone());
                self.tables
                    .entry((catalog.to_string(), schema.clone()))
                    .or_default()
                    .insert(table.clone());
            }
        }
    }
}

/// The text being completed starts at the returned byte offset; candidates replace it.
pub fn candidates(names: &Names, line: &str, pos: usize) -> (usize, Vec<String>) {
    let before = &line[..pos];
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_' || *c == '.')
        .last()
        .map_or(pos, |(i, _)| i);
    let word = &before[start..];
    let (qualifier, partial) = match word.rsplit_once('.') {
        Some((q, p)) => (Some(q), p),
        None => (None, word),
    };
    let mut found = BTreeSet::new();
    let mut add = |set: Option<&BTreeSet<String>>| {
        for name in set.into_iter().flatten() {
            if starts_with_ignore_case(name, partial) {
                found.insert(name.clone());
            }
        }
    };
    let current_catalog = names.catalog.clone().unwrap_or_default();
    match qualifier
        .map(|q| q.split('.').collect::<Vec<_>>())
        .as_deref()
    {
        None => {
            add(Some(&names.catalogs));
            add(names.schemas.get(&current_catalog));
            if let Some(schema) = &names.schema {
                add(names.tables.get(&(current_catalog.clone(), schema.clone())));
            }
            add(Some(&names.columns));
            let lower = partial.chars().next().is_some_and(char::is_lowercase);
            for k in KEYWORDS {
                if starts_with_ignore_case(k, partial) {
                    found.insert(if lower {
                        k.to_ascii_lowercase()
                    } else {
                        k.to_string()
                    });
                }
            }
        }
        // `x.`: schemas of catalog x, or tables of schema x in the current catalog.
        Some([x]) => {
            add(names.schemas.get(*x));
            add(names.tables.get(&(current_catalog, x.to_string())));
        }
        Some([catalog, schema]) => {
            add(names.tables.get(&(catalog.to_string(), schema.to_string())));
        }
        Some(_) => {}
    }
    (pos - partial.len(), found.into_iter().collect())
}

fn starts_with_ignore_case(name: &str, prefix: &str) -> bool {
    name.len() >= prefix.len()
        && name
            .get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// The catalog named before the first `.` of the word at `pos`, if any.
pub fn catalog_before_dot(line: &str, pos: usize) -> Option<&str> {
    let before = &line[..pos];
    let start = before
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .map_or(0, |i| i + 1);
    let (first, _) = before[start..].split_once('.')?;
    (!first.is_empty()).then_some(first)
}

/// Fetches names in the background into shared [`Names`].
#[derive(Clone)]
pub struct Loader {
    client: Client,
    user_session: Session,
    pub names: Arc<Mutex<Names>>,
    /// Catalogs being or already fetched, so a Tab does not start the same fetch twice.
    asked: Arc<Mutex<HashSet<String>>>,
}

impl Loader {
    pub fn new(client: Client, session: &Session) -> Loader {
        Loader {
            client,
            user_session: session.clone(),
            names: Arc::default(),
            asked: Arc::default(),
        }
    }

    /// Refetch everything for the session's current catalog and schema (at start, after USE).
    pub fn refresh(&self, session: &Session) {
        let mut loader = self.clone();
        loader.user_session = session.clone();
        {
            let mut names = lock(&self.names);
            names.catalog = session.catalog.clone();
            names.schema = session.schema.clone();
            names.columns.clear();
        }
        lock(&self.asked).clear();
        std::thread::spawn(move || loader.load_current());
    }

    /// Fetch the schemas and tables of `catalog` unless already asked.
    pub fn want_catalog(&self, catalog: &str) {
        let known = lock(&self.names).catalogs.contains(catalog);
        if known && lock(&self.asked).insert(catalog.to_string()) {
            let (loader, catalog) = (self.clone(), catalog.to_string());
            std::thread::spawn(move || {
                let _ = loader.load_tables(&catalog);
            });
        }
    }

    fn load_current(&self) {
        // Failures (no permission on information_schema, a catalog gone) only mean
        // fewer candidates: nothing to report at the prompt.
        if let Ok(rows) = self.rows("SHOW CATALOGS") {
            let catalogs = rows
                .iter()
                .filter_map(|r| r.first()?.as_str().map(String::from));
            lock(&self.names).catalogs = catalogs.collect();
        }
        let Some(catalog) = self.user_session.catalog.clone() else {
            return;
        };
        lock(&self.asked).insert(catalog.clone());
        let _ = self.load_tables(&catalog);
        if let Some(schema) = &self.user_session.schema {
            let sql = format!(
                "SELECT DISTINCT column_name FROM {}.information_schema.columns WHERE table_schema = '{}'",
                quote_ident(&catalog),
                schema.replace('\'', "''")
            );
            if let Ok(rows) = self.rows(&sql) {
                let columns = rows
                    .iter()
                    .filter_map(|r| r.first()?.as_str().map(String::from));
                lock(&self.names).columns = columns.collect();
            }
        }
    }

    fn load_tables(&self, catalog: &str) -> Result<()> {
        let sql = format!(
            "SELECT table_schema, table_name FROM {}.information_schema.tables",
            quote_ident(catalog)
        );
        let rows = self.rows(&sql)?;
        lock(&self.names).add_tables(catalog, &rows);
        Ok(())
    }

    /// Run a query outside the user's session (no transaction, own source) and collect its rows.
    fn rows(&self, sql: &str) -> Result<Vec<Vec<Value>>> {
        let session = Session {
            catalog: self.user_session.catalog.clone(),
            schema: self.user_session.schema.clone(),
            source: format!("{}-completion", self.user_session.source),
            ..Session::default()
        };
        let mut page = self.client.submit(sql, &session)?;
        let mut rows = Vec::new();
        loop {
            let r = page.results;
            if let Some(err) = &r.error {
                return Err(QueryFailed(describe_error(&r.id, err, sql)).into());
            }
            rows.extend(r.data.unwrap_or_default());
            match r.next_uri {
                Some(uri) => page = self.client.fetch(&uri)?,
                None => return Ok(rows),
            }
        }
    }
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicked fetch thread leaves names that are still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The line editor's helper: completion only (no hints, colours or validation).
pub struct Helper {
    pub loader: Loader,
}

impl rustyline::completion::Completer for Helper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        if let Some(catalog) = catalog_before_dot(line, pos) {
            self.loader.want_catalog(catalog);
        }
        let names = lock(&self.loader.names);
        Ok(candidates(&names, line, pos))
    }
}

impl rustyline::hint::Hinter for Helper {
    type Hint = String;
}
impl rustyline::highlight::Highlighter for Helper {}
impl rustyline::validate::Validator for Helper {}
impl rustyline::Helper for Helper {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names() -> Names {
        let mut n = Names {
            catalog: Some("tpch".into()),
            schema: Some("tiny".into()),
            catalogs: ["tpch", "system", "memory"].map(String::from).into(),
            columns: ["nationkey", "name", "orderkey"].map(String::from).into(),
            ..Names::default()
        };
        let rows: Vec<Vec<Value>> = serde_json::from_value(json!([
            ["tiny", "nation"],
            ["tiny", "orders"],
            ["tiny", "region"],
            ["sf1", "nation"],
            ["sf1", "lineitem"]
        ]))
        .unwrap();
        n.add_tables("tpch", &rows);
        n
    }

    fn complete(line: &str) -> (usize, Vec<String>) {
        candidates(&names(), line, line.len())
    }

    #[test]
    fn tables_columns_and_keywords_of_the_current_schema() {
        assert_eq!(
            complete("SELECT * FROM na"),
            (14, vec!["name".into(), "nation".into(), "nationkey".into()])
        );
        assert_eq!(complete("sel").1, vec!["select".to_string()]);
        assert_eq!(complete("SEL").1, vec!["SELECT".to_string()]);
        // Lower-case typing gets lower-case keywords; schemas and catalogs as listed.
        assert_eq!(
            complete("show tables from t").1,
            [
                "table",
                "tables",
                "then",
                "timestamp",
                "tiny",
                "tpch",
                "transaction",
                "true",
                "truncate"
            ]
            .map(String::from)
            .to_vec()
        );
    }

    #[test]
    fn qualified_names_complete_their_last_part() {
        assert_eq!(
            complete("SELECT * FROM tpch.s"),
            (19, vec!["sf1".to_string()])
        );
        assert_eq!(
            complete("SELECT * FROM tpch.sf1.l"),
            (23, vec!["lineitem".to_string()])
        );
        // `schema.` in the current catalog.
        assert_eq!(complete("FROM tiny.re").1, vec!["region".to_string()]);
        assert!(complete("FROM memory.x").1.is_empty());
        assert_eq!(catalog_before_dot("FROM tpch.sf1.li", 16), Some("tpch"));
        assert_eq!(catalog_before_dot("FROM tpch", 9), None);
    }
}
