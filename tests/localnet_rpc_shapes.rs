//! `localnet serve` answers as a real solana-test-validator 3.1.12 does. For every call in
//! `tests/fixtures/rpc/solana-test-validator-3.1.12.json` the same request is sent to serve
//! over loopback and the whole response document is compared with the validator's by shape:
//! the same keys at every level, the same value types, the same nesting (slots, hashes and
//! amounts differ run to run; shapes do not). Where the numbers depend only on the
//! transaction (a system transfer's cost units and loaded data size) or the protocol (error
//! codes and messages), they must match exactly. A real solana-rpc-client then reads
//! getTransaction in json and jsonParsed, a system transfer and an SPL token transfer.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::shape::shape_differences;
use common::{Runbook, Server, fixture};
use psyche_runbook::psyche::instructions::system::create_ata_idempotent;
use psyche_runbook::psyche::pdas::associated_token;
use serde_json::{Value, json};
use solana_commitment_config::CommitmentConfig;
use solana_program_pack::Pack;
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::config::RpcTransactionConfig;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use solana_sdk::transaction::Transaction;
use solana_transaction_status_client_types::{
    EncodedTransaction, UiInstruction, UiMessage, UiParsedInstruction, UiTransactionEncoding,
};
use std::collections::BTreeMap;

#[test]
fn the_shape_comparison_sees_missing_keys_extra_keys_and_other_types() {
    let mut out = Vec::new();
    let validator = json!({"a": 1, "b": [{"c": "x"}], "d": null, "e": [0, {"Custom": 1}]});
    shape_differences(
        &validator,
        &json!({"a": "1", "b": [{"c": "y", "z": 1}], "e": [0, {"Custom": 2}]}),
        "r",
        &mut out,
    );
    assert_eq!(
        out,
        ["r.d: missing", "r.a: string where the validator has number", "r.b[0].z: not in the validator's answer"]
    );
}

fn encoded(tx: &Transaction) -> String {
    BASE64.encode(bincode::serialize(tx).unwrap())
}

/// A funded key and a signed transfer of 0.005 SOL from it to a new key, as the fixture's.
struct Transfer {
    from: Keypair,
    to: Pubkey,
    tx: Transaction,
    /// A transfer of more than `from` has (insufficient funds: custom error 1).
    too_much: Transaction,
}

fn transfer(client: &RpcClient) -> Transfer {
    let from = Keypair::new();
    let airdrop = client.request_airdrop(&from.pubkey(), 2 * LAMPORTS_PER_SOL).unwrap();
    // Finalized: requests without a commitment (most below) read and preflight at the root.
    common::wait_until_finalized(client, &airdrop);
    let to = Pubkey::new_unique();
    // The root's blockhash: the raw sends below preflight at `finalized`, as a validator does.
    let (blockhash, _) = client.get_latest_blockhash_with_commitment(CommitmentConfig::finalized()).unwrap();
    let ix = solana_system_interface::instruction::transfer(&from.pubkey(), &to, 5_000_000);
    let tx = Transaction::new_signed_with_payer(&[ix], Some(&from.pubkey()), &[&from], blockhash);
    let ix = solana_system_interface::instruction::transfer(&from.pubkey(), &to, 50 * LAMPORTS_PER_SOL);
    let too_much = Transaction::new_signed_with_payer(&[ix], Some(&from.pubkey()), &[&from], blockhash);
    Transfer { from, to, tx, too_much }
}

