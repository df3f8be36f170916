//! The embedded localnet: LiteSVM in process with the Psyche-compatible programs at the
//! program IDs the settings resolve (upstream's by default) and a Squads v4 multisig program at
//! its upstream ID (with its program config as devnet holds it), the SPL Token and Associated
//! Token programs LiteSVM bundles, slots that follow wall time (plus any advance a runbook asks
//! for, see `slots`), recent blockhashes that stay valid for 150 slots, and a history of
//! transaction results with what a validator records about them (`status_meta`). `store`
//! keeps it in a database, `persist` reads accounts from there on demand and commits every
//! change; `rpc` serves it; `simulator` and `trainer` play its clients.

pub mod chain_params;
pub mod commitment;
pub mod executed;
mod execution;
pub mod fork_file;
pub mod forked;
pub mod genesis;
pub mod handle;
pub mod lock;
pub mod multisig;
pub mod node;
pub mod persist;
pub mod plan;
pub mod programs;
pub mod rpc;
pub mod sender;
pub mod server;
pub mod services;
pub mod simulator;
pub mod slots;
pub mod status_meta;
pub mod store;
pub mod time;
pub mod trainer;
pub mod tx_record;
pub mod upstream;
pub mod views;

pub use crate::localnet::chain_params::{BLOCKHASH_VALIDITY_SLOTS, KEPT_BLOCKHASHES};
use crate::localnet::chain_params::{DEFAULT_SLOT_MS, blockhash_of};
use crate::localnet::commitment::PriorStates;
pub use crate::localnet::executed::Executed;
use crate::localnet::store::{Store, StoreError};
use crate::localnet::time::TimeSource;
pub use crate::localnet::tx_record::TxRecord;
use crate::psyche::ids::ProgramIds;
use litesvm::LiteSVM;
use solana_commitment_config::CommitmentLevel;
use solana_sdk::account::{Account, AccountSharedData};
use solana_sdk::clock::Clock;
use solana_sdk::hash::Hash;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use solana_sdk::transaction::{TransactionError, VersionedTransaction};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

/// A simulation: the execution, and the balances and token balances around it.
#[derive(Debug, Clone)]
pub struct Simulated {
    pub executed: Executed,
    pub pre_balances: Vec<u64>,
    pub post_balances: Vec<u64>,
    pub status: status_meta::StatusMeta,
    /// The transaction's accounts as the simulation left them.
    pub post_accounts: HashMap<Pubkey, Account>,
}

pub struct Localnet {
    svm: LiteSVM,
    /// Where the Psyche programs are installed; their checks and CPIs use these IDs.
    ids: ProgramIds,
    /// Pays for localnet services and is the mint authority of the mints they create.
    faucet: Keypair,
    /// Seconds the clock runs ahead of wall time (from `advance_clock`).
    clock_offset: i64,
    recent_blockhashes: VecDeque<(Hash, u64)>,
    /// Seeds every slot's blockhash (also the genesis hash).
    blockhash_seed: Hash,
    /// Wall-clock milliseconds at which the current slot began.
    slot_started_ms: u64,
    /// Wall-clock milliseconds per slot (not persisted: each process chooses).
    slot_ms: u64,
    /// Where the slots take their time from (not persisted: the wall clock unless a test
    /// holds one).
    time: Arc<dyn TimeSource>,
    /// Accounts as the root last saw them, for `finalized` reads (not persisted: a chain
    /// loaded by a new process counts what it loaded as rooted).
    prior: PriorStates,
    /// Transactions executed since genesis (`getEpochInfo`).
    transaction_count: u64,
    /// Where the chain is kept: accounts are read from it on first use, and every change is
    /// committed to it (see `persist`).
    store: Arc<Store>,
    /// False for forks and read-only chains: changes stay in memory.
    writes: bool,
    /// Accounts already read from the store into the VM (present or absent there) or
    /// written here: the VM's copy is the current one.
    cached: HashSet<Pubkey>,
    /// Records of transactions a chain that does not write executed.
    unsaved: HashMap<Signature, TxRecord>,
    /// The latest transactions' signatures, oldest first (not persisted: PubSub's logs
    /// subscriptions hear of what lands while they listen).
    recent: VecDeque<Signature>,
    /// Writes in the store's open group, not committed yet.
    grouped: usize,
    /// The slot whose blockhashes the store holds.
    saved_slot: u64,
    /// The slot state changed since the last commit.
    dirty: bool,
    /// Where `localnet serve` answers (cluster queries name them).
    addresses: node::Addresses,
    /// Why the store could not be written (a full disk, an I/O error): from then on this chain
    /// holds what its database does not, and answers nothing (`Handle` reloads it from disk).
    storage_failure: Option<String>,
    /// Accounts already pulled from the cluster a fork follows (present or known absent).
    fetched: std::collections::HashSet<Pubkey>,
    /// Program-account query shapes the forked cluster already answered.
    asked: HashSet<String>,
    /// The cluster this chain was forked from (`localnet fork`); None for a plain localnet and
    /// for a dry-run's fork, which keeps nothing.
    origin: Option<store::Origin>,
    /// Programs whose bytecode was loaded from the forked cluster.
    from_cluster: HashSet<Pubkey>,
    /// Pubkeys whose signatures are not checked: the stand-ins a rehearsal on a fork signs as
    /// (never set on any other chain).
    stand_ins: HashSet<Pubkey>,
    /// When set, executed transactions are recorded with their account changes (dry-runs).
    plan: Option<Vec<plan::PlannedTransaction>>,
}

