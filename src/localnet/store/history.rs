//! The transaction history as the database indexes it: records in landing order (`seq`), the
//! slot each landed in, and one row per address a transaction mentions. Pages for
//! `getSignaturesForAddress` walk an address's rows newest first; blocks are the slots that
//! hold transactions; retention prunes the oldest records on request.

use crate::localnet::store::rows;
use crate::localnet::tx_record::TxRecord;
use rusqlite::{Connection, OptionalExtension, params};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signature;
use solana_sdk::transaction::VersionedTransaction;
use std::sync::MutexGuard;

/// The addresses a recorded transaction names in its message (a state file's records carry
/// no looked-up addresses).
pub fn static_keys(record: &TxRecord) -> Vec<Pubkey> {
    bincode::deserialize::<VersionedTransaction>(&record.transaction)
        .map(|tx| tx.message.static_account_keys().to_vec())
        .unwrap_or_default()
}

/// A page of an address's history: newest first, strictly before `before` and after `until`
/// (signatures), in slots up to `max_slot`.
pub struct Page {
    pub address: Pubkey,
    pub before: Option<Signature>,
    pub until: Option<Signature>,
    pub limit: usize,
    pub max_slot: u64,
}

/// What retention keeps of the history (`localnet prune-history`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Retention {
    /// Keep at most this many of the newest records.
    pub max_records: Option<u64>,
    /// Keep only records of the last this many slots before `current_slot`.
    pub max_slots: Option<u64>,
    pub current_slot: u64,
}

/// The history, read under the store's connection.
pub struct History<'a> {
    conn: MutexGuard<'a, Connection>,
}

impl<'a> History<'a> {
    pub fn new(conn: MutexGuard<'a, Connection>) -> Self {
        Self { conn }
    }

    fn seq_of(&self, signature: &Signature) -> rusqlite::Result<Option<i64>> {
        self.conn
            .prepare_cached("SELECT seq FROM transactions WHERE signature = ?1")?
            .query_row(params![signature.as_ref()], |r| r.get(0))
            .optional()
    }

    /// `page` of the signatures that mention its address, with their records.
    pub fn signatures_for(&self, page: &Page) -> rusqlite::Result<Vec<(Signature, TxRecord)>> {
        let before = match &page.before {
            Some(signature) => match self.seq_of(signature)? {
                Some(seq) => seq,
                // A validator finds nothing before a signature it does not know.
                None => return Ok(Vec::new()),
            },
            None => i64::MAX,
        };
        let until = match &page.until {
            Some(signature) => self.seq_of(signature)?.unwrap_or(0),
            None => 0,
        };
        let mut statement = self.conn.prepare_cached(
            "SELECT t.signature, t.record FROM mentions m JOIN transactions t ON t.seq = m.seq \
             WHERE m.address = ?1 AND m.seq < ?2 AND m.seq > ?3 AND t.slot <= ?4 ORDER BY m.seq DESC LIMIT ?5",
        )?;
        let found = statement.query_map(
            params![page.address.as_ref(), before, until, page.max_slot as i64, page.limit as i64],
            signature_and_record,
        )?;
        found.collect()
    }

    /// The records of the transactions that landed in `slot`, in landing order.
    pub fn block(&self, slot: u64) -> rusqlite::Result<Vec<(Signature, TxRecord)>> {
        let mut statement =
            self.conn.prepare_cached("SELECT signature, record FROM transactions WHERE slot = ?1 ORDER BY seq")?;
        let found = statement.query_map(params![slot as i64], signature_and_record)?;
        found.collect()
    }

    /// Slots from `start` to `end` (inclusive) that hold transactions, at most `limit`.
    pub fn blocks(&self, start: u64, end: u64, limit: usize) -> rusqlite::Result<Vec<u64>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT DISTINCT slot FROM transactions WHERE slot >= ?1 AND slot <= ?2 ORDER BY slot LIMIT ?3",
        )?;
        let found = statement
            .query_map(params![start as i64, end as i64, limit as i64], |r| r.get::<_, i64>(0).map(rows::unsigned))?;
        found.collect()
    }

    /// The latest slot before `slot` that holds transactions.
    pub fn previous_block(&self, slot: u64) -> rusqlite::Result<Option<u64>> {
        self.conn
            .prepare_cached("SELECT max(slot) FROM transactions WHERE slot < ?1")?
            .query_row(params![slot as i64], |r| r.get::<_, Option<i64>>(0))
            .map(|s| s.map(rows::unsigned))
    }

    /// The oldest slot the history still holds.
    pub fn first_block(&self) -> rusqlite::Result<Option<u64>> {
        self.conn
            .query_row("SELECT min(slot) FROM transactions", [], |r| r.get::<_, Option<i64>>(0))
            .map(|s| s.map(rows::unsigned))
    }

    /// How many transactions landed in slots `first..=last`.
    pub fn count_between(&self, first: u64, last: u64) -> rusqlite::Result<u64> {
        self.conn
            .prepare_cached("SELECT count(*) FROM transactions WHERE slot >= ?1 AND slot <= ?2")?
            .query_row(params![first as i64, last as i64], |r| r.get::<_, i64>(0))
            .map(rows::unsigned)
    }

    /// How many records the history holds.
    pub fn record_count(&self) -> rusqlite::Result<u64> {
        self.conn.query_row("SELECT count(*) FROM transactions", [], |r| r.get::<_, i64>(0)).map(rows::unsigned)
    }

    /// Removes what `retention` does not keep, in one transaction; returns how many records.
    pub fn prune(&mut self, retention: Retention) -> rusqlite::Result<u64> {
        let tx = self.conn.transaction()?;
        let mut cutoff: i64 = 0;
        if let Some(keep) = retention.max_records {
            let newest: Option<i64> = tx.query_row("SELECT max(seq) FROM transactions", [], |r| r.get(0))?;
            cutoff = cutoff.max(newest.unwrap_or(0) - keep as i64 + 1);
        }
        if let Some(slots) = retention.max_slots {
            let oldest_slot = retention.current_slot.saturating_sub(slots) as i64;
            let first: Option<i64> =
                tx.query_row("SELECT min(seq) FROM transactions WHERE slot >= ?1", params![oldest_slot], |r| r.get(0))?;
            cutoff = cutoff.max(first.unwrap_or(i64::MAX));
        }
        tx.execute("DELETE FROM mentions WHERE seq < ?1", params![cutoff])?;
        let removed = tx.execute("DELETE FROM transactions WHERE seq < ?1", params![cutoff])?;
        tx.commit()?;
        Ok(removed as u64)
    }
}

fn signature_and_record(row: &rusqlite::Row) -> rusqlite::Result<(Signature, TxRecord)> {
    let signature: Vec<u8> = row.get(0)?;
    let record: Vec<u8> = row.get(1)?;
    let signature = Signature::try_from(signature.as_slice()).unwrap_or_default();
    Ok((signature, rows::record(&record)))
}
