//! `localnet serve` answers the cluster, supply, leader and token-index methods as a real
//! solana-test-validator 3.1.12 does. Every call of
//! `tests/fixtures/rpc/solana-test-validator-3.1.12-cluster.json` is replayed against serve
//! after it made its own mint, token account (5 tokens) and delegate (1 token approved), the
//! fixture's addresses and slots swapped for serve's, and the answers compared by shape (keys,
//! value types, nesting) and error codes exactly; then the values are checked against what
//! serve's chain holds.

mod common;

use common::shape::shape_differences;
use common::{Runbook, Server, fixture};
use psyche_runbook::psyche::instructions::system::create_ata_idempotent;
use psyche_runbook::psyche::pdas::associated_token;
use serde_json::{Value, json};
use solana_program_pack::Pack;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use solana_sdk::transaction::Transaction;
use std::collections::BTreeMap;

/// The accounts serve's answers are about, as the fixture's `accounts` names them.
struct Made {
    payer: Keypair,
    mint: Pubkey,
    token_account: Pubkey,
    delegate: Pubkey,
}

/// A mint of 6 decimals, the payer's token account holding 5 tokens, 1 of them approved to a
/// delegate: what the fixture's validator held when it was recorded. Finalized, so requests
/// without a commitment (they read at the root) see it.
fn make_token_accounts(server: &Server) -> Made {
    let client = server.client();
    let payer = Keypair::new();
    let airdrop = client.request_airdrop(&payer.pubkey(), 2 * LAMPORTS_PER_SOL).unwrap();
    common::wait_until_finalized(&client, &airdrop);
    let mint = Keypair::new();
    let delegate = Pubkey::new_unique();
    let token = spl_token_interface::ID;
    let token_account = associated_token(&payer.pubkey(), &mint.pubkey());
    let size = spl_token_interface::state::Mint::LEN;
    let rent = client.get_minimum_balance_for_rent_exemption(size).unwrap();
    let me = payer.pubkey();
    let setup = [
        solana_system_interface::instruction::create_account(&me, &mint.pubkey(), rent, size as u64, &token),
        spl_token_interface::instruction::initialize_mint2(&token, &mint.pubkey(), &me, None, 6).unwrap(),
        create_ata_idempotent(&me, &me, &mint.pubkey()),
        spl_token_interface::instruction::mint_to(&token, &mint.pubkey(), &token_account, &me, &[], 5_000_000).unwrap(),
        spl_token_interface::instruction::approve(&token, &token_account, &delegate, &me, &[], 1_000_000).unwrap(),
    ];
    let blockhash = client.get_latest_blockhash().unwrap();
    let tx = Transaction::new_signed_with_payer(&setup, Some(&me), &[&payer, &mint], blockhash);
    let signature = client.send_and_confirm_transaction(&tx).unwrap();
    common::wait_until_finalized(&client, &signature);
    Made { payer, mint: mint.pubkey(), token_account, delegate }
}

/// `value` with the fixture's addresses replaced by serve's, in values and keys.
fn substitute(value: &Value, names: &BTreeMap<String, String>) -> Value {
    let name = |s: &String| names.get(s).unwrap_or(s).clone();
    match value {
        Value::String(s) => json!(name(s)),
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, names)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (name(k), substitute(v, names))).collect()),
        other => other.clone(),
    }
}

