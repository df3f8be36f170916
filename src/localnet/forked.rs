//! A localnet that follows a cluster: accounts it lacks are read from the cluster the first
//! time anything asks for them (`upstream` reads them), then kept. A dry-run's fork keeps them
//! in memory for one execution; a fork made by `localnet fork` keeps them in its database
//! (`store::fork`), with what the cluster answered absent, so nothing is asked twice.
//!
//! On a fork made by `localnet fork` the cluster's programs run where the cluster holds them as
//! bytecode (a loader v1–v4 program; an upgradeable one's programdata goes into the VM first):
//! the VM's own (a model of a Psyche or Squads program, a bundled SPL program) stands in only
//! where the cluster's cannot be loaded (a builtin, a model served by another localnet).

use crate::chain::programs::program_data_address;
use crate::localnet::Localnet;
use crate::localnet::persist::is_stored;
use crate::localnet::store::{Origin, StoreError};
use crate::squads;
use solana_sdk::account::Account;
use solana_sdk::pubkey::Pubkey;

const BYTECODE_LOADERS: [Pubkey; 4] = [
    solana_sdk::pubkey!("BPFLoader1111111111111111111111111111111111"),
    solana_sdk::pubkey!("BPFLoader2111111111111111111111111111111111"),
    solana_sdk::pubkey!("BPFLoaderUpgradeab1e11111111111111111111111"),
    solana_sdk::pubkey!("LoaderV411111111111111111111111111111111111"),
];

/// True for a program account the VM loads and runs as deployed.
pub fn is_bytecode(account: &Account) -> bool {
    account.executable && BYTECODE_LOADERS.contains(&account.owner)
}

/// The slot a programdata account says its program was last deployed at.
fn deployed_slot(program: &Pubkey, account: &Account, programdata: Option<&Account>) -> Option<u64> {
    match crate::chain::programs::deployment(&Default::default(), program, Some(account), programdata).state {
        crate::chain::programs::DeploymentState::Deployed { deployed_slot } => deployed_slot,
        _ => None,
    }
}

/// The programs a fork reports on by name: Psyche's (at `ids`), Squads and the SPL programs.
pub fn known_programs(ids: &crate::psyche::ids::ProgramIds) -> Vec<(&'static str, Pubkey)> {
    vec![
        ("coordinator", ids.coordinator),
        ("authorizer", ids.authorizer),
        ("treasurer", ids.treasurer),
        ("squads", squads::PROGRAM_ID),
        ("spl-token", crate::psyche::ids::TOKEN),
        ("token-2022", solana_sdk::pubkey!("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")),
        ("associated", crate::psyche::ids::ASSOCIATED_TOKEN),
        ("memo", solana_sdk::pubkey!("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr")),
    ]
}

