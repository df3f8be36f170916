//! What a forked localnet keeps of its cluster (see `schema::FORK_TABLES`). Writes join the
//! store's open group, so an account read from the cluster is committed with the rest of the
//! call that read it; a database of an older schema, read without being upgraded, holds none
//! of these tables and is no fork.

use crate::localnet::store::rows;
use crate::localnet::store::{Origin, Store, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use solana_sdk::account::Account;
use solana_sdk::pubkey::Pubkey;
use std::sync::atomic::Ordering;

/// What was read from the cluster: every key (present or known absent), and the programs among
/// them with their accounts (the accounts table keeps no program).
#[derive(Default)]
pub struct Fetched {
    pub keys: Vec<Pubkey>,
    pub programs: Vec<(Pubkey, Account)>,
}

fn has_fork_tables(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'fork'", [], |r| r.get(0))
}

impl Store {
    /// Runs `write` in the open group (beginning one when none is open).
    fn in_group(&self, write: impl FnOnce(&Connection) -> rusqlite::Result<()>) -> Result<(), StoreError> {
        let conn = self.conn();
        let run = || -> rusqlite::Result<()> {
            if !self.open.swap(true, Ordering::SeqCst) {
                conn.execute_batch("BEGIN IMMEDIATE")?;
            }
            write(&conn)
        };
        run().map_err(|e| {
            if self.open.swap(false, Ordering::SeqCst) {
                let _ = conn.execute_batch("ROLLBACK");
            }
            self.error(e)
        })
    }

    /// The cluster this localnet forks, if it is a fork.
    pub fn origin(&self) -> Result<Option<Origin>, StoreError> {
        let conn = self.conn();
        let read = || -> rusqlite::Result<Option<Origin>> {
            if !has_fork_tables(&conn)? {
                return Ok(None);
            }
            conn.query_row("SELECT url, name, genesis, slot, created_ms FROM fork WHERE id = 1", [], |r| {
                Ok(Origin {
                    url: r.get(0)?,
                    name: r.get(1)?,
                    genesis: r.get(2)?,
                    slot: rows::unsigned(r.get(3)?),
                    created_ms: rows::unsigned(r.get(4)?),
                })
            })
            .optional()
        };
        read().map_err(|e| self.error(e))
    }

    /// Makes this (new) localnet a fork of `origin`, with the cluster's active features.
    pub fn set_origin(&self, origin: &Origin, features: &[(Pubkey, u64)]) -> Result<(), StoreError> {
        self.in_group(|conn| {
            conn.execute(
                "INSERT OR REPLACE INTO fork (id, url, name, genesis, slot, created_ms) VALUES (1, ?1, ?2, ?3, ?4, ?5)",
                params![origin.url, origin.name, origin.genesis, origin.slot as i64, origin.created_ms as i64],
            )?;
            conn.execute("DELETE FROM fork_features", [])?;
            let mut insert = conn.prepare_cached("INSERT INTO fork_features (key, slot) VALUES (?1, ?2)")?;
            for (key, slot) in features {
                insert.execute(params![key.as_ref(), *slot as i64])?;
            }
            Ok(())
        })
    }

    /// The cluster's active features (feature id, activation slot) when the fork was made.
    pub fn fork_features(&self) -> Result<Vec<(Pubkey, u64)>, StoreError> {
        let conn = self.conn();
        let read = || -> rusqlite::Result<Vec<(Pubkey, u64)>> {
            if !has_fork_tables(&conn)? {
                return Ok(Vec::new());
            }
            let mut statement = conn.prepare("SELECT key, slot FROM fork_features")?;
            let rows = statement.query_map([], |r| {
                let key: Vec<u8> = r.get(0)?;
                Ok((rows::pubkey(&key), rows::unsigned(r.get(1)?)))
            })?;
            rows.collect()
        };
        read().map_err(|e| self.error(e))
    }

    /// Everything read from the cluster so far.
    pub fn fetched(&self) -> Result<Fetched, StoreError> {
        let conn = self.conn();
        let read = || -> rusqlite::Result<Fetched> {
            let mut fetched = Fetched::default();
            if !has_fork_tables(&conn)? {
                return Ok(fetched);
            }
            let mut statement = conn.prepare("SELECT key, program FROM fork_fetched")?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                let key = rows::pubkey(&row.get::<_, Vec<u8>>(0)?);
                fetched.keys.push(key);
                if let Some(program) = row.get::<_, Option<Vec<u8>>>(1)?
                    && let Ok(account) = bincode::deserialize::<Account>(&program)
                {
                    fetched.programs.push((key, account));
                }
            }
            Ok(fetched)
        };
        read().map_err(|e| self.error(e))
    }

    /// Records accounts read from the cluster: `program` holds those the accounts table does
    /// not keep (the others are written there by the caller).
    pub fn put_fetched(&self, fetched: &[(Pubkey, Option<&Account>)]) -> Result<(), StoreError> {
        self.in_group(|conn| {
            let mut insert =
                conn.prepare_cached("INSERT OR REPLACE INTO fork_fetched (key, program) VALUES (?1, ?2)")?;
            for (key, program) in fetched {
                let blob = program.map(|a| bincode::serialize(a).expect("accounts serialize"));
                insert.execute(params![key.as_ref(), blob])?;
            }
            Ok(())
        })
    }

    /// Notes accounts the fork wrote (a refresh that keeps the fork's writes leaves them).
    pub fn put_written(&self, keys: &[Pubkey]) -> Result<(), StoreError> {
        self.in_group(|conn| {
            let mut insert = conn.prepare_cached("INSERT OR IGNORE INTO fork_written (key) VALUES (?1)")?;
            for key in keys {
                insert.execute(params![key.as_ref()])?;
            }
            Ok(())
        })
    }

    /// The accounts the fork has written.
    pub fn written(&self) -> Result<Vec<Pubkey>, StoreError> {
        let conn = self.conn();
        let read = || -> rusqlite::Result<Vec<Pubkey>> {
            let mut statement = conn.prepare("SELECT key FROM fork_written")?;
            let keys = statement.query_map([], |r| Ok(rows::pubkey(&r.get::<_, Vec<u8>>(0)?)))?;
            keys.collect()
        };
        read().map_err(|e| self.error(e))
    }

    /// True when a program-account query of this shape was answered by the cluster already.
    pub fn query_asked(&self, shape: &str) -> bool {
        let conn = self.conn();
        conn.query_row("SELECT count(*) > 0 FROM fork_queries WHERE shape = ?1", params![shape], |r| r.get(0))
            .unwrap_or(false)
    }

    pub fn put_query(&self, shape: &str) -> Result<(), StoreError> {
        self.in_group(|conn| {
            conn.execute("INSERT OR IGNORE INTO fork_queries (shape) VALUES (?1)", params![shape]).map(drop)
        })
    }

    /// Forgets which program-account queries the cluster answered (a refresh asks again).
    pub fn forget_queries(&self) -> Result<(), StoreError> {
        self.in_group(|conn| conn.execute_batch("DELETE FROM fork_queries"))
    }
}
