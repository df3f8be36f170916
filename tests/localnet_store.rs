//! The localnet's database: a state file of the landed release (version 2, made by the
//! binary of commit fa55b9d) and a version 1 file migrate once, keeping balances, runs,
//! history and blockhashes; newer schemas and foreign files are refused by name; every landed
//! transaction is committed as it lands (a process that never saves keeps it); readers open
//! the chain while a writer holds its lock; retention prunes the history on request.

mod common;

use common::{Runbook, fixture};
use psyche_runbook::localnet::Localnet;
use psyche_runbook::localnet::handle::Handle;
use psyche_runbook::localnet::store::history::Retention;
use psyche_runbook::localnet::store::legacy::{self, SnapshotV1, StoredAccount, TxRecordV1};
use psyche_runbook::localnet::store::{DB_FILE, STATE_FILE};
use solana_sdk::pubkey::Pubkey;
use std::path::Path;

/// A localnet directory holding the landed release's state file.
fn v2_chain(rb: &Runbook) -> std::path::PathBuf {
    let dir = rb.path(".psyche-runbook/localnet");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["state.bin", "payer.json"] {
        std::fs::copy(fixture(&format!("localnet-v2/{name}")), dir.join(name)).unwrap();
    }
    dir
}

#[test]
fn the_landed_releases_state_file_migrates_once_and_keeps_the_chain() {
    let rb = Runbook::new();
    let dir = v2_chain(&rb);
    // A reader migrates nothing: it reads the old file in memory.
    let status = rb.run_args(["--output", "json", "localnet", "status"]).success().json();
    assert!(dir.join(STATE_FILE).exists(), "a reader leaves the state file alone");
    assert!(!dir.join(DB_FILE).exists());
    assert_eq!(status["runs"][0]["run_id"], "quickstart");
    assert_eq!(status["payer"]["sol"], 99.1521622);

    // The first writer migrates; the old file goes once the database holds the chain.
    let net = Localnet::load(&dir).unwrap();
    assert!(dir.join(DB_FILE).exists());
    assert!(!dir.join(STATE_FILE).exists(), "the state file is removed after the migration committed");
    let runs = net.program_accounts(&net.ids().coordinator);
    assert!(!runs.is_empty(), "the quickstart run's accounts are in the database");
    let payer: Pubkey = status["payer"]["pubkey"].as_str().unwrap().parse().unwrap();
    assert_eq!(net.balance(&payer), 99_152_162_200);
    let history_len = net.store().history().record_count().unwrap();
    assert!(history_len > 30, "the history came along: {history_len}");
    let slot = net.slot();
    drop(net);

    // Once: a state file that shows up again is not imported a second time.
    std::fs::copy(fixture("localnet-v2/state.bin"), dir.join(STATE_FILE)).unwrap();
    let net = Localnet::load(&dir).unwrap();
    assert_eq!(net.store().history().record_count().unwrap(), history_len);
    assert!(net.slot() >= slot);
    drop(net);

    // The CLI sees the same chain, with the database's size and account count.
    let after = rb.run_args(["--output", "json", "localnet", "status"]).success().json();
    assert_eq!(after["runs"], status["runs"]);
    assert_eq!(after["payer"], status["payer"]);
    assert!(after["state_file_bytes"].as_u64().unwrap() > 0);
    assert!(after["accounts"].as_u64().unwrap() >= 20, "{after}");
    // And a runbook carries on where the old release left off.
    let inspect = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/inspect.rhai");
    rb.run_args(["run", inspect.to_str().unwrap(), "--set", "run_id=quickstart"]).success();
}

#[test]
fn a_migration_interrupted_before_it_committed_runs_again() {
    let rb = Runbook::new();
    let dir = v2_chain(&rb);
    // What a kill mid-migration leaves: a database file without a committed chain.
    std::fs::write(dir.join(DB_FILE), b"").unwrap();
    let net = Localnet::load(&dir).unwrap();
    assert!(!net.program_accounts(&net.ids().coordinator).is_empty());
    assert!(!dir.join(STATE_FILE).exists());
}

