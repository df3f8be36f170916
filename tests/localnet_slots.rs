//! Slots follow the clock through `localnet serve`, as on a cluster: many transactions share a
//! slot, a blockhash stays valid for 150 slots (about 60 s at 400 ms), slots and blockhashes
//! carry over to the next invocation, a send with `skipPreflight` answers with its signature
//! while its failure shows in its status, one whose preflight fails leaves nothing behind (no
//! fee, no status), and an operation repeated within one slot is
//! re-signed with the next blockhash rather than taken for the first. Time is a clock the tests
//! hold (`common::local_server`), so no assertion depends on how busy the machine is.

mod common;

use common::local_server::LocalServer;
use common::{Runbook, Server};
use psyche_runbook::chain::client::Chain;
use psyche_runbook::chain::landing;
use psyche_runbook::localnet::handle::Handle;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::ErrorKind;
use solana_rpc_client_api::config::{RpcSendTransactionConfig, RpcSimulateTransactionConfig, RpcTransactionConfig};
use solana_rpc_client_api::request::{RpcError, RpcResponseErrorData};
use solana_sdk::hash::Hash;
use solana_sdk::instruction::InstructionError;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use solana_sdk::transaction::{Transaction, TransactionError};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn funded(client: &RpcClient, sol: u64) -> Keypair {
    let key = Keypair::new();
    let signature = client.request_airdrop(&key.pubkey(), sol * LAMPORTS_PER_SOL).unwrap();
    assert!(client.confirm_transaction(&signature).unwrap());
    key
}

fn transfer(from: &Keypair, to: &Pubkey, lamports: u64, blockhash: Hash) -> Transaction {
    let ix = solana_system_interface::instruction::transfer(&from.pubkey(), to, lamports);
    Transaction::new_signed_with_payer(&[ix], Some(&from.pubkey()), &[from], blockhash)
}

