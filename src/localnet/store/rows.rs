//! How the chain's values sit in the database's rows: keys and hashes as 32-byte blobs,
//! unsigned integers in SQLite's signed ones bit for bit (`rent_epoch` is often `u64::MAX`),
//! records and the blockhash list as bincode.

use crate::localnet::store::types::{ChainState, Landed, Saved};
use crate::localnet::tx_record::TxRecord;
use rusqlite::{Connection, Row, params};
use solana_sdk::account::Account;
use solana_sdk::hash::Hash;
use solana_sdk::pubkey::Pubkey;

pub fn unsigned(value: i64) -> u64 {
    value as u64
}

fn signed(value: u64) -> i64 {
    value as i64
}

pub fn pubkey(bytes: &[u8]) -> Pubkey {
    Pubkey::try_from(bytes).unwrap_or_default()
}

pub fn hash(bytes: &[u8]) -> Hash {
    <[u8; 32]>::try_from(bytes).map(Hash::new_from_array).unwrap_or_default()
}

/// An account from a row of `owner, lamports, executable, rent_epoch, data`.
pub fn account(row: &Row) -> rusqlite::Result<Account> {
    let owner: Vec<u8> = row.get(0)?;
    Ok(Account {
        owner: pubkey(&owner),
        lamports: unsigned(row.get(1)?),
        executable: row.get(2)?,
        rent_epoch: unsigned(row.get(3)?),
        data: row.get(4)?,
    })
}

/// Writes `key` as `account`, or removes it when it is gone (no account, or no lamports).
pub fn put_account(conn: &Connection, key: &Pubkey, account: Option<&Account>) -> rusqlite::Result<()> {
    match account.filter(|a| a.lamports > 0) {
        Some(a) => {
            let mut statement = conn.prepare_cached(
                "INSERT OR REPLACE INTO accounts (key, owner, size, lamports, executable, rent_epoch, data) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            statement.execute(params![
                key.as_ref(),
                a.owner.as_ref(),
                a.data.len() as i64,
                signed(a.lamports),
                a.executable,
                signed(a.rent_epoch),
                a.data
            ])?;
        }
        None => {
            conn.prepare_cached("DELETE FROM accounts WHERE key = ?1")?.execute(params![key.as_ref()])?;
        }
    }
    Ok(())
}

pub fn insert_chain(conn: &Connection, saved: &Saved) -> rusqlite::Result<()> {
    let s = &saved.state;
    conn.execute(
        "INSERT INTO chain (id, faucet, blockhash_seed, slot, slot_started_ms, unix_timestamp, clock_offset, \
         transaction_count) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            saved.genesis.faucet,
            saved.genesis.blockhash_seed.as_ref(),
            signed(s.slot),
            signed(s.slot_started_ms),
            s.unix_timestamp,
            s.clock_offset,
            signed(s.transaction_count)
        ],
    )?;
    conn.execute("INSERT INTO blockhashes (id, list) VALUES (1, ?1)", params![blockhashes_to(&saved.blockhashes)])?;
    Ok(())
}

pub fn update_state(conn: &Connection, s: &ChainState) -> rusqlite::Result<()> {
    let mut statement = conn.prepare_cached(
        "UPDATE chain SET slot = ?1, slot_started_ms = ?2, unix_timestamp = ?3, clock_offset = ?4, \
         transaction_count = ?5 WHERE id = 1",
    )?;
    statement.execute(params![
        signed(s.slot),
        signed(s.slot_started_ms),
        s.unix_timestamp,
        s.clock_offset,
        signed(s.transaction_count)
    ])?;
    Ok(())
}

/// Appends a record to the history, with one index row per address it mentions.
pub fn insert_record(conn: &Connection, landed: &Landed) -> rusqlite::Result<()> {
    let bytes = bincode::serialize(landed.record).expect("records serialize");
    conn.prepare_cached("INSERT OR REPLACE INTO transactions (signature, slot, record) VALUES (?1, ?2, ?3)")?
        .execute(params![landed.signature.as_ref(), signed(landed.record.slot), bytes])?;
    let seq = conn.last_insert_rowid();
    let mut mention = conn.prepare_cached("INSERT OR IGNORE INTO mentions (address, seq) VALUES (?1, ?2)")?;
    for address in landed.mentions {
        mention.execute(params![address.as_ref(), seq])?;
    }
    Ok(())
}

pub fn record(bytes: &[u8]) -> TxRecord {
    bincode::deserialize(bytes).expect("stored records decode")
}

pub fn blockhashes_to(list: &[(Hash, u64)]) -> Vec<u8> {
    let plain: Vec<([u8; 32], u64)> = list.iter().map(|(h, s)| (h.to_bytes(), *s)).collect();
    bincode::serialize(&plain).expect("blockhashes serialize")
}

pub fn blockhashes_from(bytes: &[u8]) -> Option<Vec<(Hash, u64)>> {
    let plain: Vec<([u8; 32], u64)> = bincode::deserialize(bytes).ok()?;
    Some(plain.into_iter().map(|(h, s)| (Hash::new_from_array(h), s)).collect())
}
