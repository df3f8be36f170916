//! Persistence of the whole chain (accounts, clock, slot and when it began, recent blockhashes
//! and their seed, transaction history, faucet key) in one file: a magic, a version byte and a
//! bincode body. Saved through a temp file, fsync and rename, so a process killed mid-write
//! leaves the previous state intact. Older versions load through the upgrade chain in `load`
//! (version 1, from before slots followed the clock, gains a seed, a slot start and empty
//! status extras); newer ones are refused by name.

use crate::localnet::chain_params::DEFAULT_SLOT_MS;
use crate::localnet::commitment::PriorStates;
use crate::localnet::status_meta::StatusMeta;
use crate::localnet::time::{self, TimeSource, wall_ms};
use crate::localnet::{Localnet, TxRecord, new_svm};
use crate::psyche::ids::ProgramIds;
use serde::{Deserialize, Serialize};
use solana_sdk::account::{Account, ReadableAccount};
use solana_sdk::clock::Clock;
use solana_sdk::hash::Hash;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signature};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

pub const STATE_FILE: &str = "state.bin";
const MAGIC: &[u8; 8] = b"PSYRBLN\0";
pub const VERSION: u8 = 2;

/// Owners of accounts a fresh chain already has (programs, sysvars, features): not saved.
const BUILT_IN_OWNERS: [Pubkey; 7] = [
    solana_sdk::pubkey!("NativeLoader1111111111111111111111111111111"),
    solana_sdk::pubkey!("BPFLoader1111111111111111111111111111111111"),
    solana_sdk::pubkey!("BPFLoader2111111111111111111111111111111111"),
    solana_sdk::pubkey!("BPFLoaderUpgradeab1e11111111111111111111111"),
    solana_sdk::pubkey!("LoaderV411111111111111111111111111111111111"),
    solana_sdk::pubkey!("Sysvar1111111111111111111111111111111111111"),
    solana_sdk::pubkey!("Feature111111111111111111111111111111111111"),
];

#[derive(Serialize, Deserialize)]
struct StoredAccount {
    key: [u8; 32],
    lamports: u64,
    data: Vec<u8>,
    owner: [u8; 32],
    executable: bool,
    rent_epoch: u64,
}

#[derive(Serialize, Deserialize)]
struct SnapshotV2 {
    slot: u64,
    /// Wall-clock milliseconds at which `slot` began.
    slot_started_ms: u64,
    unix_timestamp: i64,
    clock_offset: i64,
    blockhash_seed: [u8; 32],
    blockhashes: Vec<([u8; 32], u64)>,
    transaction_count: u64,
    faucet: Vec<u8>,
    accounts: Vec<StoredAccount>,
    history: Vec<(Vec<u8>, TxRecord)>,
}

/// Version 1: one slot per transaction, no status extras.
#[derive(Serialize, Deserialize)]
struct SnapshotV1 {
    slot: u64,
    unix_timestamp: i64,
    clock_offset: i64,
    blockhashes: Vec<([u8; 32], u64)>,
    faucet: Vec<u8>,
    accounts: Vec<StoredAccount>,
    history: Vec<(Vec<u8>, TxRecordV1)>,
}

#[derive(Serialize, Deserialize)]
struct TxRecordV1 {
    slot: u64,
    block_time: i64,
    err: Option<solana_sdk::transaction::TransactionError>,
    logs: Vec<String>,
    fee: u64,
    compute_units: u64,
    pre_balances: Vec<u64>,
    post_balances: Vec<u64>,
    transaction: Vec<u8>,
}

