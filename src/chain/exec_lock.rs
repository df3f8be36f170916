//! One execution of a runbook per cluster at a time: an exclusive lock on a file keyed by the
//! cluster and the runbook, waited for up to `--lock-timeout`. The lock is the operating
//! system's (flock), so a process that dies — even by SIGKILL — releases it and the next
//! invocation takes over without any cleanup.

use crate::files::private::{private_dir, private_options};
use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct ExecLock {
    _file: File,
}

/// The lock file for `runbook` on `cluster` under `dir`.
pub fn path(dir: &Path, cluster: &str, runbook: &Path) -> PathBuf {
    let runbook = std::fs::canonicalize(runbook).unwrap_or_else(|_| runbook.to_path_buf());
    let key = solana_sdk::hash::hashv(&[cluster.as_bytes(), runbook.to_string_lossy().as_bytes()]);
    let stem = runbook.file_stem().map_or("runbook".into(), |s| s.to_string_lossy().into_owned());
    dir.join(format!("{stem}-{}.lock", &key.to_string()[..12]))
}

pub enum Wait {
    /// Another process holds it; `holder` is the pid it wrote, if readable.
    TimedOut {
        holder: Option<String>,
    },
    Io(std::io::Error),
}

impl ExecLock {
    /// Takes the lock at `path`, waiting up to `timeout` (calling `waiting` once if it must).
    pub fn acquire(path: &Path, timeout: Duration, waiting: impl FnOnce()) -> Result<Self, Wait> {
        if let Some(dir) = path.parent() {
            private_dir(dir).map_err(Wait::Io)?;
        }
        let mut file =
            private_options().create(true).truncate(false).read(true).write(true).open(path).map_err(Wait::Io)?;
        let deadline = Instant::now() + timeout;
        let mut waiting = Some(waiting);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    if let Some(w) = waiting.take() {
                        w();
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(Wait::TimedOut {
                        holder: std::fs::read_to_string(path).ok().map(|s| s.trim().to_string()),
                    });
                }
                Err(TryLockError::Error(err)) => return Err(Wait::Io(err)),
            }
        }
        // Record the holder for the next waiter's message.
        let _ = file.set_len(0).and_then(|()| writeln!(file, "pid {}", std::process::id()));
        Ok(Self { _file: file })
    }
}
