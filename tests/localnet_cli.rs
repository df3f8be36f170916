//! The embedded localnet across processes: state that survives restarts and kills, the
//! `localnet` commands, and `localnet serve` driven by a real Solana RPC client.

mod common;

use common::{Runbook, Server};
use psyche_runbook::psyche::accounts::BorshAccount;
use psyche_runbook::psyche::accounts::authorization::Authorization;
use psyche_runbook::psyche::ids::ProgramIds;
use psyche_runbook::psyche::instructions::authorizer;
use psyche_runbook::psyche::pdas::{self, JOIN_RUN_SCOPE, PERMISSIONLESS_GRANTEE};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client_api::config::{RpcProgramAccountsConfig, RpcTransactionConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use solana_sdk::transaction::Transaction;
use std::process::Stdio;
use std::time::Duration;

#[test]
fn state_survives_separate_processes() {
    let rb = Runbook::new()
        .file("fund.rhai", "let k = new_keypair();\nairdrop(k.pubkey, 2.5);\noutput(\"key\", k.pubkey);\noutput(\"payer\", payer().pubkey);\n")
        .file("read.rhai", "output(\"sol\", sol_balance(pubkey(param(\"key\"))));\n");
    let first = rb.run_args(["run", "fund.rhai", "--output", "json"]).success().json();
    let key = first["outputs"]["key"].as_str().unwrap().to_string();
    let second = rb.run_args(["run", "read.rhai", "--set", &format!("key={key}"), "--output", "json"]).success().json();
    assert_eq!(second["outputs"]["sol"], 3.5);
    let status = rb.run_args(["localnet", "status", "--output", "json"]).success().json();
    assert!(status["slot"].as_u64().unwrap() >= 1, "{status}");
    assert_eq!(status["payer"]["pubkey"], first["outputs"]["payer"]);
    assert!(status["payer"]["sol"].as_f64().unwrap() > 90.0, "the generated payer is funded: {status}");
    rb.run_args(["localnet", "reset"]).success();
    let after = rb.run_args(["run", "read.rhai", "--set", &format!("key={key}"), "--output", "json"]).success().json();
    assert_eq!(after["outputs"]["sol"], 0.0);
}

#[test]
fn localnet_services_are_refused_on_real_clusters() {
    let run = Runbook::new().file("r.rhai", "create_mint(6);\n").run_args(["run", "r.rhai", "-u", "devnet"]).code(2);
    assert!(run.stderr.contains("this is a localnet service, not available on"), "{}", run.stderr);
    assert!(run.stderr.ends_with("nothing was sent\n"), "{}", run.stderr);
}

#[test]
fn a_process_killed_while_saving_leaves_a_readable_state() {
    use std::io::BufRead;
    use std::os::unix::process::ExitStatusExt;
    let rb = Runbook::new();
    // Each airdrop shows a result line, printed after the statement's state is saved.
    let mut statements = String::from("let k = new_keypair();\noutput(\"k\", k.pubkey);\n");
    for n in 1..=400 {
        statements += &format!("airdrop(k.pubkey, 0.001); {n}\n");
    }
    // Killed after the k-th save: while the next statement runs and saves.
    for saved in [1usize, 25, 75, 150, 300] {
        let mut child = rb
            .command()
            .args(["repl"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = statements.clone();
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(input.as_bytes());
        });
        let mut results = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        for n in 1..=saved {
            let line = results.next().unwrap_or_else(|| panic!("the REPL ended after {} result(s)", n - 1)).unwrap();
            assert_eq!(line, n.to_string());
        }
        let _ = child.kill(); // SIGKILL: no chance to clean up
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL), "the REPL was still running when killed: {status}");
        let _ = writer.join();
        // Whatever moment the kill hit, the last complete state loads.
        rb.run_args(["localnet", "status", "--output", "json"]).success();
    }
}