impl SnapshotV1 {
    /// The chain as it was, its current slot starting now; blockhashes already handed out stay
    /// valid (new ones derive from a seed taken from the latest).
    fn upgrade(self) -> SnapshotV2 {
        let seed = self.blockhashes.last().map_or([7; 32], |(h, _)| *h);
        SnapshotV2 {
            slot: self.slot,
            slot_started_ms: wall_ms(),
            unix_timestamp: self.unix_timestamp,
            clock_offset: self.clock_offset,
            blockhash_seed: seed,
            blockhashes: self.blockhashes,
            transaction_count: self.history.len() as u64,
            faucet: self.faucet,
            accounts: self.accounts,
            history: self
                .history
                .into_iter()
                .map(|(signature, r)| {
                    let record = TxRecord {
                        slot: r.slot,
                        block_time: r.block_time,
                        err: r.err,
                        logs: r.logs,
                        fee: r.fee,
                        compute_units: r.compute_units,
                        pre_balances: r.pre_balances,
                        post_balances: r.post_balances,
                        transaction: r.transaction,
                        status: StatusMeta::default(),
                    };
                    (signature, record)
                })
                .collect(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: not a psyche-runbook localnet state file")]
    NotAStateFile { path: String },
    #[error("{path}: state file version {found} is newer than this build, which reads up to version {VERSION}")]
    UnknownVersion { path: String, found: u8 },
    #[error("{path}: corrupt state file: {message}")]
    Corrupt { path: String, message: String },
}

impl Localnet {
    fn to_snapshot(&self) -> SnapshotV2 {
        let clock = self.clock();
        let mut accounts: Vec<StoredAccount> = self
            .svm
            .accounts_db()
            .inner
            .iter()
            .filter(|(_, a)| !BUILT_IN_OWNERS.contains(a.owner()) && !a.executable())
            .map(|(key, a)| StoredAccount {
                key: key.to_bytes(),
                lamports: a.lamports(),
                data: a.data().to_vec(),
                owner: a.owner().to_bytes(),
                executable: a.executable(),
                rent_epoch: a.rent_epoch(),
            })
            .collect();
        accounts.sort_by_key(|a| a.key);
        SnapshotV2 {
            slot: clock.slot,
            slot_started_ms: self.slot_started_ms,
            unix_timestamp: clock.unix_timestamp,
            clock_offset: self.clock_offset,
            blockhash_seed: self.blockhash_seed.to_bytes(),
            blockhashes: self.recent_blockhashes.iter().map(|(h, s)| (h.to_bytes(), *s)).collect(),
            transaction_count: self.transaction_count,
            faucet: self.faucet.to_bytes().to_vec(),
            accounts,
            history: self
                .history_order
                .iter()
                .filter_map(|s| self.history.get(s).map(|r| (s.as_ref().to_vec(), r.clone())))
                .collect(),
        }
    }

    fn from_snapshot(s: SnapshotV2) -> Result<Self, String> {
        let mut svm = new_svm();
        let faucet = Keypair::try_from(s.faucet.as_slice()).map_err(|_| "faucet key is not a keypair")?;
        let mut clock: Clock = svm.get_sysvar();
        clock.slot = s.slot;
        clock.unix_timestamp = s.unix_timestamp;
        svm.set_sysvar(&clock);
        for a in s.accounts {
            let account = Account {
                lamports: a.lamports,
                data: a.data,
                owner: Pubkey::new_from_array(a.owner),
                executable: a.executable,
                rent_epoch: a.rent_epoch,
            };
            svm.set_account(Pubkey::new_from_array(a.key), account)
                .map_err(|e| format!("account {}: {e:?}", Pubkey::new_from_array(a.key)))?;
        }
        let recent_blockhashes = s.blockhashes.into_iter().map(|(h, slot)| (Hash::new_from_array(h), slot)).collect();
        let net = Localnet {
            svm,
            ids: ProgramIds::default(),
            faucet,
            clock_offset: s.clock_offset,
            recent_blockhashes,
            blockhash_seed: Hash::new_from_array(s.blockhash_seed),
            slot_started_ms: s.slot_started_ms,
            slot_ms: DEFAULT_SLOT_MS,
            time: time::wall_clock(),
            prior: PriorStates::default(),
            transaction_count: s.transaction_count,
            history: Default::default(),
            history_order: Default::default(),
            dirty: false,
            fetched: Default::default(),
            plan: None,
        };
        let mut net = net;
        for (signature, record) in s.history {
            let signature = Signature::try_from(signature.as_slice()).map_err(|_| "bad signature in history")?;
            net.history.insert(signature, record);
            net.history_order.push_back(signature);
        }
        Ok(net)
    }

    /// Writes the state atomically: temp file, fsync, rename, fsync of the directory.
    pub fn save(&mut self, dir: &Path) -> Result<(), StoreError> {
        let path = dir.join(STATE_FILE);
        let io = |source| StoreError::Io { path: path.display().to_string(), source };
        crate::files::private::private_dir(dir).map_err(io)?;
        let mut bytes = MAGIC.to_vec();
        bytes.push(VERSION);
        bytes.extend(bincode::serialize(&self.to_snapshot()).expect("snapshots serialize"));
        let tmp = dir.join(format!("{STATE_FILE}.tmp"));
        let mut file = crate::files::private::create_private(&tmp).map_err(io)?;
        file.write_all(&bytes).and_then(|()| file.sync_all()).map_err(io)?;
        drop(file);
        std::fs::rename(&tmp, &path).map_err(io)?;
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        self.mark_saved();
        Ok(())
    }

    /// Loads the state in `dir`, or a fresh chain when there is none yet, on the wall clock.
    pub fn load(dir: &Path) -> Result<Self, StoreError> {
        Self::load_on(dir, time::wall_clock())
    }

    /// `load`, the chain's slots following `time` from where the saved state left them.
    pub fn load_on(dir: &Path, time: Arc<dyn TimeSource>) -> Result<Self, StoreError> {
        let mut net = Self::load_state(dir, &time)?;
        net.time = time;
        Ok(net)
    }

    fn load_state(dir: &Path, time: &Arc<dyn TimeSource>) -> Result<Self, StoreError> {
        let path = dir.join(STATE_FILE);
        let name = path.display().to_string();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Localnet::with_time(Arc::clone(time))),
            Err(source) => return Err(StoreError::Io { path: name, source }),
        };
        if bytes.len() < MAGIC.len() + 1 || &bytes[..MAGIC.len()] != MAGIC {
            return Err(StoreError::NotAStateFile { path: name });
        }
        let body = &bytes[MAGIC.len() + 1..];
        let corrupt = |message: String| StoreError::Corrupt { path: name.clone(), message };
        match bytes[MAGIC.len()] {
            1 => {
                let snapshot: SnapshotV1 = bincode::deserialize(body).map_err(|e| corrupt(e.to_string()))?;
                let mut net = Localnet::from_snapshot(snapshot.upgrade()).map_err(corrupt)?;
                // Saved in the current version at the next save, even if nothing else changes.
                net.dirty = true;
                Ok(net)
            }
            2 => {
                let snapshot: SnapshotV2 = bincode::deserialize(body).map_err(|e| corrupt(e.to_string()))?;
                Localnet::from_snapshot(snapshot).map_err(corrupt)
            }
            found => Err(StoreError::UnknownVersion { path: name, found }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_ignores_a_torn_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut net = Localnet::new();
        let key = Pubkey::new_unique();
        net.airdrop(&key, 4_200_000).unwrap();
        net.save(dir.path()).unwrap();
        // A crash mid-save leaves at most a partial temp file next to the real one.
        std::fs::write(dir.path().join(format!("{STATE_FILE}.tmp")), b"PSYRBLN\0\x01garbage").unwrap();
        let loaded = Localnet::load(dir.path()).unwrap();
        assert_eq!(loaded.balance(&key), 4_200_000);
        assert_eq!(loaded.slot(), net.slot());
        assert_eq!(loaded.latest_blockhash(), net.latest_blockhash());
    }

    #[test]
    fn version_1_state_upgrades_keeping_balances_history_and_blockhashes() {
        let dir = tempfile::tempdir().unwrap();
        let mut net = Localnet::new();
        let key = Pubkey::new_unique();
        let signature = net.airdrop(&key, 1_000_000).unwrap();
        let current = net.to_snapshot();
        let v1 = SnapshotV1 {
            slot: current.slot,
            unix_timestamp: current.unix_timestamp,
            clock_offset: current.clock_offset,
            blockhashes: current.blockhashes,
            faucet: current.faucet,
            accounts: current.accounts,
            history: current
                .history
                .into_iter()
                .map(|(signature, r)| {
                    let old = TxRecordV1 {
                        slot: r.slot,
                        block_time: r.block_time,
                        err: r.err,
                        logs: r.logs,
                        fee: r.fee,
                        compute_units: r.compute_units,
                        pre_balances: r.pre_balances,
                        post_balances: r.post_balances,
                        transaction: r.transaction,
                    };
                    (signature, old)
                })
                .collect(),
        };
        let mut bytes = MAGIC.to_vec();
        bytes.push(1);
        bytes.extend(bincode::serialize(&v1).unwrap());
        std::fs::write(dir.path().join(STATE_FILE), bytes).unwrap();
        let loaded = Localnet::load(dir.path()).unwrap();
        assert_eq!(loaded.balance(&key), 1_000_000);
        assert!(loaded.record(&signature).is_some());
        assert!(loaded.is_blockhash_valid(&net.latest_blockhash()), "blockhashes handed out stay valid");
        assert!(loaded.is_dirty(), "the upgrade is saved at the next save");
    }

    #[test]
    fn a_state_saved_without_the_squads_program_config_gains_it_on_load() {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::squads::pdas::program_config();
        let mut snapshot = Localnet::new().to_snapshot();
        snapshot.accounts.retain(|a| a.key != config.to_bytes());
        let mut bytes = MAGIC.to_vec();
        bytes.push(VERSION);
        bytes.extend(bincode::serialize(&snapshot).unwrap());
        std::fs::write(dir.path().join(STATE_FILE), bytes).unwrap();
        let loaded = Localnet::load(dir.path()).unwrap();
        let account = loaded.account(&config).expect("the program config is part of every chain");
        let decoded =
            <crate::squads::accounts::ProgramConfig as crate::psyche::accounts::BorshAccount>::decode(&account.data)
                .unwrap();
        assert_eq!(decoded.treasury, crate::localnet::genesis::PROGRAM_CONFIG_TREASURY);
        assert_eq!(account.owner, crate::squads::PROGRAM_ID);
    }

    #[test]
    fn unknown_versions_and_foreign_files_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(STATE_FILE), b"PSYRBLN\0\x09").unwrap();
        let err = Localnet::load(dir.path()).err().unwrap().to_string();
        assert!(err.contains("version 9 is newer than this build"), "{err}");
        std::fs::write(dir.path().join(STATE_FILE), b"{}").unwrap();
        let err = Localnet::load(dir.path()).err().unwrap().to_string();
        assert!(err.contains("not a psyche-runbook localnet state file"), "{err}");
    }
}