impl Default for Localnet {
    fn default() -> Self {
        Self::new()
    }
}

impl Localnet {
    /// A fresh chain at slot 1, on the wall clock.
    pub fn new() -> Self {
        Self::with_time(time::wall_clock())
    }

    /// A fresh chain at slot 1 whose slots follow `time`, held in memory.
    pub fn with_time(time: Arc<dyn TimeSource>) -> Self {
        Self::genesis_on(Arc::new(Store::in_memory()), time).expect("a chain in memory is created")
    }

    /// A fresh chain at slot 1 on `store`, its genesis committed there.
    fn genesis_on(store: Arc<Store>, time: Arc<dyn TimeSource>) -> Result<Self, StoreError> {
        let mut svm = new_svm();
        let faucet = Keypair::new();
        svm.airdrop(&faucet.pubkey(), FAUCET_LAMPORTS).expect("the genesis airdrop succeeds");
        let mut net = Self {
            svm,
            ids: ProgramIds::default(),
            faucet,
            clock_offset: 0,
            recent_blockhashes: VecDeque::new(),
            // Random, so a reset chain never accepts a blockhash signed for the old one.
            blockhash_seed: Hash::new_from_array(Keypair::new().pubkey().to_bytes()),
            slot_started_ms: time.now_ms(),
            slot_ms: DEFAULT_SLOT_MS,
            time,
            prior: PriorStates::default(),
            transaction_count: 0,
            store,
            writes: true,
            cached: HashSet::new(),
            unsaved: HashMap::new(),
            recent: VecDeque::new(),
            grouped: 0,
            saved_slot: 0,
            dirty: true,
            storage_failure: None,
            addresses: node::Addresses::default(),
            fetched: Default::default(),
            asked: Default::default(),
            origin: None,
            from_cluster: Default::default(),
            stand_ins: Default::default(),
            plan: None,
        };
        // Genesis (slot 0) has a blockhash too: the root's until slot 31.
        net.recent_blockhashes.push_back((blockhash_of(&net.blockhash_seed, 0), 0));
        net.warp_slots(1);
        net.create_in_store()?;
        Ok(net)
    }

    /// An in-memory copy to try transactions on (previews of proposed steps): it reads
    /// through to the store, records no plan and never writes.
    pub fn fork(&self) -> Self {
        Self {
            svm: self.svm.clone(),
            ids: self.ids,
            faucet: self.faucet.insecure_clone(),
            clock_offset: self.clock_offset,
            recent_blockhashes: self.recent_blockhashes.clone(),
            blockhash_seed: self.blockhash_seed,
            slot_started_ms: self.slot_started_ms,
            slot_ms: self.slot_ms,
            time: Arc::clone(&self.time),
            prior: self.prior.clone(),
            transaction_count: self.transaction_count,
            store: Arc::clone(&self.store),
            writes: false,
            cached: self.cached.clone(),
            unsaved: self.unsaved.clone(),
            recent: self.recent.clone(),
            grouped: 0,
            saved_slot: self.saved_slot,
            dirty: false,
            storage_failure: None,
            addresses: self.addresses,
            fetched: self.fetched.clone(),
            asked: self.asked.clone(),
            origin: self.origin.clone(),
            from_cluster: self.from_cluster.clone(),
            stand_ins: self.stand_ins.clone(),
            plan: None,
        }
    }

    pub fn ids(&self) -> ProgramIds {
        self.ids
    }

    /// Where this chain is served (`localnet serve` says so once it listens).
    pub fn set_addresses(&mut self, addresses: node::Addresses) {
        self.addresses = addresses;
    }

    pub fn addresses(&self) -> node::Addresses {
        self.addresses
    }

