//! One process at a time on a localnet directory: an exclusive file lock held for the whole
//! invocation (and for `localnet serve`), so two processes never interleave writes. A process
//! that finds it taken waits up to `--lock-timeout`, then gives up naming the holder.

use crate::files::private::{private_dir, private_options};
use crate::localnet::store::StoreError;
use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// How often a waiting process tries the lock again.
const RETRY: Duration = Duration::from_millis(50);

/// Held while the process uses the localnet; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    /// Takes the lock, calling `waiting` once if another process holds it, for up to `timeout`.
    pub fn acquire(dir: &Path, timeout: Duration, waiting: impl FnOnce()) -> Result<Self, StoreError> {
        let path = dir.join("lock");
        let io = |source| StoreError::Io { path: path.display().to_string(), source };
        private_dir(dir).map_err(io)?;
        let mut file = private_options().create(true).truncate(false).read(true).write(true).open(&path).map_err(io)?;
        let deadline = Instant::now() + timeout;
        let mut waiting = Some(waiting);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    if let Some(waiting) = waiting.take() {
                        waiting();
                    }
                    std::thread::sleep(RETRY);
                }
                Err(TryLockError::WouldBlock) => {
                    let holder = std::fs::read_to_string(&path).ok().map(|s| s.trim().to_string());
                    return Err(StoreError::Locked {
                        path: path.display().to_string(),
                        holder: holder.filter(|h| !h.is_empty()).unwrap_or_else(|| "another process".into()),
                        seconds: timeout.as_secs(),
                    });
                }
                Err(TryLockError::Error(err)) => return Err(io(err)),
            }
        }
        // The holder's pid, for the next waiter's message (a full disk only loses that).
        let _ = file.set_len(0).and_then(|()| writeln!(file, "pid {}", std::process::id()));
        Ok(Self { _file: file })
    }
}
