//! Noticing that stdout's reader is gone while no message arrives.
//!
//! A write to a closed pipe fails at once (and ends the tool quietly, as `| head` wants),
//! but an idle consumer writes nothing: in `kcat-lite -J | pq-write` it would wait for the
//! next message after pq-write died, holding its partitions. poll(2) on a pipe's write end
//! reports POLLERR once its read end is closed (Linux), without writing anything.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

/// True when `fd` is a pipe or socket whose reader has gone. Files and terminals never are.
pub fn reader_gone(fd: BorrowedFd<'_>) -> bool {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call, zero timeout.
    let n = unsafe { libc::poll(&mut p, 1, 0) };
    n > 0 && p.revents & (libc::POLLERR | libc::POLLHUP) != 0
}

/// The error a write to a closed stdout would have given, so the run ends as `| head` does.
pub fn check_stdout() -> io::Result<()> {
    if reader_gone(io::stdout().as_fd()) {
        return Err(io::Error::new(
            io::ErrorKind::BrokenPipe,
            "stdout's reader is gone",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_without_reader_is_noticed_without_writing() {
        let (reader, writer) = io::pipe().unwrap();
        assert!(!reader_gone(writer.as_fd()), "reader still open");
        drop(reader);
        assert!(reader_gone(writer.as_fd()), "reader closed");
    }

    #[test]
    fn a_file_is_never_gone() {
        let f = tempfile::tempfile().unwrap();
        assert!(!reader_gone(f.as_fd()));
    }
}
