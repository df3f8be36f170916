//! `localnet serve`'s history methods answer as a real solana-test-validator 3.1.12 does: for
//! every call in `tests/fixtures/rpc/solana-test-validator-3.1.12-history.json` the same
//! request goes to serve over loopback (an airdrop and a transfer landed, as in the recording)
//! and the answer is compared by shape, errors exactly. A real solana-rpc-client then pages an
//! address's signatures and reads blocks in every encoding and level of detail.

mod common;

use base64::Engine as _;
use common::shape::shape_differences;
use common::{Runbook, Server, fixture};
use serde_json::{Value, json};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::rpc_client::{GetConfirmedSignaturesForAddress2Config, RpcClient};
use solana_rpc_client_api::config::RpcBlockConfig;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use solana_sdk::transaction::{Transaction, VersionedTransaction};
use solana_transaction_status_client_types::{EncodedTransaction, TransactionDetails, UiTransactionEncoding};
use std::collections::BTreeMap;

/// An airdrop to a new key, then a transfer from it, both finalized.
struct Landed {
    from: Keypair,
    to: Pubkey,
    airdrop: Signature,
    transfer: Signature,
    slot: u64,
}

fn land(client: &RpcClient) -> Landed {
    let from = Keypair::new();
    let airdrop = client.request_airdrop(&from.pubkey(), 2 * LAMPORTS_PER_SOL).unwrap();
    common::wait_until_finalized(client, &airdrop);
    let to = Pubkey::new_unique();
    let blockhash = client.get_latest_blockhash().unwrap();
    let ix = solana_system_interface::instruction::transfer(&from.pubkey(), &to, 5_000_000);
    let tx = Transaction::new_signed_with_payer(&[ix], Some(&from.pubkey()), &[&from], blockhash);
    let transfer = client.send_and_confirm_transaction(&tx).unwrap();
    common::wait_until_finalized(client, &transfer);
    let slot = client.get_signature_statuses(&[transfer]).unwrap().value[0].as_ref().unwrap().slot;
    Landed { from, to, airdrop, transfer, slot }
}

#[test]
fn every_history_fixture_call_has_the_validators_shape() {
    let text = std::fs::read_to_string(fixture("rpc/solana-test-validator-3.1.12-history.json")).unwrap();
    let recorded: Value = serde_json::from_str(&text).unwrap();
    let calls = recorded["calls"].as_object().unwrap();

    let rb = Runbook::new();
    let server = Server::start_with(&rb, &["--slot-ms", "20"]);
    let client = server.client();
    let l = land(&client);
    let (from, to, transfer) = (l.from.pubkey().to_string(), l.to.to_string(), l.transfer.to_string());
    let requests: Vec<(&str, Value)> = vec![
        ("getSignaturesForAddress", json!(["getSignaturesForAddress", [to]])),
        (
            "getSignaturesForAddress limit+commitment",
            json!(["getSignaturesForAddress", [from, {"limit": 1, "commitment": "confirmed"}]]),
        ),
        ("getSignaturesForAddress before", json!(["getSignaturesForAddress", [from, {"before": transfer}]])),
        (
            "getSignaturesForAddress unknown address",
            json!(["getSignaturesForAddress", [Pubkey::new_unique().to_string()]]),
        ),
        ("getSignaturesForAddress bad address", json!(["getSignaturesForAddress", ["nope"]])),
        ("getBlock json", json!(["getBlock", [l.slot, {"encoding": "json", "maxSupportedTransactionVersion": 0}]])),
        ("getBlock signatures", json!(["getBlock", [l.slot, {"transactionDetails": "signatures", "rewards": false}]])),
        ("getBlock none", json!(["getBlock", [l.slot, {"transactionDetails": "none"}]])),
        (
            "getBlock jsonParsed",
            json!(["getBlock", [l.slot, {"encoding": "jsonParsed", "maxSupportedTransactionVersion": 0}]]),
        ),
        ("getBlock skipped or future slot", json!(["getBlock", [l.slot + 100_000]])),
        ("getBlockTime", json!(["getBlockTime", [l.slot]])),
        ("getBlocks", json!(["getBlocks", [0, l.slot]])),
        ("getBlocksWithLimit", json!(["getBlocksWithLimit", [0, 3]])),
        ("getFirstAvailableBlock", json!(["getFirstAvailableBlock", []])),
        ("getTransactionCount", json!(["getTransactionCount", []])),
    ];
    let mut answers: BTreeMap<&str, Value> = BTreeMap::new();
    for (name, request) in requests {
        answers.insert(name, server.call(request[0].as_str().unwrap(), request[1].clone()));
    }

    let mut differences = Vec::new();
    for (name, call) in calls {
        let actual = answers.get(name.as_str()).unwrap_or_else(|| panic!("no request for fixture call {name}"));
        let mut expected = call["response"].clone();
        // Notes of the recording (`…_count_recorded_from`), not part of the validator's answer.
        if let Some(result) = expected.get_mut("result").and_then(Value::as_object_mut) {
            result.retain(|key, _| !key.ends_with("_count_recorded_from"));
        }
        shape_differences(&expected, actual, name, &mut differences);
    }
    assert!(differences.is_empty(), "shapes differ from the validator's:\n{}", differences.join("\n"));

    // Errors and what depends only on the transactions match exactly.
    for name in ["getSignaturesForAddress bad address", "getBlock skipped or future slot"] {
        let mut expected = calls[name]["response"]["error"].clone();
        if name.starts_with("getBlock") {
            expected["message"] = json!(format!("Block not available for slot {}", l.slot + 100_000));
        }
        assert_eq!(answers[name]["error"], expected, "{name}");
    }
    assert_eq!(answers["getSignaturesForAddress"]["result"][0]["signature"], json!(transfer));
    assert_eq!(answers["getSignaturesForAddress"]["result"][0]["confirmationStatus"], "finalized");
    assert_eq!(answers["getSignaturesForAddress limit+commitment"]["result"].as_array().unwrap().len(), 1);
    assert_eq!(answers["getSignaturesForAddress before"]["result"][0]["signature"], json!(l.airdrop.to_string()));
    assert_eq!(answers["getSignaturesForAddress unknown address"]["result"], json!([]));
    let block = &answers["getBlock json"]["result"];
    let tx =
        block["transactions"].as_array().unwrap().iter().find(|t| t["transaction"]["signatures"][0] == json!(transfer));
    let tx = tx.expect("the transfer is in its block");
    for pointer in ["/meta/costUnits", "/meta/computeUnitsConsumed", "/meta/fee", "/transaction/message/header"] {
        let recorded_tx = &calls["getBlock json"]["response"]["result"]["transactions"][0];
        assert_eq!(tx.pointer(pointer), recorded_tx.pointer(pointer), "{pointer}");
    }
    assert!(answers["getBlock signatures"]["result"]["signatures"].as_array().unwrap().contains(&json!(transfer)));
    assert_eq!(answers["getBlockTime"]["result"], block["blockTime"]);
    assert!(answers["getBlocks"]["result"].as_array().unwrap().contains(&json!(l.slot)));
    assert!(answers["getTransactionCount"]["result"].as_u64().unwrap() >= 2);
    assert_eq!(server.stop(), 0);
}