/// Waits until every signature has a status; returns them.
fn statuses(client: &RpcClient, signatures: &[Signature]) -> Vec<Option<TransactionError>> {
    let started = Instant::now();
    let mut found = vec![None; signatures.len()];
    loop {
        for (chunk, slots) in signatures.chunks(256).zip(found.chunks_mut(256)) {
            for (slot, status) in slots.iter_mut().zip(client.get_signature_statuses(chunk).unwrap().value) {
                if let Some(status) = status {
                    *slot = Some(status.err);
                }
            }
        }
        if found.iter().all(Option::is_some) {
            return found.into_iter().map(Option::unwrap).collect();
        }
        assert!(started.elapsed() < Duration::from_secs(20), "not every transaction landed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_hundred_transfers_with_one_blockhash_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let server = LocalServer::start(dir.path());
    let client = server.client();
    let payer = funded(&client, 10);
    let first_slot = client.get_slot().unwrap();
    let (blockhash, last_valid) = client.get_latest_blockhash_with_commitment(CommitmentConfig::confirmed()).unwrap();
    assert_eq!(last_valid, first_slot + 150, "valid for 150 slots after the one it was taken in");
    let signatures: Vec<Signature> = (0..200)
        .map(|_| client.send_transaction(&transfer(&payer, &Pubkey::new_unique(), 1_000_000, blockhash)).unwrap())
        .collect();
    let outcomes = statuses(&client, &signatures);
    assert!(outcomes.iter().all(Option::is_none), "every transfer succeeded: {outcomes:?}");
    // The clock stood still: 200 transactions, one slot.
    assert_eq!(client.get_slot().unwrap(), first_slot);
    server.advance_ms(399);
    assert_eq!(client.get_slot().unwrap(), first_slot, "a slot lasts 400 ms");
    server.advance_ms(1);
    assert_eq!(client.get_slot().unwrap(), first_slot + 1);
    assert!(client.is_blockhash_valid(&blockhash, CommitmentConfig::confirmed()).unwrap());
}

#[test]
fn skip_preflight_sends_land_and_fail_in_their_status() {
    let rb = Runbook::new();
    let server = Server::start(&rb);
    let client = server.client();
    let payer = funded(&client, 1);
    let blockhash = client.get_latest_blockhash().unwrap();
    let too_much = transfer(&payer, &Pubkey::new_unique(), 5 * LAMPORTS_PER_SOL, blockhash);

    // With preflight: refused, nothing lands.
    let err = client.send_transaction(&too_much).unwrap_err();
    assert!(err.to_string().contains("Transaction simulation failed"), "{err}");
    assert!(client.get_signature_status(&too_much.signatures[0]).unwrap().is_none());

    // Without: the signature comes back, and the failure is in the status and the transaction.
    let skip = RpcSendTransactionConfig { skip_preflight: true, ..Default::default() };
    let signature = client.send_transaction_with_config(&too_much, skip).unwrap();
    let failed = Some(TransactionError::InstructionError(0, InstructionError::Custom(1)));
    assert_eq!(statuses(&client, &[signature]), vec![failed.clone()]);
    let read = client
        .get_transaction_with_config(
            &signature,
            RpcTransactionConfig {
                commitment: Some(CommitmentConfig::confirmed()),
                max_supported_transaction_version: Some(0),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(read.transaction.meta.unwrap().err, failed.map(Into::into));

    // An unknown blockhash is dropped as a cluster drops it: a signature, and never a status.
    let stale = transfer(&payer, &Pubkey::new_unique(), 1_000_000, Hash::new_unique());
    let dropped = client.send_transaction_with_config(&stale, skip).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(client.get_signature_status(&dropped).unwrap().is_none());
    assert_eq!(server.stop(), 0);
}

/// Below `finalized` the chain runs a preflighted send once and takes a failure back: what the
/// client sees must be what a simulation followed by no send leaves.
#[test]
fn a_confirmed_preflight_that_fails_leaves_nothing_behind() {
    let rb = Runbook::new();
    let server = Server::start(&rb);
    let client = server.client();
    let payer = funded(&client, 1);
    let confirmed = CommitmentConfig::confirmed();
    let before = client.get_balance_with_commitment(&payer.pubkey(), confirmed).unwrap().value;
    let blockhash = client.get_latest_blockhash_with_commitment(confirmed).unwrap().0;
    let too_much = transfer(&payer, &Pubkey::new_unique(), 5 * LAMPORTS_PER_SOL, blockhash);
    let at_confirmed = RpcSimulateTransactionConfig { commitment: Some(confirmed), ..Default::default() };
    let simulated = client.simulate_transaction_with_config(&too_much, at_confirmed).unwrap().value;

    let preflight = RpcSendTransactionConfig { preflight_commitment: Some(confirmed.commitment), ..Default::default() };
    let err = client.send_transaction_with_config(&too_much, preflight).unwrap_err();
    let failure = match err.kind() {
        ErrorKind::RpcError(RpcError::RpcResponseError {
            data: RpcResponseErrorData::SendTransactionPreflightFailure(failure),
            ..
        }) => failure,
        _ => panic!("not a preflight failure: {err}"),
    };
    assert_eq!(failure.err, simulated.err, "the error a simulation reports");
    assert_eq!(failure.logs, simulated.logs, "the logs a simulation reports");
    assert_eq!(failure.units_consumed, simulated.units_consumed);
    // No fee taken, no status, no history: the same bytes are new to the chain.
    assert_eq!(client.get_balance_with_commitment(&payer.pubkey(), confirmed).unwrap().value, before);
    assert!(client.get_signature_status(&too_much.signatures[0]).unwrap().is_none());
    let skip = RpcSendTransactionConfig { skip_preflight: true, ..Default::default() };
    let signature = client.send_transaction_with_config(&too_much, skip).unwrap();
    let failed = Some(TransactionError::InstructionError(0, InstructionError::Custom(1)));
    assert_eq!(statuses(&client, &[signature]), vec![failed]);
    assert_eq!(client.get_balance_with_commitment(&payer.pubkey(), confirmed).unwrap().value, before - 5_000);

    // One that succeeds lands once; the same bytes again are a repeat, not a second transfer.
    let to = Pubkey::new_unique();
    let small = transfer(&payer, &to, LAMPORTS_PER_SOL / 10, blockhash);
    let signature = client.send_transaction_with_config(&small, preflight).unwrap();
    assert_eq!(statuses(&client, &[signature]), vec![None]);
    let again = client.send_transaction_with_config(&small, preflight);
    assert!(again.is_err_and(|e| e.to_string().contains("already been processed")), "a repeat is refused");
    assert_eq!(client.get_balance_with_commitment(&to, confirmed).unwrap().value, LAMPORTS_PER_SOL / 10);
    assert_eq!(server.stop(), 0);
}

#[test]
fn blockhashes_expire_after_150_slots() {
    let dir = tempfile::tempdir().unwrap();
    let server = LocalServer::start(dir.path());
    let client = server.client();
    let payer = funded(&client, 1);
    let blockhash = client.get_latest_blockhash().unwrap();
    let slot = client.get_slot().unwrap();
    server.advance_slots(150);
    assert_eq!(client.get_slot().unwrap(), slot + 150);
    assert!(client.is_blockhash_valid(&blockhash, CommitmentConfig::confirmed()).unwrap(), "valid 150 slots on");
    server.advance_slots(1);
    assert!(!client.is_blockhash_valid(&blockhash, CommitmentConfig::confirmed()).unwrap());
    let err = client.send_transaction(&transfer(&payer, &Pubkey::new_unique(), 1_000_000, blockhash)).unwrap_err();
    assert!(err.to_string().contains("Blockhash not found"), "{err}");
}

#[test]
fn slots_and_blockhashes_carry_over_to_the_next_invocation() {
    let dir = tempfile::tempdir().unwrap();
    let first = LocalServer::start(dir.path());
    let clock = first.clock();
    let client = first.client();
    let payer = funded(&client, 1);
    let blockhash = client.get_latest_blockhash().unwrap();
    let slot = client.get_slot().unwrap();
    drop(first);

    // A second and a half later, as the next invocation sees it.
    clock.advance_ms(1_500);
    let handle = Handle::open_on(dir.path(), || {}, Arc::new(clock.clone())).unwrap();
    let chain = Chain::embedded(Arc::clone(&handle), CommitmentConfig::confirmed());
    // The chain kept producing slots while no process held it, as a validator would have.
    let now = {
        let mut net = handle.lock();
        net.follow_clock();
        net.slot()
    };
    assert_eq!(now, slot + 3, "1.5 s of 400 ms slots");
    assert!(handle.lock().is_blockhash_valid(&blockhash));
    landing::send(
        &chain,
        "transfer",
        &[solana_system_interface::instruction::transfer(&payer.pubkey(), &Pubkey::new_unique(), 1_000_000)],
        &payer,
        &[],
    )
    .unwrap();
}

#[test]
fn the_same_operation_twice_in_one_slot_runs_twice() {
    let dir = tempfile::tempdir().unwrap();
    let handle = Handle::open(dir.path(), || {}).unwrap();
    let payer = Keypair::new();
    let to = Pubkey::new_unique();
    {
        let mut net = handle.lock();
        net.airdrop(&payer.pubkey(), LAMPORTS_PER_SOL).unwrap();
        // One long slot, ended by hand below: both sends meet the same blockhash.
        net.set_slot_ms(3_600_000);
    }
    let chain = Chain::embedded(Arc::clone(&handle), CommitmentConfig::confirmed());
    let ix = solana_system_interface::instruction::transfer(&payer.pubkey(), &to, 2_000_000);
    let first = chain.send(std::slice::from_ref(&ix), &payer, &[]).unwrap();
    let next_slot = {
        let handle = Arc::clone(&handle);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            handle.lock().end_slot_early();
        })
    };
    // Identical bytes would be run once by a cluster: the second waits for the next blockhash.
    let second = chain.send(&[ix], &payer, &[]).unwrap();
    next_slot.join().unwrap();
    assert_ne!(first, second);
    assert_eq!(handle.lock().balance(&to), 4_000_000);
}
