//! How the chain meets its store: opening a directory's chain (resuming it, or creating its
//! genesis), reading the accounts a transaction touches into the VM before it runs, and
//! committing what it changed with its record and the slot state. Landed transactions are
//! committed in groups, each group before anything reports one of its transactions (see
//! `flush`), so a transaction is durable once its status is reported. The VM keeps a bounded
//! cache of what it read; forks and read-only chains keep their changes in memory and never
//! write.

use crate::localnet::chain_params::DEFAULT_SLOT_MS;
use crate::localnet::commitment::PriorStates;
use crate::localnet::store::{ChainState, Commit, Genesis, Landed, Saved, Store, StoreError};
use crate::localnet::time::{self, TimeSource};
use crate::localnet::{Localnet, TxRecord, new_svm, new_svm_with};
use crate::psyche::ids::ProgramIds;
use litesvm::LiteSVM;
use solana_address_lookup_table_interface::state::AddressLookupTable;
use solana_sdk::account::{Account, AccountSharedData, ReadableAccount};
use solana_sdk::clock::Clock;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::transaction::VersionedTransaction;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Owners of accounts a fresh VM already has (programs, sysvars, features): never stored.
const BUILT_IN_OWNERS: [Pubkey; 7] = [
    solana_sdk::pubkey!("NativeLoader1111111111111111111111111111111"),
    solana_sdk::pubkey!("BPFLoader1111111111111111111111111111111111"),
    solana_sdk::pubkey!("BPFLoader2111111111111111111111111111111111"),
    solana_sdk::pubkey!("BPFLoaderUpgradeab1e11111111111111111111111"),
    solana_sdk::pubkey!("LoaderV411111111111111111111111111111111111"),
    solana_sdk::pubkey!("Sysvar1111111111111111111111111111111111111"),
    solana_sdk::pubkey!("Feature111111111111111111111111111111111111"),
];

/// The localnet's database could not be written: what failed, naming the file and the cause.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the localnet's storage failed: {0}")]
pub struct StorageFailure(pub String);

/// A chain's database, for errors.
fn dir_name(net: &Localnet) -> String {
    net.store.path().map_or(":memory:".into(), |p| p.display().to_string())
}

/// Transactions committed together at most. A commit writes every page the group changed,
/// and a bulk run's inserts land all over the account and history indexes: a group of a few
/// hundred transactions on a large chain rewrites most of those pages each time. A bulk send
/// reads no status until it has sent everything, so its round is committed as one group.
const GROUP_COMMIT: usize = 4096;

/// Accounts the VM keeps read from the store before it lets them go (a long bulk run or a
/// long-lived server would otherwise hold the whole chain again).
const CACHED_ACCOUNTS: usize = 4_096;

pub(super) fn is_stored(account: &impl ReadableAccount) -> bool {
    !BUILT_IN_OWNERS.contains(account.owner()) && !account.executable()
}

/// The accounts of a new VM that the store keeps: the Squads program config and, on a new
/// chain, the faucet. LiteSVM's own airdrop account is left out: each VM makes a new one.
fn genesis_accounts(svm: &LiteSVM) -> Vec<(Pubkey, Account)> {
    let airdrop = svm.airdrop_pubkey();
    svm.accounts_db()
        .inner
        .iter()
        .filter(|(k, a)| is_stored(*a) && **k != airdrop)
        .map(|(k, a)| (*k, Account::from(a.clone())))
        .collect()
}

impl Localnet {
    /// The keys of `mentions` (static keys first, then looked-up ones) that `tx` may write.
    pub(super) fn writable_of(tx: &VersionedTransaction, mentions: &[Pubkey]) -> Vec<Pubkey> {
        let message = &tx.message;
        let statics = message.static_account_keys().len();
        let looked_up_writable: usize =
            message.address_table_lookups().map_or(0, |l| l.iter().map(|t| t.writable_indexes.len()).sum());
        mentions
            .iter()
            .enumerate()
            .filter(
                |(i, _)| {
                    if *i < statics { message.is_maybe_writable(*i, None) } else { i - statics < looked_up_writable }
                },
            )
            .map(|(_, k)| *k)
            .collect()
    }

