//! Rendering the statements: CREATE TABLE and the partition registration, with every
//! identifier quoted and every string literal escaped for the dialect.

use anyhow::{bail, Result};
use arrow_schema::{DataType, Fields, Schema};
use lakepipe::ddl::{format_type, quote_ident, Dialect as TypeDialect, Quote};
use lakepipe::read::Table;

use crate::Dialect;

pub struct Statement {
    pub dialect: Dialect,
    pub types: TypeDialect,
    pub catalog: String,
    pub database: Option<String>,
    pub table: String,
    pub location: String,
    pub if_not_exists: bool,
    /// Spark only: `CREATE TABLE ... USING parquet`, which keeps nested names Hive's type
    /// syntax cannot carry (the schema lives in Spark's table properties).
    pub data_source: bool,
}

impl Statement {
    fn ident(&self, name: &str) -> String {
        quote_ident(name, self.types, Quote::Always)
    }

    /// `'...'` with the dialect's escaping: Hive and Spark read backslash escapes (and
    /// join adjacent literals, so doubling a quote would be wrong); Trino doubles quotes.
    fn literal(&self, s: &str) -> String {
        match self.dialect {
            Dialect::Trino => format!("'{}'", s.replace('\'', "''")),
            _ => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        }
    }

    fn qualified(&self) -> String {
        match (self.dialect, &self.database) {
            (Dialect::Trino, db) => format!(
                "{}.{}.{}",
                self.ident(&self.catalog),
                self.ident(db.as_deref().unwrap_or("default")),
                self.ident(&self.table)
            ),
            (_, Some(db)) => format!("{}.{}", self.ident(db), self.ident(&self.table)),
            (_, None) => self.ident(&self.table),
        }
    }

    /// The statements, each ending with `;` and a newline.
    pub fn render(&self, schema: &Schema, partition_keys: &[String]) -> String {
        let is_key = |n: &str| partition_keys.iter().any(|k| k == n);
        let column = |name: &str, dt: &DataType| {
            format!(
                "  {} {}",
                self.ident(name),
                format_type(dt, self.types, Quote::Always)
            )
        };
        let data: Vec<String> = schema
            .fields()
            .iter()
            .filter(|f| !is_key(f.name()))
            .map(|f| column(f.name(), f.data_type()))
            .collect();
        let keys: Vec<String> = schema
            .fields()
            .iter()
            .filter(|f| is_key(f.name()))
            .map(|f| column(f.name(), f.data_type()))
            .collect();
        let ine = if self.if_not_exists {
            "IF NOT EXISTS "
        } else {
            ""
        };
        let mut sql = String::new();
        match self.dialect {
            Dialect::Spark if self.data_source => {
                // partition columns are listed with the others and named after
                let all: Vec<String> = data.iter().chain(&keys).cloned().collect();
                sql += &format!(
                    "CREATE TABLE {ine}{} (\n{}\n)\nUSING parquet\n",
                    self.qualified(),
                    all.join(",\n")
                );
                if !partition_keys.is_empty() {
                    let names: Vec<String> = partition_keys.iter().map(|k| self.ident(k)).collect();
                    sql += &format!("PARTITIONED BY ({})\n", names.join(", "));
                }
                sql += &format!("LOCATION {};\n", self.literal(&self.location));
                if !partition_keys.is_empty() {
                    sql += &format!("MSCK REPAIR TABLE {};\n", self.qualified());
                }
            }
            Dialect::Hive | Dialect::Spark => {
                sql += &format!(
                    "CREATE EXTERNAL TABLE {ine}{} (\n{}\n)\n",
                    self.qualified(),
                    data.join(",\n")
                );
                if !keys.is_empty() {
                    let keys: Vec<&str> = keys.iter().map(|k| k.trim_start()).collect();
                    sql += &format!("PARTITIONED BY ({})\n", keys.join(", "));
                }
                sql += &format!(
                    "STORED AS PARQUET\nLOCATION {};\n",
                    self.literal(&self.location)
                );
                if !partition_keys.is_empty() {
                    sql += &format!("MSCK REPAIR TABLE {};\n", self.qualified());
                }
            }
            Dialect::Trino => {
                // Partition columns come last in Trino's column list.
                let all: Vec<String> = data.iter().chain(&keys).cloned().collect();
                sql += &format!(
                    "CREATE TABLE {ine}{} (\n{}\n)\nWITH (\n",
                    self.qualified(),
                    all.join(",\n")
                );
                sql += &format!(
                    "  external_location = {},\n  format = 'PARQUET'",
                    self.literal(&self.location)
                );
                if !partition_keys.is_empty() {
                    let names: Vec<String> = partition_keys
                        .iter()
                        .map(|k| self.literal(&k.to_lowercase()))
                        .collect();
                    sql += &format!(",\n  partitioned_by = ARRAY[{}]", names.join(", "));
                }
                sql += "\n);\n";
                if !partition_keys.is_empty() {
                    let schema_name = self.database.as_deref().unwrap_or("default");
                    sql += &format!(
                        "CALL {}.system.sync_partition_metadata(schema_name => {}, table_name => {}, mode => 'FULL');\n",
                        self.ident(&self.catalog),
                        self.literal(&schema_name.to_lowercase()),
                        self.literal(&self.table.to_lowercase())
                    );
                }
            }
        }
        sql
    }
}

