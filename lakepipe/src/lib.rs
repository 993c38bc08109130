//! Shared plumbing for the lakepipe tools: the rules two or more tools share, each written
//! once, in a module named after what it does. Each module, and the tools that use it:
//!
//! | module | what it does | used by |
//! | --- | --- | --- |
//! | [`cli`] | error printing, exit codes, stdout handling, interrupts, `--timeout` | every tool |
//! | [`committed`] | Kafka offsets committed in a folder, from Kafka Connect file names; the covering rule | kcat-lite, pq-cat, pq-compact, pq-write |
//! | [`ddl`] | the Hive/Spark DDL type syntax (parse and print) and its Arrow mapping | hive-ddl, pq-cat, pq-write |
//! | [`envelope`] | kcat's `-J` envelope | kcat-lite (writes, reads), pq-write (reads) |
//! | [`flatten`] | `--flatten[=SEP]`: its one argument definition and its rule | jq-lite, pq-write |
//! | [`lines`] | the ordered parallel engine: inputs cut into numbered chunks, results in order | jq-lite, pq-cat, pq-write |
//! | [`listing`] | which files a folder or glob names; the hidden-name rule | hive-ddl, pq-compact, pq-write |
//! | [`location`] | one parser for local, `file://` and `hdfs://` locations | hdfs-ls, hive-ddl, kcat-lite, pq-cat, pq-compact, pq-write |
//! | [`metastore`] | a Hive metastore thrift client | hive-ddl, pq-compact (and pq-write through [`register`]) |
//! | [`parquet_write`] | Parquet files with pq-write's encoding choices | pq-compact, pq-write |
//! | [`partition`] | Hive `key=value` folder names (escape, unescape, detect) | hive-ddl, pq-compact, pq-write |
//! | [`progress`] | the progress line on stderr | jq-lite, kcat-lite, pq-cat, pq-compact, pq-write, presto-q |
//! | [`read`] | Parquet inputs: files, folders, globs, `k=v` partitions, footers | hive-ddl, pq-cat, pq-compact |
//! | [`register`] | tables, partitions and columns registered in a metastore; the `--metastore` URI rule | hive-ddl, pq-compact, pq-write |
//! | [`retry`] | `--retry-for`: capped backoff and one warning per outage | kcat-lite, pq-write (and [`storage`], [`metastore`]) |
//! | [`storage`] | one file-system API over local paths and HDFS | hdfs-ls, hive-ddl, kcat-lite, pq-cat, pq-compact, pq-write |
//! | [`text`] | CSV/TSV cells, JSON string escaping, aligned/vertical/markdown tables | jq-lite, pq-cat, presto-q |
//! | [`workers`] | worker threads whose panic is an error; the worker count; test failpoints | jq-lite, pq-cat, pq-compact, pq-write |
//!
//! Feature `parquet` brings Arrow and Parquet (`ddl`, `parquet_write`, `read`, `register`);
//! tools that never touch Parquet leave it off and build in a fraction of the time.

pub mod cli;
pub mod committed;
#[cfg(feature = "parquet")]
pub mod ddl;
pub mod envelope;
pub mod flatten;
pub mod lines;
pub mod listing;
pub mod location;
pub mod metastore;
#[cfg(feature = "parquet")]
pub mod parquet_write;
pub mod partition;
pub mod progress;
#[cfg(feature = "parquet")]
pub mod read;
#[cfg(feature = "parquet")]
pub mod register;
pub mod retry;
pub mod storage;
pub mod text;
pub mod workers;
mod write_back;

/// Helpers of the unit tests.
#[cfg(test)]
mod testing {
    /// Create each file of `rels` (with its folders) under `dir`, holding one byte.
    pub fn touch(dir: &std::path::Path, rels: &[&str]) {
        for rel in rels {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        }
    }
}
