//! The localnet's persistence: one SQLite database, `chain.db`, in the localnet directory.
//! It holds the chain's parameters and slot state, every account (indexed by owner), and the
//! transaction history with the addresses each transaction mentions. The rest of the localnet
//! asks it for single accounts, an owner's accounts, records and history pages, and hands it
//! `Commit`s: landed transactions with the accounts they changed, their records and the slot
//! state, written into an open database transaction that `commit` ends, so a process killed
//! at any moment leaves the chain at its last committed transaction, never half of one. A state file of an earlier release
//! (`legacy`) is migrated on first use, in one transaction, and removed only once that
//! committed.

mod fork;
pub mod history;
pub mod legacy;
mod rows;
pub mod schema;
pub mod tokens;
mod types;

use crate::localnet::tx_record::TxRecord;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use solana_sdk::account::Account;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signature;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

pub use legacy::STATE_FILE;
pub use types::{ChainState, Commit, Genesis, Landed, Origin, Saved, StoreError};

/// The database file in a localnet directory (with its `-wal` and `-shm` companions).
pub const DB_FILE: &str = "chain.db";

pub struct Store {
    conn: Mutex<Connection>,
    /// A database transaction is open on `conn` (written, not committed yet).
    open: AtomicBool,
    /// `reading` calls under way (the outermost holds a read transaction).
    reading: AtomicUsize,
    /// The database file; None for a chain held in memory.
    path: Option<PathBuf>,
}

impl Store {
    /// Opens (creating it if needed) the database in `dir` for reading and writing, migrating a
    /// state file found there. The caller holds the directory's lock.
    pub fn open(dir: &Path) -> Result<(Self, Option<Saved>), StoreError> {
        let path = dir.join(DB_FILE);
        let io = |source| StoreError::Io { path: dir.display().to_string(), source };
        crate::files::private::private_dir(dir).map_err(io)?;
        // Created empty and only its owner's before SQLite opens it: its journal files take
        // the database file's permissions.
        if !path.exists() {
            crate::files::private::private_options().create_new(true).write(true).open(&path).map_err(io)?;
        }
        let conn = Connection::open(&path).map_err(|source| db_error(&path, source))?;
        let store = Self::on(conn, Some(path));
        store.prepare(true)?;
        store.upgrade()?;
        let saved = match store.saved()? {
            Some(saved) => Some(saved),
            None => store.migrate(dir)?,
        };
        // Only once the migration committed (or after a crash that followed it).
        remove_state_file(dir)?;
        Ok((store, saved))
    }

    /// Opens the database in `dir` for reading only, without the lock (`watch`, `localnet
    /// status`, dry-runs). A directory not migrated yet is read from its state file into
    /// memory; an empty one gives no chain.
    pub fn open_read_only(dir: &Path) -> Result<(Self, Option<Saved>), StoreError> {
        let path = dir.join(DB_FILE);
        if path.exists() {
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let conn = Connection::open_with_flags(&path, flags).map_err(|source| db_error(&path, source))?;
            let store = Self::on(conn, Some(path));
            store.prepare(false)?;
            let saved = store.saved()?;
            return Ok((store, saved));
        }
        let store = Self::in_memory();
        let saved = store.migrate(dir)?;
        Ok((store, saved))
    }

    /// A database in memory (chains that are never saved).
    pub fn in_memory() -> Self {
        let conn = Connection::open_in_memory().expect("SQLite opens in memory");
        let store = Self::on(conn, None);
        store.prepare(true).expect("a new database in memory is ours");
        store
    }

    fn on(conn: Connection, path: Option<PathBuf>) -> Self {
        Self { conn: Mutex::new(conn), open: AtomicBool::new(false), reading: AtomicUsize::new(0), path }
    }

    /// The database file (None in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn name(&self) -> String {
        self.path.as_ref().map_or(":memory:".into(), |p| p.display().to_string())
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn error(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Database { path: self.name(), source }
    }