#[test]
fn a_version_1_state_file_upgrades_keeping_balances_history_and_blockhashes() {
    let dir = tempfile::tempdir().unwrap();
    let key = Pubkey::new_unique();
    let faucet = solana_sdk::signature::Keypair::new();
    let blockhash = [9u8; 32];
    let signature = solana_sdk::signature::Signature::from([3u8; 64]);
    let v1 = SnapshotV1 {
        slot: 40,
        unix_timestamp: 1_700_000_000,
        clock_offset: 0,
        blockhashes: vec![(blockhash, 40)],
        faucet: faucet.to_bytes().to_vec(),
        accounts: vec![StoredAccount {
            key: key.to_bytes(),
            lamports: 1_000_000,
            data: Vec::new(),
            owner: [0; 32],
            executable: false,
            rent_epoch: u64::MAX,
        }],
        history: vec![(
            signature.as_ref().to_vec(),
            TxRecordV1 {
                slot: 40,
                block_time: 1_700_000_000,
                err: None,
                logs: vec!["Program log: hi".into()],
                fee: 5000,
                compute_units: 150,
                pre_balances: vec![],
                post_balances: vec![],
                transaction: Vec::new(),
            },
        )],
    };
    std::fs::write(dir.path().join(STATE_FILE), legacy::encode(1, &v1)).unwrap();
    let net = Localnet::load(dir.path()).unwrap();
    assert_eq!(net.balance(&key), 1_000_000);
    assert_eq!(net.record(&signature).unwrap().logs, ["Program log: hi"]);
    assert!(
        net.is_blockhash_valid(&solana_sdk::hash::Hash::new_from_array(blockhash)),
        "handed-out blockhashes stay valid"
    );
    assert!(net.slot() >= 40);
}

#[test]
fn newer_schemas_newer_state_files_and_foreign_files_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(STATE_FILE), b"PSYRBLN\0\x09").unwrap();
    let err = Localnet::load(dir.path()).err().unwrap().to_string();
    assert!(err.contains("state.bin: state file version 9 is newer than this build"), "{err}");
    std::fs::write(dir.path().join(STATE_FILE), b"{}").unwrap();
    let err = Localnet::load(dir.path()).err().unwrap().to_string();
    assert!(err.contains("not a psyche-runbook localnet state file"), "{err}");
    std::fs::remove_file(dir.path().join(STATE_FILE)).unwrap();

    drop(Localnet::load(dir.path()).unwrap());
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = Localnet::load(dir.path()).err().unwrap().to_string();
    assert!(err.contains("chain.db: database schema version 99 is newer than this build"), "{err}");
    let err = Localnet::load_read_only(dir.path()).err().unwrap().to_string();
    assert!(err.contains("schema version 99"), "{err}");

    let other = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(other.path().join(DB_FILE)).unwrap();
    conn.execute_batch("CREATE TABLE notes (text TEXT)").unwrap();
    drop(conn);
    let err = Localnet::load(other.path()).err().unwrap().to_string();
    assert!(err.contains("not a psyche-runbook localnet database"), "{err}");
    std::fs::write(other.path().join(DB_FILE), b"not sqlite at all, just some text in a file").unwrap();
    let err = Localnet::load(other.path()).err().unwrap().to_string();
    assert!(err.contains("not a psyche-runbook localnet database"), "{err}");
}

#[test]
fn a_state_file_without_the_squads_program_config_gains_it() {
    let dir = tempfile::tempdir().unwrap();
    let faucet = solana_sdk::signature::Keypair::new();
    let v1 = SnapshotV1 {
        slot: 5,
        unix_timestamp: 1_700_000_000,
        clock_offset: 0,
        blockhashes: vec![([1; 32], 5)],
        faucet: faucet.to_bytes().to_vec(),
        accounts: Vec::new(),
        history: Vec::new(),
    };
    std::fs::write(dir.path().join(STATE_FILE), legacy::encode(1, &v1)).unwrap();
    drop(Localnet::load(dir.path()).unwrap());
    // Committed: a reader finds it in the database.
    let net = Localnet::load_read_only(dir.path()).unwrap();
    let config = psyche_runbook::squads::pdas::program_config();
    let account = net.account(&config).expect("the program config is part of every chain");
    assert_eq!(account.owner, psyche_runbook::squads::PROGRAM_ID);
}