#[test]
fn every_fixture_call_has_the_validators_shape() {
    let fixture_text = std::fs::read_to_string(fixture("rpc/solana-test-validator-3.1.12.json")).unwrap();
    let recorded: Value = serde_json::from_str(&fixture_text).unwrap();
    let recorded = recorded["responses"].as_object().unwrap();

    let rb = Runbook::new();
    // 20 ms slots: the root, where requests without a commitment read, is 0.6 s behind.
    let server = Server::start_with(&rb, &["--slot-ms", "20"]);
    let client = server.client();
    let t = transfer(&client);
    let signature = t.tx.signatures[0].to_string();
    let from = t.from.pubkey().to_string();
    let to = t.to.to_string();

    // Requests that read the transfer run after it landed: the ones before it simulate it.
    let mut answers: BTreeMap<&str, Value> = BTreeMap::new();
    let b64 = json!({"encoding": "base64"});
    answers.insert("simulateTransaction", server.call("simulateTransaction", json!([encoded(&t.tx), b64])));
    answers.insert("simulateTransaction_fail", server.call("simulateTransaction", json!([encoded(&t.too_much), b64])));
    answers.insert("sendTransaction_fail", server.call("sendTransaction", json!([encoded(&t.too_much), b64])));
    answers.insert("sendTransaction", server.call("sendTransaction", json!([encoded(&t.tx), b64])));
    // Statuses as the validator was recorded answering them: landed, not yet rooted.
    let statuses = [
        ("getSignatureStatuses", json!([[signature]])),
        ("getSignatureStatuses_history", json!([[signature], {"searchTransactionHistory": true}])),
    ];
    for (name, params) in statuses {
        answers.insert(name, server.call("getSignatureStatuses", params));
    }
    // The rest reads at the root (no commitment given): after the transfer is finalized.
    common::wait_until_finalized(&client, &t.tx.signatures[0]);
    let message = BASE64.encode(t.tx.message_data());
    let tx_config = |encoding: &str| json!([signature, {"encoding": encoding, "maxSupportedTransactionVersion": 0}]);
    let calls: Vec<(&str, &str, Value)> = vec![
        ("getAccountInfo_b64", "getAccountInfo", json!([to, b64])),
        (
            "getAccountInfo_jsonParsed",
            "getAccountInfo",
            json!(["11111111111111111111111111111111", {"encoding": "jsonParsed"}]),
        ),
        ("getAccountInfo_missing", "getAccountInfo", json!([Pubkey::new_unique().to_string(), b64])),
        ("getBalance", "getBalance", json!([from])),
        ("getBlockHeight", "getBlockHeight", json!([])),
        ("getEpochInfo", "getEpochInfo", json!([])),
        ("getFeeForMessage", "getFeeForMessage", json!([message])),
        ("getHealth", "getHealth", json!([])),
        ("getLatestBlockhash", "getLatestBlockhash", json!([])),
        ("getMultipleAccounts", "getMultipleAccounts", json!([[from, to], b64])),
        ("getRecentPrioritizationFees", "getRecentPrioritizationFees", json!([[from]])),
        ("getSlot", "getSlot", json!([])),
        ("getTransaction", "getTransaction", tx_config("json")),
        ("getTransaction_base64", "getTransaction", tx_config("base64")),
        ("getTransaction_jsonParsed", "getTransaction", tx_config("jsonParsed")),
        ("getVersion", "getVersion", json!([])),
        ("isBlockhashValid", "isBlockhashValid", json!([t.tx.message.recent_blockhash.to_string()])),
        ("rent", "getMinimumBalanceForRentExemption", json!([50])),
        ("requestAirdrop", "requestAirdrop", json!([Pubkey::new_unique().to_string(), LAMPORTS_PER_SOL])),
        ("unknownMethod", "getNoSuchThing", json!([])),
    ];
    for (name, method, params) in calls {
        answers.insert(name, server.call(method, params));
    }

    let mut differences = Vec::new();
    for (name, expected) in recorded {
        let actual = answers.get(name.as_str()).unwrap_or_else(|| panic!("no request for fixture call {name}"));
        shape_differences(expected, actual, name, &mut differences);
    }
    assert!(differences.is_empty(), "shapes differ from the validator's:\n{}", differences.join("\n"));

    // The numbers that depend only on the transaction and the protocol match exactly.
    for (name, pointer) in [
        ("simulateTransaction", "/result/value/loadedAccountsDataSize"),
        ("simulateTransaction", "/result/value/unitsConsumed"),
        ("sendTransaction_fail", "/error/data/loadedAccountsDataSize"),
        ("sendTransaction_fail", "/error/code"),
        ("sendTransaction_fail", "/error/message"),
        ("sendTransaction_fail", "/error/data/err"),
        ("simulateTransaction_fail", "/result/value/err"),
        ("getTransaction", "/result/meta/costUnits"),
        ("getTransaction", "/result/meta/computeUnitsConsumed"),
        ("getTransaction", "/result/transaction/message/header"),
        ("getTransaction", "/result/transaction/message/instructions"),
        ("getTransaction_jsonParsed", "/result/transaction/message/instructions/0/parsed/type"),
        ("getTransaction_jsonParsed", "/result/transaction/message/instructions/0/program"),
        ("unknownMethod", "/error"),
    ] {
        let expected = recorded[name].pointer(pointer).unwrap();
        assert_eq!(answers[name].pointer(pointer), Some(expected), "{name}{pointer}");
    }
    assert_eq!(
        answers["getTransaction_jsonParsed"]["result"]["transaction"]["message"]["accountKeys"][0]["pubkey"],
        json!(from)
    );
    assert_eq!(answers["getTransaction_base64"]["result"]["transaction"][0], json!(encoded(&t.tx)));
    assert_eq!(server.stop(), 0);
}

