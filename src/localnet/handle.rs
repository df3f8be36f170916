//! An open localnet directory: the process-exclusive lock and the chain on its store (every
//! landed transaction is committed as it lands; `save` commits what else moved, the slots).
//!
//! When the store cannot be written (a full disk, an I/O error), the chain in memory holds
//! what the disk does not. The handle then reads the chain again from disk, so everything
//! answered from then on is stored, and refuses writes with the reason (`getHealth` says it
//! too) until a probe write succeeds: reads keep working, and nothing is ever reported that a
//! restart would not find.

use crate::localnet::Localnet;
use crate::localnet::lock::DirLock;
use crate::localnet::persist::StorageFailure;
use crate::localnet::rpc::{self, RpcFailure};
use crate::localnet::store::StoreError;
use crate::localnet::time::{self, TimeSource};
use crate::localnet::upstream::{Forked, Upstream};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub struct Handle {
    net: Mutex<Localnet>,
    dir: PathBuf,
    /// None for a dry-run fork, which never writes back.
    lock: Option<DirLock>,
    /// Why writes are refused: the store failed and has not been written since.
    unwritable: Mutex<Option<String>>,
    /// The cluster this chain forks (a dry-run of a cluster, or a `localnet fork`): what a
    /// call needs is read from it first.
    upstream: Option<Upstream>,
}

/// How long `open` waits for another process to release the directory (`--lock-timeout`'s
/// default).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(300);

/// Methods that change the chain, refused while the store cannot be written.
fn writes(method: &str) -> bool {
    matches!(method, "sendTransaction" | "requestAirdrop")
}

impl Handle {
    /// Locks `dir` (calling `waiting` if another process holds it) and loads its chain.
    pub fn open(dir: &Path, waiting: impl FnOnce()) -> Result<Arc<Self>, StoreError> {
        Self::open_within(dir, DEFAULT_LOCK_TIMEOUT, waiting, time::wall_clock())
    }

    /// `open` with the chain's slots following `time` (tests hold a clock of their own).
    pub fn open_on(dir: &Path, waiting: impl FnOnce(), time: Arc<dyn TimeSource>) -> Result<Arc<Self>, StoreError> {
        Self::open_within(dir, DEFAULT_LOCK_TIMEOUT, waiting, time)
    }

    /// `open_on`, giving up when another process still holds `dir` after `timeout`
    /// (`--lock-timeout`).
    pub fn open_within(
        dir: &Path,
        timeout: Duration,
        waiting: impl FnOnce(),
        time: Arc<dyn TimeSource>,
    ) -> Result<Arc<Self>, StoreError> {
        let lock = DirLock::acquire(dir, timeout, waiting)?;
        let net = Localnet::load_on(dir, time)?;
        let upstream = match net.origin() {
            Some(origin) => {
                Some(Upstream::to(&origin.url, &origin.genesis).map_err(|message| StoreError::Corrupt {
                    path: dir.display().to_string(),
                    message: format!("the forked cluster: {message}"),
                })?)
            }
            None => None,
        };
        Ok(Arc::new(Self {
            net: Mutex::new(net),
            dir: dir.to_path_buf(),
            lock: Some(lock),
            unwritable: Mutex::new(None),
            upstream,
        }))
    }

    /// A copy-on-write fork of `net` for a dry-run: never locked, never saved, and recording
    /// the plan of what it executes.
    pub fn fork(net: Localnet, dir: &Path) -> Arc<Self> {
        Self::fork_of(net, dir, None)
    }

    /// `fork`, reading what it lacks from `upstream` (a dry-run of a cluster).
    pub fn fork_of(mut net: Localnet, dir: &Path, upstream: Option<Upstream>) -> Arc<Self> {
        net.stop_writing();
        net.record_plan();
        Arc::new(Self {
            net: Mutex::new(net),
            dir: dir.to_path_buf(),
            lock: None,
            unwritable: Mutex::new(None),
            upstream,
        })
    }

    /// Reads `keys` from the forked cluster when this chain forks one and lacks them (a
    /// service about to touch them, outside any call that would have read them).
    pub fn read_from_cluster(&self, keys: &[solana_sdk::pubkey::Pubkey]) -> Result<(), String> {
        match &self.upstream {
            Some(upstream) => upstream.fetch_now(self, keys.to_vec()),
            None => Ok(()),
        }
    }