/// Hive and Trino fold names to lower case: two names that differ only by case (at any
/// depth) would become one column. Readers match Parquet columns by that folded name,
/// so renaming one cannot work: this is an error naming both and their files.
pub fn check_case_collisions(schema: &Schema, table: &Table) -> Result<()> {
    fn walk(fields: &Fields, prefix: &str, table: &Table) -> Result<()> {
        for (i, a) in fields.iter().enumerate() {
            for b in fields.iter().skip(i + 1) {
                if a.name().to_lowercase() == b.name().to_lowercase() {
                    bail!(
                        "columns '{prefix}{}' ({}) and '{prefix}{}' ({}) differ only by case; Hive and Trino fold names to lower case, so they would be one column",
                        a.name(),
                        file_with(table, a.name()),
                        b.name(),
                        file_with(table, b.name())
                    );
                }
            }
            if let DataType::Struct(inner) = a.data_type() {
                walk(inner, &format!("{prefix}{}.", a.name()), table)?;
            }
        }
        Ok(())
    }
    walk(schema.fields(), "", table)
}

/// The first file with a top-level column of that name (for messages).
fn file_with(table: &Table, name: &str) -> String {
    table
        .files
        .iter()
        .find(|f| f.footer.schema().field_with_name(name).is_ok())
        .map(|f| f.source.name.clone())
        .unwrap_or_else(|| "a nested field".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lakepipe::ddl::parse_schema;

    fn stmt(dialect: Dialect) -> Statement {
        Statement {
            dialect,
            types: if dialect == Dialect::Trino {
                TypeDialect::Trino
            } else {
                TypeDialect::Hive
            },
            catalog: "hive".into(),
            database: Some("lab".into()),
            table: "ev".into(),
            location: "hdfs://nn:9000/it's".into(),
            if_not_exists: true,
            data_source: false,
        }
    }

    #[test]
    fn hive_statement_with_partitions() {
        let s = parse_schema("`select` BIGINT, `we``ird` STRUCT<`location`:STRING>, dt STRING")
            .unwrap();
        let sql = stmt(Dialect::Hive).render(&s, &["dt".into()]);
        assert_eq!(
            sql,
            "CREATE EXTERNAL TABLE IF NOT EXISTS `lab`.`ev` (\n  `select` BIGINT,\n  `we``ird` STRUCT<`location`:STRING>\n)\n\
             PARTITIONED BY (`dt` STRING)\nSTORED AS PARQUET\nLOCATION 'hdfs://nn:9000/it\\'s';\nMSCK REPAIR TABLE `lab`.`ev`;\n"
        );
    }

    #[test]
    fn spark_data_source_table_keeps_every_name() {
        let s = parse_schema("r STRUCT<`X-Y`:STRING>, dt STRING").unwrap();
        let mut st = stmt(Dialect::Spark);
        st.data_source = true;
        assert_eq!(
            st.render(&s, &["dt".into()]),
            "CREATE TABLE IF NOT EXISTS `lab`.`ev` (\n  `r` STRUCT<`X-Y`:STRING>,\n  `dt` STRING\n)\nUSING parquet\n\
             PARTITIONED BY (`dt`)\nLOCATION 'hdfs://nn:9000/it\\'s';\nMSCK REPAIR TABLE `lab`.`ev`;\n"
        );
    }

    #[test]
    fn trino_statement_with_partitions() {
        let s = parse_schema("\"a\"\"b\" INT, Day STRING").unwrap();
        let sql = stmt(Dialect::Trino).render(&s, &["Day".into()]);
        assert_eq!(
            sql,
            "CREATE TABLE IF NOT EXISTS \"hive\".\"lab\".\"ev\" (\n  \"a\"\"b\" INTEGER,\n  \"Day\" VARCHAR\n)\nWITH (\n  \
             external_location = 'hdfs://nn:9000/it''s',\n  format = 'PARQUET',\n  partitioned_by = ARRAY['day']\n);\n\
             CALL \"hive\".system.sync_partition_metadata(schema_name => 'lab', table_name => 'ev', mode => 'FULL');\n"
        );
    }
}
