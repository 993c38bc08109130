//! Storage: one small file-system API that local paths and HDFS both implement, so every
//! tool reads and writes a [`Location`] the same way.
//!
//! ```no_run
//! use lakepipe::{location::Location, storage};
//! use std::io::Write;
//! let loc = Location::parse("hdfs://127.0.0.1:9000/tmp/x.txt")?;
//! let fs = storage::connect(&loc)?;
//! let mut w = fs.create(&loc, true)?;
//! w.write_all(b"hello\n")?;
//! w.close()?; // the file is complete only after close
//! let bytes = fs.read_all(&loc)?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! HDFS goes through `hdfs-native` (cargo feature `hdfs`) driven by one small tokio
//! runtime owned here; every namenode call is bounded by [`set_timeout`] (default 30 s)
//! and failover retries are capped, so an unreachable namenode is an error naming its
//! address instead of hdfs-native's default three minutes of retries.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
#[cfg(feature = "parquet")]
use parquet::file::reader::{ChunkReader, Length};

use crate::location::Location;
use crate::write_back::WriteBack;

/// Default bound on any single namenode or datanode call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

static TIMEOUT_MS: AtomicU64 = AtomicU64::new(30_000);

/// Bound every later storage call by `d` (tools set it from `--timeout`).
pub fn set_timeout(d: Duration) {
    TIMEOUT_MS.store(
        d.as_millis().clamp(1, u64::MAX as u128) as u64,
        Ordering::Relaxed,
    );
}

/// The current per-call timeout.
pub fn timeout() -> Duration {
    Duration::from_millis(TIMEOUT_MS.load(Ordering::Relaxed))
}

/// What went wrong, always naming the location (and the namenode when it matters).
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{0}: No such file or directory")]
    NotFound(String),
    #[error("{0}: file exists")]
    AlreadyExists(String),
    #[error("{0}: {1}")]
    PermissionDenied(String, String),
    #[error("{loc}: cannot reach namenode {namenode}: {msg}")]
    Unreachable {
        loc: String,
        namenode: String,
        msg: String,
    },
    #[error("{loc}: HDFS {namenode} unavailable: {msg}")]
    Unavailable {
        loc: String,
        namenode: String,
        msg: String,
    },
    #[error("{loc}: namenode {namenode} did not answer within {secs} s (--timeout)")]
    Timeout {
        loc: String,
        namenode: String,
        secs: f64,
    },
    #[error("{0}: {1}")]
    Io(String, #[source] io::Error),
    #[error("{0}: {1}")]
    Other(String, String),
}

impl StorageError {
    /// True for a missing file or folder.
    pub fn is_not_found(&self) -> bool {
        matches!(self, StorageError::NotFound(_))
    }

    /// True for an outage a stream rides out (`--retry-for`): a namenode or datanode
    /// unreachable, restarting, in safe mode or standby, or too slow. Permission denied,
    /// file exists and not found are never transient.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StorageError::Unreachable { .. }
                | StorageError::Unavailable { .. }
                | StorageError::Timeout { .. }
        )
    }

    fn io(loc: impl ToString, e: io::Error) -> StorageError {
        match e.kind() {
            io::ErrorKind::NotFound => StorageError::NotFound(loc.to_string()),
            io::ErrorKind::AlreadyExists => StorageError::AlreadyExists(loc.to_string()),
            io::ErrorKind::PermissionDenied => {
                StorageError::PermissionDenied(loc.to_string(), "Permission denied".into())
            }
            _ => StorageError::Io(loc.to_string(), e),
        }
    }
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// The facts `hdfs dfs -ls` shows about a file or folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub location: Location,
    pub is_dir: bool,
    /// Bytes (0 for folders).
    pub length: u64,
    /// Replication factor (0 for folders and local files).
    pub replication: u32,
    /// Block size in bytes (0 for folders and local files).
    pub block_size: u64,
    /// Owner and group names (numeric ids for local files).
    pub owner: String,
    pub group: String,
    /// Permission bits, sticky bit included (`0o1777`).
    pub permission: u16,
    /// Milliseconds since the Unix epoch.
    pub modification_time: u64,
    pub access_time: u64,
}

impl Status {
    /// The last path component.
    pub fn name(&self) -> String {
        self.location.file_name()
    }
}

/// A connection to where a location lives: the local file system or one namenode.
/// Cheap to clone; HDFS clients are cached per namenode.
#[derive(Clone)]
pub enum Fs {
    Local,
    #[cfg(feature = "hdfs")]
    Hdfs(std::sync::Arc<hdfs::Conn>),
}

