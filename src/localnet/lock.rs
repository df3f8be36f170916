//! One process at a time on a localnet directory: an exclusive file lock held for the whole
//! invocation (and for `localnet serve`), so two processes never interleave writes.

use crate::files::private::{private_dir, private_options};
use std::fs::{File, TryLockError};
use std::path::Path;

/// Held while the process uses the localnet; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    /// Takes the lock, calling `waiting` once if another process holds it, then blocking.
    pub fn acquire(dir: &Path, waiting: impl FnOnce()) -> std::io::Result<Self> {
        private_dir(dir)?;
        let file = private_options().create(true).truncate(false).write(true).open(dir.join("lock"))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                waiting();
                file.lock()?;
            }
            Err(TryLockError::Error(err)) => return Err(err),
        }
        Ok(Self { _file: file })
    }
}
