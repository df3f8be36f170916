//! The real-cluster path, proven on a real node: the product's landing, reads and CLI against a
//! `solana-test-validator` 3.1.12 (the lane: see `common::validator`; skipped, and saying so,
//! without `PSYCHE_TEST_VALIDATOR`), and the same checks against `localnet serve`, which must
//! keep commitment levels apart as the validator does so that no test can pass on one and
//! fail on the other.

mod common;

use common::proxy::Proxy;
use common::validator::Validator;
use common::{Runbook, Server, settings};
use psyche_runbook::chain::batch::{Landing, send_all};
use psyche_runbook::chain::client::Chain;
use psyche_runbook::chain::cluster::RpcUrl;
use psyche_runbook::chain::identity::Identity;
use psyche_runbook::chain::journal::Journal;
use psyche_runbook::chain::landing;
use solana_commitment_config::{CommitmentConfig, CommitmentLevel};
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::config::{RpcSendTransactionConfig, RpcTransactionConfig};
use solana_sdk::instruction::Instruction;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use solana_sdk::transaction::{Transaction, TransactionError};
use std::time::{Duration, Instant};

const LEVELS: [(&str, CommitmentLevel); 3] = [
    ("processed", CommitmentLevel::Processed),
    ("confirmed", CommitmentLevel::Confirmed),
    ("finalized", CommitmentLevel::Finalized),
];

fn transfer(from: &Keypair, to: &Pubkey, lamports: u64) -> Instruction {
    solana_system_interface::instruction::transfer(&from.pubkey(), to, lamports)
}

fn connect(url: &str, level: &str) -> Chain {
    Chain::connect(&settings(&["-u", url, "--commitment", level]), || {}).expect("connect")
}

fn at(level: CommitmentLevel) -> CommitmentConfig {
    CommitmentConfig { commitment: level }
}

/// A key with SOL on `localnet serve` (its faucet answers airdrops), finalized: a client at
/// `finalized` cannot pay with a balance the root has not seen.
fn airdropped(client: &RpcClient, sol: u64) -> Keypair {
    let key = Keypair::new();
    let signature = client.request_airdrop(&key.pubkey(), sol * LAMPORTS_PER_SOL).unwrap();
    common::wait_until_finalized(client, &signature);
    key
}

/// One transfer through the product's landing at each level: it returns once the transfer's
/// status satisfies the level, and a read at that level then sees it.
fn lands_at_every_commitment(url: &str, payer: &Keypair) {
    let client = RpcClient::new(url.to_string());
    for (name, level) in LEVELS {
        let chain = connect(url, name);
        let to = Pubkey::new_unique();
        let started = Instant::now();
        let signature = landing::send(&chain, "transfer", &[transfer(payer, &to, 1_000_000)], payer, &[])
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        eprintln!("{url}: landed at {name} in {} ms", started.elapsed().as_millis());
        let status = client.get_signature_statuses(&[signature]).unwrap().value[0].clone().expect("a status");
        assert!(status.satisfies_commitment(at(level)), "{name}: {status:?}");
        assert_eq!(client.get_balance_with_commitment(&to, at(level)).unwrap().value, 1_000_000, "{name}");
    }
}

/// A blockhash from a slot the root has not reached: unknown to a `finalized` preflight and to
/// `isBlockhashValid` at `finalized`, valid at `confirmed`.
fn a_finalized_preflight_refuses_a_newer_blockhash(url: &str, payer: &Keypair) {
    let client = RpcClient::new(url.to_string());
    let (blockhash, _) = client.get_latest_blockhash_with_commitment(at(CommitmentLevel::Confirmed)).unwrap();
    assert!(!client.is_blockhash_valid(&blockhash, at(CommitmentLevel::Finalized)).unwrap());
    assert!(client.is_blockhash_valid(&blockhash, at(CommitmentLevel::Confirmed)).unwrap());
    let tx = Transaction::new_signed_with_payer(
        &[transfer(payer, &Pubkey::new_unique(), 1_000_000)],
        Some(&payer.pubkey()),
        &[payer],
        blockhash,
    );
    let finalized =
        RpcSendTransactionConfig { preflight_commitment: Some(CommitmentLevel::Finalized), ..Default::default() };
    let err = client.send_transaction_with_config(&tx, finalized).unwrap_err();
    assert!(err.to_string().contains("Blockhash not found"), "{url}: {err}");
    let confirmed =
        RpcSendTransactionConfig { preflight_commitment: Some(CommitmentLevel::Confirmed), ..Default::default() };
    client.send_transaction_with_config(&tx, confirmed).unwrap_or_else(|e| panic!("{url}: {e}"));
}

