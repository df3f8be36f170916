//! The database's layout and how a connection is set up: WAL journaling (readers never wait
//! for the writer, a killed writer leaves the last committed transaction), `synchronous =
//! NORMAL` (a commit survives the process dying at any point; only a power cut can lose the
//! last few, as a validator's unflushed blocks would), and the schema version, kept in SQLite's
//! `user_version` beside an `application_id` that tells our files from other databases.

use rusqlite::Connection;

/// The schema this build writes and the newest it reads. Version 2 added the token and lamport
/// indexes (`tokens`), version 3 what a fork of a cluster keeps (`FORK_TABLES`); an older
/// database gains them when it is first opened for writing.
pub const SCHEMA_VERSION: i64 = 3;
/// "PSYR" as a big-endian integer: marks the file as a psyche-runbook localnet.
pub const APPLICATION_ID: i64 = 0x5053_5952;

/// Tables of a new database (created inside the transaction that writes its first chain).
pub const TABLES: &str = "
CREATE TABLE chain (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    faucet BLOB NOT NULL,
    blockhash_seed BLOB NOT NULL,
    slot INTEGER NOT NULL,
    slot_started_ms INTEGER NOT NULL,
    unix_timestamp INTEGER NOT NULL,
    clock_offset INTEGER NOT NULL,
    transaction_count INTEGER NOT NULL
);
CREATE TABLE blockhashes (id INTEGER PRIMARY KEY CHECK (id = 1), list BLOB NOT NULL);
CREATE TABLE accounts (
    key BLOB PRIMARY KEY NOT NULL,
    owner BLOB NOT NULL,
    size INTEGER NOT NULL,
    lamports INTEGER NOT NULL,
    executable INTEGER NOT NULL,
    rent_epoch INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX accounts_by_owner ON accounts (owner, size);
CREATE TABLE transactions (
    seq INTEGER PRIMARY KEY,
    signature BLOB NOT NULL UNIQUE,
    slot INTEGER NOT NULL,
    record BLOB NOT NULL
);
CREATE INDEX transactions_by_slot ON transactions (slot);
CREATE TABLE mentions (
    address BLOB NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (address, seq)
) WITHOUT ROWID;
";

/// What a localnet forked from a cluster keeps (empty on any other): where it came from (the
/// URL, with any credentials, is kept here only), the cluster's active features, the accounts
/// read from it (present or known absent; programs, which the accounts table does not keep,
/// with their account), the accounts the fork has written since, and the shapes of
/// program-account queries already asked of it.
pub const FORK_TABLES: &str = "
CREATE TABLE fork (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    url TEXT NOT NULL,
    name TEXT NOT NULL,
    genesis TEXT NOT NULL,
    slot INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE fork_features (key BLOB PRIMARY KEY NOT NULL, slot INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE fork_fetched (key BLOB PRIMARY KEY NOT NULL, program BLOB) WITHOUT ROWID;
CREATE TABLE fork_written (key BLOB PRIMARY KEY NOT NULL) WITHOUT ROWID;
CREATE TABLE fork_queries (shape TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
";

/// Settings every connection runs with.
pub fn configure(conn: &Connection, writable: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    if !writable {
        // Pages are read through a memory map, not a system call each (only touched pages
        // count). The writer reads through its page cache instead: a long bulk run touches
        // most of the file, and mapped pages would make its memory grow with the chain.
        conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
    }
    if writable {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Bulk runs touch pages all over the account and mention indexes: checkpoint less often
        // (each copies every page the log changed back) and keep more of them at hand. Both
        // grow only as far as a run needs them.
        conn.pragma_update(None, "wal_autocheckpoint", 16_384)?;
        conn.pragma_update(None, "cache_size", -65_536)?;
    }
    Ok(())
}

/// The schema version and application id of the database on `conn` (0, 0 when empty).
pub fn version(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    let user: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let app: i64 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    Ok((user, app))
}

/// Creates the tables and stamps the version (inside the caller's transaction).
pub fn create(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(TABLES)?;
    conn.execute_batch(crate::localnet::store::tokens::TABLES)?;
    conn.execute_batch(FORK_TABLES)?;
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    Ok(())
}

/// Brings a database of an earlier version to this one, in one transaction: from version 1
/// the token and lamport indexes (filled from the accounts it holds), from 2 the fork tables.
pub fn upgrade(conn: &mut Connection, from: i64) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    if from < 2 {
        tx.execute_batch(crate::localnet::store::tokens::TABLES)?;
        crate::localnet::store::tokens::fill(&tx)?;
    }
    tx.execute_batch(FORK_TABLES)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()
}