#[test]
fn every_cluster_and_token_call_has_the_validators_shape() {
    let text = std::fs::read_to_string(fixture("rpc/solana-test-validator-3.1.12-cluster.json")).unwrap();
    let recorded: Value = serde_json::from_str(&text).unwrap();
    let rb = Runbook::new();
    // 20 ms slots: the root, where requests without a commitment read, is 0.6 s behind.
    let server = Server::start_with(&rb, &["--slot-ms", "20"]);
    let made = make_token_accounts(&server);
    let fixture_accounts = recorded["accounts"].as_object().unwrap();
    let ours = [
        ("payer", made.payer.pubkey()),
        ("mint", made.mint),
        ("token_account", made.token_account),
        ("delegate", made.delegate),
    ];
    let mut names: BTreeMap<String, String> = ours
        .iter()
        .map(|(name, key)| (fixture_accounts[*name].as_str().unwrap().to_string(), key.to_string()))
        .collect();
    // The recording's node is serve's node (its identity keys the leader schedule).
    let recorded_identity = recorded["responses"]["getIdentity"]["response"]["result"]["identity"].clone();
    let identity = server.call("getIdentity", json!([]))["result"]["identity"].clone();
    names.insert(recorded_identity.as_str().unwrap().into(), identity.as_str().unwrap().into());
    // A slot not yet rooted, as the recording's was.
    let slot = server.call("getSlot", json!([{"commitment": "confirmed"}]))["result"].as_u64().unwrap();

    let mut differences = Vec::new();
    let mut answers = BTreeMap::new();
    let responses = recorded["responses"].as_object().unwrap();
    assert_eq!(responses.len(), 37);
    for (name, call) in responses {
        let method = call["request"]["method"].as_str().unwrap();
        let mut params = substitute(&call["request"]["params"], &names);
        // The slot the recording asked about becomes one serve has.
        if matches!(method, "getSlotLeaders" | "getLeaderSchedule" | "getBlockCommitment") && params[0].is_u64() {
            params[0] = json!(slot);
        }
        let params = if params.is_null() { json!([]) } else { params };
        let answer = server.call(method, params);
        let expected = &substitute(&call["response"], &names);
        shape_differences(expected, &answer, name, &mut differences);
        if let Some(error) = expected.get("error")
            && answer["error"]["code"] != error["code"]
        {
            differences.push(format!("{name}: error {} where the validator has {error}", answer["error"]));
        }
        answers.insert(name.clone(), answer);
    }
    assert!(differences.is_empty(), "shapes differ from the validator's:\n{}", differences.join("\n"));

    // The same refusals, word for word.
    for name in ["getSlotLeaders too many", "getTokenSupply not a mint", "getTokenAccountsByOwner unknown mint"] {
        assert_eq!(answers[name]["error"], responses[name]["response"]["error"], "{name}");
    }

    // One node: serve itself, at its own addresses, leading every slot and voting with it all.
    let identity = answers["getIdentity"]["result"]["identity"].as_str().unwrap().to_string();
    let node = &answers["getClusterNodes"]["result"][0];
    assert_eq!(answers["getClusterNodes"]["result"].as_array().unwrap().len(), 1);
    assert_eq!(node["pubkey"], json!(identity));
    assert_eq!(format!("http://{}", node["rpc"].as_str().unwrap()), server.url);
    assert_eq!(format!("ws://{}", node["pubsub"].as_str().unwrap()), server.ws_url);
    assert_eq!(answers["getSlotLeader"]["result"], json!(identity));
    assert_eq!(answers["getSlotLeaders"]["result"], json!([identity, identity, identity]));
    let schedule = answers["getLeaderSchedule slot"]["result"].as_object().unwrap();
    assert_eq!(schedule.keys().collect::<Vec<_>>(), [&identity]);
    assert_eq!(answers["getLeaderSchedule unknown identity"]["result"], json!({}));
    let vote = &answers["getVoteAccounts"]["result"]["current"][0];
    assert_eq!(vote["nodePubkey"], json!(identity));
    assert_eq!(answers["getBlockCommitment"]["result"]["totalStake"], vote["activatedStake"]);

    // Supply and largest accounts from the accounts the chain holds: the payer's airdrop among them.
    let supply = &answers["getSupply"]["result"]["value"];
    assert_eq!(supply["total"], supply["circulating"]);
    let largest = answers["getLargestAccounts"]["result"]["value"].as_array().unwrap();
    assert!(largest.len() <= 20);
    let payer = json!(made.payer.pubkey().to_string());
    assert!(largest.iter().any(|a| a["address"] == payer), "{largest:?}");
    let lamports: Vec<u64> = largest.iter().map(|a| a["lamports"].as_u64().unwrap()).collect();
    assert!(lamports.windows(2).all(|w| w[0] >= w[1]), "{lamports:?}");
    assert!(supply["total"].as_u64().unwrap() >= lamports.iter().sum::<u64>());

    // The token indexes find the account by owner, delegate and mint, with its amounts.
    let token_account = made.token_account.to_string();
    assert_eq!(answers["getTokenSupply"]["result"]["value"]["amount"], "5000000");
    assert_eq!(answers["getTokenLargestAccounts"]["result"]["value"][0]["address"], json!(token_account));
    for name in
        ["getTokenAccountsByOwner mint", "getTokenAccountsByDelegate", "getTokenAccountsByOwner programId base64"]
    {
        let found = answers[name]["result"]["value"].as_array().unwrap();
        assert_eq!(found.len(), 1, "{name}");
        assert_eq!(found[0]["pubkey"], json!(token_account), "{name}");
    }
    let info = &answers["getTokenAccountsByDelegate"]["result"]["value"][0]["account"]["data"]["parsed"]["info"];
    assert_eq!(info["delegatedAmount"]["amount"], "1000000");
    assert_eq!(info["tokenAmount"]["uiAmountString"], "5");
    assert_eq!(server.stop(), 0);
}

/// Token-2022's program ID is accepted as the validator accepts it; other programs are not.
#[test]
fn token_indexes_take_both_token_programs_and_refuse_others() {
    let rb = Runbook::new();
    let server = Server::start_with(&rb, &["--slot-ms", "20"]);
    let made = make_token_accounts(&server);
    let owner = made.payer.pubkey().to_string();
    let by_program = |program: &str| {
        server.call(
            "getTokenAccountsByOwner",
            json!([owner, {"programId": program}, {"encoding": "base64", "commitment": "confirmed"}]),
        )
    };
    assert_eq!(by_program("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")["result"]["value"], json!([]));
    assert_eq!(by_program(&spl_token_interface::ID.to_string())["result"]["value"].as_array().unwrap().len(), 1);
    assert_eq!(
        by_program("11111111111111111111111111111111")["error"],
        json!({"code": -32602, "message": "Invalid param: unrecognized Token program id"})
    );
    // A moved delegate: the index follows the account's latest state.
    let client = server.client();
    let other = Pubkey::new_unique();
    let token = spl_token_interface::ID;
    let approve =
        spl_token_interface::instruction::approve(&token, &made.token_account, &other, &made.payer.pubkey(), &[], 7)
            .unwrap();
    let blockhash = client.get_latest_blockhash().unwrap();
    let tx = Transaction::new_signed_with_payer(&[approve], Some(&made.payer.pubkey()), &[&made.payer], blockhash);
    client.send_and_confirm_transaction(&tx).unwrap();
    let by_delegate = |delegate: &Pubkey| {
        let answer = server.call(
            "getTokenAccountsByDelegate",
            json!([delegate.to_string(), {"mint": made.mint.to_string()}, {"commitment": "confirmed", "encoding": "base64"}]),
        );
        answer["result"]["value"].as_array().unwrap_or_else(|| panic!("{answer}")).len()
    };
    assert_eq!((by_delegate(&made.delegate), by_delegate(&other)), (0, 1));
    assert_eq!(server.stop(), 0);
}