    /// Opens the chain in `dir` (migrating a state file of an earlier release), or creates
    /// it there, on the wall clock. The caller holds the directory's lock.
    pub fn load(dir: &Path) -> Result<Self, StoreError> {
        Self::load_on(dir, time::wall_clock())
    }

    /// `load`, the chain's slots following `time` from where the store left them.
    pub fn load_on(dir: &Path, time: Arc<dyn TimeSource>) -> Result<Self, StoreError> {
        let (store, saved) = Store::open(dir)?;
        let store = Arc::new(store);
        match saved {
            Some(saved) => Self::resume(store, saved, time, true),
            None => Self::genesis_on(store, time),
        }
    }

    /// The chain as its database in `dir` holds it, with this one's program IDs, slot length
    /// and clock: what a restart would find.
    pub fn reload(&self, dir: &Path) -> Result<Self, StoreError> {
        let mut stored = Self::load_on(dir, Arc::clone(&self.time))?;
        stored.use_program_ids(self.ids);
        stored.slot_ms = self.slot_ms;
        stored.addresses = self.addresses;
        Ok(stored)
    }

    /// The chain in `dir` for reading, without the lock: it never writes (`watch`,
    /// `localnet status`, dry-runs). A directory without a chain reads as a fresh one.
    pub fn load_read_only(dir: &Path) -> Result<Self, StoreError> {
        let (store, saved) = Store::open_read_only(dir)?;
        let mut net = match saved {
            Some(saved) => Self::resume(Arc::new(store), saved, time::wall_clock(), false)?,
            None => Self::new(),
        };
        net.writes = false;
        Ok(net)
    }

    fn resume(store: Arc<Store>, saved: Saved, time: Arc<dyn TimeSource>, writes: bool) -> Result<Self, StoreError> {
        let corrupt = |message: &str| StoreError::Corrupt { path: "localnet database".into(), message: message.into() };
        // A fork runs with its cluster's features, and the programs read from it.
        let origin = store.origin()?;
        let mut svm = if origin.is_some() { new_svm_with(&store.fork_features()?) } else { new_svm() };
        let faucet =
            Keypair::try_from(saved.genesis.faucet.as_slice()).map_err(|_| corrupt("faucet key is not a keypair"))?;
        let mut clock: Clock = svm.get_sysvar();
        clock.slot = saved.state.slot;
        clock.unix_timestamp = saved.state.unix_timestamp;
        svm.set_sysvar(&clock);
        // Accounts every new VM has (the Squads program config): the chain's own version wins;
        // a chain saved without one gains it.
        let mut gained = Vec::new();
        for (key, account) in genesis_accounts(&svm) {
            match store.account(&key) {
                Some(stored) => svm.set_account(key, stored).map_err(|_| corrupt("a genesis account"))?,
                None => gained.push((key, Some(account))),
            }
        }
        let mut net = Localnet {
            svm,
            ids: ProgramIds::default(),
            faucet,
            clock_offset: saved.state.clock_offset,
            recent_blockhashes: saved.blockhashes.into_iter().collect(),
            blockhash_seed: saved.genesis.blockhash_seed,
            slot_started_ms: saved.state.slot_started_ms,
            slot_ms: DEFAULT_SLOT_MS,
            time,
            prior: PriorStates::default(),
            transaction_count: saved.state.transaction_count,
            store,
            writes,
            cached: Default::default(),
            unsaved: Default::default(),
            recent: std::collections::VecDeque::new(),
            grouped: 0,
            saved_slot: saved.state.slot,
            dirty: false,
            storage_failure: None,
            addresses: crate::localnet::node::Addresses::default(),
            fetched: Default::default(),
            asked: Default::default(),
            origin,
            from_cluster: Default::default(),
            stand_ins: Default::default(),
            plan: None,
        };
        if net.origin.is_some() {
            net.resume_fork()?;
        }
        if writes && !gained.is_empty() {
            net.persist(&gained, None);
            net.flush().map_err(|failure| StoreError::Corrupt { path: dir_name(&net), message: failure.0 })?;
        }
        Ok(net)
    }

