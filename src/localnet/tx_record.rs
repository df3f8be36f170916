//! What the chain keeps about a transaction after it ran: its result, logs, fee, balances and
//! what a validator records beyond them, with the transaction as sent. The store persists it;
//! `getTransaction`, `getBlock` and `getSignaturesForAddress` read it.

use crate::localnet::status_meta::StatusMeta;
use solana_sdk::transaction::TransactionError;

/// What happened to a transaction, kept after it ran.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TxRecord {
    pub slot: u64,
    pub block_time: i64,
    pub err: Option<TransactionError>,
    pub logs: Vec<String>,
    pub fee: u64,
    pub compute_units: u64,
    /// Lamports of the transaction's accounts before and after, in message order.
    pub pre_balances: Vec<u64>,
    pub post_balances: Vec<u64>,
    /// The transaction as sent (bincode), for `getTransaction`.
    pub transaction: Vec<u8>,
    /// What a validator records beyond the result (inner instructions, token balances, costs).
    pub status: StatusMeta,
}