    /// Configures the connection and checks the file is ours, in a schema this build reads.
    fn prepare(&self, writable: bool) -> Result<(), StoreError> {
        let conn = self.conn();
        let not_ours = |source: rusqlite::Error| match source.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => StoreError::NotADatabase { path: self.name() },
            _ => self.error(source),
        };
        schema::configure(&conn, writable).map_err(not_ours)?;
        let (version, app) = schema::version(&conn).map_err(not_ours)?;
        let empty: bool =
            conn.query_row("SELECT count(*) = 0 FROM sqlite_schema", [], |r| r.get(0)).map_err(|e| self.error(e))?;
        if empty {
            return Ok(());
        }
        if app != schema::APPLICATION_ID {
            return Err(StoreError::NotADatabase { path: self.name() });
        }
        if version > schema::SCHEMA_VERSION {
            return Err(StoreError::UnknownSchema { path: self.name(), found: version, known: schema::SCHEMA_VERSION });
        }
        Ok(())
    }

    /// Brings a database of an earlier schema to this build's (an empty one is created later).
    fn upgrade(&self) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let (version, _) = schema::version(&conn).map_err(|e| self.error(e))?;
        if (1..schema::SCHEMA_VERSION).contains(&version) {
            schema::upgrade(&mut conn, version).map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// The token accounts of `holder` narrowed by `narrow` (see `tokens`).
    pub fn token_accounts(&self, holder: tokens::Holder, narrow: tokens::Narrow) -> Vec<Pubkey> {
        tokens::held(&self.conn(), holder, narrow).unwrap_or_else(|e| self.failed(e))
    }

    /// The `limit` token accounts of `mint` holding the most.
    pub fn largest_token_accounts(&self, mint: &Pubkey, limit: usize) -> Vec<Pubkey> {
        tokens::largest_of_mint(&self.conn(), mint, limit).unwrap_or_else(|e| self.failed(e))
    }

    /// The `limit` accounts holding the most lamports.
    pub fn largest_accounts(&self, limit: usize) -> Vec<(Pubkey, u64)> {
        tokens::largest(&self.conn(), limit).unwrap_or_else(|e| self.failed(e))
    }

    /// Every lamport the chain holds.
    pub fn total_lamports(&self) -> u64 {
        tokens::total_lamports(&self.conn()).unwrap_or_else(|e| self.failed(e))
    }

    /// The chain in the database, if one was ever committed.
    fn saved(&self) -> Result<Option<Saved>, StoreError> {
        let conn = self.conn();
        let has_chain: bool = conn
            .query_row("SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'chain'", [], |r| r.get(0))
            .map_err(|e| self.error(e))?;
        if !has_chain {
            return Ok(None);
        }
        let row = conn
            .query_row(
                "SELECT faucet, blockhash_seed, slot, slot_started_ms, unix_timestamp, clock_offset, \
                 transaction_count, (SELECT list FROM blockhashes WHERE id = 1) FROM chain WHERE id = 1",
                [],
                |r| {
                    let seed: Vec<u8> = r.get(1)?;
                    let list: Vec<u8> = r.get(7)?;
                    Ok((
                        Genesis { faucet: r.get(0)?, blockhash_seed: rows::hash(&seed) },
                        ChainState {
                            slot: rows::unsigned(r.get(2)?),
                            slot_started_ms: rows::unsigned(r.get(3)?),
                            unix_timestamp: r.get(4)?,
                            clock_offset: r.get(5)?,
                            transaction_count: rows::unsigned(r.get(6)?),
                        },
                        list,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.error(e))?;
        let Some((genesis, state, list)) = row else { return Ok(None) };
        let blockhashes = rows::blockhashes_from(&list)
            .ok_or_else(|| StoreError::Corrupt { path: self.name(), message: "unreadable blockhashes".into() })?;
        Ok(Some(Saved { genesis, state, blockhashes }))
    }

    /// Writes a new chain: its genesis, slot state, blockhashes and first accounts.
    pub fn create(&self, saved: &Saved, accounts: &[(Pubkey, Account)]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        schema::create(&tx).map_err(|e| self.error(e))?;
        rows::insert_chain(&tx, saved).map_err(|e| self.error(e))?;
        for (key, account) in accounts {
            put_account(&tx, key, Some(account)).map_err(|e| self.error(e))?;
        }
        tx.commit().map_err(|e| self.error(e))
    }

    /// Moves `dir`'s state file, if any, into the database in one transaction.
    fn migrate(&self, dir: &Path) -> Result<Option<Saved>, StoreError> {
        let Some(old) = legacy::read(dir)? else { return Ok(None) };
        let saved = Saved { genesis: old.genesis, state: old.state, blockhashes: old.blockhashes };
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        let write = || -> rusqlite::Result<()> {
            schema::create(&tx)?;
            rows::insert_chain(&tx, &saved)?;
            for (key, account) in &old.accounts {
                put_account(&tx, key, Some(account))?;
            }
            for (signature, record) in &old.history {
                let mentions = history::static_keys(record);
                rows::insert_record(&tx, &Landed { signature: *signature, record, mentions: &mentions })?;
            }
            Ok(())
        };
        write().map_err(|e| self.error(e))?;
        tx.commit().map_err(|e| self.error(e))?;
        Ok(Some(saved))
    }

    /// Writes one change into the open database transaction (beginning one if none is open):
    /// visible to this connection at once, to other processes once `commit` ends it. A write
    /// that fails takes the whole open transaction back.
    pub fn write(&self, change: &Commit) -> Result<(), StoreError> {
        let conn = self.conn();
        if let Some(full) = self.injected_full(&conn) {
            return Err(full);
        }
        let write = || -> rusqlite::Result<()> {
            if !self.open.swap(true, Ordering::SeqCst) {
                conn.execute_batch("BEGIN IMMEDIATE")?;
            }
            for (key, account) in change.accounts {
                put_account(&conn, key, account.as_ref())?;
            }
            for landed in change.landed {
                rows::insert_record(&conn, landed)?;
            }
            rows::update_state(&conn, &change.state)?;
            if let Some(list) = change.blockhashes {
                conn.prepare_cached("UPDATE blockhashes SET list = ?1 WHERE id = 1")?
                    .execute(params![rows::blockhashes_to(list)])?;
            }
            Ok(())
        };
        write().map_err(|e| {
            if self.open.swap(false, Ordering::SeqCst) {
                let _ = conn.execute_batch("ROLLBACK");
            }
            self.error(e)
        })
    }

    /// Ends the open database transaction: everything written since is committed at once. A
    /// commit that fails (a full disk, an I/O error) takes the whole transaction back: the
    /// database stays at its last commit, and the next write begins afresh.
    pub fn commit(&self) -> Result<(), StoreError> {
        if !self.open.load(Ordering::SeqCst) {
            return Ok(());
        }
        let conn = self.conn();
        if let Some(full) = self.injected_full(&conn) {
            return Err(full);
        }
        let committed = conn.execute_batch("COMMIT");
        if committed.is_err() && !conn.is_autocommit() {
            // SQLite may keep the transaction open after SQLITE_FULL or SQLITE_IOERR.
            let _ = conn.execute_batch("ROLLBACK");
        }
        self.open.store(false, Ordering::SeqCst);
        committed.map_err(|e| self.error(e))
    }

    /// Writes and commits a trivial change, once the disk has room for a group of
    /// transactions again: Ok when the database can be written again (after a full disk was
    /// freed, say). A trivial write alone could succeed in space the database already has.
    pub fn probe_write(&self) -> Result<(), StoreError> {
        let conn = self.conn();
        if let Some(full) = self.injected_full(&conn) {
            return Err(full);
        }
        if let Some(dir) = self.path.as_deref().and_then(Path::parent)
            && free_bytes(dir).is_some_and(|free| free < FREE_BEFORE_WRITING)
        {
            let source = std::io::Error::from_raw_os_error(28);
            return Err(StoreError::Io { path: self.name(), source });
        }
        let probed = conn.execute_batch("BEGIN IMMEDIATE; UPDATE chain SET id = id WHERE id = 1; COMMIT");
        if probed.is_err() && !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        probed.map_err(|e| self.error(e))
    }

    /// Runs `f`, whose reads of this store share one read transaction (one snapshot, and one
    /// round of file locking instead of one per query) unless a write transaction is open.
    pub fn reading<T>(&self, f: impl FnOnce() -> T) -> T {
        struct Reading<'a>(&'a Store, bool);
        impl Drop for Reading<'_> {
            fn drop(&mut self) {
                if self.0.reading.fetch_sub(1, Ordering::SeqCst) == 1 && self.1 {
                    let _ = self.0.conn().execute_batch("COMMIT");
                }
            }
        }
        let outermost = self.reading.fetch_add(1, Ordering::SeqCst) == 0;
        let began = outermost && !self.open.load(Ordering::SeqCst) && self.conn().execute_batch("BEGIN").is_ok();
        let _reading = Reading(self, began);
        f()
    }

    /// A full disk a test asks for (`files::faults`), failing as a real one does: the open
    /// transaction is taken back.
    fn injected_full(&self, conn: &Connection) -> Option<StoreError> {
        let full = crate::files::faults::disk_full()?;
        if self.open.swap(false, Ordering::SeqCst) || !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        Some(StoreError::Io { path: self.name(), source: full })
    }

    /// One account, if the database holds it.
    pub fn account(&self, key: &Pubkey) -> Option<Account> {
        let conn = self.conn();
        let mut statement = conn
            .prepare_cached("SELECT owner, lamports, executable, rent_epoch, data FROM accounts WHERE key = ?1")
            .expect("the account query prepares");
        statement.query_row(params![key.as_ref()], rows::account).optional().unwrap_or_else(|e| self.failed(e))
    }

    /// Every account `owner` owns (of `size` bytes, when given), by address.
    pub fn accounts_owned_by(&self, owner: &Pubkey, size: Option<u64>) -> Vec<(Pubkey, Account)> {
        let conn = self.conn();
        let mut statement = conn
            .prepare_cached(
                "SELECT owner, lamports, executable, rent_epoch, data, key FROM accounts \
                 WHERE owner = ?1 AND (?2 IS NULL OR size = ?2) ORDER BY key",
            )
            .expect("the owner query prepares");
        let found = statement
            .query_map(params![owner.as_ref(), size.map(|s| s as i64)], |r| {
                let key: Vec<u8> = r.get(5)?;
                Ok((rows::pubkey(&key), rows::account(r)?))
            })
            .and_then(Iterator::collect);
        found.unwrap_or_else(|e| self.failed(e))
    }

    /// The record of `signature`, if the history holds it.
    pub fn record(&self, signature: &Signature) -> Option<TxRecord> {
        let conn = self.conn();
        let mut statement =
            conn.prepare_cached("SELECT record FROM transactions WHERE signature = ?1").expect("the query prepares");
        statement
            .query_row(params![signature.as_ref()], |r| r.get::<_, Vec<u8>>(0))
            .optional()
            .unwrap_or_else(|e| self.failed(e))
            .map(|bytes| rows::record(&bytes))
    }

    /// The transaction history, for queries beyond single records.
    pub fn history(&self) -> history::History<'_> {
        history::History::new(self.conn())
    }

    /// How many accounts the database holds.
    pub fn account_count(&self) -> u64 {
        let conn = self.conn();
        let count: i64 =
            conn.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0)).unwrap_or_else(|e| self.failed(e));
        count as u64
    }

    /// Bytes on disk: the database and its write-ahead log (0 in memory).
    pub fn size_bytes(&self) -> u64 {
        let Some(path) = &self.path else { return 0 };
        let wal = PathBuf::from(format!("{}-wal", path.display()));
        [path.as_path(), wal.as_path()].iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum()
    }

    /// A read that failed: the database went away under us or is damaged. Nothing sensible
    /// can continue on a chain it cannot read.
    fn failed<T>(&self, err: rusqlite::Error) -> T {
        panic!("{}: cannot read the localnet database: {err}", self.name())
    }
}