    /// Writes a new chain's genesis, slot state and accounts to its store.
    pub(super) fn create_in_store(&mut self) -> Result<(), StoreError> {
        let accounts = genesis_accounts(&self.svm);
        let saved = Saved {
            genesis: Genesis { faucet: self.faucet.to_bytes().to_vec(), blockhash_seed: self.blockhash_seed },
            state: self.chain_state(),
            blockhashes: self.recent_blockhashes.iter().copied().collect(),
        };
        self.store.create(&saved, &accounts)?;
        self.saved_slot = self.slot();
        self.dirty = false;
        Ok(())
    }

    fn chain_state(&self) -> ChainState {
        let clock = self.clock();
        ChainState {
            slot: clock.slot,
            slot_started_ms: self.slot_started_ms,
            unix_timestamp: clock.unix_timestamp,
            clock_offset: self.clock_offset,
            transaction_count: self.transaction_count,
        }
    }

    /// Brings `key` into the VM from the store, once.
    fn load_account(&mut self, key: &Pubkey) {
        if self.cached.contains(key) || self.svm.accounts_db().get_account_ref(key).is_some() {
            return;
        }
        self.cached.insert(*key);
        if let Some(account) = self.store.account(key) {
            self.svm.set_account(*key, account).expect("stored accounts are plain accounts");
        }
    }

    /// Brings every account `tx` names into the VM (its static keys, its lookup tables and the
    /// addresses it looks up in them); returns those addresses, static keys first.
    pub(super) fn load_accounts_of(&mut self, tx: &VersionedTransaction) -> Vec<Pubkey> {
        let mut keys = tx.message.static_account_keys().to_vec();
        for key in &keys {
            self.load_account(key);
        }
        let lookups = tx.message.address_table_lookups().unwrap_or_default();
        let mut readonly = Vec::new();
        for lookup in lookups {
            self.load_account(&lookup.account_key);
            let Some(table) = self.account(&lookup.account_key) else { continue };
            let Ok(table) = AddressLookupTable::deserialize(&table.data) else { continue };
            let at = |i: &u8| table.addresses.get(usize::from(*i)).copied();
            keys.extend(lookup.writable_indexes.iter().filter_map(at));
            readonly.extend(lookup.readonly_indexes.iter().filter_map(at));
        }
        keys.extend(readonly);
        for key in &keys {
            self.load_account(key);
        }
        keys
    }

    /// The accounts of `before` whose state differs now.
    pub(super) fn changed_since(&self, before: Vec<(Pubkey, Option<Account>)>) -> Vec<(Pubkey, Option<Account>)> {
        before
            .into_iter()
            .filter_map(|(key, was)| {
                let now = self.account(&key);
                (now != was).then_some((key, now))
            })
            .filter(|(_, now)| now.as_ref().is_none_or(is_stored))
            .collect()
    }

    /// Writes `accounts` (and a landed transaction) with the slot state into the store's open
    /// database transaction; a chain that does not write keeps them in memory. Transactions
    /// are committed in groups: a group is committed before anything can report one of its
    /// transactions (`flush`: every RPC call but a send, the end of a service, of an
    /// invocation, of `serve`), or when it is full.
    pub(super) fn persist(
        &mut self,
        accounts: &[(Pubkey, Option<Account>)],
        landed: Option<(Signature, &TxRecord, &[Pubkey])>,
    ) {
        if self.origin.is_some() && self.writes && self.storage_failure.is_none() {
            // What the fork wrote itself is kept by a refresh that keeps its writes.
            let keys: Vec<Pubkey> = accounts.iter().map(|(key, _)| *key).collect();
            if let Err(err) = self.store.put_written(&keys) {
                self.storage_failure = Some(err.to_string());
            }
        }
        self.persist_read(accounts, landed);
    }