impl Localnet {
    /// The cluster this chain was forked from by `localnet fork`.
    pub fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }

    /// True when `key` should be read from the forked cluster before use: neither read nor
    /// written here yet. The genesis Squads program config stands in until the cluster's own
    /// is read, and on a `localnet fork` so do the VM's own programs.
    pub fn needs_fetch(&self, key: &Pubkey) -> bool {
        if self.fetched.contains(key) {
            return false;
        }
        match self.account(key) {
            None => true,
            Some(_) if *key == squads::pdas::program_config() => true,
            Some(account) => self.origin.is_some() && account.executable,
        }
    }

    /// Adds accounts read from the forked cluster (None: it has none there); on a `localnet
    /// fork` they are kept in its database. Programdata goes into the VM before programs.
    pub fn insert_fetched(&mut self, mut fetched: Vec<(Pubkey, Option<Account>)>) {
        fetched.sort_by_key(|(_, account)| account.as_ref().is_some_and(|a| a.executable));
        let mut accounts = Vec::new();
        let mut kept = Vec::new();
        for (key, account) in &fetched {
            self.fetched.insert(*key);
            self.cached.insert(*key);
            match account {
                // A builtin, or a model another localnet serves: the VM's own runs.
                Some(a) if a.executable && !is_bytecode(a) => kept.push((*key, None)),
                Some(a) => {
                    if self.svm.set_account(*key, a.clone()).is_err() {
                        // Bytecode the VM cannot load (a closed program): the VM's own runs.
                        kept.push((*key, None));
                        continue;
                    }
                    if is_bytecode(a) {
                        self.from_cluster.insert(*key);
                    }
                    if is_stored(a) {
                        accounts.push((*key, Some(a.clone())));
                        kept.push((*key, None));
                    } else {
                        kept.push((*key, Some(a.clone())));
                    }
                }
                None if *key == squads::pdas::program_config() => {
                    let _ = self.svm.set_account(*key, Account::default());
                    kept.push((*key, None));
                }
                // Absent there: so it is here (a program the VM has stays the VM's own).
                None => {
                    if self.svm.get_account(key).is_some_and(|a| !a.executable) {
                        let _ = self.svm.set_account(*key, Account::default());
                        accounts.push((*key, None));
                    }
                    kept.push((*key, None));
                }
            }
        }
        if self.origin.is_none() || !self.writes {
            return;
        }
        let refs: Vec<(Pubkey, Option<&Account>)> = kept.iter().map(|(k, a)| (*k, a.as_ref())).collect();
        if let Err(err) = self.store.put_fetched(&refs) {
            self.storage_failure = Some(err.to_string());
            return;
        }
        if accounts.is_empty() {
            let _ = self.flush();
        } else {
            self.persist_read(&accounts, None);
        }
    }

    /// How many accounts were read from the forked cluster (present or absent there).
    pub fn read_count(&self) -> usize {
        self.fetched.len()
    }

    /// What a chain that keeps nothing (a reader of a fork) read from the cluster: the
    /// accounts as read, and the query shapes answered.
    pub fn read_this_session(&self) -> (Vec<(Pubkey, Option<Account>)>, Vec<String>) {
        let accounts = self.fetched.iter().map(|key| (*key, self.svm.get_account(key))).collect();
        (accounts, self.asked.iter().cloned().collect())
    }

    /// True when the forked cluster already answered a program-account query of `shape`.
    pub fn was_asked(&self, shape: &str) -> bool {
        self.asked.contains(shape) || (self.origin.is_some() && self.store.query_asked(shape))
    }

    /// Notes that the forked cluster answered a query of `shape` (its accounts are in).
    pub fn asked(&mut self, shape: &str) {
        self.asked.insert(shape.to_string());
        if self.origin.is_some() && self.writes {
            if let Err(err) = self.store.put_query(shape) {
                self.storage_failure = Some(err.to_string());
                return;
            }
            let _ = self.flush();
        }
    }

    /// What a refresh reads again: every account read from the cluster that the fork has not
    /// written since; the program-account queries are asked again too.
    pub fn forget_reads(&mut self) -> Result<Vec<Pubkey>, String> {
        let written: std::collections::HashSet<Pubkey> =
            self.store.written().map_err(|e| e.to_string())?.into_iter().collect();
        self.store.forget_queries().map_err(|e| e.to_string())?;
        self.asked.clear();
        Ok(self.fetched.iter().filter(|key| !written.contains(key)).copied().collect())
    }

    /// A fork reopened: what it read from its cluster, programs into the VM (programdata
    /// first).
    pub(super) fn resume_fork(&mut self) -> Result<(), StoreError> {
        let fetched = self.store.fetched()?;
        self.fetched.extend(fetched.keys);
        let mut programs = fetched.programs;
        programs.sort_by_key(|(_, account)| account.executable);
        for (key, account) in programs {
            self.cached.insert(key);
            if is_bytecode(&account) {
                self.from_cluster.insert(key);
            }
            let _ = self.svm.set_account(key, account);
        }
        Ok(())
    }

    /// Makes this new chain a fork of `origin`: its clock and slot continue from the
    /// cluster's (`slot`, `unix_timestamp`), and its VM takes the cluster's `features` when it
    /// is next opened.
    pub fn become_fork(
        &mut self,
        origin: Origin,
        features: &[(Pubkey, u64)],
        unix_timestamp: i64,
    ) -> Result<(), crate::localnet::persist::StorageFailure> {
        let failed = |e: StoreError| crate::localnet::persist::StorageFailure(e.to_string());
        self.store.set_origin(&origin, features).map_err(failed)?;
        let now = (self.time.now_ms() / 1000) as i64;
        self.clock_offset = unix_timestamp - now;
        let mut clock = self.clock();
        clock.unix_timestamp = unix_timestamp;
        self.svm.set_sysvar(&clock);
        self.warp_slots(origin.slot.saturating_sub(self.slot()));
        self.origin = Some(origin);
        self.flush()
    }

    /// Lets transactions carry signatures of `key` that do not verify: a rehearsal on a fork
    /// signs as an authority whose key it does not hold. Only a `localnet fork` takes them.
    pub fn stand_in(&mut self, key: Pubkey) -> Result<(), String> {
        if self.origin.is_none() {
            return Err("only a fork made by `localnet fork` takes pubkey-only signers".into());
        }
        self.stand_ins.insert(key);
        Ok(())
    }

    /// True when every signature of `tx` verifies, or belongs to a stand-in.
    pub fn signatures_hold(&self, tx: &solana_sdk::transaction::VersionedTransaction) -> bool {
        let keys = tx.message.static_account_keys();
        tx.verify_with_results()
            .iter()
            .enumerate()
            .all(|(i, ok)| *ok || keys.get(i).is_some_and(|k| self.stand_ins.contains(k)))
    }

    /// Which code runs for each of `programs` on this fork.
    pub fn program_sources(&self, programs: &[Pubkey]) -> Vec<(Pubkey, ProgramSource)> {
        programs
            .iter()
            .map(|key| {
                let source = if self.from_cluster.contains(key) {
                    let deployed = self.svm.get_account(key).and_then(|program| {
                        let programdata = program_data_address(&program).and_then(|p| self.svm.get_account(&p));
                        deployed_slot(key, &program, programdata.as_ref())
                    });
                    ProgramSource::Cluster { deployed }
                } else if !self.fetched.contains(key) {
                    ProgramSource::NotRead
                } else if self.svm.get_account(key).is_some() {
                    ProgramSource::Model
                } else {
                    ProgramSource::Absent
                };
                (*key, source)
            })
            .collect()
    }
}

/// Which code runs for a program on a fork.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramSource {
    /// The cluster's bytecode, last deployed at this slot (when the loader says).
    Cluster { deployed: Option<u64> },
    /// The VM's own: a model, or a bundled SPL program (the cluster's is not bytecode).
    Model,
    /// Not read from the cluster yet: the VM's own runs until it is.
    NotRead,
    /// Neither the cluster nor the VM has it.
    Absent,
}

impl ProgramSource {
    pub fn describe(&self) -> String {
        match self {
            ProgramSource::Cluster { deployed: Some(slot) } => {
                format!("the cluster's bytecode (deployed at slot {slot})")
            }
            ProgramSource::Cluster { deployed: None } => "the cluster's bytecode (not upgradeable)".into(),
            ProgramSource::Model => "the embedded one (the cluster holds no bytecode there)".into(),
            ProgramSource::NotRead => "the embedded one until the cluster's is read".into(),
            ProgramSource::Absent => "absent".into(),
        }
    }
}