impl Drop for Store {
    /// The writer leaves the log empty: a log left full (a bulk run's groups leave tens of
    /// megabytes) is read whole by the next process that opens the database, before its
    /// first query, and a no-op cron then pays for the last grant.
    fn drop(&mut self) {
        let conn = self.conn.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
        let writer = self.path.is_some() && !conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(true);
        if writer && conn.is_autocommit() {
            // Best effort: a reader in the middle of a query makes it give up, and the log is
            // then read as before.
            let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
    }
}

/// Writes `key` as `account` (or removes it) with its token index row, in the same transaction.
fn put_account(conn: &rusqlite::Connection, key: &Pubkey, account: Option<&Account>) -> rusqlite::Result<()> {
    rows::put_account(conn, key, account)?;
    tokens::put(conn, key, account)
}

/// Room a store that filled its disk wants before it is written again.
const FREE_BEFORE_WRITING: u64 = 8 << 20;

/// Bytes an unprivileged process may still write on the file system of `dir`.
#[cfg(unix)]
#[allow(clippy::useless_conversion)] // The statvfs fields are narrower on some targets.
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is a NUL-terminated path and `stat` a buffer statvfs fills on success.
    let stat = unsafe { (libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) == 0).then(|| stat.assume_init())? };
    Some(u64::from(stat.f_bavail).saturating_mul(u64::from(stat.f_frsize)))
}

#[cfg(not(unix))]
fn free_bytes(_: &Path) -> Option<u64> {
    None
}

fn db_error(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Database { path: path.display().to_string(), source }
}

fn remove_state_file(dir: &Path) -> Result<(), StoreError> {
    let path = dir.join(STATE_FILE);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::Io { path: path.display().to_string(), source }),
    }
}

/// Removes the database of `dir` (`localnet reset`, under the lock); true when there was one.
pub fn remove(dir: &Path) -> Result<bool, StoreError> {
    let mut removed = false;
    for name in [DB_FILE.to_string(), format!("{DB_FILE}-wal"), format!("{DB_FILE}-shm"), STATE_FILE.to_string()] {
        let path = dir.join(name);
        match std::fs::remove_file(&path) {
            Ok(()) => removed = true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(StoreError::Io { path: path.display().to_string(), source }),
        }
    }
    Ok(removed)
}