/// The file system `loc` lives on. For HDFS this builds (or reuses) a client; it does
/// not contact the namenode yet.
pub fn connect(loc: &Location) -> Result<Fs> {
    match loc {
        Location::Local(_) => Ok(Fs::Local),
        #[cfg(feature = "hdfs")]
        Location::Hdfs { namenode, .. } => Ok(Fs::Hdfs(hdfs::conn(namenode)?)),
        #[cfg(not(feature = "hdfs"))]
        Location::Hdfs { .. } => Err(StorageError::Other(
            loc.to_string(),
            "this tool was built without HDFS support".into(),
        )),
    }
}

impl Fs {
    /// The status of `loc`, or None when it does not exist.
    pub fn stat(&self, loc: &Location) -> Result<Option<Status>> {
        match self {
            Fs::Local => match fs::metadata(local(loc)?) {
                Ok(m) => Ok(Some(local_status(loc.clone(), &m))),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(StorageError::io(loc, e)),
            },
            #[cfg(feature = "hdfs")]
            Fs::Hdfs(c) => c.stat(loc),
        }
    }

    /// True when `loc` exists and is a folder.
    pub fn is_dir(&self, loc: &Location) -> Result<bool> {
        Ok(self.stat(loc)?.is_some_and(|s| s.is_dir))
    }

    /// The entries of folder `dir` (a file lists as itself), sorted by name; with
    /// `recursive`, every entry below it, each folder followed by its contents.
    /// HDFS pages through big folders (`dfs.ls.limit` entries per call).
    pub fn list(&self, dir: &Location, recursive: bool) -> Result<Vec<Status>> {
        match self {
            Fs::Local => {
                let mut out = Vec::new();
                local_list(dir, recursive, &mut out)?;
                Ok(out)
            }
            #[cfg(feature = "hdfs")]
            Fs::Hdfs(c) => c.list(dir, recursive),
        }
    }

    /// Entries matching a glob (`*`, `?`, `[..]`; `{a,b}` too on HDFS, expanded against
    /// the namenode as Hadoop does). A pattern without wildcards gives the path itself
    /// when it exists. Empty when nothing matches.
    pub fn glob(&self, pattern: &Location) -> Result<Vec<Status>> {
        match self {
            Fs::Local => {
                let pat = local(pattern)?.to_string_lossy().into_owned();
                let paths = glob::glob(&pat)
                    .map_err(|e| StorageError::Other(pat.clone(), e.to_string()))?;
                let mut out = Vec::new();
                for p in paths {
                    let p = p.map_err(|e| StorageError::Other(pat.clone(), e.to_string()))?;
                    let m = fs::metadata(&p).map_err(|e| StorageError::io(p.display(), e))?;
                    out.push(local_status(Location::Local(p), &m));
                }
                Ok(out)
            }
            #[cfg(feature = "hdfs")]
            Fs::Hdfs(c) => c.glob(pattern),
        }
    }

    /// Create a folder and its missing parents (mode 755 before umask on HDFS).
    pub fn mkdirs(&self, loc: &Location) -> Result<()> {
        match self {
            Fs::Local => fs::create_dir_all(local(loc)?).map_err(|e| StorageError::io(loc, e)),
            #[cfg(feature = "hdfs")]
            Fs::Hdfs(c) => c.mkdirs(loc),
        }
    }

    /// Create a file for writing (missing parent folders are created). The file is
    /// complete only after [`Writer::close`]; an existing file is an error unless
    /// `overwrite`.
    pub fn create(&self, loc: &Location, overwrite: bool) -> Result<Writer> {
        match self {
            Fs::Local => {
                let p = local(loc)?;
                if let Some(parent) = p.parent().filter(|p| !p.as_os_str().is_empty()) {
                    fs::create_dir_all(parent)
                        .map_err(|e| StorageError::io(parent.display(), e))?;
                }
                let f = if overwrite {
                    File::create(p)
                } else {
                    fs::OpenOptions::new().write(true).create_new(true).open(p)
                }
                .map_err(|e| StorageError::io(loc, e))?;
                Ok(Writer(WriterInner::Local {
                    file: BufWriter::with_capacity(1 << 20, WriteBack::new(f)),
                    loc: loc.clone(),
                }))
            }
            #[cfg(feature = "hdfs")]
            Fs::Hdfs(c) => Ok(Writer(WriterInner::Hdfs(Box::new(
                c.create(loc, overwrite)?,
            )))),
        }
    }