#[test]
fn bad_requests_get_the_validators_codes_and_messages() {
    let rb = Runbook::new();
    // 20 ms slots: the root, where requests without a commitment read, is 0.6 s behind.
    let server = Server::start_with(&rb, &["--slot-ms", "20"]);
    let client = server.client();
    let error = |method: &str, params: Value| server.call(method, params)["error"].clone();
    assert_eq!(
        error("getBalance", json!([])),
        json!({"code": -32602, "message": "`params` should have at least 1 argument(s)"})
    );
    assert_eq!(error("getBalance", json!(["abc"])), json!({"code": -32602, "message": "Invalid param: WrongSize"}));
    assert_eq!(
        error("getBalance", json!([1])),
        json!({"code": -32602, "message": "Invalid params: invalid type: integer `1`, expected a string."})
    );
    assert_eq!(
        error("getHealth", json!([1])),
        json!({"code": -32602, "message": "No parameters were expected", "data": [1]})
    );
    assert_eq!(
        error("getTransaction", json!([Signature::default().to_string(), {"encoding": "xml"}]))["code"],
        json!(-32602)
    );
    assert_eq!(
        error("sendTransaction", json!(["!!", {"encoding": "base64"}]))["message"],
        json!("invalid base64 encoding: InvalidByte(0, 33)")
    );
    let message =
        error("sendTransaction", json!([BASE64.encode([1, 2, 3]), {"encoding": "base64"}]))["message"].clone();
    assert!(
        message
            .as_str()
            .unwrap()
            .starts_with("failed to deserialize solana_transaction::versioned::VersionedTransaction: "),
        "{message}"
    );
    // An account of 200 bytes is larger than base58 carries.
    let payer = transfer(&client).from;
    let big = Keypair::new();
    let rent = client.get_minimum_balance_for_rent_exemption(200).unwrap();
    let create = solana_system_interface::instruction::create_account(
        &payer.pubkey(),
        &big.pubkey(),
        rent,
        200,
        &payer.pubkey(),
    );
    let blockhash = client.get_latest_blockhash().unwrap();
    let tx = Transaction::new_signed_with_payer(&[create], Some(&payer.pubkey()), &[&payer, &big], blockhash);
    common::wait_until_finalized(&client, &client.send_and_confirm_transaction(&tx).unwrap());
    let big_key = big.pubkey().to_string();
    assert_eq!(
        error("getAccountInfo", json!([big_key])),
        json!({"code": -32600, "message": "Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding."})
    );
    assert_eq!(
        error("getAccountInfo", json!([big_key, {"encoding": "jsonParsed", "dataSlice": {"offset": 0, "length": 4}}]))
            ["code"],
        json!(-32600)
    );
    let parse = server.post(&json!("not a request"));
    assert_eq!(parse["error"], json!({"code": -32600, "message": "Invalid request"}));
    let batch = server.post(&json!([
        {"jsonrpc": "2.0", "id": 1, "method": "getSlot"},
        {"jsonrpc": "2.0", "id": 2, "method": "nope"}
    ]));
    assert!(batch[0]["result"].is_u64(), "{batch}");
    assert_eq!(batch[1]["error"]["code"], json!(-32601));
    assert_eq!(server.stop(), 0);
}

