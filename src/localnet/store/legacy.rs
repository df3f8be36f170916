//! The state file of earlier releases, `state.bin`: a magic, a version byte and a bincode body
//! holding the whole chain. Read only to migrate it into the database (version 1, from before
//! slots followed the clock, gains a seed, a slot start and empty status extras); newer
//! versions and foreign files are refused by name.

use crate::localnet::status_meta::StatusMeta;
use crate::localnet::store::types::{ChainState, Genesis, StoreError};
use crate::localnet::time::wall_ms;
use crate::localnet::tx_record::TxRecord;
use serde::{Deserialize, Serialize};
use solana_sdk::account::Account;
use solana_sdk::hash::Hash;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signature;
use std::path::Path;

pub const STATE_FILE: &str = "state.bin";
pub const MAGIC: &[u8; 8] = b"PSYRBLN\0";
/// The newest state file version there was.
pub const LAST_VERSION: u8 = 2;

#[derive(Serialize, Deserialize)]
pub struct StoredAccount {
    pub key: [u8; 32],
    pub lamports: u64,
    pub data: Vec<u8>,
    pub owner: [u8; 32],
    pub executable: bool,
    pub rent_epoch: u64,
}

#[derive(Serialize, Deserialize)]
pub struct SnapshotV2 {
    pub slot: u64,
    /// Wall-clock milliseconds at which `slot` began.
    pub slot_started_ms: u64,
    pub unix_timestamp: i64,
    pub clock_offset: i64,
    pub blockhash_seed: [u8; 32],
    pub blockhashes: Vec<([u8; 32], u64)>,
    pub transaction_count: u64,
    pub faucet: Vec<u8>,
    pub accounts: Vec<StoredAccount>,
    pub history: Vec<(Vec<u8>, TxRecord)>,
}

/// Version 1: one slot per transaction, no status extras.
#[derive(Serialize, Deserialize)]
pub struct SnapshotV1 {
    pub slot: u64,
    pub unix_timestamp: i64,
    pub clock_offset: i64,
    pub blockhashes: Vec<([u8; 32], u64)>,
    pub faucet: Vec<u8>,
    pub accounts: Vec<StoredAccount>,
    pub history: Vec<(Vec<u8>, TxRecordV1)>,
}

#[derive(Serialize, Deserialize)]
pub struct TxRecordV1 {
    pub slot: u64,
    pub block_time: i64,
    pub err: Option<solana_sdk::transaction::TransactionError>,
    pub logs: Vec<String>,
    pub fee: u64,
    pub compute_units: u64,
    pub pre_balances: Vec<u64>,
    pub post_balances: Vec<u64>,
    pub transaction: Vec<u8>,
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

/// A whole chain read from a state file, ready to be written into the database.
pub struct Legacy {
    pub genesis: Genesis,
    pub state: ChainState,
    pub blockhashes: Vec<(Hash, u64)>,
    pub accounts: Vec<(Pubkey, Account)>,
    /// Oldest first.
    pub history: Vec<(Signature, TxRecord)>,
}

/// Reads `dir`'s state file; None when there is none.
pub fn read(dir: &Path) -> Result<Option<Legacy>, StoreError> {
    let path = dir.join(STATE_FILE);
    let name = path.display().to_string();
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(StoreError::Io { path: name, source }),
    };
    decode(&bytes, &name).map(Some)
}

fn decode(bytes: &[u8], name: &str) -> Result<Legacy, StoreError> {
    if bytes.len() < MAGIC.len() + 1 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(StoreError::NotAStateFile { path: name.to_string() });
    }
    let body = &bytes[MAGIC.len() + 1..];
    let corrupt = |message: String| StoreError::Corrupt { path: name.to_string(), message };
    let snapshot = match bytes[MAGIC.len()] {
        1 => bincode::deserialize::<SnapshotV1>(body).map_err(|e| corrupt(e.to_string()))?.upgrade(),
        2 => bincode::deserialize::<SnapshotV2>(body).map_err(|e| corrupt(e.to_string()))?,
        found => {
            return Err(StoreError::UnknownStateVersion { path: name.to_string(), found, known: LAST_VERSION });
        }
    };
    let mut history = Vec::with_capacity(snapshot.history.len());
    for (signature, record) in snapshot.history {
        let signature =
            Signature::try_from(signature.as_slice()).map_err(|_| corrupt("a bad signature in the history".into()))?;
        history.push((signature, record));
    }
    Ok(Legacy {
        genesis: Genesis { faucet: snapshot.faucet, blockhash_seed: Hash::new_from_array(snapshot.blockhash_seed) },
        state: ChainState {
            slot: snapshot.slot,
            slot_started_ms: snapshot.slot_started_ms,
            unix_timestamp: snapshot.unix_timestamp,
            clock_offset: snapshot.clock_offset,
            transaction_count: snapshot.transaction_count,
        },
        blockhashes: snapshot.blockhashes.into_iter().map(|(h, slot)| (Hash::new_from_array(h), slot)).collect(),
        accounts: snapshot
            .accounts
            .into_iter()
            .map(|a| {
                let account = Account {
                    lamports: a.lamports,
                    data: a.data,
                    owner: Pubkey::new_from_array(a.owner),
                    executable: a.executable,
                    rent_epoch: a.rent_epoch,
                };
                (Pubkey::new_from_array(a.key), account)
            })
            .collect(),
        history,
    })
}

/// A state file's bytes for `snapshot` at `version` (tests of the migration write old files).
pub fn encode<T: Serialize>(version: u8, snapshot: &T) -> Vec<u8> {
    let mut bytes = MAGIC.to_vec();
    bytes.push(version);
    bytes.extend(bincode::serialize(snapshot).expect("snapshots serialize"));
    bytes
}