/// A transaction calling a program that is not there: `ProgramAccountNotFound` from the
/// simulation and the preflight; without preflight it is recorded as failed with that error,
/// and only its fee is charged (agave charges fees for failed loads).
fn a_missing_program_fails_preflight_and_costs_its_fee(url: &str, payer: &Keypair) {
    let client = RpcClient::new_with_commitment(url.to_string(), CommitmentConfig::confirmed());
    let ix = Instruction::new_with_bytes(Pubkey::new_unique(), &[1], vec![]);
    let blockhash = client.get_latest_blockhash().unwrap();
    let tx = Transaction::new_signed_with_payer(&[ix], Some(&payer.pubkey()), &[payer], blockhash);
    let simulated = client.simulate_transaction(&tx).unwrap().value;
    assert_eq!(simulated.err.map(TransactionError::from), Some(TransactionError::ProgramAccountNotFound), "{url}");
    let err = client.send_transaction(&tx).unwrap_err();
    assert!(err.to_string().contains("Attempt to load a program that does not exist"), "{url}: {err}");
    let before = client.get_balance(&payer.pubkey()).unwrap();
    let skip = RpcSendTransactionConfig { skip_preflight: true, ..Default::default() };
    let signature = client.send_transaction_with_config(&tx, skip).unwrap();
    let started = Instant::now();
    let status = loop {
        let status = client.get_signature_statuses(&[signature]).unwrap().value[0].clone();
        if let Some(status) = status.filter(|s| s.satisfies_commitment(CommitmentConfig::confirmed())) {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{url}: no status");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.err, Some(TransactionError::ProgramAccountNotFound), "{url}");
    assert_eq!(before - client.get_balance(&payer.pubkey()).unwrap(), 5_000, "{url}: the fee, and nothing else");
}

fn serve_with_fast_slots() -> (Runbook, Server) {
    let rb = Runbook::new();
    // 20 ms slots: the root is 31 slots (0.6 s) behind.
    let server = Server::start_with(&rb, &["--slot-ms", "20"]);
    (rb, server)
}

#[test]
fn landing_works_at_every_commitment_through_serve() {
    let (_rb, server) = serve_with_fast_slots();
    let payer = airdropped(&server.client(), 5);
    lands_at_every_commitment(&server.url, &payer);
    // Before the next check, whose transfer lands without being waited for.
    a_missing_program_fails_preflight_and_costs_its_fee(&server.url, &payer);
    a_finalized_preflight_refuses_a_newer_blockhash(&server.url, &payer);
    assert_eq!(server.stop(), 0);
}

#[test]
fn landing_works_at_every_commitment_on_the_validator() {
    let Some(validator) = Validator::shared() else { return };
    let payer = validator.funded(5);
    lands_at_every_commitment(&validator.url, &payer);
    // Before the next check, whose transfer lands without being waited for.
    a_missing_program_fails_preflight_and_costs_its_fee(&validator.url, &payer);
    a_finalized_preflight_refuses_a_newer_blockhash(&validator.url, &payer);
}

/// `count` transfers through the product's bulk sending at `level`: every one lands.
fn bulk_transfers_land(url: &str, payer: &Keypair, level: &str, count: usize) {
    let chain = connect(url, level);
    let recipients: Vec<Pubkey> = (0..count).map(|_| Pubkey::new_unique()).collect();
    let groups: Vec<Vec<Instruction>> = recipients.iter().map(|to| vec![transfer(payer, to, 1_000_000)]).collect();
    let started = Instant::now();
    let landings = send_all(&chain, &groups, payer, &[], 32, &|_| {});
    eprintln!("{url}: {count} transfers landed at {level} in {} ms", started.elapsed().as_millis());
    let failed: Vec<String> =
        landings.iter().filter_map(|l| if let Landing::Failed(e) = l { Some(e.clone()) } else { None }).collect();
    assert!(failed.is_empty(), "{level}: {} of {count} failed, the first: {}", failed.len(), failed[0]);
    let balances = chain.accounts(&recipients).unwrap();
    assert!(balances.iter().all(|a| a.as_ref().is_some_and(|a| a.lamports == 1_000_000)), "{level}");
}

#[test]
fn bulk_sends_land_at_every_commitment_on_the_validator() {
    let Some(validator) = Validator::shared() else { return };
    let payer = validator.funded(100);
    bulk_transfers_land(&validator.url, &payer, "confirmed", 500);
    bulk_transfers_land(&validator.url, &payer, "processed", 60);
    bulk_transfers_land(&validator.url, &payer, "finalized", 60);
}

#[test]
fn bulk_sends_land_at_every_commitment_through_serve() {
    let (_rb, server) = serve_with_fast_slots();
    let payer = airdropped(&server.client(), 50);
    bulk_transfers_land(&server.url, &payer, "confirmed", 500);
    bulk_transfers_land(&server.url, &payer, "processed", 60);
    bulk_transfers_land(&server.url, &payer, "finalized", 60);
    assert_eq!(server.stop(), 0);
}

#[test]
fn a_send_whose_blockhash_expires_is_re_signed_and_lands_once() {
    let Some(validator) = Validator::shared() else { return };
    let payer = validator.funded(5);
    let proxy = Proxy::start(&validator.url);
    proxy.lose_next_transaction();
    let chain = connect(&proxy.url, "confirmed");
    let journal_dir = tempfile::tempdir().unwrap();
    let identity = Identity::rpc(&RpcUrl::parse(&proxy.url).unwrap(), None, None);
    chain.set_journal(std::sync::Arc::new(Journal::create(journal_dir.path(), &identity, "test").unwrap()));
    let to = Pubkey::new_unique();
    let signature = landing::send(&chain, "transfer", &[transfer(&payer, &to, 1_000_000)], &payer, &[]).unwrap();
    let lost = proxy.lost().expect("the first signing was lost");
    assert_ne!(signature.to_string(), lost, "landed under a second signing");
    assert!(proxy.count("sendTransaction") >= 2, "resent before the blockhash expired: {:?}", proxy.counts());
    let client = validator.client();
    assert_eq!(client.get_balance(&to).unwrap(), 1_000_000, "paid exactly once");
    let lost: Signature = lost.parse().unwrap();
    assert!(client.get_signature_statuses_with_history(&[lost]).unwrap().value[0].is_none());
    // The journal tells the same story: the first intent expired, the second landed.
    let records: Vec<serde_json::Value> = std::fs::read_dir(journal_dir.path())
        .unwrap()
        .flat_map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap().lines().map(String::from).collect::<Vec<_>>())
        .map(|l| serde_json::from_str(&l).unwrap())
        .collect();
    let events: Vec<&str> = records.iter().filter_map(|r| r["event"].as_str()).collect();
    assert_eq!(events, ["start", "intent", "expired", "intent", "landed"], "{records:?}");
}

#[test]
fn a_failed_simulation_is_the_verdict_and_nothing_is_sent() {
    let Some(validator) = Validator::shared() else { return };
    let payer = validator.funded(1);
    let proxy = Proxy::start(&validator.url);
    let chain = connect(&proxy.url, "confirmed");
    let err = landing::send(
        &chain,
        "transfer",
        &[transfer(&payer, &Pubkey::new_unique(), 5 * LAMPORTS_PER_SOL)],
        &payer,
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("simulation failed"), "{err}");
    assert!(err.contains("insufficient lamports"), "the program's log line: {err}");
    assert_eq!(proxy.count("sendTransaction"), 0, "{:?}", proxy.counts());
}

#[test]
fn batched_reads_of_more_than_100_accounts_take_two_requests() {
    let Some(validator) = Validator::shared() else { return };
    let payer = validator.funded(1);
    let chain = connect(&validator.url, "confirmed");
    let mut keys: Vec<Pubkey> = (0..149).map(|_| Pubkey::new_unique()).collect();
    keys.push(payer.pubkey());
    let accounts = chain.accounts(&keys).unwrap();
    assert_eq!(accounts.iter().filter(|a| a.is_some()).count(), 1);
    assert_eq!(accounts[149].as_ref().unwrap().lamports, LAMPORTS_PER_SOL);
    assert_eq!(chain.round_trips().by_method().get("getMultipleAccounts"), Some(&2));
}

#[test]
fn a_dead_url_fails_over_to_a_live_one() {
    let Some(validator) = Validator::shared() else { return };
    let payer = validator.funded(1);
    let dead = format!(
        "http://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    );
    let chain = Chain::connect(&settings(&["-u", &dead, "-u", &validator.url]), || {}).unwrap();
    assert_eq!(chain.balance(&payer.pubkey()).unwrap(), LAMPORTS_PER_SOL);
    let to = Pubkey::new_unique();
    landing::send(&chain, "transfer", &[transfer(&payer, &to, 1_000_000)], &payer, &[]).unwrap();
    assert_eq!(validator.client().get_balance(&to).unwrap(), 1_000_000);
    // And from the CLI, as an operator repeats --url.
    let out = Runbook::new().run_args(["watch", "--once", "-u", &dead, "-u", &validator.url]).success();
    assert!(out.stdout.contains("0 run(s)"), "{}", out.stdout);
}

#[test]
fn the_compute_unit_price_asked_for_is_paid() {
    let Some(validator) = Validator::shared() else { return };
    let payer = validator.funded(1);
    let chain = Chain::connect(&settings(&["-u", &validator.url, "--with-compute-unit-price", "1234"]), || {}).unwrap();
    let signature =
        landing::send(&chain, "transfer", &[transfer(&payer, &Pubkey::new_unique(), 1_000_000)], &payer, &[]).unwrap();
    let config = RpcTransactionConfig {
        commitment: Some(CommitmentConfig::confirmed()),
        encoding: Some(solana_transaction_status_client_types::UiTransactionEncoding::Base64),
        max_supported_transaction_version: Some(0),
    };
    let found = validator.client().get_transaction_with_config(&signature, config).unwrap();
    let tx = found.transaction.transaction.decode().expect("a base64 transaction");
    let budget: Vec<Vec<u8>> = tx
        .message
        .instructions()
        .iter()
        .filter(|ix| tx.message.static_account_keys()[ix.program_id_index as usize] == compute_budget())
        .map(|ix| ix.data.clone())
        .collect();
    let price = borsh_price(1234);
    assert!(budget.contains(&price), "SetComputeUnitPrice(1234) in {budget:?}");
    assert!(budget.iter().any(|d| d.first() == Some(&2)), "a SetComputeUnitLimit from simulation in {budget:?}");
}

fn compute_budget() -> Pubkey {
    solana_sdk::pubkey!("ComputeBudget111111111111111111111111111111")
}

/// SetComputeUnitPrice's data: tag 3, then the micro-lamports as a little-endian u64.
fn borsh_price(micro_lamports: u64) -> Vec<u8> {
    let mut data = vec![3];
    data.extend(micro_lamports.to_le_bytes());
    data
}

/// The payer's history on the validator: only the transfer that funded it.
fn history_of(validator: &Validator, key: &Pubkey) -> usize {
    validator.client().get_signatures_for_address(key).unwrap().len()
}

fn keypair_file(rb: &Runbook, key: &Keypair) -> String {
    let path = rb.path("operator.json");
    std::fs::write(&path, serde_json::to_string(&key.to_bytes().to_vec()).unwrap()).unwrap();
    path.display().to_string()
}

#[test]
fn a_psyche_runbook_names_the_missing_program_and_sends_nothing() {
    let Some(validator) = Validator::shared() else { return };
    let payer = validator.funded(10);
    let proxy = Proxy::start(&validator.url);
    let rb = Runbook::new();
    let key = keypair_file(&rb, &payer);
    let runbook = format!("{}/runbooks/create-public-run.rhai", env!("CARGO_MANIFEST_DIR"));
    let out = rb.run_args(["run", &runbook, "-u", &proxy.url, "-k", &key, "--set", "run_id=lane-run"]);
    assert_ne!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("is not deployed on this cluster"), "{}", out.stderr);
    assert!(
        ["(coordinator)", "(authorizer)", "(treasurer)"].iter().any(|name| out.stderr.contains(name)),
        "names the program: {}",
        out.stderr
    );
    assert!(out.stderr.contains("nothing was sent"), "{}", out.stderr);
    assert_eq!(proxy.count("sendTransaction"), 0, "{:?}", proxy.counts());
    assert_eq!(history_of(validator, &payer.pubkey()), 1, "only the transfer that funded the payer");

    // A dry-run fails its plan the same way, before simulating anything on the fork.
    let out = rb.run_args(["run", &runbook, "-u", &validator.url, "-k", &key, "--set", "run_id=lane-run", "--dry-run"]);
    assert_ne!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("is not deployed on this cluster"), "{}", out.stderr);
    let json = rb
        .run_args([
            "--output",
            "json",
            "run",
            &runbook,
            "-u",
            &validator.url,
            "-k",
            &key,
            "--set",
            "run_id=lane-run",
            "--dry-run",
        ])
        .json();
    let programs = json["programs"].as_array().expect("the programs the plan checked");
    assert!(programs.iter().any(|p| p["state"] == "missing"), "{programs:?}");
    assert_eq!(history_of(validator, &payer.pubkey()), 1);
}

#[test]
fn watch_and_inspect_say_there_are_no_runs() {
    let Some(validator) = Validator::shared() else { return };
    let rb = Runbook::new();
    let out = rb.run_args(["watch", "--once", "-u", &validator.url]).success();
    assert!(out.stdout.contains("0 run(s)"), "{}", out.stdout);
    let json = rb.run_args(["--output", "json", "watch", "--once", "-u", &validator.url]).success().json();
    assert_eq!(json["runs"], serde_json::json!([]));
    let inspect = format!("{}/runbooks/inspect.rhai", env!("CARGO_MANIFEST_DIR"));
    let out = rb.run_args(["run", &inspect, "-u", &validator.url, "--set", "run_id=nothing-here"]);
    assert!(out.stderr.contains("nothing-here"), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}
