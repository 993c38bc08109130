//! Shared plumbing for the lakepipe tools.
//!
//! Every tool links this crate for the conventions in the README ("Conventions") and the
//! rules several tools share, each written once:
//! - [`cli`]: error printing, exit codes, stdout handling, interrupts;
//! - [`committed`]: Kafka offsets committed in a folder, from Kafka Connect file names;
//! - [`location`]: one parser for local, `file://` and `hdfs://` locations;
//! - [`progress`]: the progress line on stderr (rows, bytes, rate, elapsed);
//! - [`ddl`]: the Hive/Spark DDL type syntax (parse and print) and its Arrow mapping;
//! - [`read`]: Parquet inputs (files, folders, globs, `k=v` partitions);
//! - [`register`]: tables and partitions in the Hive metastore (hive-ddl and pq-write);
//! - [`storage`]: one file-system API over local paths and HDFS (feature `hdfs`);
//! - [`listing`]: which files a folder or glob names, and the hidden-name rule;
//! - [`parquet_write`]: Parquet files with pq-write's encoding choices (pq-write, pq-compact);
//! - [`partition`]: Hive `key=value` folder names (escape and unescape);
//! - [`flatten`]: `--flatten` (jq-lite and pq-write);
//! - [`envelope`]: kcat's `-J` envelope (kcat-lite writes and reads it, pq-write reads it).
//! - [`text`]: CSV/TSV cells, JSON string escaping (one style per peer), and aligned,
//!   vertical and markdown tables measured in display width; every tool's text goes here.
//! - [`lines`]: the ordered parallel engine (inputs cut into numbered chunks, decoded on every
//!   core, results in order).
//! - [`workers`]: joining worker threads so a panic is an error (exit 1), and the test failpoint.
//!
//! Feature `parquet` brings Arrow and Parquet (`ddl`, `read`);
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