#[test]
fn a_landed_transaction_is_committed_before_anything_saves_and_readers_see_it_under_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let handle = Handle::open(dir.path(), || {}).unwrap();
    let key = Pubkey::new_unique();
    let signature = handle.lock().airdrop(&key, 7_000_000).unwrap();
    // The writer still holds the lock and never saved: a reader sees the transaction.
    let reader = Localnet::load_read_only(dir.path()).unwrap();
    assert_eq!(reader.balance(&key), 7_000_000);
    assert!(reader.record(&signature).is_some());
    // And what the reader does stays in memory.
    let mut reader = reader;
    reader.airdrop(&key, 1).unwrap();
    drop(reader);
    // A process that dies without saving (the handle is leaked, never dropped) keeps it too.
    std::mem::forget(handle);
    let copy = tempfile::tempdir().unwrap();
    for name in [DB_FILE.to_string(), format!("{DB_FILE}-wal")] {
        if let Ok(bytes) = std::fs::read(dir.path().join(&name)) {
            std::fs::write(copy.path().join(&name), bytes).unwrap();
        }
    }
    let reopened = Localnet::load(copy.path()).unwrap();
    assert_eq!(reopened.balance(&key), 7_000_000);
    assert!(reopened.record(&signature).is_some());
}

#[test]
fn the_owner_index_answers_program_accounts_and_dry_forks_read_through() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = Localnet::load(dir.path()).unwrap();
    let mint = net.create_mint(6).unwrap();
    let token = psyche_runbook::psyche::ids::TOKEN;
    assert!(net.program_accounts(&token).iter().any(|(k, _)| *k == mint));
    drop(net);
    let net = Localnet::load(dir.path()).unwrap();
    assert_eq!(net.program_accounts(&token).len(), 1, "read from the index, not from memory");
    // A fork sees the chain and its own writes; the store never does.
    let mut fork = net.fork();
    let second = fork.create_mint(6).unwrap();
    assert_eq!(fork.program_accounts(&token).len(), 2);
    assert!(fork.account(&second).is_some());
    assert!(net.account(&second).is_none());
    drop((fork, net));
    assert_eq!(Localnet::load_read_only(dir.path()).unwrap().program_accounts(&token).len(), 1);
}

#[test]
fn retention_prunes_the_oldest_records_on_request_and_keeps_everything_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = Localnet::load(dir.path()).unwrap();
    let key = Pubkey::new_unique();
    let first = net.airdrop(&key, 1_000_000).unwrap();
    for _ in 0..4 {
        net.end_slot_early();
        net.airdrop(&key, 1_000_000).unwrap();
    }
    assert_eq!(net.store().history().record_count().unwrap(), 5);
    let removed = net.store().history().prune(Retention { max_records: Some(3), ..Default::default() }).unwrap();
    assert_eq!(removed, 2);
    assert!(net.record(&first).is_none());
    assert_eq!(net.store().history().record_count().unwrap(), 3);
    assert_eq!(net.balance(&key), 5_000_000, "accounts are never pruned");
}

#[test]
fn journal_show_checks_landings_against_the_chains_history() {
    let rb = Runbook::new();
    let quickstart = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/quickstart.rhai");
    rb.run_args(["run", quickstart.to_str().unwrap()]).success();
    let shown = rb.run_args(["journal", "show"]).success().stdout;
    assert!(shown.contains("landed, in the chain's history"), "{shown}");
    assert!(!shown.contains("not in the chain's history"), "{shown}");
    rb.run_args(["localnet", "reset"]).success();
    let shown = rb.run_args(["journal", "show"]).success().stdout;
    assert!(shown.contains("landed; not in the chain's history (reset or pruned since)"), "{shown}");
}
