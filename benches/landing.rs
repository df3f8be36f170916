//! Landing latency per commitment level, on a real `solana-test-validator` (400 ms slots, its
//! default) beside `localnet serve` (the same): the product's own landing of one system transfer
//! (median of `rounds`), and 500 transfers through its bulk sending at `confirmed`.
//!
//! Run: `PSYCHE_TEST_VALIDATOR=path/to/solana-test-validator cargo bench --bench landing`
//! (optionally `-- 7` for the rounds per level). Without the variable only serve is measured.

#[path = "../tests/common/mod.rs"]
mod common;

use common::validator::Validator;
use common::{Runbook, Server, settings};
use psyche_runbook::chain::batch::{Landing, send_all};
use psyche_runbook::chain::client::Chain;
use psyche_runbook::chain::landing;
use solana_rpc_client::rpc_client::RpcClient;
use solana_sdk::instruction::Instruction;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use std::time::Instant;

fn transfer(from: &Keypair) -> Vec<Instruction> {
    vec![solana_system_interface::instruction::transfer(&from.pubkey(), &Pubkey::new_unique(), 1_000_000)]
}

fn median_ms(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// One row per level: the median single landing, and for `confirmed` the bulk of 500; then
/// the node's slot time over the whole measurement (latencies are counted in its slots).
fn measure(node: &str, url: &str, payer: &Keypair, rounds: usize) {
    let client =
        RpcClient::new_with_commitment(url.to_string(), solana_commitment_config::CommitmentConfig::processed());
    let (started, first_slot) = (Instant::now(), client.get_slot().unwrap());
    for level in ["processed", "confirmed", "finalized"] {
        let chain = Chain::connect(&settings(&["-u", url, "--commitment", level]), || {}).expect("connect");
        let samples: Vec<f64> = (0..rounds)
            .map(|_| {
                let started = Instant::now();
                landing::send(&chain, "transfer", &transfer(payer), payer, &[]).expect("a transfer lands");
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        let bulk = if level == "confirmed" {
            let groups: Vec<Vec<Instruction>> = (0..500).map(|_| transfer(payer)).collect();
            let started = Instant::now();
            let landed = send_all(&chain, &groups, payer, &[], 32, &|_| {});
            let seconds = started.elapsed().as_secs_f64();
            assert!(landed.iter().all(|l| matches!(l, Landing::Landed(_))), "every bulk transfer lands");
            format!("{seconds:.2} s ({:.0} tx/s)", 500.0 / seconds)
        } else {
            "-".to_string()
        };
        println!("| {node} | {level} | {:.0} ms | {bulk} |", median_ms(samples));
    }
    let slots = client.get_slot().unwrap() - first_slot;
    println!(
        "| {node} | (slot time) | {:.0} ms a slot over {slots} slots | |",
        started.elapsed().as_millis() as f64 / slots as f64
    );
}

fn main() {
    let rounds: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(5);
    println!("| node | commitment | one transfer (median of {rounds}) | 500 in bulk |");
    println!("|---|---|---|---|");
    if let Some(validator) = Validator::start_with(&["--ticks-per-slot", "64"]) {
        let payer = validator.funded(100);
        measure("solana-test-validator 3.1.12", &validator.url, &payer, rounds);
    }
    let rb = Runbook::new();
    let server = Server::start(&rb);
    let client: RpcClient = server.client();
    let payer = Keypair::new();
    let signature = client.request_airdrop(&payer.pubkey(), 100 * LAMPORTS_PER_SOL).unwrap();
    common::wait_until_finalized(&client, &signature);
    measure("localnet serve", &server.url, &payer, rounds);
    assert_eq!(server.stop(), 0);
}