    /// Rename `src` to `dst` (same file system). With `overwrite`, an existing file at
    /// `dst` is replaced atomically; without it, an existing `dst` is an error.
    pub fn rename(&self, src: &Location, dst: &Location, overwrite: bool) -> Result<()> {
        match self {
            Fs::Local => {
                let (s, d) = (local(src)?, local(dst)?);
                let ctx = || format!("renaming {src} to {dst}");
                if !overwrite {
                    // rename(2) replaces; a hard link fails atomically when `dst` exists,
                    // which is what exclusive commits (pq-write --exactly-once) rely on.
                    match fs::hard_link(s, d) {
                        Ok(()) => {
                            return fs::remove_file(s).map_err(|e| StorageError::io(ctx(), e))
                        }
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                            return Err(StorageError::AlreadyExists(dst.to_string()))
                        }
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {
                            return Err(StorageError::io(ctx(), e))
                        }
                        // folders, or file systems without hard links
                        Err(_) if fs::symlink_metadata(d).is_ok() => {
                            return Err(StorageError::AlreadyExists(dst.to_string()))
                        }
                        Err(_) => {}
                    }
                }
                fs::rename(s, d).map_err(|e| StorageError::io(ctx(), e))
            }
            #[cfg(feature = "hdfs")]
            Fs::Hdfs(c) => c.rename(src, dst, overwrite),
        }
    }

    /// Delete a file, or a folder (with `recursive`, and its contents). Returns false
    /// when there was nothing to delete.
    pub fn delete(&self, loc: &Location, recursive: bool) -> Result<bool> {
        match self {
            Fs::Local => {
                let p = local(loc)?;
                let res = match fs::symlink_metadata(p) {
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
                    Err(e) => Err(e),
                    Ok(m) if m.is_dir() && recursive => fs::remove_dir_all(p),
                    Ok(m) if m.is_dir() => fs::remove_dir(p),
                    Ok(_) => fs::remove_file(p),
                };
                res.map(|_| true).map_err(|e| StorageError::io(loc, e))
            }
            #[cfg(feature = "hdfs")]
            Fs::Hdfs(c) => c.delete(loc, recursive),
        }
    }

    /// A whole file in memory.
    pub fn read_all(&self, loc: &Location) -> Result<Bytes> {
        match self {
            Fs::Local => fs::read(local(loc)?)
                .map(Bytes::from)
                .map_err(|e| StorageError::io(loc, e)),
            #[cfg(feature = "hdfs")]
            Fs::Hdfs(c) => c.read_all(loc),
        }
    }

    /// A random-access reader: implements Parquet's [`ChunkReader`], so a footer can be
    /// read without fetching the whole file.
    pub fn open(&self, loc: &Location) -> Result<Reader> {
        match self {
            Fs::Local => {
                let f = File::open(local(loc)?).map_err(|e| StorageError::io(loc, e))?;
                Ok(Reader(ReaderInner::Local(f)))
            }
            #[cfg(feature = "hdfs")]
            Fs::Hdfs(c) => Ok(Reader(ReaderInner::Hdfs(c.open(loc)?))),
        }
    }
}

fn local(loc: &Location) -> Result<&std::path::Path> {
    match loc {
        Location::Local(p) => Ok(p),
        Location::Hdfs { .. } => Err(StorageError::Other(
            loc.to_string(),
            "not a local path".into(),
        )),
    }
}

fn local_status(location: Location, m: &fs::Metadata) -> Status {
    use std::os::unix::fs::MetadataExt;
    let ms = |s: i64, ns: i64| (s.max(0) as u64) * 1000 + (ns.max(0) as u64) / 1_000_000;
    Status {
        location,
        is_dir: m.is_dir(),
        length: if m.is_dir() { 0 } else { m.len() },
        replication: 0,
        block_size: 0,
        owner: m.uid().to_string(),
        group: m.gid().to_string(),
        permission: (m.mode() & 0o7777) as u16,
        modification_time: ms(m.mtime(), m.mtime_nsec()),
        access_time: ms(m.atime(), m.atime_nsec()),
    }
}

