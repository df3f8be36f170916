//! Granting many users on the embedded chain with a simulated 400 ms round trip per RPC
//! request, side by side: psyche-runbook's bulk path (users packed per transaction, bounded
//! concurrency, batched status polls) and the run-manager pattern (per user: one create
//! transaction, then one activate transaction, each confirmed before the next).
//!
//! Run: `cargo bench --bench bulk_grants` (args: users [1000], one-at-a-time sample [20]).
//! The one-at-a-time figure for all users is the sample's time per user times the user count:
//! its cost is strictly linear, and running 2,000 sequential confirmations takes ~40 minutes.

use psyche_runbook::chain::batch::{Landing, send_all};
use psyche_runbook::chain::client::Chain;
use psyche_runbook::localnet::chain_params::LAMPORTS_PER_SIGNATURE;
use psyche_runbook::localnet::handle::Handle;
use psyche_runbook::localnet::sender::LocalSender;
use psyche_runbook::psyche::ids::ProgramIds;
use psyche_runbook::psyche::instructions::authorizer;
use psyche_runbook::psyche::pdas::{self, JOIN_RUN_SCOPE};
use psyche_runbook::psyche::sizing::{Step, pack};
use solana_commitment_config::CommitmentConfig;
use solana_sdk::instruction::Instruction;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use std::sync::Arc;
use std::time::{Duration, Instant};

const LATENCY: Duration = Duration::from_millis(400);

fn create(ids: &ProgramIds, grantor: &Pubkey, grantee: &Pubkey) -> Instruction {
    authorizer::instruction(
        ids,
        &authorizer::CreateAccounts {
            payer: *grantor,
            grantor: *grantor,
            authorization: pdas::join_authorization(ids, grantor, grantee),
        },
        &authorizer::AuthorizationCreate {
            params: authorizer::AuthorizationCreateParams { grantee: *grantee, scope: JOIN_RUN_SCOPE.to_vec() },
        },
    )
}

fn activate(ids: &ProgramIds, grantor: &Pubkey, grantee: &Pubkey) -> Instruction {
    authorizer::instruction(
        ids,
        &authorizer::GrantorUpdateAccounts {
            grantor: *grantor,
            authorization: pdas::join_authorization(ids, grantor, grantee),
        },
        &authorizer::AuthorizationGrantorUpdate {
            params: authorizer::AuthorizationGrantorUpdateParams { active: true },
        },
    )
}

fn main() {
    let mut args = std::env::args().skip(1).filter_map(|a| a.parse::<usize>().ok());
    let users_count = args.next().unwrap_or(1_000);
    let sample = args.next().unwrap_or(20);
    let ids = ProgramIds::default();
    let dir = tempfile::tempdir().unwrap();
    let handle = Handle::open(dir.path(), || {}).unwrap();
    let authority = Keypair::new();
    handle.lock().airdrop(&authority.pubkey(), 1_000 * LAMPORTS_PER_SOL).unwrap();
    let chain = Chain::embedded_with_sender(
        LocalSender::new(Arc::clone(&handle)).with_latency(LATENCY),
        Arc::clone(&handle),
        CommitmentConfig::confirmed(),
    );
    let grantor = authority.pubkey();

    // psyche-runbook's bulk path.
    let users: Vec<Pubkey> = (0..users_count).map(|_| Pubkey::new_unique()).collect();
    let started = Instant::now();
    let steps: Vec<Step> = users
        .iter()
        .map(|u| Step {
            what: u.to_string(),
            instructions: vec![create(&ids, &grantor, u), activate(&ids, &grantor, u)],
        })
        .collect();
    let groups = pack(steps, &grantor).unwrap();
    let landings = send_all(&chain, &groups, &authority, &[], 32, &|_| {});
    let bulk_time = started.elapsed().as_secs_f64();
    assert!(landings.iter().all(|l| matches!(l, Landing::Landed(_))), "every bulk transaction landed");
    let bulk_txs = groups.len();
    let per_tx = users_count as f64 / bulk_txs as f64;

    // The run-manager pattern on a sample, extrapolated.
    let sample_users: Vec<Pubkey> = (0..sample).map(|_| Pubkey::new_unique()).collect();
    let started = Instant::now();
    for u in &sample_users {
        chain.send(&[create(&ids, &grantor, u)], &authority, &[]).unwrap();
        chain.send(&[activate(&ids, &grantor, u)], &authority, &[]).unwrap();
    }
    let per_user = started.elapsed().as_secs_f64() / sample as f64;
    let single_time = per_user * users_count as f64;
    let single_txs = 2 * users_count;
    let fee = |txs: usize| txs as f64 * LAMPORTS_PER_SIGNATURE as f64 / LAMPORTS_PER_SOL as f64;

    println!("Granting {users_count} users, {} ms simulated round trip per RPC request", LATENCY.as_millis());
    println!();
    println!("| pattern | transactions | users per transaction | fees (SOL) | wall time |");
    println!("|---|---|---|---|---|");
    println!("| psyche-runbook bulk grant | {bulk_txs} | {per_tx:.1} | {:.6} | {bulk_time:.1} s |", fee(bulk_txs));
    println!(
        "| one user at a time (create, then activate, each confirmed) | {single_txs} | 0.5 | {:.6} | {single_time:.0} s (measured {per_user:.2} s/user on {sample} users) |",
        fee(single_txs)
    );
    println!();
    println!(
        "speed-up: {:.0}x less wall time, {:.1}x fewer transactions",
        single_time / bulk_time,
        single_txs as f64 / bulk_txs as f64
    );
}