#[test]
fn a_solana_rpc_client_reads_transactions_in_json_and_json_parsed() {
    let rb = Runbook::new();
    // 20 ms slots: the root, where requests without a commitment read, is 0.6 s behind.
    let server = Server::start_with(&rb, &["--slot-ms", "20"]);
    let client = server.client();
    let t = transfer(&client);
    let signature = client.send_and_confirm_transaction(&t.tx).unwrap();
    common::wait_until_finalized(&client, &signature);
    let read = |encoding| {
        client
            .get_transaction_with_config(
                &signature,
                RpcTransactionConfig {
                    encoding: Some(encoding),
                    commitment: Some(CommitmentConfig::confirmed()),
                    max_supported_transaction_version: Some(0),
                },
            )
            .unwrap()
    };

    let json = read(UiTransactionEncoding::Json);
    let meta = json.transaction.meta.unwrap();
    assert_eq!(Option::<u64>::from(meta.cost_units), Some(1_481));
    assert!(Option::<solana_transaction_status_client_types::UiLoadedAddresses>::from(meta.loaded_addresses).is_some());
    let EncodedTransaction::Json(tx) = json.transaction.transaction else {
        panic!("json encoding gives a JSON object")
    };
    assert_eq!(tx.signatures, vec![signature.to_string()]);
    let UiMessage::Raw(message) = tx.message else { panic!("json encoding gives the raw message") };
    assert_eq!(
        message.account_keys,
        vec![t.from.pubkey().to_string(), t.to.to_string(), "11111111111111111111111111111111".into()]
    );
    assert_eq!(message.header.num_required_signatures, 1);
    assert_eq!(message.instructions[0].program_id_index, 2);
    assert_eq!(message.recent_blockhash, t.tx.message.recent_blockhash.to_string());

    let parsed = read(UiTransactionEncoding::JsonParsed);
    let EncodedTransaction::Json(tx) = parsed.transaction.transaction else { panic!("jsonParsed gives a JSON object") };
    let UiMessage::Parsed(message) = tx.message else { panic!("jsonParsed gives the parsed message") };
    assert!(message.account_keys[0].signer && message.account_keys[0].writable);
    let UiInstruction::Parsed(UiParsedInstruction::Parsed(ix)) = &message.instructions[0] else {
        panic!("a system transfer is parsed")
    };
    assert_eq!(ix.program, "system");
    assert_eq!(ix.parsed["type"], "transfer");
    assert_eq!(ix.parsed["info"]["lamports"], 5_000_000);
    assert_eq!(ix.parsed["info"]["destination"], t.to.to_string());

    // An SPL token transfer: parsed as spl-token, with token balances before and after.
    let payer = &t.from;
    let mint = Keypair::new();
    let owner = Keypair::new();
    let token = spl_token_interface::ID;
    let source = associated_token(&payer.pubkey(), &mint.pubkey());
    let target = associated_token(&owner.pubkey(), &mint.pubkey());
    let size = spl_token_interface::state::Mint::LEN;
    let rent = client.get_minimum_balance_for_rent_exemption(size).unwrap();
    let setup = [
        solana_system_interface::instruction::create_account(
            &payer.pubkey(),
            &mint.pubkey(),
            rent,
            size as u64,
            &token,
        ),
        spl_token_interface::instruction::initialize_mint2(&token, &mint.pubkey(), &payer.pubkey(), None, 6).unwrap(),
        create_ata_idempotent(&payer.pubkey(), &payer.pubkey(), &mint.pubkey()),
        create_ata_idempotent(&payer.pubkey(), &owner.pubkey(), &mint.pubkey()),
        spl_token_interface::instruction::mint_to(&token, &mint.pubkey(), &source, &payer.pubkey(), &[], 5_000_000)
            .unwrap(),
    ];
    let blockhash = client.get_latest_blockhash().unwrap();
    let tx = Transaction::new_signed_with_payer(&setup, Some(&payer.pubkey()), &[payer, &mint], blockhash);
    let setup_signature = client.send_and_confirm_transaction(&tx).unwrap();
    common::wait_until_finalized(&client, &setup_signature);
    // Creating the associated accounts made CPIs: inner instructions, parsed where they can be.
    let setup_read = server.call(
        "getTransaction",
        json!([setup_signature.to_string(), {"encoding": "jsonParsed", "maxSupportedTransactionVersion": 0}]),
    );
    let inner = &setup_read["result"]["meta"]["innerInstructions"];
    assert_eq!(inner[0]["index"], 2, "{inner}");
    assert!(inner[0]["instructions"].as_array().unwrap().iter().any(|i| i["program"] == "system"), "{inner}");
    let send = spl_token_interface::instruction::transfer_checked(
        &token,
        &source,
        &mint.pubkey(),
        &target,
        &payer.pubkey(),
        &[],
        1_250_000,
        6,
    )
    .unwrap();
    let tx = Transaction::new_signed_with_payer(&[send], Some(&payer.pubkey()), &[payer], blockhash);
    // Simulated first, with the post-simulation target account parsed.
    let simulated = server.call(
        "simulateTransaction",
        json!([encoded(&tx), {
            "encoding": "base64",
            "innerInstructions": true,
            "accounts": {"addresses": [target.to_string()], "encoding": "jsonParsed"},
        }]),
    );
    let value = &simulated["result"]["value"];
    assert_eq!(value["err"], Value::Null, "{simulated}");
    assert_eq!(value["accounts"][0]["data"]["parsed"]["info"]["tokenAmount"]["amount"], "1250000", "{simulated}");
    assert_eq!(value["postTokenBalances"].as_array().unwrap().len(), 2, "{simulated}");
    assert_eq!(value["innerInstructions"], json!([]));
    // A stale blockhash: not found, unless the simulation is asked to replace it.
    let mut stale = tx.clone();
    stale.message.recent_blockhash = solana_sdk::hash::Hash::new_unique();
    let refused = server.call("simulateTransaction", json!([encoded(&stale), {"encoding": "base64"}]));
    assert_eq!(refused["result"]["value"]["err"], "BlockhashNotFound", "{refused}");
    let replaced = server
        .call("simulateTransaction", json!([encoded(&stale), {"encoding": "base64", "replaceRecentBlockhash": true}]));
    assert_eq!(replaced["result"]["value"]["err"], Value::Null, "{replaced}");
    assert!(replaced["result"]["value"]["replacementBlockhash"]["lastValidBlockHeight"].is_u64(), "{replaced}");
    let token_signature = client.send_and_confirm_transaction(&tx).unwrap();
    common::wait_until_finalized(&client, &token_signature);
    let read = client
        .get_transaction_with_config(
            &token_signature,
            RpcTransactionConfig {
                encoding: Some(UiTransactionEncoding::JsonParsed),
                commitment: Some(CommitmentConfig::confirmed()),
                max_supported_transaction_version: Some(0),
            },
        )
        .unwrap();
    let EncodedTransaction::Json(tx) = read.transaction.transaction else { panic!("a JSON object") };
    let UiMessage::Parsed(message) = tx.message else { panic!("the parsed message") };
    let UiInstruction::Parsed(UiParsedInstruction::Parsed(ix)) = &message.instructions[0] else {
        panic!("an SPL token transfer is parsed")
    };
    assert_eq!(ix.program, "spl-token");
    assert_eq!(ix.parsed["type"], "transferChecked");
    assert_eq!(ix.parsed["info"]["tokenAmount"]["uiAmountString"], "1.25");
    let meta = read.transaction.meta.unwrap();
    let post: Vec<_> = Option::from(meta.post_token_balances).unwrap();
    let pre: Vec<_> = Option::from(meta.pre_token_balances).unwrap();
    let amount = |balances: &Vec<solana_transaction_status_client_types::UiTransactionTokenBalance>, owner: &Pubkey| {
        balances
            .iter()
            .find(|b| Option::<String>::from(b.owner.clone()) == Some(owner.to_string()))
            .map(|b| b.ui_token_amount.amount.clone())
    };
    assert_eq!(amount(&pre, &payer.pubkey()), Some("5000000".into()));
    assert_eq!(amount(&post, &payer.pubkey()), Some("3750000".into()));
    assert_eq!(amount(&post, &owner.pubkey()), Some("1250000".into()));
    assert_eq!(server.stop(), 0);
}