fn local_list(dir: &Location, recursive: bool, out: &mut Vec<Status>) -> Result<()> {
    let p = local(dir)?;
    let m = fs::metadata(p).map_err(|e| StorageError::io(dir, e))?;
    if !m.is_dir() {
        out.push(local_status(dir.clone(), &m));
        return Ok(());
    }
    let mut entries: Vec<_> = fs::read_dir(p)
        .map_err(|e| StorageError::io(dir, e))?
        .collect::<io::Result<Vec<_>>>()
        .map_err(|e| StorageError::io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let child = Location::Local(e.path());
        // An entry renamed or deleted since read_dir (a commit renaming its files while
        // another partition's commit lists the folder) is gone, not an error: the
        // listing is the folder at some moment, as a namenode's is.
        let m = match fs::metadata(e.path()) {
            Ok(m) => m,
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => return Err(StorageError::io(&child, err)),
        };
        let is_dir = m.is_dir();
        out.push(local_status(child.clone(), &m));
        if recursive && is_dir {
            match local_list(&child, true, out) {
                Err(e) if e.is_not_found() => {}
                done => done?,
            }
        }
    }
    Ok(())
}

/// A file being written: buffers in large blocks; call [`Writer::close`] to complete it
/// (dropping it leaves an incomplete file behind, which is why callers write under a
/// hidden name and rename).
pub struct Writer(WriterInner);

enum WriterInner {
    Local {
        file: BufWriter<WriteBack>,
        loc: Location,
    },
    #[cfg(feature = "hdfs")]
    Hdfs(Box<hdfs::HdfsWriter>),
}

impl Writer {
    /// Flush, make durable (fsync locally; complete the last block on HDFS) and close.
    /// Returns the file's length.
    pub fn close(self) -> Result<u64> {
        match self.0 {
            WriterInner::Local { file, loc } => {
                let f = file
                    .into_inner()
                    .map_err(|e| StorageError::io(&loc, e.into_error()))?
                    .finish()
                    .map_err(|e| StorageError::io(&loc, e))?;
                f.sync_all().map_err(|e| StorageError::io(&loc, e))?;
                Ok(f.metadata().map(|m| m.len()).unwrap_or(0))
            }
            #[cfg(feature = "hdfs")]
            WriterInner::Hdfs(w) => w.close(),
        }
    }
}

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.0 {
            WriterInner::Local { file, .. } => file.write(buf),
            #[cfg(feature = "hdfs")]
            WriterInner::Hdfs(w) => w.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.0 {
            WriterInner::Local { file, .. } => file.write_all(buf),
            #[cfg(feature = "hdfs")]
            WriterInner::Hdfs(w) => w.write(buf).map(|_| ()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.0 {
            WriterInner::Local { file, .. } => file.flush(),
            #[cfg(feature = "hdfs")]
            WriterInner::Hdfs(w) => w.flush(),
        }
    }
}

/// A file open for random access; implements [`ChunkReader`] and [`Length`].
pub struct Reader(ReaderInner);

enum ReaderInner {
    Local(File),
    #[cfg(feature = "hdfs")]
    Hdfs(std::sync::Arc<hdfs::HdfsReader>),
}

impl Reader {
    /// `len` bytes from `start` (fewer at the end of the file).
    pub fn read_range(&self, start: u64, len: usize) -> Result<Bytes> {
        match &self.0 {
            ReaderInner::Local(f) => {
                use std::os::unix::fs::FileExt;
                let len = len.min(self.size().saturating_sub(start) as usize);
                let mut buf = vec![0; len];
                f.read_exact_at(&mut buf, start)
                    .map_err(|e| StorageError::Other("local file".into(), e.to_string()))?;
                Ok(Bytes::from(buf))
            }
            #[cfg(feature = "hdfs")]
            ReaderInner::Hdfs(r) => r.read_range(start, len),
        }
    }
}

impl Reader {
    /// The local file itself (a line reader may map it); an HDFS reader back as it is.
    pub fn into_local_file(self) -> std::result::Result<File, Reader> {
        match self.0 {
            ReaderInner::Local(f) => Ok(f),
            #[cfg(feature = "hdfs")]
            other => Err(Reader(other)),
        }
    }

    /// The file's length in bytes.
    pub fn size(&self) -> u64 {
        match &self.0 {
            ReaderInner::Local(f) => f.metadata().map(|m| m.len()).unwrap_or(0),
            #[cfg(feature = "hdfs")]
            ReaderInner::Hdfs(r) => r.len,
        }
    }
}

#[cfg(feature = "parquet")]
impl Length for Reader {
    fn len(&self) -> u64 {
        self.size()
    }
}

#[cfg(feature = "parquet")]
impl ChunkReader for Reader {
    type T = Box<dyn io::Read + Send>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        match &self.0 {
            ReaderInner::Local(f) => Ok(Box::new(ChunkReader::get_read(f, start)?)),
            #[cfg(feature = "hdfs")]
            ReaderInner::Hdfs(r) => Ok(Box::new(hdfs::RangeRead::new(r.clone(), start))),
        }
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        match &self.0 {
            ReaderInner::Local(f) => ChunkReader::get_bytes(f, start, length),
            #[cfg(feature = "hdfs")]
            ReaderInner::Hdfs(r) => r
                .read_range(start, length)
                .map_err(|e| parquet::errors::ParquetError::External(Box::new(e))),
        }
    }
}

