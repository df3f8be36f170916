//! Indexes of token accounts (SPL Token and Token-2022) by owner, delegate and mint (with the
//! amount, for a mint's largest holders), and of every account by lamports: what wallets,
//! explorers and the Squads app ask a node first (`getTokenAccountsByOwner`/`ByDelegate`,
//! `getTokenLargestAccounts`, `getLargestAccounts`) is answered from them, never by a scan. They
//! are written with the account they index, in the same database transaction.

use crate::localnet::store::rows;
use rusqlite::{Connection, params};
use solana_sdk::account::Account;
use solana_sdk::pubkey::Pubkey;

/// The indexes, created with a new database or added to one of schema version 1.
pub const TABLES: &str = "
CREATE TABLE token_accounts (
    key BLOB PRIMARY KEY NOT NULL,
    program BLOB NOT NULL,
    mint BLOB NOT NULL,
    owner BLOB NOT NULL,
    delegate BLOB,
    amount BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX token_accounts_by_owner ON token_accounts (owner, mint);
CREATE INDEX token_accounts_by_delegate ON token_accounts (delegate, mint) WHERE delegate IS NOT NULL;
CREATE INDEX token_accounts_by_mint ON token_accounts (mint, amount);
CREATE INDEX accounts_by_lamports ON accounts (lamports);
";

/// The token programs whose accounts are indexed.
pub const PROGRAMS: [Pubkey; 2] =
    [spl_token_interface::ID, solana_sdk::pubkey!("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")];

/// Bytes of a token account's base layout (Token-2022 extensions follow it).
const ACCOUNT_LEN: usize = 165;
/// Token-2022's account-type byte after the base layout: 2 for an account.
const ACCOUNT_TYPE_ACCOUNT: u8 = 2;

/// What the indexes hold of a token account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenAccount {
    pub mint: Pubkey,
    pub owner: Pubkey,
    pub delegate: Option<Pubkey>,
    pub amount: u64,
}

/// The token account `account` is, if it is an initialized one of a token program.
pub fn token_account(account: &Account) -> Option<TokenAccount> {
    use solana_program_pack::Pack;
    if !PROGRAMS.contains(&account.owner) || account.data.len() < ACCOUNT_LEN {
        return None;
    }
    if account.data.len() > ACCOUNT_LEN && account.data[ACCOUNT_LEN] != ACCOUNT_TYPE_ACCOUNT {
        return None;
    }
    let base = spl_token_interface::state::Account::unpack(&account.data[..ACCOUNT_LEN]).ok()?;
    Some(TokenAccount { mint: base.mint, owner: base.owner, delegate: base.delegate.into(), amount: base.amount })
}

/// Bytes of a mint's base layout, and Token-2022's account-type byte for a mint.
const MINT_LEN: usize = 82;
const ACCOUNT_TYPE_MINT: u8 = 1;

/// The mint `account` is, if it is an initialized one of a token program.
pub fn mint(account: &Account) -> Option<spl_token_interface::state::Mint> {
    use solana_program_pack::Pack;
    if !PROGRAMS.contains(&account.owner) || account.data.len() < MINT_LEN {
        return None;
    }
    if account.data.len() > MINT_LEN && account.data.get(ACCOUNT_LEN) != Some(&ACCOUNT_TYPE_MINT) {
        return None;
    }
    spl_token_interface::state::Mint::unpack(&account.data[..MINT_LEN]).ok()
}

/// Keeps the token index of `key` as `account` has it (removed when it is gone or no token
/// account).
pub fn put(conn: &Connection, key: &Pubkey, account: Option<&Account>) -> rusqlite::Result<()> {
    match account.filter(|a| a.lamports > 0).and_then(|a| Some((a, token_account(a)?))) {
        Some((account, t)) => {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO token_accounts (key, program, mint, owner, delegate, amount) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                key.as_ref(),
                account.owner.as_ref(),
                t.mint.as_ref(),
                t.owner.as_ref(),
                t.delegate.as_ref().map(Pubkey::as_ref),
                // Big-endian, so the bytes sort as the amounts do.
                t.amount.to_be_bytes().to_vec(),
            ])?;
        }
        None => {
            conn.prepare_cached("DELETE FROM token_accounts WHERE key = ?1")?.execute(params![key.as_ref()])?;
        }
    }
    Ok(())
}

