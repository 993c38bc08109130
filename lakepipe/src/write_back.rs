//! A local output file whose bytes start their way to disk while it grows, so that the
//! fsync that makes it durable ([`crate::storage::Writer::close`]) waits only for the
//! tail instead of the whole file.
//!
//! Two steps, both measured on pq-write's 41 MB of bench output (README, "Measured"):
//! - every [`WriteBack::EVERY`] bytes, `sync_file_range` starts the kernel's write-out
//!   of the pages just written (it does not wait);
//! - every [`WriteBack::SYNC_EVERY`] bytes, a helper thread calls `fdatasync`. The
//!   final fsync took 52-55 ms even when the write-out had long finished: on a virtual
//!   disk the flush makes the host write everything the guest wrote since the last
//!   flush. Flushing in the background as the file grows left 2 ms for the last one.
//!
//! A failed background sync is kept and returned by [`WriteBack::finish`]: after a
//! failed fsync Linux may report the next one as a success with the pages lost.

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc;
use std::thread;

pub(crate) struct WriteBack {
    file: File,
    written: u64,
    /// Write-out started up to here.
    started: u64,
    /// A background sync was asked for up to here.
    sync_asked: u64,
    syncer: Option<Syncer>,
}

/// The helper thread: syncs the file each time it is asked, until the first failure.
struct Syncer {
    ask: mpsc::SyncSender<()>,
    done: thread::JoinHandle<io::Result<usize>>,
}

impl Syncer {
    fn start(file: &File) -> io::Result<Syncer> {
        let file = file.try_clone()?;
        // One pending request is enough: a sync covers everything written before it.
        let (ask, asked) = mpsc::sync_channel::<()>(1);
        let done = thread::Builder::new()
            .name("fdatasync".into())
            .spawn(move || {
                let mut syncs = 0;
                while asked.recv().is_ok() {
                    file.sync_data()?;
                    syncs += 1;
                }
                Ok(syncs)
            })?;
        Ok(Syncer { ask, done })
    }

    /// Waits for the sync under way; the number of syncs done, or the first failure.
    fn stop(self) -> io::Result<usize> {
        drop(self.ask);
        self.done
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the fdatasync thread panicked")))
    }
}

impl WriteBack {
    pub(crate) const EVERY: u64 = 1 << 20;
    pub(crate) const SYNC_EVERY: u64 = 8 << 20;

    pub(crate) fn new(file: File) -> WriteBack {
        WriteBack {
            file,
            written: 0,
            started: 0,
            sync_asked: 0,
            syncer: None,
        }
    }

    /// The file, once the background syncs are over (not itself synced: the caller's
    /// fsync does that). Returns the first background failure.
    pub(crate) fn finish(mut self) -> io::Result<File> {
        self.stop_syncer()?;
        Ok(self.file)
    }

    fn stop_syncer(&mut self) -> io::Result<usize> {
        self.syncer.take().map_or(Ok(0), Syncer::stop)
    }

    /// Start writing out the bytes since the last call. A failure is not returned
    /// from `write`: the fsync in [`crate::storage::Writer::close`] reports it.
    fn start_write_back(&mut self) -> io::Result<()> {
        let (from, len) = (self.started as i64, (self.written - self.started) as i64);
        self.started = self.written;
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let fd = self.file.as_raw_fd();
            // SAFETY: a plain syscall on our own open descriptor; it only schedules
            // the write-out of pages already written.
            let rc = unsafe { libc::sync_file_range(fd, from, len, libc::SYNC_FILE_RANGE_WRITE) };
            if rc != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }

    /// Asks the helper thread (started at the first call) for a sync; a request already
    /// pending covers this one. A thread that cannot start is left for the final fsync.
    fn ask_sync(&mut self) {
        self.sync_asked = self.written;
        if self.syncer.is_none() {
            self.syncer = Syncer::start(&self.file).ok();
        }
        if let Some(s) = &self.syncer {
            // Full: a sync is pending. Disconnected: it failed, and finish says so.
            let _ = s.ask.try_send(());
        }
    }
}

impl Write for WriteBack {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.started >= Self::EVERY {
            let _ = self.start_write_back();
        }
        if self.written - self.sync_asked >= Self::SYNC_EVERY {
            self.ask_sync();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(len: u64) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    /// Written bytes are handed to the kernel's write-out every `EVERY` bytes and synced
    /// in the background every `SYNC_EVERY`, and the file is intact.
    #[test]
    fn local_files_start_their_write_out_as_they_grow() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let mut w = WriteBack::new(File::create(&path).unwrap());
        let data = pattern(5 * WriteBack::SYNC_EVERY / 2);
        for piece in data.chunks(100_000) {
            w.write_all(piece).unwrap();
        }
        assert_eq!(w.written, data.len() as u64);
        // A write-out starts at the first piece that makes EVERY bytes since the last.
        let step = WriteBack::EVERY.div_ceil(100_000) * 100_000;
        assert_eq!(w.started, data.len() as u64 / step * step);
        let sync_step = WriteBack::SYNC_EVERY.div_ceil(100_000) * 100_000;
        assert_eq!(w.sync_asked, 2 * sync_step);
        w.start_write_back().unwrap();
        assert_eq!(w.started, w.written);
        // Two requests; the second may have come while the first was pending.
        let syncs = w.stop_syncer().unwrap();
        assert!((1..=2).contains(&syncs), "{syncs} syncs");
        drop(w.finish().unwrap());
        assert!(std::fs::read(&path).unwrap() == data);
    }

    /// Small files start no thread.
    #[test]
    fn small_files_sync_only_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = WriteBack::new(File::create(dir.path().join("small")).unwrap());
        w.write_all(&pattern(WriteBack::SYNC_EVERY - 1)).unwrap();
        assert!(w.syncer.is_none());
        assert_eq!(w.stop_syncer().unwrap(), 0);
    }

    /// A background sync that fails is reported when the file is finished (fdatasync
    /// fails on /dev/null with EINVAL), and the failure does not stop the writes.
    #[test]
    fn a_failed_background_sync_is_reported_at_the_end() {
        let null = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/null")
            .unwrap();
        assert!(
            null.sync_data().is_err(),
            "this test needs a file fsync rejects"
        );
        let mut w = WriteBack::new(null);
        for piece in pattern(3 * WriteBack::SYNC_EVERY).chunks(1 << 20) {
            w.write_all(piece).unwrap();
        }
        assert!(w.finish().is_err());
    }
}