#[cfg(feature = "hdfs")]
mod hdfs {
    //! The HDFS side, on hdfs-native's async client and one shared tokio runtime.

    use std::collections::HashMap;
    use std::future::Future;
    use std::io;
    use std::sync::{Arc, Mutex, OnceLock};

    use bytes::Bytes;
    use hdfs_native::file::FileWriter;
    use hdfs_native::{client::FileStatus, Client, ClientBuilder, HdfsError, WriteOptions};

    use super::{timeout, Result, Status, StorageError};
    use crate::location::Location;
    use crate::retry::{self, Service};

    /// Bytes handed to hdfs-native per call when writing (and fetched per call by
    /// sequential reads): large enough to keep the datanode pipeline busy.
    const BLOCK: usize = 8 << 20;

    fn runtime() -> &'static tokio::runtime::Runtime {
        static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
        RT.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("lakepipe-hdfs")
                .enable_all()
                .build()
                .expect("cannot start the tokio runtime for HDFS")
        })
    }

    /// A client for one namenode (or HA nameservice).
    pub struct Conn {
        client: Client,
        namenode: String,
    }

    /// The cached client for `namenode`.
    pub fn conn(namenode: &str) -> Result<Arc<Conn>> {
        static CONNS: OnceLock<Mutex<HashMap<String, Arc<Conn>>>> = OnceLock::new();
        let mut conns = CONNS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(c) = conns.get(namenode) {
            return Ok(c.clone());
        }
        // hdfs-native retries an unreachable namenode for ~3 minutes by default (15
        // failovers with exponential sleeps). Two quick retries still ride out an HA
        // failover; the tokio timeout around every call is the hard bound.
        let client = ClientBuilder::new()
            .with_url(format!("hdfs://{namenode}"))
            .with_io_runtime(runtime().handle().clone())
            .with_config([
                ("dfs.client.failover.max.attempts", "2"),
                ("dfs.client.failover.sleep.base.millis", "100"),
                ("dfs.client.failover.sleep.max.millis", "1000"),
            ])
            .build()
            .map_err(|e| StorageError::Other(format!("hdfs://{namenode}"), e.to_string()))?;
        let c = Arc::new(Conn {
            client,
            namenode: namenode.to_string(),
        });
        conns.insert(namenode.to_string(), c.clone());
        Ok(c)
    }

    fn path(loc: &Location) -> Result<&str> {
        match loc {
            Location::Hdfs { path, .. } => Ok(path),
            Location::Local(_) => Err(StorageError::Other(
                loc.to_string(),
                "not an hdfs:// location".into(),
            )),
        }
    }

    impl Conn {
        /// The service the retry warnings name.
        fn service(&self) -> Service {
            Service::new("HDFS", self.namenode.clone())
        }

        /// Run one call on the runtime, bounded by the timeout (no retry).
        fn once<T>(&self, loc: &str, fut: impl Future<Output = Result<T, HdfsError>>) -> Result<T> {
            let limit = timeout();
            // The timer must be created inside the runtime.
            match runtime().block_on(async { tokio::time::timeout(limit, fut).await }) {
                Ok(r) => r.map_err(|e| self.error(loc, e)),
                Err(_) => Err(StorageError::Timeout {
                    loc: loc.to_string(),
                    namenode: self.namenode.clone(),
                    secs: limit.as_secs_f64(),
                }),
            }
        }

        /// Run a call made by `make`, retrying transient failures for `--retry-for`.
        fn run<T, F: Future<Output = Result<T, HdfsError>>>(
            &self,
            loc: &str,
            make: impl Fn() -> F,
        ) -> Result<T> {
            retry::call(&self.service(), StorageError::is_transient, || {
                self.once(loc, make())
            })
        }

        fn error(&self, loc: &str, e: HdfsError) -> StorageError {
            let unavailable = |msg: String| StorageError::Unavailable {
                loc: loc.to_string(),
                namenode: self.namenode.clone(),
                msg,
            };
            match e {
                HdfsError::FileNotFound(_) => StorageError::NotFound(loc.to_string()),
                HdfsError::AlreadyExists(_) => StorageError::AlreadyExists(loc.to_string()),
                HdfsError::RPCError(class, msg) | HdfsError::FatalRPCError(class, msg) => {
                    // The namenode's message: first line only (the rest is a Java stack).
                    let msg = msg.lines().next().unwrap_or("").to_string();
                    match class.rsplit('.').next().unwrap_or("") {
                        "AccessControlException" => {
                            StorageError::PermissionDenied(loc.to_string(), msg)
                        }
                        "FileNotFoundException" => StorageError::NotFound(loc.to_string()),
                        "FileAlreadyExistsException" => {
                            StorageError::AlreadyExists(loc.to_string())
                        }
                        // A namenode starting up, standing by or asking to be asked again.
                        short @ ("SafeModeException"
                        | "StandbyException"
                        | "RetriableException"
                        | "ObserverRetryOnActiveException"
                        | "NotReplicatedYetException") => unavailable(format!("{short}: {msg}")),
                        short => StorageError::Other(loc.to_string(), format!("{short}: {msg}")),
                    }
                }
                HdfsError::IOError(io) if is_connect_error(&io) => StorageError::Unreachable {
                    loc: loc.to_string(),
                    namenode: self.namenode.clone(),
                    msg: io.to_string(),
                },
                // A datanode pipeline that broke (a datanode restarting) or a connection
                // that closed under a call.
                e @ (HdfsError::DataTransferError(_)
                | HdfsError::ChecksumError
                | HdfsError::IOError(_)
                | HdfsError::BlocksNotFound(_)) => unavailable(e.to_string()),
                other => StorageError::Other(
                    loc.to_string(),
                    format!("{other} (namenode {})", self.namenode),
                ),
            }
        }

        fn status(&self, f: FileStatus) -> Status {
            Status {
                location: Location::Hdfs {
                    namenode: self.namenode.clone(),
                    path: f.path,
                },
                is_dir: f.isdir,
                length: f.length as u64,
                replication: f.replication.unwrap_or(0),
                block_size: f.blocksize.unwrap_or(0),
                owner: f.owner,
                group: f.group,
                permission: f.permission,
                modification_time: f.modification_time,
                access_time: f.access_time,
            }
        }

        pub fn stat(&self, loc: &Location) -> Result<Option<Status>> {
            let (l, p) = (loc.to_string(), path(loc)?);
            match self.run(&l, || self.client.get_file_info(p)) {
                Ok(f) => Ok(Some(self.status(f))),
                Err(StorageError::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            }
        }

        pub fn list(&self, dir: &Location, recursive: bool) -> Result<Vec<Status>> {
            let (l, p) = (dir.to_string(), path(dir)?);
            // A listing cut by an outage starts again from the first page.
            retry::call(&self.service(), StorageError::is_transient, || {
                let iter = self.client.list_status_iter(p, recursive);
                let mut out = Vec::new();
                // One timeout per page-sized step rather than for the whole listing, so
                // a folder of millions of files is not cut short.
                while let Some(next) = self.once(&l, async { Ok(iter.next().await) })? {
                    let f = next.map_err(|e| self.error(&l, e))?;
                    out.push(self.status(f));
                }
                Ok(out)
            })
        }

        pub fn glob(&self, pattern: &Location) -> Result<Vec<Status>> {
            let (l, p) = (pattern.to_string(), path(pattern)?);
            let found = self.run(&l, || self.client.glob_status(p))?;
            Ok(found.into_iter().map(|f| self.status(f)).collect())
        }

        pub fn mkdirs(&self, loc: &Location) -> Result<()> {
            let p = path(loc)?;
            self.run(&loc.to_string(), || self.client.mkdirs(p, 0o755, true))
        }

        pub fn rename(&self, src: &Location, dst: &Location, overwrite: bool) -> Result<()> {
            let l = format!("renaming {src} to {dst}");
            let (s, d) = (path(src)?, path(dst)?);
            let mut tries = 0;
            let r = retry::call(&self.service(), StorageError::is_transient, || {
                tries += 1;
                match self.once(&l, self.client.rename(s, d, overwrite)) {
                    // The namenode renamed before an earlier try's answer was lost.
                    Err(StorageError::NotFound(_)) if tries > 1 && self.stat(dst)?.is_some() => {
                        Ok(())
                    }
                    r => r,
                }
            });
            match r {
                Err(StorageError::AlreadyExists(_)) => {
                    Err(StorageError::AlreadyExists(dst.to_string()))
                }
                Err(StorageError::NotFound(_)) => Err(StorageError::NotFound(src.to_string())),
                r => r,
            }
        }

        pub fn delete(&self, loc: &Location, recursive: bool) -> Result<bool> {
            let p = path(loc)?;
            self.run(&loc.to_string(), || self.client.delete(p, recursive))
        }

        pub fn create(self: &Arc<Self>, loc: &Location, overwrite: bool) -> Result<HdfsWriter> {
            // Make the parent folders ourselves: hdfs-native's create_parent leaves them
            // rwxrwxrwx, where Hadoop clients make them rwxr-xr-x.
            if let Some(parent) = loc.parent() {
                self.mkdirs(&parent)?;
            }
            let inner = self.create_file(loc, overwrite)?;
            Ok(HdfsWriter {
                conn: self.clone(),
                loc: loc.clone(),
                inner: Some(inner),
                buf: Vec::new(),
                written: 0,
                // Retrying a broken write rewrites the file from its bytes (below).
                kept: (!retry::retry_for().is_zero()).then(Vec::new),
            })
        }

        fn create_file(&self, loc: &Location, overwrite: bool) -> Result<FileWriter> {
            let (l, p) = (loc.to_string(), path(loc)?);
            let opts = WriteOptions::default()
                .overwrite(overwrite)
                .create_parent(false);
            let mut tries = 0;
            retry::call(&self.service(), StorageError::is_transient, || {
                tries += 1;
                match self.once(&l, self.client.create(p, opts.clone())) {
                    // An earlier try created it before its answer was lost: ours.
                    Err(StorageError::AlreadyExists(_)) if tries > 1 => {
                        self.once(&l, self.client.delete(p, false))?;
                        self.once(&l, self.client.create(p, opts.clone()))
                    }
                    r => r,
                }
            })
        }

        pub fn open(self: &Arc<Self>, loc: &Location) -> Result<Arc<HdfsReader>> {
            let (l, p) = (loc.to_string(), path(loc)?);
            let file = self.run(&l, || self.client.read(p))?;
            let len = file.file_length() as u64;
            Ok(Arc::new(HdfsReader {
                conn: self.clone(),
                loc: l,
                file,
                len,
            }))
        }

        pub fn read_all(self: &Arc<Self>, loc: &Location) -> Result<Bytes> {
            let r = self.open(loc)?;
            r.read_range(0, r.len as usize)
        }
    }

    fn is_connect_error(e: &io::Error) -> bool {
        crate::retry::is_transient_io(e) || e.to_string().contains("failed to lookup address")
    }

    /// A file being written to HDFS. With retrying on (`--retry-for`), it keeps the bytes
    /// it has written until it is closed: a write or close that fails on a transient
    /// error (a namenode or datanode restarting) deletes the half-written file, writes it
    /// again from those bytes and goes on, so the caller sees no error and no byte is
    /// lost or doubled. Memory: one open file's bytes, which a rolling stream keeps small.
    pub struct HdfsWriter {
        conn: Arc<Conn>,
        loc: Location,
        /// None after a failure: the next try writes the file again.
        inner: Option<FileWriter>,
        buf: Vec<u8>,
        written: u64,
        kept: Option<Vec<Bytes>>,
    }

    impl HdfsWriter {
        /// Hand the buffered bytes to hdfs-native.
        fn push(&mut self) -> Result<()> {
            if self.buf.is_empty() {
                return Ok(());
            }
            let data = Bytes::from(std::mem::take(&mut self.buf));
            let n = data.len() as u64;
            if let Some(kept) = &mut self.kept {
                kept.push(data.clone());
            }
            let service = self.conn.service();
            retry::call(&service, StorageError::is_transient, || {
                if self.inner.is_none() {
                    // the rewrite includes `data`
                    return self.rewrite();
                }
                let (conn, l) = (self.conn.clone(), self.loc.to_string());
                let w = self.inner.as_mut().expect("checked");
                conn.once(&l, w.write_bytes(data.clone()))
                    .map(|_| ())
                    .inspect_err(|_| self.inner = None)
            })?;
            self.written += n;
            Ok(())
        }

        /// Delete the half-written file and write it again from the kept bytes.
        fn rewrite(&mut self) -> Result<()> {
            let Some(kept) = &self.kept else {
                return Err(StorageError::Other(
                    self.loc.to_string(),
                    "cannot write again a file whose bytes were not kept".into(),
                ));
            };
            let (conn, l, p) = (self.conn.clone(), self.loc.to_string(), path(&self.loc)?);
            conn.once(&l, conn.client.delete(p, false))?;
            let opts = WriteOptions::default().create_parent(false);
            let mut w = conn.once(&l, conn.client.create(p, opts))?;
            for chunk in kept {
                conn.once(&l, w.write_bytes(chunk.clone()))?;
            }
            self.inner = Some(w);
            Ok(())
        }

        pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.buf.capacity() == 0 {
                self.buf.reserve(BLOCK);
            }
            self.buf.extend_from_slice(buf);
            if self.buf.len() >= BLOCK {
                self.push().map_err(io::Error::other)?;
            }
            Ok(buf.len())
        }

        pub fn flush(&mut self) -> io::Result<()> {
            self.push().map_err(io::Error::other)
        }

        pub fn close(mut self) -> Result<u64> {
            self.push()?;
            let service = self.conn.service();
            retry::call(&service, StorageError::is_transient, || {
                if self.inner.is_none() {
                    self.rewrite()?;
                }
                let (conn, l) = (self.conn.clone(), self.loc.to_string());
                let w = self.inner.as_mut().expect("checked");
                conn.once(&l, w.close()).inspect_err(|_| self.inner = None)
            })?;
            Ok(self.written)
        }
    }

    pub struct HdfsReader {
        conn: Arc<Conn>,
        loc: String,
        file: hdfs_native::file::FileReader,
        pub len: u64,
    }

    impl HdfsReader {
        pub fn read_range(&self, start: u64, len: usize) -> Result<Bytes> {
            let len = len.min(self.len.saturating_sub(start) as usize);
            if len == 0 {
                return Ok(Bytes::new());
            }
            self.conn
                .run(&self.loc, || self.file.read_range(start as usize, len))
        }
    }

    /// Sequential reads from an offset, fetched in large ranges (Parquet's `ChunkReader`).
    #[cfg(feature = "parquet")]
    pub struct RangeRead {
        file: Arc<HdfsReader>,
        pos: u64,
        chunk: Bytes,
    }

    #[cfg(feature = "parquet")]
    impl RangeRead {
        pub fn new(file: Arc<HdfsReader>, pos: u64) -> RangeRead {
            RangeRead {
                file,
                pos,
                chunk: Bytes::new(),
            }
        }
    }

    #[cfg(feature = "parquet")]
    impl io::Read for RangeRead {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.chunk.is_empty() {
                self.chunk = self
                    .file
                    .read_range(self.pos, BLOCK)
                    .map_err(io::Error::other)?;
                self.pos += self.chunk.len() as u64;
            }
            let n = out.len().min(self.chunk.len());
            out[..n].copy_from_slice(&self.chunk.split_to(n));
            Ok(n)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_create_rename_list_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = Location::Local(dir.path().to_path_buf());
        let fs = connect(&root).unwrap();
        let tmp = root.join("sub/.a.inprogress");
        let mut w = fs.create(&tmp, false).unwrap();
        w.write_all(b"hello").unwrap();
        assert_eq!(w.close().unwrap(), 5);
        assert!(matches!(
            fs.create(&tmp, false),
            Err(StorageError::AlreadyExists(_))
        ));
        let dst = root.join("sub/a");
        fs.rename(&tmp, &dst, false).unwrap();
        assert_eq!(&fs.read_all(&dst).unwrap()[..], b"hello");
        assert_eq!(
            &fs.open(&dst).unwrap().read_range(1, 10).unwrap()[..],
            b"ello"
        );
        let all = fs.list(&root, true).unwrap();
        let names: Vec<String> = all.iter().map(|s| s.name()).collect();
        assert_eq!(names, ["sub", "a"]);
        assert!(all[0].is_dir && !all[1].is_dir && all[1].length == 5);
        assert_eq!(fs.glob(&root.join("sub/*")).unwrap().len(), 1);
        assert!(fs.stat(&root.join("nope")).unwrap().is_none());
        assert!(fs.delete(&root.join("sub"), true).unwrap());
        assert!(!fs.delete(&root.join("sub"), true).unwrap());
        assert!(fs.read_all(&dst).unwrap_err().is_not_found());
    }
}