    /// `persist`, for accounts read from a forked cluster (not the fork's own writes).
    pub(super) fn persist_read(
        &mut self,
        accounts: &[(Pubkey, Option<Account>)],
        landed: Option<(Signature, &TxRecord, &[Pubkey])>,
    ) {
        if !self.writes {
            if let Some((signature, record, _)) = landed {
                self.unsaved.insert(signature, record.clone());
            }
            return;
        }
        let slot = self.slot();
        let blockhashes: Vec<_> = self.recent_blockhashes.iter().copied().collect();
        let landed: Vec<Landed> =
            landed.into_iter().map(|(signature, record, mentions)| Landed { signature, record, mentions }).collect();
        let change = Commit {
            accounts,
            landed: &landed,
            state: self.chain_state(),
            blockhashes: (slot != self.saved_slot).then_some(blockhashes.as_slice()),
        };
        if self.storage_failure.is_some() {
            return;
        }
        if let Err(err) = self.store.write(&change) {
            // The open group is taken back whole: nothing of it was reported, and the chain
            // answers nothing more (`flush` says why).
            self.storage_failure = Some(err.to_string());
            return;
        }
        self.saved_slot = slot;
        self.dirty = true;
        self.grouped += 1;
        if landed.is_empty() || self.grouped >= GROUP_COMMIT {
            // A failure is kept and told by the next `flush`, before anything reports it.
            let _ = self.flush();
        }
    }

    /// Commits the open group (and the slot state) in one database transaction. After a
    /// failed write or commit, says why whenever asked: what this chain holds in memory is not
    /// all on disk, so nothing it holds may be reported.
    pub fn flush(&mut self) -> Result<(), StorageFailure> {
        if let Some(reason) = &self.storage_failure {
            return Err(StorageFailure(reason.clone()));
        }
        if !self.writes || !self.dirty {
            return Ok(());
        }
        if self.grouped == 0 || self.slot() != self.saved_slot {
            // Only the slots moved (a warp, a clock advance): write the state alone.
            self.persist(&[], None);
            return match &self.storage_failure {
                Some(reason) => Err(StorageFailure(reason.clone())),
                None => Ok(()),
            };
        }
        if let Err(err) = self.store.commit() {
            self.storage_failure = Some(err.to_string());
            return Err(StorageFailure(err.to_string()));
        }
        self.grouped = 0;
        self.dirty = false;
        if self.cached.len() > CACHED_ACCOUNTS {
            self.forget_cached();
        }
        Ok(())
    }

    /// Why the store could not be written, once it could not.
    pub fn storage_failure(&self) -> Option<&str> {
        self.storage_failure.as_deref()
    }

    /// Lets the VM's copies of stored accounts go; the next use reads them again.
    fn forget_cached(&mut self) {
        for key in std::mem::take(&mut self.cached) {
            if self.prior.is_recorded(&key) {
                // `finalized` reads put these back: keep the current state at hand.
                self.cached.insert(key);
                continue;
            }
            let _ = self.svm.set_account(key, Account::default());
        }
    }

    /// Commits what is pending and the slot state if it moved (a warp, a clock advance).
    pub fn save(&mut self) -> Result<(), StorageFailure> {
        self.flush()
    }

    /// Stops writing: from now on changes stay in memory (dry-run forks).
    pub fn stop_writing(&mut self) {
        self.writes = false;
    }

    /// Every account `owner` owns (of `size` bytes, when given), by address: from the store's
    /// owner index (which sees the open group), with a fork's changes over it.
    pub fn program_accounts_sized(&self, owner: &Pubkey, size: Option<u64>) -> Vec<(Pubkey, AccountSharedData)> {
        let mut found: BTreeMap<Pubkey, AccountSharedData> = self
            .store
            .accounts_owned_by(owner, size)
            .into_iter()
            .map(|(k, a)| (k, AccountSharedData::from(a)))
            .collect();
        if !self.writes {
            for key in &self.cached {
                match self.svm.accounts_db().get_account_ref(key) {
                    Some(a) if a.owner() == owner && size.is_none_or(|s| a.data().len() as u64 == s) => {
                        found.insert(*key, a.clone());
                    }
                    _ => {
                        found.remove(key);
                    }
                }
            }
        }
        found.into_iter().filter(|(_, a)| a.lamports() > 0).collect()
    }

    /// The store's size on disk and how many accounts it holds (`localnet status`).
    pub fn stored(&self) -> (u64, u64) {
        (self.store.size_bytes(), self.store.account_count())
    }

    /// The store, for history queries (`getSignaturesForAddress`, `getBlock`).
    pub fn store(&self) -> &Store {
        &self.store
    }
}