    /// Installs the Psyche programs at `ids` (the IDs a runbook will use on its cluster), so
    /// that rehearsals address, check and CPI into the same IDs. Accounts are kept: those
    /// created under other IDs stay owned by them.
    pub fn use_program_ids(&mut self, ids: ProgramIds) {
        if ids == self.ids {
            return;
        }
        // The previous IDs hold no program any more, as on a cluster that deployed elsewhere.
        for old in [self.ids.coordinator, self.ids.authorizer, self.ids.treasurer] {
            self.svm.add_builtin(old, programs::Undeployed::vm);
        }
        install_programs(&mut self.svm, ids);
        self.ids = ids;
    }

    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    pub fn clock(&self) -> Clock {
        self.svm.get_sysvar::<Clock>()
    }

    /// The unix time the next slot will carry: the chain's time plus any advance, never going
    /// back.
    pub fn next_slot_time(&self) -> i64 {
        let now = (self.time.now_ms() / 1000) as i64;
        self.clock().unix_timestamp.max(now + self.clock_offset)
    }

    /// Switches the chain to another clock (tests hold one to move slots by hand); the
    /// current slot begins now on it.
    pub fn set_time(&mut self, time: Arc<dyn TimeSource>) {
        self.follow_clock();
        self.slot_started_ms = time.now_ms();
        self.time = time;
    }

    /// Runs `f` with the chain's time standing still but for what `f` advances itself (a
    /// simulated epoch must not lose a round to a slow machine); the clock then runs on.
    pub fn with_clock_stopped<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let running = Arc::clone(&self.time);
        self.set_time(Arc::new(time::ManualClock::at(running.now_ms())));
        let result = f(self);
        self.set_time(running);
        result
    }

    pub fn slot(&self) -> u64 {
        self.clock().slot
    }

    /// The current slot's blockhash (the `processed` level's; see `views` for the others).
    pub fn latest_blockhash(&self) -> Hash {
        self.recent_blockhashes.back().map(|(h, _)| *h).unwrap_or_default()
    }

    /// The slot whose blockhash `hash` is, among those kept.
    pub fn blockhash_slot(&self, hash: &Hash) -> Option<u64> {
        self.recent_blockhashes.iter().find(|(h, _)| h == hash).map(|(_, slot)| *slot)
    }

    /// True when the current slot accepts transactions signed with `hash`.
    pub fn is_blockhash_valid(&self, hash: &Hash) -> bool {
        self.is_blockhash_valid_at(hash, solana_commitment_config::CommitmentLevel::Processed)
    }

    /// The last block height at which the latest blockhash is still accepted.
    pub fn last_valid_block_height(&self) -> u64 {
        self.slot() + BLOCKHASH_VALIDITY_SLOTS
    }

    /// The hash a fresh chain is identified by (`getGenesisHash`).
    pub fn genesis_hash(&self) -> Hash {
        self.blockhash_seed
    }

    pub fn transaction_count(&self) -> u64 {
        self.transaction_count
    }

    /// Lets every recent blockhash expire (fault injection: a slow network).
    pub fn expire_blockhashes(&mut self) {
        self.warp_slots(BLOCKHASH_VALIDITY_SLOTS + 1);
    }

    /// Moves the clock forward (time-driven run transitions need it), and the slots with it.
    pub fn advance_clock(&mut self, seconds: u64) {
        self.follow_clock();
        self.clock_offset += seconds as i64;
        let mut clock = self.clock();
        clock.unix_timestamp += seconds as i64;
        self.svm.set_sysvar(&clock);
        self.warp_slots((seconds * 1000 / self.slot_ms).max(1));
    }

    pub fn account(&self, key: &Pubkey) -> Option<Account> {
        match self.svm.get_account(key) {
            Some(account) => Some(account).filter(|a| a.lamports > 0),
            None if self.cached.contains(key) => None,
            None => self.store.account(key),
        }
    }

    pub fn balance(&self, key: &Pubkey) -> u64 {
        self.account(key).map_or(0, |a| a.lamports)
    }

    pub fn minimum_balance(&self, size: usize) -> u64 {
        self.svm.minimum_balance_for_rent_exemption(size)
    }

    /// Every account owned by `owner` (for `getProgramAccounts`).
    pub fn program_accounts(&self, owner: &Pubkey) -> Vec<(Pubkey, AccountSharedData)> {
        self.program_accounts_sized(owner, None)
    }

    pub fn record(&self, signature: &Signature) -> Option<TxRecord> {
        self.unsaved.get(signature).cloned().or_else(|| self.store.record(signature))
    }

    /// Checks a transaction the way the bank at `level` does before running it: a blockhash it
    /// knows, and a signature it has not seen.
    pub fn admit_at(&self, tx: &VersionedTransaction, level: CommitmentLevel) -> Result<(), TransactionError> {
        if !self.is_blockhash_valid_at(tx.message.recent_blockhash(), level) {
            return Err(TransactionError::BlockhashNotFound);
        }
        let seen = tx.signatures.first().and_then(|s| self.record(s));
        if seen.is_some_and(|record| record.slot <= self.slot_at(level)) {
            return Err(TransactionError::AlreadyProcessed);
        }
        Ok(())
    }

    /// Checks a transaction the way a cluster's front door (the current bank) does.
    pub fn admit(&self, tx: &VersionedTransaction) -> Result<(), TransactionError> {
        self.admit_at(tx, CommitmentLevel::Processed)
    }

    /// Starts recording a plan of every executed transaction (for dry-runs).
    pub fn record_plan(&mut self) {
        self.plan = Some(Vec::new());
    }

    /// The plan recorded so far; recording goes on (follow mode plans each handler).
    pub fn take_plan(&mut self) -> Vec<plan::PlannedTransaction> {
        self.plan.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Writes an account directly (localnet services: airdrops, fixtures).
    pub fn set_account(&mut self, key: Pubkey, account: Account) {
        self.keep_prior_state(key);
        self.cached.insert(key);
        self.svm.set_account(key, account.clone()).expect("plain accounts can be set");
        self.persist(&[(key, Some(account))], None);
    }

    /// Keeps `key`'s state before this slot's first write of it, for `finalized` reads.
    pub(super) fn keep_prior_state(&mut self, key: Pubkey) {
        let slot = self.slot();
        if !self.prior.wrote_in(slot, &key) {
            let before = self.account(&key);
            self.prior.record(slot, key, before);
        }
    }
}