#[test]
fn a_solana_rpc_client_pages_signatures_and_reads_blocks_in_every_encoding() {
    let rb = Runbook::new();
    let server = Server::start_with(&rb, &["--slot-ms", "20"]);
    let client = server.client();
    let l = land(&client);
    let from = l.from.pubkey();
    let config = |before, until, limit| GetConfirmedSignaturesForAddress2Config {
        before,
        until,
        limit,
        commitment: Some(CommitmentConfig::confirmed()),
    };
    let all = client.get_signatures_for_address_with_config(&from, config(None, None, None)).unwrap();
    let signatures: Vec<String> = all.iter().map(|s| s.signature.clone()).collect();
    assert_eq!(signatures, [l.transfer.to_string(), l.airdrop.to_string()], "newest first");
    let page = client.get_signatures_for_address_with_config(&from, config(None, None, Some(1))).unwrap();
    assert_eq!(page.len(), 1);
    let older = client.get_signatures_for_address_with_config(&from, config(Some(l.transfer), None, None)).unwrap();
    assert_eq!(older[0].signature, l.airdrop.to_string());
    let newer = client.get_signatures_for_address_with_config(&from, config(None, Some(l.airdrop), None)).unwrap();
    assert_eq!(newer.iter().map(|s| s.signature.clone()).collect::<Vec<_>>(), [l.transfer.to_string()]);
    assert!(all.iter().all(|s| s.err.is_none() && s.block_time.is_some()));

    for encoding in [UiTransactionEncoding::Base64, UiTransactionEncoding::Json, UiTransactionEncoding::JsonParsed] {
        let block = client
            .get_block_with_config(
                l.slot,
                RpcBlockConfig {
                    encoding: Some(encoding),
                    transaction_details: Some(TransactionDetails::Full),
                    rewards: Some(true),
                    commitment: Some(CommitmentConfig::confirmed()),
                    max_supported_transaction_version: Some(0),
                },
            )
            .unwrap();
        assert_eq!(block.block_height, Some(l.slot));
        assert_eq!(block.rewards, Some(Vec::new()));
        let transactions = block.transactions.unwrap();
        let found = transactions.iter().any(|t| match &t.transaction {
            EncodedTransaction::Binary(data, _) => {
                let bytes = base64::engine::general_purpose::STANDARD.decode(data).unwrap();
                bincode::deserialize::<VersionedTransaction>(&bytes).unwrap().signatures[0] == l.transfer
            }
            EncodedTransaction::Json(ui) => ui.signatures[0] == l.transfer.to_string(),
            other => panic!("{encoding:?} gave {other:?}"),
        });
        assert!(found, "{encoding:?}: the transfer is in its block");
        if block.parent_slot < l.slot {
            assert_ne!(block.previous_blockhash, block.blockhash);
        }
    }
    let signatures_only = client
        .get_block_with_config(
            l.slot,
            RpcBlockConfig {
                transaction_details: Some(TransactionDetails::Signatures),
                rewards: Some(false),
                commitment: Some(CommitmentConfig::confirmed()),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(signatures_only.signatures.unwrap().contains(&l.transfer.to_string()));
    assert!(signatures_only.rewards.is_none());
    assert_eq!(client.get_block_time(l.slot).unwrap(), all[0].block_time.unwrap());
    let blocks = client.get_blocks_with_commitment(0, Some(l.slot), CommitmentConfig::confirmed()).unwrap();
    assert!(blocks.contains(&l.slot));
    assert_eq!(client.get_first_available_block().unwrap(), blocks[0]);
    assert!(client.get_transaction_count().unwrap() >= 2);
    assert_eq!(server.stop(), 0);
}