    /// Reads every account `owner` holds on the forked cluster, the first time this chain asks
    /// (simulated clients looking for every run).
    pub fn read_owned_from_cluster(&self, owner: &solana_sdk::pubkey::Pubkey) -> Result<(), String> {
        match &self.upstream {
            Some(upstream) => upstream.program_accounts_now(self, owner),
            None => Ok(()),
        }
    }

    /// The cluster this chain reads what it lacks from, when it forks one.
    pub fn upstream(&self) -> Option<&Upstream> {
        self.upstream.as_ref()
    }

    /// A fresh chain on a database in memory (a runbook test's): never locked, gone with the
    /// handle. Unlike a fork it records no plan: what it executes is what was sent.
    pub fn in_memory(dir: &Path) -> Arc<Self> {
        let net = Localnet::new();
        Arc::new(Self {
            net: Mutex::new(net),
            dir: dir.to_path_buf(),
            lock: None,
            unwritable: Mutex::new(None),
            upstream: None,
        })
    }

    /// True for a chain that never writes to its directory (a dry-run's fork, a test's chain).
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

    /// Why the store cannot be written, while it cannot (also when a service of this process
    /// found it so, before any call did).
    pub fn storage_failure(&self) -> Option<String> {
        let net = self.lock();
        self.refused().or_else(|| net.storage_failure().map(str::to_string))
    }

    /// Why writes are refused; read under the chain's lock.
    fn refused(&self) -> Option<String> {
        self.unwritable.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Answers one JSON-RPC call on the chain (`localnet serve`, and the embedded client's
    /// transport). A call during which the store failed answers that failure, whatever it
    /// did: its effects are not stored.
    pub fn answer(&self, method: &str, params: &Value) -> Result<Value, RpcFailure> {
        // The chain's lock first: the failure is set under it, so no call sees a chain read
        // back from disk (which keeps nothing it runs) without also seeing the failure.
        let mut net = self.lock();
        if let Some(reason) = self.refused() {
            if writes(method) {
                return Err(rpc::storage_failed(&reason));
            }
            if method == "getHealth" {
                return Err(rpc::unhealthy(&reason));
            }
        }
        let answer = rpc::dispatch(&mut net, method, params);
        match net.storage_failure().map(str::to_string) {
            Some(reason) => {
                self.failed(&mut net, reason.clone());
                Err(rpc::storage_failed(&reason))
            }
            None => answer,
        }
    }

    /// Commits what landed, as `flush` does; a failure is handled as `answer` handles it.
    pub fn flush(&self) -> Result<(), StorageFailure> {
        let mut net = self.lock();
        let flushed = net.flush();
        if let Err(failure) = &flushed {
            self.failed(&mut net, failure.0.clone());
        }
        flushed
    }

    /// The store failed: the chain is read again from disk (so memory and disk agree) and
    /// writes are refused until `probe` finds the store writable. `net` is this handle's chain,
    /// locked by the caller.
    pub fn failed(&self, net: &mut Localnet, reason: String) {
        if self.is_fork() {
            return;
        }
        let mut unwritable = self.unwritable.lock().unwrap_or_else(|p| p.into_inner());
        // Once per failure: a chain that could not be read again answers every call with the
        // failure, and trying again on each call would only spin. One that could is read only
        // (its slots move in memory) until the store can be written.
        if unwritable.is_none()
            && let Ok(mut stored) = net.reload(&self.dir)
        {
            stored.stop_writing();
            *net = stored;
        }
        *unwritable = Some(reason);
    }

    /// While writes are refused, tries a small write: true once the store is writable again
    /// (writes are then taken again).
    pub fn probe(&self) -> bool {
        let mut net = self.lock();
        if self.refused().is_none() {
            return true;
        }
        if net.store().probe_write().is_err() {
            return false;
        }
        // Writing again, from what is stored.
        let Ok(stored) = net.reload(&self.dir) else { return false };
        *net = stored;
        *self.unwritable.lock().unwrap_or_else(|p| p.into_inner()) = None;
        true
    }

    /// Commits the slot state if it moved since the last commit.
    pub fn save(&self) -> Result<bool, StorageFailure> {
        if self.is_fork() || !self.lock().is_dirty() {
            return Ok(false);
        }
        self.flush()?;
        Ok(true)
    }
}

impl Forked for Handle {
    fn lock(&self) -> MutexGuard<'_, Localnet> {
        Handle::lock(self)
    }
}