impl Drop for Localnet {
    /// What is pending is committed when the chain goes away (every path that reports a
    /// transaction commits first; this keeps the rest of the last group). A commit that fails
    /// here loses only what nothing reported.
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

impl plan::Accounts for Localnet {
    fn account(&self, key: &Pubkey) -> Option<Account> {
        Localnet::account(self, key)
    }

    fn mint_decimals(&self, mint: &Pubkey) -> Option<u8> {
        Localnet::mint_decimals(self, mint)
    }
}

/// Lamports the faucet starts with.
const FAUCET_LAMPORTS: u64 = 900_000 * solana_sdk::native_token::LAMPORTS_PER_SOL;

/// LiteSVM with its signature and repeat checks off (`execution` makes them, once per
/// transaction, where a validator does), our own blockhash window instead of its
/// single-blockhash check, the Psyche-compatible programs installed and the Squads program config in place (a
/// chain opened from its store puts its own in its place, when it has one).
fn new_svm() -> LiteSVM {
    new_svm_with(&[])
}

/// A new VM with the cluster features `features` active (a fork's); with none, the VM's own
/// set (mainnet-beta's, as LiteSVM captured it).
fn new_svm_with(features: &[(Pubkey, u64)]) -> LiteSVM {
    let svm = if features.is_empty() {
        LiteSVM::new()
    } else {
        let mut set = agave_feature_set::FeatureSet::default();
        for (feature, slot) in features {
            set.activate(feature, *slot);
        }
        LiteSVM::default()
            .with_feature_set(set)
            .with_builtins()
            .with_lamports(1_000_000 * solana_sdk::native_token::LAMPORTS_PER_SOL)
            .with_sysvars()
            .with_feature_accounts()
            .with_default_programs()
    };
    let mut svm = svm.with_sigverify(false).with_blockhash_check(false).with_transaction_history(0);
    install_programs(&mut svm, ProgramIds::default());
    let rent_exempt = svm.minimum_balance_for_rent_exemption(crate::squads::accounts::ProgramConfig::SIZE);
    let (address, account) = genesis::program_config(rent_exempt);
    svm.set_account(address, account).expect("plain accounts can be set");
    svm
}

/// Installs the three Psyche-compatible programs as builtins at `ids`, and the Squads v4
/// program at its upstream ID.
fn install_programs(svm: &mut LiteSVM, ids: ProgramIds) {
    svm.add_builtin(ids.coordinator, programs::coordinator::Entrypoint::vm);
    svm.add_builtin(ids.authorizer, programs::authorizer::Entrypoint::vm);
    svm.add_builtin(ids.treasurer, programs::treasurer::Entrypoint::vm);
    svm.add_builtin(crate::squads::PROGRAM_ID, programs::squads::Entrypoint::vm);
}
