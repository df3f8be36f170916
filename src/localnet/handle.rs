//! An open localnet directory: the process-exclusive lock and the chain on its store (every
//! landed transaction is committed as it lands; `save` commits what else moved, the slots).

use crate::localnet::Localnet;
use crate::localnet::lock::DirLock;
use crate::localnet::store::StoreError;
use crate::localnet::time::{self, TimeSource};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

pub struct Handle {
    net: Mutex<Localnet>,
    dir: PathBuf,
    /// None for a dry-run fork, which never writes back.
    lock: Option<DirLock>,
}

impl Handle {
    /// Locks `dir` (calling `waiting` if another process holds it) and loads its chain.
    pub fn open(dir: &Path, waiting: impl FnOnce()) -> Result<Arc<Self>, StoreError> {
        Self::open_on(dir, waiting, time::wall_clock())
    }

    /// `open` with the chain's slots following `time` (tests hold a clock of their own).
    pub fn open_on(dir: &Path, waiting: impl FnOnce(), time: Arc<dyn TimeSource>) -> Result<Arc<Self>, StoreError> {
        let io = |source| StoreError::Io { path: dir.display().to_string(), source };
        let lock = DirLock::acquire(dir, waiting).map_err(io)?;
        let net = Localnet::load_on(dir, time)?;
        Ok(Arc::new(Self { net: Mutex::new(net), dir: dir.to_path_buf(), lock: Some(lock) }))
    }

    /// A copy-on-write fork of `net` for a dry-run: never locked, never saved, and recording
    /// the plan of what it executes.
    pub fn fork(mut net: Localnet, dir: &Path) -> Arc<Self> {
        net.stop_writing();
        net.record_plan();
        Arc::new(Self { net: Mutex::new(net), dir: dir.to_path_buf(), lock: None })
    }

    pub fn is_fork(&self) -> bool {
        self.lock.is_none()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn lock(&self) -> MutexGuard<'_, Localnet> {
        // A panic while holding the chain poisons it; the state on disk is still the last save.
        self.net.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Commits the slot state if it moved since the last commit.
    pub fn save(&self) -> Result<bool, StoreError> {
        let mut net = self.lock();
        if self.is_fork() || !net.is_dirty() {
            return Ok(false);
        }
        net.save()?;
        Ok(true)
    }
}