/// Fills the token index from the accounts a database of schema version 1 holds.
pub fn fill(conn: &Connection) -> rusqlite::Result<()> {
    let mut select = conn
        .prepare("SELECT key, owner, lamports, executable, rent_epoch, data FROM accounts WHERE owner IN (?1, ?2)")?;
    let rows = select.query_map(params![PROGRAMS[0].as_ref(), PROGRAMS[1].as_ref()], |r| {
        let key: Vec<u8> = r.get(0)?;
        let owner: Vec<u8> = r.get(1)?;
        let account = Account {
            owner: rows::pubkey(&owner),
            lamports: rows::unsigned(r.get(2)?),
            executable: r.get(3)?,
            rent_epoch: rows::unsigned(r.get(4)?),
            data: r.get(5)?,
        };
        Ok((rows::pubkey(&key), account))
    })?;
    for row in rows {
        let (key, account) = row?;
        put(conn, &key, Some(&account))?;
    }
    Ok(())
}

/// Who a token account query is about.
#[derive(Debug, Clone, Copy)]
pub enum Holder {
    Owner(Pubkey),
    Delegate(Pubkey),
}

impl Holder {
    pub fn holds(&self, account: &TokenAccount) -> bool {
        match self {
            Holder::Owner(key) => account.owner == *key,
            Holder::Delegate(key) => account.delegate == Some(*key),
        }
    }
}

/// Which token accounts of a holder (`getTokenAccountsBy*`'s filter).
#[derive(Debug, Clone, Copy)]
pub enum Narrow {
    Mint(Pubkey),
    Program(Pubkey),
}

impl Narrow {
    /// True when `account`, a token account owned by `program`, passes the filter.
    pub fn admits(&self, program: &Pubkey, account: &TokenAccount) -> bool {
        match self {
            Narrow::Mint(mint) => account.mint == *mint,
            Narrow::Program(wanted) => program == wanted,
        }
    }
}

/// The token accounts of `holder` narrowed by `narrow`, by address.
pub fn held(conn: &Connection, holder: Holder, narrow: Narrow) -> rusqlite::Result<Vec<Pubkey>> {
    let (column, who) = match holder {
        Holder::Owner(key) => ("owner", key),
        Holder::Delegate(key) => ("delegate", key),
    };
    let (filter, value) = match narrow {
        Narrow::Mint(mint) => ("mint", mint),
        Narrow::Program(program) => ("program", program),
    };
    let sql = format!("SELECT key FROM token_accounts WHERE {column} = ?1 AND {filter} = ?2 ORDER BY key");
    let mut statement = conn.prepare_cached(&sql)?;
    let keys = statement.query_map(params![who.as_ref(), value.as_ref()], |r| r.get::<_, Vec<u8>>(0))?;
    keys.map(|k| k.map(|k| rows::pubkey(&k))).collect()
}

/// The `limit` token accounts of `mint` holding the most, most first.
pub fn largest_of_mint(conn: &Connection, mint: &Pubkey, limit: usize) -> rusqlite::Result<Vec<Pubkey>> {
    let mut statement =
        conn.prepare_cached("SELECT key FROM token_accounts WHERE mint = ?1 ORDER BY amount DESC, key LIMIT ?2")?;
    let keys = statement.query_map(params![mint.as_ref(), limit as i64], |r| r.get::<_, Vec<u8>>(0))?;
    keys.map(|k| k.map(|k| rows::pubkey(&k))).collect()
}

/// The `limit` accounts holding the most lamports, most first.
pub fn largest(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<(Pubkey, u64)>> {
    let mut statement = conn.prepare_cached("SELECT key, lamports FROM accounts ORDER BY lamports DESC LIMIT ?1")?;
    let found = statement.query_map(params![limit as i64], |r| {
        let key: Vec<u8> = r.get(0)?;
        Ok((rows::pubkey(&key), rows::unsigned(r.get(1)?)))
    })?;
    found.collect()
}

/// Every lamport the chain holds (a supply beyond 2^63 lamports is no localnet's).
pub fn total_lamports(conn: &Connection) -> rusqlite::Result<u64> {
    let sum: i64 = conn.query_row("SELECT coalesce(sum(lamports), 0) FROM accounts", [], |r| r.get(0))?;
    Ok(rows::unsigned(sum))
}
