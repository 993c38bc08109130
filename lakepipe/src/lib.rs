//! Shared plumbing for the lakepipe tools.
//!
//! Every tool links this crate for the conventions of `../shared/SPEC.md`:
//! - [`cli`]: error printing, exit codes, stdout handling, interrupts;
//! - [`location`]: one parser for local, `file://` and `hdfs://` locations;
//! - [`ddl`]: the Hive/Spark DDL type syntax (parse and print) and its Arrow mapping;
//! - [`infer`] and [`decode`]: JSON lines -> Arrow schema and record batches;
//! - [`encode`]: Arrow values -> JSON lines, CSV, TSV and tables;
//! - [`read`]: Parquet inputs (files, folders, globs, `k=v` partitions);
//! - [`text`]: CSV/TSV cells, JSON string escaping (one style per peer), and aligned,
//!   vertical and markdown tables measured in display width; every tool's text goes here.
//! - [`lines`]: the ordered parallel engine (numbered chunks on every core, results in order).
//! - [`workers`]: joining worker threads so a panic is an error (exit 1), and the test failpoint.
//! - [`storage`]: one file-system API over local paths and HDFS (feature `hdfs`).
//!
//! Feature `parquet` brings Arrow and Parquet (`ddl`, `decode`, `encode`, `infer`, `read`);
//! tools that never touch Parquet leave it off and build in a fraction of the time.

pub mod cli;
#[cfg(feature = "parquet")]
pub mod ddl;
#[cfg(feature = "parquet")]
pub mod decode;
#[cfg(feature = "parquet")]
pub mod encode;
pub mod flatten;
#[cfg(feature = "parquet")]
pub mod infer;
pub mod lines;
pub mod location;
#[cfg(feature = "parquet")]
pub mod read;
pub mod storage;
pub mod text;
pub mod workers;
