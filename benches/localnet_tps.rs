//! Transactions per second through the embedded chain: in process (the client path runbooks
//! use) and over HTTP through `localnet serve`'s server, each a signed create+activate
//! authorization pair sent and confirmed one after another.
//!
//! Run: `cargo bench --bench localnet_tps` (optionally `-- 2000` for the transaction count).

use psyche_runbook::chain::client::Chain;
use psyche_runbook::localnet::handle::Handle;
use psyche_runbook::psyche::ids::ProgramIds;
use psyche_runbook::psyche::instructions::authorizer;
use psyche_runbook::psyche::pdas::{self, JOIN_RUN_SCOPE};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::rpc_client::RpcClient;
use solana_sdk::instruction::Instruction;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use solana_sdk::transaction::Transaction;
use std::sync::Arc;
use std::time::Instant;

fn grant(ids: &ProgramIds, grantor: &Keypair, grantee: &Pubkey) -> Vec<Instruction> {
    let auth = pdas::join_authorization(ids, &grantor.pubkey(), grantee);
    vec![
        authorizer::instruction(
            ids,
            &authorizer::CreateAccounts { payer: grantor.pubkey(), grantor: grantor.pubkey(), authorization: auth },
            &authorizer::AuthorizationCreate {
                params: authorizer::AuthorizationCreateParams { grantee: *grantee, scope: JOIN_RUN_SCOPE.to_vec() },
            },
        ),
        authorizer::instruction(
            ids,
            &authorizer::GrantorUpdateAccounts { grantor: grantor.pubkey(), authorization: auth },
            &authorizer::AuthorizationGrantorUpdate {
                params: authorizer::AuthorizationGrantorUpdateParams { active: true },
            },
        ),
    ]
}

fn funded(handle: &Handle) -> Keypair {
    let grantor = Keypair::new();
    handle.lock().airdrop(&grantor.pubkey(), 1_000 * LAMPORTS_PER_SOL).unwrap();
    grantor
}

fn report(path: &str, count: usize, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    println!("| {path} | {count} | {seconds:.2} s | {:.0} tx/s |", count as f64 / seconds);
}

fn main() {
    let count: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(1_000);
    let ids = ProgramIds::default();
    println!("| path | transactions | wall time | throughput |");
    println!("|---|---|---|---|");

    let dir = tempfile::tempdir().unwrap();
    let handle = Handle::open(dir.path(), || {}).unwrap();
    let grantor = funded(&handle);
    let chain = Chain::embedded(Arc::clone(&handle), CommitmentConfig::confirmed());
    let started = Instant::now();
    for _ in 0..count {
        chain.send(&grant(&ids, &grantor, &Pubkey::new_unique()), &grantor, &[]).unwrap();
    }
    report("embedded (in-process RpcClient)", count, started);
    drop(chain);

    let grantor = funded(&handle);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let until_stopped = async {
        let _ = stopped.await;
    };
    let server = runtime.spawn(psyche_runbook::localnet::server::serve(
        listener,
        Arc::clone(&handle),
        until_stopped,
        Arc::new(|_| {}),
    ));
    let client = RpcClient::new_with_commitment(url, CommitmentConfig::confirmed());
    let started = Instant::now();
    for _ in 0..count {
        let blockhash = client.get_latest_blockhash().unwrap();
        let tx = Transaction::new_signed_with_payer(
            &grant(&ids, &grantor, &Pubkey::new_unique()),
            Some(&grantor.pubkey()),
            &[&grantor],
            blockhash,
        );
        client.send_and_confirm_transaction(&tx).unwrap();
    }
    report("localnet serve (HTTP RpcClient)", count, started);
    let _ = stop.send(());
    runtime.block_on(server).unwrap().unwrap();
}
