//! The values the store takes and gives: what a chain is born with, its slot state, one
//! change to commit (accounts, a landed transaction, the slot state), and the errors opening
//! or reading a localnet can meet.

use crate::localnet::tx_record::TxRecord;
use solana_sdk::account::Account;
use solana_sdk::hash::Hash;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signature;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: {source}")]
    Database { path: String, source: rusqlite::Error },
    #[error("{path}: not a psyche-runbook localnet database")]
    NotADatabase { path: String },
    #[error("{path}: database schema version {found} is newer than this build, which reads up to version {known}")]
    UnknownSchema { path: String, found: i64, known: i64 },
    #[error("{path}: not a psyche-runbook localnet state file")]
    NotAStateFile { path: String },
    #[error("{path}: state file version {found} is newer than this build, which reads up to version {known}")]
    UnknownStateVersion { path: String, found: u8, known: u8 },
    #[error("{path}: corrupt state: {message}")]
    Corrupt { path: String, message: String },
    /// Another process holds the localnet directory (`localnet serve`, another run).
    #[error("{path} is held by {holder} (localnet serve, or another run on this localnet) after {seconds} s")]
    Locked { path: String, holder: String, seconds: u64 },
}

/// What a chain is born with and never changes.
#[derive(Clone)]
pub struct Genesis {
    /// The faucet's keypair bytes.
    pub faucet: Vec<u8>,
    /// Seeds every slot's blockhash (also the genesis hash).
    pub blockhash_seed: Hash,
}

/// The slot state written with every commit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChainState {
    pub slot: u64,
    /// Wall-clock milliseconds at which `slot` began.
    pub slot_started_ms: u64,
    pub unix_timestamp: i64,
    pub clock_offset: i64,
    pub transaction_count: u64,
}

/// A chain as the database holds it, when it holds one.
pub struct Saved {
    pub genesis: Genesis,
    pub state: ChainState,
    pub blockhashes: Vec<(Hash, u64)>,
}

/// A transaction that landed, as it goes into the history.
pub struct Landed<'a> {
    pub signature: Signature,
    pub record: &'a TxRecord,
    /// Every address the transaction names (static keys and looked-up ones).
    pub mentions: &'a [Pubkey],
}

/// One change to the chain (a group of transactions, a service's write), committed whole or
/// not at all.
pub struct Commit<'a> {
    /// Accounts as they are now; None (or no lamports) removes one.
    pub accounts: &'a [(Pubkey, Option<Account>)],
    /// Transactions that landed, in landing order.
    pub landed: &'a [Landed<'a>],
    pub state: ChainState,
    /// The recent blockhashes, when they changed since the last commit.
    pub blockhashes: Option<&'a [(Hash, u64)]>,
}

/// The cluster a forked localnet started from.
#[derive(Clone, Debug, PartialEq)]
pub struct Origin {
    /// Its RPC URL, credentials included: kept in the database (0600) only, never shown.
    pub url: String,
    /// Its display name (a moniker, or the URL's scheme, host and port).
    pub name: String,
    pub genesis: String,
    /// The cluster's slot when the fork was made.
    pub slot: u64,
    pub created_ms: u64,
}
