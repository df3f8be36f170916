//! Hostile input against `localnet serve`: every instruction of the three programs, sent by a
//! real Solana RPC client with malformed data and with malformed accounts. Each must come back
//! as a failed transaction (a preflight failure carrying the transaction error), never as
//! JSON-RPC -32603 (a panic inside the server), and the chain must still serve afterwards.

mod common;

use common::{Runbook, Server};
use psyche_runbook::psyche::encoding::discriminator;
use psyche_runbook::psyche::ids::{ProgramIds, SYSTEM, TOKEN};
use psyche_runbook::psyche::instructions::authorizer;
use psyche_runbook::psyche::pdas::{self, JOIN_RUN_SCOPE};
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::ErrorKind;
use solana_rpc_client_api::request::{RpcError, RpcResponseErrorData};
use solana_sdk::instruction::{AccountMeta, Instruction};
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use solana_sdk::transaction::Transaction;

/// Every instruction: its program, its name and how many accounts it takes.
fn instructions(ids: &ProgramIds) -> Vec<(Pubkey, &'static str, usize)> {
    let coordinator = [
        ("init_coordinator", 4),
        ("free_coordinator", 4),
        ("update", 3),
        ("update_client_version", 3),
        ("set_future_epoch_rates", 3),
        ("join_run", 4),
        ("set_paused", 3),
        ("tick", 3),
        ("witness", 3),
        ("warmup_witness", 3),
        ("health_check", 3),
        ("checkpoint", 3),
    ];
    let authorizer = [
        ("authorization_create", 4),
        ("authorization_grantor_update", 2),
        ("authorization_grantee_update", 4),
        ("authorization_close", 4),
    ];
    let treasurer = [("run_create", 10), ("run_update", 5), ("participant_create", 5), ("participant_claim", 7)];
    let tag = |program: Pubkey| move |(name, n): (&'static str, usize)| (program, name, n);
    coordinator
        .into_iter()
        .map(tag(ids.coordinator))
        .chain(authorizer.into_iter().map(tag(ids.authorizer)))
        .chain(treasurer.into_iter().map(tag(ids.treasurer)))
        .collect()
}

/// Malformed instruction data for `name`: none, too short for a discriminator, the
/// discriminator alone, and the discriminator with garbage of several lengths (the longest
/// still fits a transaction, so the program, not the size limit, refuses it).
fn bad_data(name: &str) -> Vec<Vec<u8>> {
    let d = discriminator(&format!("global:{name}")).to_vec();
    let with = |tail: &[u8]| [d.as_slice(), tail].concat();
    vec![vec![], vec![1, 2, 3], d.clone(), with(&[0xff; 64]), with(&[0; 64]), with(&[0xab; 500])]
}

/// Malformed account lists of `n` accounts (the first one always the signing payer): none,
/// unknown accounts, the payer everywhere, program accounts everywhere, too few.
fn bad_accounts(payer: &Pubkey, program: &Pubkey, n: usize) -> Vec<Vec<AccountMeta>> {
    let signer = AccountMeta::new(*payer, true);
    let filled = |meta: &dyn Fn(usize) -> AccountMeta| {
        std::iter::once(signer.clone()).chain((1..n).map(meta)).collect::<Vec<_>>()
    };
    vec![
        vec![],
        filled(&|_| AccountMeta::new(Pubkey::new_unique(), false)),
        filled(&|_| AccountMeta::new(*payer, false)),
        filled(&|i| AccountMeta::new_readonly([*program, SYSTEM, TOKEN][i % 3], false)),
        filled(&|_| AccountMeta::new(Pubkey::new_unique(), false))
            .into_iter()
            .take(n.saturating_sub(1).max(1))
            .collect(),
    ]
}

/// Sends `ix` and checks that it failed as a transaction (preflight failure with an error).
fn assert_fails_as_transaction(client: &RpcClient, payer: &Keypair, ix: Instruction, what: &str) {
    let blockhash = client.get_latest_blockhash().unwrap();
    let tx = Transaction::new_signed_with_payer(&[ix], Some(&payer.pubkey()), &[payer], blockhash);
    let err = client.send_transaction(&tx).expect_err(what);
    match err.kind() {
        ErrorKind::RpcError(RpcError::RpcResponseError {
            code,
            data: RpcResponseErrorData::SendTransactionPreflightFailure(result),
            ..
        }) => {
            assert_eq!(*code, -32002, "{what}");
            assert!(result.err.is_some(), "{what}: a preflight failure without an error");
        }
        other => panic!("{what}: expected a failed transaction, got {other:?}"),
    }
}

#[test]
fn malformed_instructions_fail_as_transactions_and_the_chain_keeps_serving() {
    let rb = Runbook::new();
    let server = Server::start(&rb);
    let client = server.client();
    let payer = Keypair::new();
    let airdrop = client.request_airdrop(&payer.pubkey(), 10 * LAMPORTS_PER_SOL).unwrap();
    assert!(client.confirm_transaction(&airdrop).unwrap());
    let ids = ProgramIds::default();

    let mut sent = 0;
    for (program, name, n) in instructions(&ids) {
        // Malformed data with plausible accounts (the payer signs, the rest unknown).
        let accounts = bad_accounts(&payer.pubkey(), &program, n).swap_remove(1);
        for data in bad_data(name) {
            let what = format!("{name} with {} bytes of data", data.len());
            assert_fails_as_transaction(
                &client,
                &payer,
                Instruction { program_id: program, accounts: accounts.clone(), data },
                &what,
            );
            sent += 1;
        }
        // Malformed accounts with well-formed (all-zero) arguments.
        let data = bad_data(name).swap_remove(4);
        for (variant, accounts) in bad_accounts(&payer.pubkey(), &program, n).into_iter().enumerate() {
            let what = format!("{name} with account list {variant}");
            assert_fails_as_transaction(
                &client,
                &payer,
                Instruction { program_id: program, accounts, data: data.clone() },
                &what,
            );
            sent += 1;
        }
    }
    // The case that used to panic the server: a scope too long to be a seed.
    let grantee = Pubkey::new_unique();
    let mut long_scope = authorizer::instruction(
        &ids,
        &authorizer::CreateAccounts {
            payer: payer.pubkey(),
            grantor: payer.pubkey(),
            authorization: pdas::authorization(&ids, &payer.pubkey(), &grantee, JOIN_RUN_SCOPE),
        },
        &authorizer::AuthorizationCreate {
            params: authorizer::AuthorizationCreateParams { grantee, scope: JOIN_RUN_SCOPE.to_vec() },
        },
    );
    long_scope.data = anchor_lang::InstructionData::data(&authorizer::AuthorizationCreate {
        params: authorizer::AuthorizationCreateParams { grantee, scope: vec![7; 40] },
    });
    assert_fails_as_transaction(&client, &payer, long_scope, "authorization_create with a 40-byte scope");
    sent += 1;
    assert!(sent > 200, "{sent} hostile transactions");

    // Still serving: a real transaction lands.
    let create = authorizer::instruction(
        &ids,
        &authorizer::CreateAccounts {
            payer: payer.pubkey(),
            grantor: payer.pubkey(),
            authorization: pdas::authorization(&ids, &payer.pubkey(), &grantee, JOIN_RUN_SCOPE),
        },
        &authorizer::AuthorizationCreate {
            params: authorizer::AuthorizationCreateParams { grantee, scope: JOIN_RUN_SCOPE.to_vec() },
        },
    );
    let blockhash = client.get_latest_blockhash().unwrap();
    let tx = Transaction::new_signed_with_payer(&[create], Some(&payer.pubkey()), &[&payer], blockhash);
    client.send_and_confirm_transaction(&tx).unwrap();
    assert!(client.get_health().is_ok());
    assert_eq!(server.stop(), 0);
}