#[test]
fn serve_answers_a_solana_rpc_client() {
    let rb = Runbook::new();
    let server = Server::start(&rb);
    let client = server.client();
    assert_eq!(client.get_version().unwrap().solana_core, "3.1.14");

    // Airdrop, then send and confirm a real transaction from the client.
    let grantor = Keypair::new();
    let airdrop = client.request_airdrop(&grantor.pubkey(), 2 * LAMPORTS_PER_SOL).unwrap();
    assert!(client.confirm_transaction(&airdrop).unwrap());
    assert_eq!(client.get_balance(&grantor.pubkey()).unwrap(), 2 * LAMPORTS_PER_SOL);
    let ids = ProgramIds::default();
    let auth = pdas::join_authorization(&ids, &grantor.pubkey(), &PERMISSIONLESS_GRANTEE);
    let create = authorizer::instruction(
        &ids,
        &authorizer::CreateAccounts { payer: grantor.pubkey(), grantor: grantor.pubkey(), authorization: auth },
        &authorizer::AuthorizationCreate {
            params: authorizer::AuthorizationCreateParams {
                grantee: PERMISSIONLESS_GRANTEE,
                scope: JOIN_RUN_SCOPE.to_vec(),
            },
        },
    );
    let blockhash = client.get_latest_blockhash().unwrap();
    let tx = Transaction::new_signed_with_payer(&[create], Some(&grantor.pubkey()), &[&grantor], blockhash);
    let signature = client.send_and_confirm_transaction(&tx).unwrap();

    // Read it back: account, filtered program accounts, the transaction with its logs.
    let account = client.get_account(&auth).unwrap();
    assert_eq!(account.owner, ids.authorizer);
    assert_eq!(Authorization::decode(&account.data).unwrap().grantor, grantor.pubkey());
    let by_grantor = RpcProgramAccountsConfig {
        filters: Some(vec![
            RpcFilterType::DataSize(108),
            RpcFilterType::Memcmp(Memcmp::new_base58_encoded(9, grantor.pubkey().as_ref())),
        ]),
        ..Default::default()
    };
    let found = client.get_program_ui_accounts_with_config(&ids.authorizer, by_grantor).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, auth);
    let other = RpcProgramAccountsConfig {
        filters: Some(vec![RpcFilterType::Memcmp(Memcmp::new_base58_encoded(9, Keypair::new().pubkey().as_ref()))]),
        ..Default::default()
    };
    assert!(client.get_program_ui_accounts_with_config(&ids.authorizer, other).unwrap().is_empty());
    let tx = client
        .get_transaction_with_config(
            &signature,
            RpcTransactionConfig {
                encoding: Some(solana_transaction_status_client_types::UiTransactionEncoding::Base64),
                commitment: Some(CommitmentConfig::confirmed()),
                max_supported_transaction_version: Some(0),
            },
        )
        .unwrap();
    let logs: Option<Vec<String>> = tx.transaction.meta.unwrap().log_messages.into();
    assert!(logs.unwrap().iter().any(|l| l.contains(&ids.authorizer.to_string())));
    let statuses = client.get_signature_statuses(&[signature]).unwrap().value;
    assert!(statuses[0].as_ref().unwrap().err.is_none());

    // A failing transaction comes back as a preflight failure with the program's logs. Signed
    // with the next slot's blockhash: the same bytes in the same slot would be a repeat.
    let mut next = client.get_latest_blockhash().unwrap();
    while next == blockhash {
        std::thread::sleep(Duration::from_millis(50));
        next = client.get_latest_blockhash().unwrap();
    }
    let blockhash = next;
    let again = authorizer::instruction(
        &ids,
        &authorizer::CreateAccounts { payer: grantor.pubkey(), grantor: grantor.pubkey(), authorization: auth },
        &authorizer::AuthorizationCreate {
            params: authorizer::AuthorizationCreateParams {
                grantee: PERMISSIONLESS_GRANTEE,
                scope: JOIN_RUN_SCOPE.to_vec(),
            },
        },
    );
    let tx = Transaction::new_signed_with_payer(&[again], Some(&grantor.pubkey()), &[&grantor], blockhash);
    let err = client.send_and_confirm_transaction(&tx).unwrap_err();
    assert!(err.to_string().contains("already in use"), "{err}");

    assert_eq!(server.stop(), 0);
    // Stopping saved the chain: the next process sees the authorization.
    let status = rb.run_args(["localnet", "status", "--output", "json"]).success().json();
    assert!(status["state_file_bytes"].as_u64().unwrap() > 0);
}
